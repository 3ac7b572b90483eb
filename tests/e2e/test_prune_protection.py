"""What holds a party's data survives Flux's pruning, on the real API server.

A federation (examples/gitops-flux, both parties in one cluster, party 10000 on NFS volumes) is
rendered into a Git layout, each Flux Kustomization's path built by Flux's build code
(tools/fluxbuild) and reconciled by kustomize-controller v1.9.4's own apply and prune
(tools/fluxprune, fluxcd/pkg/ssa). The controller-manager's StatefulSet controller makes the
claims and its volume controller binds them to the static PersistentVolumes. Then party 10000
leaves the spec and the tree is rendered again: its Kustomization's finalizer prunes its whole
inventory (the layout kfplug renders), or, with one Kustomization for the cluster, garbage
collection prunes what left the build. Either way its workloads, ConfigMaps, Secrets, Services and
policies go, and its Namespace, claims and volumes stay, bound, with the same uids. The control
strips the annotations from the same build: then Flux deletes the Namespace, which takes the
claims with it, and the volumes. Renaming the federation (every Kustomization renamed) keeps them too.

No Argo CD controller runs here: for Argo CD, the annotation is checked on every example's build.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from conftest import SPECS, init_secrets_in_plaintext, require_tool, tool_binary
from kfplug import api
from kfplug.compile.frame import KEEP
from objects import key, parse

from .kube import Kubectl, dump

pytestmark = [pytest.mark.e2e, pytest.mark.tools]

EXAMPLE = "gitops-flux"
GITOPS_PATH = "fleet/two-orgs"
GONE = 10000  # the party that leaves, on NFS volumes
STAYS = 9999
NAMESPACES = [f"fate-{GONE}", f"fate-{STAYS}"]
DATA_KINDS = ("Namespace", "PersistentVolume")
FLUX_PRUNE = "kustomize.toolkit.fluxcd.io/prune"
ARGO_SYNC = "argocd.argoproj.io/sync-options"


@pytest.fixture(scope="module")
def flux_tools() -> tuple[str, str]:
    return (require_tool(tool_binary("fluxbuild"), "fluxbuild (make tools)"),
            require_tool(tool_binary("fluxprune"), "fluxprune (make tools)"))


def spec(name: str = "two-orgs", parties: tuple[int, ...] = (STAYS, GONE)) -> dict:
    """examples/gitops-flux with both parties in cluster org-a, party 10000 on NFS."""
    doc = yaml.safe_load(SPECS[EXAMPLE].read_text())
    doc["metadata"]["name"] = name
    doc["spec"]["clusters"] = [{"name": "org-a"}]
    for party in doc["spec"]["parties"]:
        party["cluster"] = "org-a"
        if party["id"] == GONE:
            party["storage"] = {"nfs": {"server": "192.0.2.10", "path": "/exports/fate"}}
    doc["spec"]["parties"] = [p for p in doc["spec"]["parties"] if p["id"] in parties]
    return doc


class Flux:
    """One Flux over a Git checkout (root): Kustomizations reconciled with fluxprune, each inventory a file."""

    def __init__(self, kubectl: Kubectl, tools: tuple[str, str], root: Path, state: Path, strip: bool = False):
        self.kubectl, (self.fluxbuild, self.fluxprune) = kubectl, tools
        self.root, self.state, self.strip = root, state, strip
        self.inventories: set[str] = set()
        self.output: dict[str, list[str]] = {}

    def render(self, doc: dict) -> None:
        """kfplug render into the checkout, as the repository's owner commits it; the first time
        secrets init, in plaintext (what Flux applies once it has decrypted them)."""
        folder = self.state / "spec"
        folder.mkdir(exist_ok=True)
        (folder / "federation.yaml").write_text(yaml.safe_dump(doc))
        tree = self.root / GITOPS_PATH
        first = not tree.exists()
        api.render(folder / "federation.yaml", tree)
        if first:  # a re-render keeps the Secrets' files
            init_secrets_in_plaintext(tree)

    def rendered_kustomizations(self) -> dict[str, str]:
        """name -> spec.path of each Flux Kustomization kfplug rendered."""
        out = {}
        for cluster in sorted((self.root / GITOPS_PATH / "deploy/flux").iterdir()):
            for file in sorted(cluster.glob("*.yaml")):
                doc = yaml.safe_load(file.read_text())
                if doc["kind"] == "Kustomization" and doc["apiVersion"].startswith("kustomize.toolkit.fluxcd.io/"):
                    assert doc["metadata"]["namespace"] == "flux-system" and doc["spec"]["prune"] is True
                    out[doc["metadata"]["name"]] = doc["spec"]["path"]
        return out

    def build(self, path: str) -> list[dict]:
        result = subprocess.run([self.fluxbuild, str(self.root), path], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        objects = parse(result.stdout)
        if self.strip:  # the control: the same objects without the annotations
            for obj in objects:
                annotations = obj["metadata"].get("annotations", {})
                for name in KEEP:
                    annotations.pop(name, None)
        return objects

    def _run(self, command: str, name: str, stdin: str = "") -> list[str]:
        result = subprocess.run([self.fluxprune, command, name, "flux-system", str(self.state / f"{name}.json")],
                                input=stdin, capture_output=True, text=True, env=self.kubectl.env, timeout=300)
        assert result.returncode == 0, f"fluxprune {command} {name}:\n{result.stderr}"
        self.output[name] = result.stdout.splitlines()
        return self.output[name]

    def reconcile(self, kustomizations: dict[str, str]) -> dict[str, list[dict]]:
        """Each Kustomization applied from its path (stale objects pruned), each one gone finalized."""
        builds = {}
        for name, path in kustomizations.items():
            builds[name] = self.build(path)
            self._run("apply", name, dump(builds[name]))
            self.inventories.add(name)
        for name in sorted(self.inventories - kustomizations.keys()):
            self._run("delete", name)
            self.inventories.discard(name)
        return builds

    def actions(self) -> dict[tuple[str, str, str], str]:
        """(kind, namespace, name) -> what the last runs did to it."""
        out = {}
        for lines in self.output.values():
            for line in lines:
                subject, action = line.rsplit(" ", 1)
                kind, *rest = subject.split("/")
                out[(kind, rest[0] if len(rest) == 2 else "", rest[-1])] = action
        return out


def server(kubectl: Kubectl, kind: str, name: str, namespace: str = "") -> dict | None:
    args = ["get", kind, name, "-o", "json", "--ignore-not-found", *(["-n", namespace] if namespace else [])]
    out = kubectl.run(*args).stdout
    return json.loads(out) if out.strip() else None


def claims(kubectl: Kubectl, namespace: str) -> dict[str, dict]:
    items = json.loads(kubectl.run("get", "pvc", "-n", namespace, "-o", "json").stdout)["items"]
    return {c["metadata"]["name"]: c for c in items}


def wait_until(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} after {seconds}s"
        time.sleep(1)


def bound_volumes(kubectl: Kubectl, volumes: list[dict]) -> dict[str, dict]:
    """Wait until the StatefulSet controller made each claim a volume names and the volume controller
    bound them; return the claims."""
    namespace = f"fate-{GONE}"
    wanted = {v["spec"]["claimRef"]["name"] for v in volumes}

    def ready() -> bool:
        found = claims(kubectl, namespace)
        return wanted <= found.keys() and all(found[c].get("status", {}).get("phase") == "Bound" for c in wanted)

    wait_until(ready, f"claims {sorted(wanted)} not all made and bound")
    return {n: c for n, c in claims(kubectl, namespace).items() if n in wanted}


@pytest.fixture
def flux(kubectl, flux_tools, tmp_path, request):
    """A Flux over a fresh checkout; afterwards every party is decommissioned by hand, as
    docs/gitops.md says: what Flux still holds finalized, then the namespaces and the volumes deleted."""
    made: list[Flux] = []

    def make(strip: bool = False) -> Flux:
        made.append(Flux(kubectl, flux_tools, tmp_path / "repo", tmp_path, strip))
        return made[-1]

    yield make
    for each in made:
        for name in sorted(each.inventories):
            each._run("delete", name)
    kubectl.run("delete", "namespace", *NAMESPACES, "--ignore-not-found", "--wait", "--timeout=180s")
    kubectl.run("delete", "persistentvolume", "-l", f"kfplug.dev/party={GONE}", "--ignore-not-found",
                "--wait", "--timeout=60s")
    left = kubectl.run("get", "namespace,persistentvolume", "-l", f"kfplug.dev/party={GONE}", "-o", "name").stdout
    assert not left.strip(), f"left after decommissioning by hand: {left}"


@pytest.mark.parametrize("layout", ["kustomization-per-party", "kustomization-per-cluster"])
def test_pruning_a_removed_party_keeps_its_namespace_claims_and_volumes(kubectl, flux, layout):
    reconciler = flux()
    reconciler.render(spec())
    if layout == "kustomization-per-party":  # as kfplug renders deploy/flux: the party's is removed, then finalized
        kustomizations = reconciler.rendered_kustomizations
        assert set(kustomizations()) == {f"two-orgs-{STAYS}", f"two-orgs-{GONE}"}
    else:  # one Kustomization of the user's own at clusters/org-a: the party leaves its build
        def kustomizations() -> dict[str, str]:
            return {"two-orgs-org-a": f"./{GITOPS_PATH}/clusters/org-a"}
    builds = reconciler.reconcile(kustomizations())
    objects = [o for objs in builds.values() for o in objs]
    gone = [o for o in objects if o["metadata"]["labels"].get("kfplug.dev/party") == str(GONE)]
    kept_data = [o for o in gone if o["kind"] in DATA_KINDS]
    volumes = [o for o in gone if o["kind"] == "PersistentVolume"]
    pruned = [o for o in gone if o["kind"] not in DATA_KINDS]
    assert {o["kind"] for o in kept_data} == set(DATA_KINDS) and volumes
    assert {o["kind"] for o in pruned} >= {"Deployment", "StatefulSet", "ConfigMap", "Secret", "Service",
                                           "NetworkPolicy"}
    for obj in kept_data:
        assert obj["metadata"]["annotations"][FLUX_PRUNE] == "disabled", key(obj)
    assert all(v["spec"]["persistentVolumeReclaimPolicy"] == "Retain" for v in volumes)
    before_claims = bound_volumes(kubectl, volumes)
    before = {key(o): server(kubectl, o["kind"], o["metadata"]["name"], o["metadata"].get("namespace", ""))
              for o in objects}
    assert all(o and o["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] in builds for o in before.values())

    reconciler.render(spec(parties=(STAYS,)))
    if layout == "kustomization-per-party":
        assert set(kustomizations()) == {f"two-orgs-{STAYS}"}
    rebuilt = reconciler.reconcile(kustomizations())

    actions = reconciler.actions()
    assert {key(o): actions.get(key(o)) for o in kept_data} == {key(o): "skipped" for o in kept_data}
    assert {key(o): actions.get(key(o)) for o in pruned} == {key(o): "deleted" for o in pruned}
    for obj in pruned:
        meta = obj["metadata"]
        assert server(kubectl, obj["kind"], meta["name"], meta["namespace"]) is None, key(obj)
    # the garbage collector removes the StatefulSets' pods; the claims they leave stay, bound
    wait_until(lambda: not json.loads(kubectl.run("get", "pods", "-n", f"fate-{GONE}", "-o", "json").stdout)["items"],
               f"pods left in fate-{GONE}")
    after_claims = claims(kubectl, f"fate-{GONE}")
    assert {n: c["metadata"]["uid"] for n, c in after_claims.items()} == \
        {n: c["metadata"]["uid"] for n, c in before_claims.items()}
    assert all(c["status"]["phase"] == "Bound" for c in after_claims.values())
    for obj in kept_data:
        now = server(kubectl, obj["kind"], obj["metadata"]["name"])
        assert now and now["metadata"]["uid"] == before[key(obj)]["metadata"]["uid"], key(obj)
        assert "deletionTimestamp" not in now["metadata"], key(obj)
        assert now["status"]["phase"] == ("Active" if obj["kind"] == "Namespace" else "Bound"), key(obj)
    still = {key(o) for objs in rebuilt.values() for o in objs}
    assert still and all(o["metadata"]["labels"]["kfplug.dev/party"] == str(STAYS) for objs in rebuilt.values()
                         for o in objs if o["kind"] != "PersistentVolume")
    for obj in objects:  # what the other party still has is the same object
        if key(obj) in still:
            meta = obj["metadata"]
            now = server(kubectl, obj["kind"], meta["name"], meta.get("namespace", ""))
            assert now and now["metadata"]["uid"] == before[key(obj)]["metadata"]["uid"], key(obj)


def test_without_the_annotation_flux_prunes_the_namespace_its_claims_and_the_volumes(kubectl, flux):
    """The control: the same objects and flow, the annotations stripped from the build."""
    reconciler = flux(strip=True)
    reconciler.render(spec())
    builds = reconciler.reconcile(reconciler.rendered_kustomizations())
    gone = builds[f"two-orgs-{GONE}"]
    volumes = [o for o in gone if o["kind"] == "PersistentVolume"]
    assert volumes and not any(FLUX_PRUNE in o["metadata"].get("annotations", {}) for o in gone)
    assert bound_volumes(kubectl, volumes)

    reconciler.render(spec(parties=(STAYS,)))
    reconciler.reconcile(reconciler.rendered_kustomizations())

    actions = reconciler.actions()
    assert {key(o): actions.get(key(o)) for o in gone} == {key(o): "deleted" for o in gone}
    # the namespace controller empties the namespace, claims included; the released volumes follow
    kubectl.run("wait", "--for=delete", "--timeout=180s", f"namespace/fate-{GONE}",
                *[f"persistentvolume/{v['metadata']['name']}" for v in volumes])


def test_renaming_the_federation_keeps_every_namespace_claim_and_volume(kubectl, flux):
    """Renamed, every Kustomization is new and the old ones are finalized. Worst order: the old
    ones prune first (the new ones applying first would have taken the objects over, so the
    old ones' prune skips them): the workloads are deleted and made again, the data stays."""
    reconciler = flux()
    reconciler.render(spec())
    builds = reconciler.reconcile(reconciler.rendered_kustomizations())
    volumes = [o for o in builds[f"two-orgs-{GONE}"] if o["kind"] == "PersistentVolume"]
    before_claims = bound_volumes(kubectl, volumes)
    kept = [o for objs in builds.values() for o in objs if o["kind"] in DATA_KINDS]
    before = {key(o): server(kubectl, o["kind"], o["metadata"]["name"])["metadata"]["uid"] for o in kept}

    shutil.rmtree(reconciler.root / GITOPS_PATH / "deploy")  # the old Kustomizations leave Git
    reconciler.render(spec(name="two-orgs-renamed"))
    renamed = reconciler.rendered_kustomizations()
    assert set(renamed) == {f"two-orgs-renamed-{STAYS}", f"two-orgs-renamed-{GONE}"}
    for name in sorted(reconciler.inventories):  # the old ones finalized first
        reconciler._run("delete", name)
        reconciler.inventories.discard(name)
    assert {k: a for k, a in reconciler.actions().items() if a == "skipped"} == \
        {key(o): "skipped" for o in kept}
    reconciler.reconcile(renamed)

    assert {key(o): server(kubectl, o["kind"], o["metadata"]["name"])["metadata"]["uid"] for o in kept} == before
    assert {n: c["metadata"]["uid"] for n, c in bound_volumes(kubectl, volumes).items()} == \
        {n: c["metadata"]["uid"] for n, c in before_claims.items()}


def test_argocd_neither_prunes_nor_deletes_what_holds_data(built):
    """Checked statically: no Argo CD controller runs here. Every Namespace and PersistentVolume of
    every example's build carries both annotations, with Argo CD's sync options Prune=false and
    Delete=false."""
    held = [o for (_, target), objects in built.items() if target.startswith("overlays/")
            for o in objects if o["kind"] in DATA_KINDS]
    assert {o["kind"] for o in held} == set(DATA_KINDS)
    for obj in held:
        annotations = obj["metadata"].get("annotations", {})
        assert annotations.get(FLUX_PRUNE) == "disabled", key(obj)
        assert {"Prune=false", "Delete=false"} <= set(annotations.get(ARGO_SYNC, "").split(",")), key(obj)
