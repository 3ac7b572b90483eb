"""kubectl against the test server, and a federation applied to it cluster by cluster."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from objects import key

APPLYSET_CRD = Path(__file__).with_name("applyset-crd.yaml")
APPLYSET_GROUP = "kfplug.dev"
UPSTREAM = REPO.parent / "shared" / "upstream"  # pinned upstream data files (its README names each source)


def dump(objects: list[dict]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)


class Kubectl:
    """The kubectl on PATH, bound to the test server's kubeconfig, with ApplySet enabled."""

    def __init__(self, binary: str, kubeconfig: str):
        self.binary = binary
        self.env = {**os.environ, "KUBECONFIG": kubeconfig, "KUBECTL_APPLYSET": "true"}

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([self.binary, *args], input=stdin, capture_output=True, text=True,
                                env=self.env, timeout=300)
        if check:
            assert result.returncode == 0, f"kubectl {' '.join(args)} failed:\n{result.stderr}"
        return result

    def json(self, *args: str) -> dict:
        """`kubectl <args> -o json`, parsed."""
        return json.loads(self.run(*args, "-o", "json").stdout)

    def get(self, objects: list[dict]) -> list[dict]:
        """The server's copy of each object (kubectl fails if one is missing)."""
        out = json.loads(self.run("get", "--show-managed-fields", "-f", "-", "-o", "json", stdin=dump(objects)).stdout)
        return out["items"] if out["kind"] == "List" else [out]

    def list(self, kinds: set[str], selector: str) -> list[dict]:
        return json.loads(self.run("get", ",".join(sorted(kinds)), "-A", "-l", selector,
                                     "--show-managed-fields", "-o", "json").stdout)["items"]


def unpack_upstream(name: str, root: Path) -> Path:
    """../shared/upstream/<name>.tar.gz unpacked under root; missing, it skips (and fails in CI)."""
    archive = UPSTREAM / f"{name}.tar.gz"
    if not archive.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{archive} is missing")
        pytest.skip(f"{archive} is missing")
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    return root / name


def install_crds(kubectl: Kubectl, crd: Path) -> None:
    """Apply a CRD file (or a directory of them) and wait until it serves (its status may not be
    written yet when the wait starts)."""
    kubectl.run("apply", "--server-side", "-f", str(crd))
    for _ in range(60):
        if kubectl.run("wait", "--for=condition=Established", "--timeout=30s", "-f", str(crd),
                       check=False).returncode == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"{crd.name} never became Established")


def applyset_id(name: str) -> str:
    """The ApplySet id kubectl expects on a cluster-scoped parent (KEP-3659: name.namespace.kind.group)."""
    digest = hashlib.sha256(f"{name}..ApplySet.{APPLYSET_GROUP}".encode()).digest()
    return f"applyset-{base64.urlsafe_b64encode(digest).decode().rstrip('=')}-v1"


@dataclass
class Federation:
    """A federation on the test server: what was applied to each of its clusters."""

    example: str
    name: str
    kubectl: Kubectl
    clusters: dict[str, list[dict]] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # what kubectl said on each cluster's first apply
    kinds: set[str] = field(default_factory=set)  # every kind ever applied, so listing finds leftovers

    def applysets(self, cluster: str) -> tuple[str, str]:
        """The cluster's two ApplySets: its namespaces, and everything else."""
        return f"{self.name}-{cluster}-namespaces", f"{self.name}-{cluster}"

    def apply(self, cluster: str, objects: list[dict]) -> str:
        """Apply one cluster's build as a user would, and prune what an earlier build had and this
        one has not. Three steps, so that nothing is pruned inside a namespace being deleted (the
        namespace controller deletes its contents meanwhile, and kubectl fails on each not found):
        the namespaces, then everything else as an ApplySet, then the namespaces as an ApplySet."""
        namespaces = [o for o in objects if o["kind"] == "Namespace"]
        rest = [o for o in objects if o["kind"] != "Namespace"]
        if cluster not in self.clusters:
            for name in self.applysets(cluster):
                self._create_parent(name)
        # a field manager of its own, so this step never undoes what the ApplySet apply adds
        self.kubectl.run("apply", "--server-side", "--field-manager=kubectl-namespaces", "-f", "-",
                         stdin=dump(namespaces))
        out = ""
        for applyset, members in zip(reversed(self.applysets(cluster)), (rest, namespaces), strict=False):
            out += self.kubectl.run("apply", "--server-side", "--prune",
                                    f"--applyset=applysets.{APPLYSET_GROUP}/{applyset}",
                                    "-f", "-", stdin=dump(members)).stdout
        self.clusters[cluster] = objects
        self.kinds |= {o["kind"] for o in objects}
        return out

    def _create_parent(self, name: str) -> None:
        # kubectl creates Secret/ConfigMap parents itself, custom-resource parents must exist
        parent = {"apiVersion": f"{APPLYSET_GROUP}/v1alpha1", "kind": "ApplySet",
                  "metadata": {"name": name, "labels": {"applyset.kubernetes.io/id": applyset_id(name)},
                               "annotations": {"applyset.kubernetes.io/tooling": "kubectl/v1",
                                               "applyset.kubernetes.io/contains-group-kinds": ""}}}
        self.kubectl.run("create", "-f", "-", stdin=dump([parent]))

    def uninstall(self, cluster: str) -> None:
        """Delete everything the cluster's last apply made, and wait until it is gone."""
        self.kubectl.run("delete", "--ignore-not-found", "--wait", "--timeout=180s", "-f", "-",
                         stdin=dump(self.clusters.pop(cluster)))
        self.kubectl.run("delete", f"applysets.{APPLYSET_GROUP}", *self.applysets(cluster))

    def applied(self) -> dict[tuple[str, str, str], dict]:
        """Every object of the federation on the server that a user applied (not what controllers made)."""
        objects = self.kubectl.list(self.kinds, f"app.kubernetes.io/part-of={self.name}")
        return {key(o): o for o in objects
                if any(m.get("operation") == "Apply" for m in o["metadata"].get("managedFields", []))}
