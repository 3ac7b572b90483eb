"""The Domain and ClusterDomainRoute objects the bootstrap Job applies inside Kuscia's master,
held against Kuscia 1.1.0b0's own CRDs (../shared/upstream/kuscia-v1.1.0b0.tar.gz, crds/v1alpha1)
installed on the test API server: a server-side dry run admits every one of them."""

from __future__ import annotations

import pytest
import yaml

from conftest import EXAMPLES, SPECS

from .kube import install_crds, unpack_upstream

pytestmark = [pytest.mark.e2e, pytest.mark.tools]

KUSCIA_EXAMPLES = [e for e in EXAMPLES if yaml.safe_load(SPECS[e].read_text())["spec"]["runtime"] == "kuscia"]
CRDS = ("kuscia.secretflow_domains.yaml", "kuscia.secretflow_clusterdomainroutes.yaml")


@pytest.fixture(scope="module")
def kuscia_crds(kubectl, tmp_path_factory):
    upstream = unpack_upstream("kuscia-v1.1.0b0", tmp_path_factory.mktemp("kuscia"))
    for name in CRDS:
        install_crds(kubectl, upstream / "crds/v1alpha1" / name)
    return kubectl


def bootstrap_objects(built, example: str) -> list[dict]:
    (config,) = [o for o in built[(example, "overlays/master")]
                 if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("kuscia-resources-")]
    return [obj for text in config["data"].values() for obj in yaml.safe_load_all(text)]


@pytest.mark.parametrize("example", KUSCIA_EXAMPLES)
def test_kuscias_crds_admit_every_domain_and_route(kuscia_crds, built, example):
    objects = bootstrap_objects(built, example)
    assert {o["kind"] for o in objects} == {"Domain", "ClusterDomainRoute"}
    result = kuscia_crds.run("apply", "--server-side", "--dry-run=server", "-f", "-",
                             stdin=yaml.safe_dump_all(objects, sort_keys=False))
    assert result.stdout.count("serverside-applied (server dry run)") == len(objects), result.stdout


def test_the_route_crd_refuses_an_ipv6_host(kuscia_crds, built):
    """Why kfplug refuses IPv6 endpoints for Kuscia: the CRD's host pattern takes IPv4 or a DNS name."""
    route = next(o for o in bootstrap_objects(built, "kuscia-multi-cluster") if o["kind"] == "ClusterDomainRoute")
    route["spec"]["endpoint"]["host"] = "fd00::2"
    result = kuscia_crds.run("apply", "--server-side", "--dry-run=server", "-f", "-",
                             stdin=yaml.safe_dump(route, sort_keys=False), check=False)
    assert result.returncode != 0 and "spec.endpoint.host" in result.stderr, result.stderr
