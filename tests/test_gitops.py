"""Deploying from Git: the Flux Kustomizations and Argo CD ApplicationSets `render` writes under
deploy/, built by the real kustomize and (their paths) by Flux's own build code; Secrets kept in Git,
encrypted by the real sops for an age key and decrypted as Flux does; and `kfplug images`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, SPECS, AgeKey, build, fluxbuild_binary, init_secrets_for_test, require_tool
from kfplug import api
from objects import canonical, containers, parse, references

pytestmark = pytest.mark.tools

FLUX, ARGOCD = "gitops-flux", "gitops-argocd"


def gitops(example: str) -> dict:
    return yaml.safe_load(SPECS[example].read_text())["spec"]["gitops"]


def members(root: Path) -> dict[str, str]:
    """overlay -> its cluster, from the rendered cluster kustomizations."""
    out = {}
    for kustomization in root.glob("clusters/*/kustomization.yaml"):
        for entry in yaml.safe_load(kustomization.read_text())["resources"]:
            out[entry.rsplit("/", 1)[-1]] = kustomization.parent.name
    return out


def deploy_objects(root: Path, tool: str, kustomize: str) -> dict[str, list[dict]]:
    """cluster -> the objects `kustomize build deploy/<tool>/<cluster>` gives."""
    return {d.name: parse(build([kustomize, "build"], d)) for d in sorted((root / "deploy" / tool).iterdir())}


@pytest.fixture(scope="module")
def fluxbuild() -> str:
    return require_tool(fluxbuild_binary(), "fluxbuild (make tools)")


def test_flux_gets_one_kustomization_per_overlay_in_the_overlays_cluster(rendered, kustomize):
    root, settings = rendered[FLUX], gitops(FLUX)
    by_cluster = deploy_objects(root, "flux", kustomize)
    wanted = members(root)
    assert set(by_cluster) == set(wanted.values()) == {"org-a", "org-b"}
    seen = {}
    for cluster, objects in by_cluster.items():
        for obj in objects:
            assert (obj["apiVersion"], obj["kind"]) == ("kustomize.toolkit.fluxcd.io/v1", "Kustomization")
            overlay = obj["metadata"]["labels"]["kfplug.dev/party"]
            seen[overlay] = cluster
            spec = obj["spec"]
            assert spec["path"] == f"./{settings['path']}/overlays/{overlay}"
            assert (root / "overlays" / overlay / "kustomization.yaml").is_file()
            assert spec["prune"] is True and spec["wait"] is True
            assert spec["sourceRef"] == {"kind": "GitRepository", "name": "fleet"}
            assert spec["decryption"] == {"provider": "sops", "secretRef": {"name": "sops-age"}}
            assert obj["metadata"] == {**obj["metadata"], "name": f"two-orgs-{overlay}", "namespace": "flux-system"}
    assert seen == wanted


def test_flux_builds_each_kustomizations_path_from_the_repository(rendered, kustomize, fluxbuild, built, tmp_path):
    """The repository holds the tree at gitops.path; each Kustomization's path builds with Flux's code into
    what kustomize builds from the overlay."""
    settings = gitops(FLUX)
    repository = tmp_path / "repository"
    shutil.copytree(rendered[FLUX], repository / settings["path"])
    paths = [obj["spec"]["path"] for objects in deploy_objects(rendered[FLUX], "flux", kustomize).values()
             for obj in objects]
    assert len(paths) == 2
    for path in paths:
        result = subprocess.run([fluxbuild, str(repository), path], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        overlay = "overlays/" + path.rsplit("/", 1)[-1]
        assert canonical(parse(result.stdout)) == canonical(built[(FLUX, overlay)])


KUSCIA_WITH_FLUX = """
  gitops:
    path: fleet/kuscia
    flux:
      sourceRef: {name: fleet, namespace: platform}
      namespace: platform
      interval: 5m
      serviceAccountName: fleet-deployer
