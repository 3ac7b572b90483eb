"""The Issuer and Certificate that spec.tls.mode mutual renders into each party's overlay, held against
cert-manager v1.21.1's own CRDs (../shared/upstream/cert-manager-v1.21.1.tar.gz, deploy/crds; installed by
the `cert_manager_crds` fixture, which test_apply needs too): a server-side dry run with strict field
validation admits every one of them, and refuses a Certificate the CRD's schema forbids."""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from .kube import dump

pytestmark = [pytest.mark.e2e, pytest.mark.tools]

DRY_RUN = ("apply", "--server-side", "--dry-run=server", "--validate=strict", "-f", "-")


def cert_manager_objects(built) -> dict[str, list[dict]]:
    """example -> the cert-manager objects of all its overlays."""
    out: dict[str, list[dict]] = {}
    for (example, target), objects in built.items():
        if target.startswith("overlays/"):
            out.setdefault(example, []).extend(o for o in objects if o["apiVersion"].startswith("cert-manager.io/"))
    return {example: objects for example, objects in out.items() if objects}


@pytest.fixture(scope="module")
def cert_manager(cert_manager_crds, built):
    """The server with the overlays' namespaces, which a dry run of a namespaced object needs;
    those it made are removed afterwards."""
    namespaces = sorted({o["metadata"]["namespace"] for objects in cert_manager_objects(built).values()
                         for o in objects})
    made = [n for n in namespaces if cert_manager_crds.run("create", "namespace", n, check=False).returncode == 0]
    yield cert_manager_crds
    if made:
        cert_manager_crds.run("delete", "namespace", "--wait=false", *made)


def test_cert_managers_crds_admit_every_issuer_and_certificate(cert_manager, built):
    checked = Counter()
    for example, objects in cert_manager_objects(built).items():
        result = cert_manager.run(*DRY_RUN, stdin=dump(objects))
        assert result.stdout.count("serverside-applied (server dry run)") == len(objects), f"{example}: {result.stdout}"
        checked.update(o["kind"] for o in objects)
    assert checked["Issuer"] >= 1 and checked["Certificate"] >= 1, checked
    print(f"admitted {dict(checked)}")


INVALID = {  # how to break a Certificate -> what the server says
    "encoding": (lambda c: c["spec"]["privateKey"].update(encoding="PKCS9"),
                 'spec.privateKey.encoding: Unsupported value: "PKCS9"'),
    "usages": (lambda c: c["spec"].update(usages=["nonsense"]), 'spec.usages[0]: Unsupported value: "nonsense"'),
}


@pytest.mark.parametrize("case", INVALID)
def test_the_certificate_crd_refuses_an_invalid_value(cert_manager, built, case):
    """The check can fail: the CRD's schema is enforced on the fields kfplug writes."""
    certificate = next(o for objects in cert_manager_objects(built).values() for o in objects
                       if o["kind"] == "Certificate")
    cert_manager.run(*DRY_RUN, stdin=dump([certificate]))  # the object as rendered passes
    broken = copy.deepcopy(certificate)
    breaking, message = INVALID[case]
    breaking(broken)
    result = cert_manager.run(*DRY_RUN, stdin=dump([broken]), check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr
