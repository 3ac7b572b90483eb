"""Placement, storage, ingress and exposure, asserted on the objects kustomize builds."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from conftest import REPO, build
from kfplug import api
from kfplug.cli import main
from objects import find, generated, parse, pod_spec

pytestmark = pytest.mark.tools

WORKLOADS = ("Deployment", "StatefulSet")


def workloads(objects, namespace):
    return [o for o in objects if o["kind"] in WORKLOADS and o["metadata"]["namespace"] == namespace]


@pytest.fixture(scope="module")
def org_a(built):
    return built[("multi-cluster", "clusters/org-a")]


@pytest.fixture(scope="module")
def org_b(built):
    return built[("multi-cluster", "clusters/org-b")]


@pytest.fixture(scope="module")
def org_c(built):
    return built[("multi-cluster", "clusters/org-c")]


def test_party_selector_reaches_every_workload_and_module_override_replaces_it(org_a):
    for workload in workloads(org_a, "fate-9999"):
        selector = pod_spec(workload).get("nodeSelector")
        if workload["metadata"]["name"] == "mysql":
            assert selector == {"fedai.hostname": "egg0"}
        else:
            assert selector == {"disk": "ssd"}, workload["metadata"]["name"]


def test_nodes_pin_and_spread_the_module(org_a):
    nodemanager = next(w for w in workloads(org_a, "fate-9999") if w["metadata"]["name"] == "nodemanager")
    assert nodemanager["spec"]["replicas"] == 2
    affinity = pod_spec(nodemanager)["affinity"]
    terms = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
                     for node in ("node-0", "node-1")]
    (anti,) = affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert anti == {"labelSelector": {"matchLabels": {"app.kubernetes.io/name": "nodemanager"}},
                    "topologyKey": "kubernetes.io/hostname"}
    assert nodemanager["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == "nodemanager"


def test_tolerations_reach_every_workload(org_c):
    for workload in workloads(org_c, "fate-10001"):
        assert pod_spec(workload)["tolerations"] == [
            {"key": "dedicated", "operator": "Equal", "value": "fate", "effect": "NoSchedule"}]


def test_nfs_volumes_are_static_and_bound_to_each_replica_claim(org_a):
    volumes = {o["metadata"]["name"]: o for o in org_a if o["kind"] == "PersistentVolume"}
    assert sorted(volumes) == ["fate-9999-client-0", "fate-9999-fateflow-0", "fate-9999-mysql-0",
                               "fate-9999-nodemanager-0", "fate-9999-nodemanager-1"]
    mysql = volumes["fate-9999-mysql-0"]["spec"]
    assert mysql["nfs"] == {"server": "192.168.11.10", "path": "/exports/fate/9999/mysql-0"}
    assert mysql["capacity"] == {"storage": "20Gi"}
    assert mysql["persistentVolumeReclaimPolicy"] == "Retain"
    assert mysql["claimRef"] == {"namespace": "fate-9999", "name": "data-mysql-0"}
    for workload in workloads(org_a, "fate-9999"):
        for claim in workload["spec"].get("volumeClaimTemplates", []):
            assert claim["spec"]["storageClassName"] == "", "no dynamic provisioning next to static volumes"
            name = workload["metadata"]["name"]
            size = volumes[f"fate-9999-{name}-0"]["spec"]["capacity"]["storage"]
            assert claim["spec"]["resources"]["requests"]["storage"] == size


def test_storage_class_and_sizes_reach_the_claim_templates(org_b):
    sizes = {w["metadata"]["name"]: w["spec"]["volumeClaimTemplates"][0]["spec"]
             for w in workloads(org_b, "fate-10000") if w["spec"].get("volumeClaimTemplates")}
    assert set(sizes) == {"mysql", "nodemanager", "fateflow", "client"}
    assert {name: s["storageClassName"] for name, s in sizes.items()} == dict.fromkeys(sizes, "ssd-retain")
    assert {name: s["resources"]["requests"]["storage"] for name, s in sizes.items()} == {
        "mysql": "20Gi", "nodemanager": "50Gi", "fateflow": "10Gi", "client": "5Gi"}


def test_ingress_hosts_class_and_tls(org_a, org_b):
    def ingresses(objects, namespace):
        return {o["metadata"]["name"]: o["spec"] for o in objects
                if o["kind"] == "Ingress" and o["metadata"]["namespace"] == namespace}

    party = ingresses(org_a, "fate-9999")
    assert set(party) == {"fateboard", "client"}
    board = party["fateboard"]
    assert board["ingressClassName"] == "nginx"
    assert board["rules"][0]["host"] == "9999.fateboard.fate.org-a.example"
    assert board["rules"][0]["http"]["paths"][0]["backend"] == \
        {"service": {"name": "fateboard", "port": {"number": 8080}}}
    assert board["tls"] == [{"hosts": ["9999.fateboard.fate.org-a.example"], "secretName": "fate-9999-tls"}]
    other = ingresses(org_b, "fate-10000")
    assert other["fateboard"]["rules"][0]["host"] == "board.org-b.example"
    assert other["client"]["rules"][0]["host"] == "10000.client.fate.org-b.example"
    assert other["client"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] == {"number": 20000}


def test_router_exposure(org_a, org_c):
    """multi-cluster uses mutual TLS: the exposed Service is rollsite's TLS one; its own stays inside."""
    def service(objects, namespace, name="rollsite-tls"):
        return next(o["spec"] for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == name
                    and o["metadata"]["namespace"] == namespace)

    party = service(org_a, "fate-9999")
    assert party["type"] == "NodePort"
    assert party["ports"] == [{"name": "grpc-tls", "port": 9380, "targetPort": "grpc-tls", "nodePort": 30091}]
    assert service(org_a, "fate-exchange")["ports"][0]["nodePort"] == 30000
    balanced = service(org_c, "fate-10001")
    assert balanced["type"] == "LoadBalancer" and balanced["loadBalancerIP"] == "10.30.0.100"
    assert service(org_a, "fate-9999", "rollsite").get("type", "ClusterIP") == "ClusterIP"
    for name in ("mysql", "fateflow", "fateboard", "client", "clustermanager"):
        service = next(o for o in org_a if o["kind"] == "Service" and o["metadata"]["name"] == name
                       and o["metadata"]["namespace"] == "fate-9999")
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP"


def test_routes_use_service_dns_inside_a_cluster_and_endpoints_across(built, org_a):
    def table(objects, namespace):
        config = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["namespace"] == namespace
                      and o["metadata"]["name"].startswith("rollsite-config-"))
        return json.loads(config["data"]["route_table.json"])["route_table"]

    secure = {"is_secure": True}  # multi-cluster uses mutual TLS: peers dial each other's TLS Service
    assert table(org_a, "fate-9999")["default"] == {
        "default": [{"ip": "rollsite-tls.fate-exchange.svc.cluster.local", "port": 9380, **secure}]}
    assert table(built[("multi-cluster", "clusters/org-b")], "fate-10000")["default"] == {
        "default": [{"ip": "192.168.11.4", "port": 30000, **secure}]}
    assert table(org_a, "fate-exchange") == {
        "9999": {"default": [{"ip": "rollsite-tls.fate-9999.svc.cluster.local", "port": 9380, **secure}]},
        "10000": {"default": [{"ip": "10.20.0.5", "port": 30101, **secure}]},
        "10001": {"default": [{"ip": "10.30.0.100", "port": 9380, **secure}]},
    }


def test_registry_and_pull_secrets(org_a):
    for workload in workloads(org_a, "fate-9999"):
        spec = pod_spec(workload)
        assert spec["imagePullSecrets"] == [{"name": "harbor-pull"}]
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            assert container["image"].startswith("harbor.org-a.example/federatedai/"), container["image"]


SMALL = """\
apiVersion: kfplug.dev/v1alpha1
kind: Federation
metadata: {name: small}
spec:
  runtime: fate
  version: "2.0.0"
  parties:
    - id: 9999
      storage: {none: true, existingClaims: {mysql: mysql-data}}
"""


def test_none_gives_empty_dirs_and_existing_claims_replace_templates(tmp_path, kustomize):
    spec = tmp_path / "federation.yaml"
    spec.write_text(SMALL)
    result = CliRunner().invoke(main, ["render", str(spec), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "warning: spec.parties[0].storage.none: emptyDir storage" in result.stderr
    api.init_secrets(tmp_path / "out")
    objects = parse(build([kustomize, "build"], tmp_path / "out/overlays/9999"))
    for name in ("mysql", "fateflow", "nodemanager", "client"):
        workload = find(objects, "StatefulSet", name)
        assert "volumeClaimTemplates" not in workload["spec"], name
        data = next(v for v in pod_spec(workload)["volumes"] if v["name"] == "data")
        expected = {"persistentVolumeClaim": {"claimName": "mysql-data"}} if name == "mysql" else {"emptyDir": {}}
        assert {k: v for k, v in data.items() if k != "name"} == expected, name
    assert generated(objects, "ConfigMap", "osx-config")


def test_affinity_reaches_every_workload_as_written(built):
    spec = yaml.safe_load((REPO / "examples/multi-cluster/federation.yaml").read_text())
    (party,) = [p for p in spec["spec"]["parties"] if p["id"] == 10001]
    objects = built[("multi-cluster", "overlays/10001")]
    placed = [o for o in objects if pod_spec(o) is not None]
    assert placed
    for workload in placed:
        assert pod_spec(workload)["affinity"] == party["placement"]["affinity"], workload["metadata"]["name"]