"""


def flux_objects(tmp_path: Path, example: str, extra: str) -> dict[str, dict]:
    spec = tmp_path / "federation.yaml"
    spec.write_text(SPECS[example].read_text() + extra)
    plan = api.plan(api.load(spec))
    return {r.body["metadata"]["labels"]["kfplug.dev/party"]: r.body for r in plan.reconcilers}


def test_kuscia_lites_wait_for_the_master_of_their_own_flux(tmp_path):
    objects = flux_objects(tmp_path, "kuscia-multi-cluster", KUSCIA_WITH_FLUX)
    assert set(objects) == {"master", "alice", "bob", "carol"}
    assert "dependsOn" not in objects["master"]["spec"]
    assert objects["alice"]["spec"]["dependsOn"] == [{"name": "kuscia-multi-cluster-master"}]  # hq, like the master
    assert "dependsOn" not in objects["bob"]["spec"]  # the branch's Flux cannot see hq's Kustomizations
    spec = objects["alice"]["spec"]
    assert spec["sourceRef"] == {"kind": "GitRepository", "name": "fleet", "namespace": "platform"}
    assert (spec["interval"], spec["serviceAccountName"]) == ("5m", "fleet-deployer")
    assert "decryption" not in spec  # nothing encrypted: Kuscia's Secrets are the user's


def test_a_hub_reconciles_every_cluster_through_its_kubeconfig(tmp_path):
    hub = KUSCIA_WITH_FLUX + "      kubeConfigSecrets: {hq: hq-kubeconfig, branch: branch-kubeconfig}\n"
    objects = flux_objects(tmp_path, "kuscia-multi-cluster", hub)
    assert objects["bob"]["spec"]["kubeConfig"] == {"secretRef": {"name": "branch-kubeconfig"}}
    assert objects["bob"]["spec"]["dependsOn"] == [{"name": "kuscia-multi-cluster-master"}]  # all in the hub now


def test_argocd_gets_an_applicationset_per_cluster_aimed_at_it(rendered, kustomize):
    root, settings = rendered[ARGOCD], gitops(ARGOCD)
    by_cluster = deploy_objects(root, "argocd", kustomize)
    wanted = members(root)
    assert set(by_cluster) == {"hq", "branch"}
    for cluster, (applicationset,) in by_cluster.items():
        assert applicationset["kind"] == "ApplicationSet"
        assert applicationset["metadata"]["namespace"] == "argocd"
        elements = applicationset["spec"]["generators"][0]["list"]["elements"]
        assert {e["overlay"] for e in elements} == {o for o, c in wanted.items() if c == cluster}
        template = applicationset["spec"]["template"]["spec"]
        assert template["destination"]["server"] == settings["argocd"].get("destinations", {}).get(
            cluster, "https://kubernetes.default.svc")
        assert template["source"]["repoURL"] == settings["argocd"]["repoURL"]
        assert template["source"]["targetRevision"] == "main"
        assert template["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
        for element in elements:
            path = template["source"]["path"].replace("{{.overlay}}", element["overlay"])
            assert path == f"{settings['path']}/overlays/{element['overlay']}"
            namespace = yaml.safe_load((root / "overlays" / element["overlay"] / "kustomization.yaml").read_text())
            assert element["namespace"] == namespace["namespace"]


def test_argocd_with_sops_is_a_warning(tmp_path):
    spec = tmp_path / "federation.yaml"
    spec.write_text(SPECS[FLUX].read_text() + "    argocd: {repoURL: 'https://git.example.org/fleet.git'}\n")
    _, warnings = api.read(spec)
    assert [(w.path, "SOPS plugin" in w.message) for w in warnings if w.path.startswith("spec.gitops")] == [
        ("spec.gitops.sops", True)]


# --- Secrets in Git ------------------------------------------------------------------------------------------

@pytest.fixture
def encrypted(tmp_path, age_key: AgeKey) -> Path:
    root = tmp_path / "tree"
    api.render(SPECS[FLUX], root)
    init_secrets_for_test(root, age_key)
    return root


def secret_files(root: Path) -> list[Path]:
    return sorted(root.glob("overlays/*/secrets/*.sops.yaml"))


def test_the_encrypted_tree_holds_no_plaintext(encrypted, age_key):
    files = secret_files(encrypted)
    assert [p.relative_to(encrypted).as_posix() for p in files] == [
        f"overlays/{party}/secrets/{name}.sops.yaml" for party in ("10000", "9999")
        for name in ("client", "fateboard", "mysql")]
    values = []
    for path in files:
        secret = yaml.safe_load(age_key.decrypt(path))  # MAC checked: the file is as sops wrote it
        assert secret["kind"] == "Secret" and secret["metadata"]["name"] == path.name.removesuffix(".sops.yaml")
        keys = [line.split("=")[0] for line in path.with_name(path.name.replace(".sops.yaml", ".env.example"))
                .read_text().splitlines() if line and not line.startswith("#")]
        assert sorted(secret["stringData"]) == sorted(keys)
        assert all(value.startswith("ENC[AES256_GCM,") for value in yaml.safe_load(path.read_text())["stringData"]
                   .values())
        values += [v for v in secret["stringData"].values() if v != "admin"]
        assert path.stat().st_mode & 0o077 == 0
    assert len(values) == 6  # mysql and fateboard passwords, the notebook hash, in each party
    values += [p.read_text().strip() for p in encrypted.glob("overlays/*/secrets/client.password")]
    assert len(values) == 8  # and the notebook passwords the operators type in (git-ignored files)
    tree = [p.read_bytes() for p in encrypted.rglob("*") if p.is_file() and not p.name.endswith(".password")]
    assert not [v for v in values if any(v.encode() in text for text in tree)]
    assert not list(encrypted.glob("overlays/*/secrets/*.env"))


def test_flux_decrypts_the_built_secrets_the_workloads_use(encrypted, age_key, fluxbuild, tmp_path):
    """Flux builds first, then decrypts each Secret that carries sops metadata (without the MAC, since
    kustomize added the namespace and labels): every Secret a workload uses comes out whole."""
    result = subprocess.run([fluxbuild, str(encrypted), "overlays/9999"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    objects = parse(result.stdout)
    secrets = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Secret"}
    assert set(secrets) == {"mysql", "fateboard", "client"}
    used = {name for o in objects for kind, name in references(o) if kind == "Secret"}
    assert used == set(secrets)
    for name, secret in secrets.items():
        assert "sops" in secret, f"{name} is not encrypted in the build"
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(secret))
        decrypted = yaml.safe_load(age_key.decrypt(path, ignore_mac=True))
        assert decrypted["metadata"]["namespace"] == "fate-9999"
        assert all(value and not value.startswith("ENC[") for value in decrypted["stringData"].values())


def test_a_rerender_keeps_the_encrypted_secrets_and_check_ignores_them(encrypted):
    before = {p: p.read_bytes() for p in secret_files(encrypted)}
    api.render(SPECS[FLUX], encrypted)
    assert {p: p.read_bytes() for p in secret_files(encrypted)} == before
    assert api.drift(SPECS[FLUX], encrypted) == ""


def test_secrets_init_without_sops_says_so(tmp_path, monkeypatch):
    from kfplug.emit.write import OutputError

    root = tmp_path / "tree"
    api.render(SPECS[FLUX], root)
    monkeypatch.setenv("KFPLUG_SOPS", "")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(OutputError, match="sops is not installed"):
        api.init_secrets(root)
    assert not secret_files(root)


# --- kfplug images --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("example", EXAMPLES)
def test_images_lists_every_image_the_built_pods_pull(built, example):
    pulled = {c["image"] for (name, _), objects in built.items() if name == example
              for obj in objects for c in containers(obj)}
    assert pulled
    assert api.images(api.load(SPECS[example])) == sorted(pulled)
