"""One real control plane per session (tests/e2e/apiserver.sh), and a federation per example on it.
The cert-manager CRDs go on it for the examples that render Issuers and Certificates.

Needs tools/k8s/bin/kube-apiserver, kube-controller-manager, kube-scheduler and kwok (tools/k8s/build.sh), etcd
(there or on PATH) and kubectl on PATH: missing ones skip here and fail in CI, like every tool.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import require_tool

from .kube import APPLYSET_CRD, Kubectl, install_crds, unpack_upstream

HERE = Path(__file__).parent
BIN = Path(os.environ.get("KFPLUG_K8S_BIN", HERE.parents[1] / "tools/k8s/bin"))
CERT_MANAGER = "cert-manager-v1.21.1"


def binary(name: str) -> str | None:
    path = BIN / name
    return str(path) if path.is_file() else shutil.which(name)


@pytest.fixture(scope="session")
def kubectl(tmp_path_factory) -> Kubectl:
    """kubectl talking to a fresh etcd + kube-apiserver + kube-controller-manager + kube-scheduler on
    loopback, with KWOK simulating the nodes annotated kwok.x-k8s.io/node=fake."""
    client = require_tool(os.environ.get("KFPLUG_E2E_KUBECTL") or shutil.which("kubectl"), "kubectl")
    for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"):
        require_tool(binary(name), f"{name} (tools/k8s/build.sh)")
    state = tmp_path_factory.mktemp("apiserver")
    script = str(HERE / "apiserver.sh")
    started = subprocess.run([script, "start", str(state)], capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, f"apiserver.sh start failed:\n{started.stderr}"
    kubeconfig = started.stdout.strip().splitlines()[-1].removeprefix("export KUBECONFIG=")
    try:
        kubectl = Kubectl(client, kubeconfig)
        kubectl.run("apply", "--server-side", "-f", str(APPLYSET_CRD))
        kubectl.run("wait", "--for=condition=Established", "-f", str(APPLYSET_CRD))
        yield kubectl
    finally:
        subprocess.run([script, "stop", str(state)], check=True, timeout=120)


@pytest.fixture(scope="session")
def cert_manager_crds(kubectl, tmp_path_factory) -> Kubectl:
    """The server with cert-manager v1.21.1's CRDs (../shared/upstream, deploy/crds), which admit the
    Issuer and Certificate of each party that spec.tls.mode mutual renders."""
    root = unpack_upstream(CERT_MANAGER, tmp_path_factory.mktemp("cert-manager"))
    install_crds(kubectl, root / "deploy/crds")
    return kubectl
