"""kfplug inside kustomize and kpt gives exactly the objects of the rendered tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from deepdiff import DeepDiff

from conftest import REPO, SPECS, kubectl_binaries, require_tool
from objects import parse

BIN = Path(sys.executable).parent
FUNCTION = str(BIN / "kfplug-fn")
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
KRM_EXAMPLE = REPO / "examples/krm-function"
ANNOTATIONS = ("config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/")


def run_function(resource_list: dict) -> subprocess.CompletedProcess:
    return subprocess.run([FUNCTION], input=yaml.safe_dump(resource_list), capture_output=True, text=True,
                          env=ENV, timeout=60)


def spec_document(example: str) -> dict:
    """The example's Federation as a function receives it: CA certificates inline, as a pipeline that
    keeps only the spec writes them (the function reads no files)."""
    document = yaml.safe_load(SPECS[example].read_text())
    spec = document["spec"]
    for holder in [*spec["parties"], *([spec["exchange"]] if spec.get("exchange") else [])]:
        if (holder.get("tls") or {}).get("ca"):
            holder["tls"]["ca"] = (SPECS[example].parent / holder["tls"]["ca"]).read_text()
    return document


def strip_orchestrator_annotations(objects: list[dict]) -> list[dict]:
    for obj in objects:
        annotations = obj["metadata"].get("annotations", {})
        for key in [k for k in annotations if k.startswith(ANNOTATIONS)]:
            del annotations[key]
        if "annotations" in obj["metadata"] and not annotations:
            del obj["metadata"]["annotations"]
    return objects


def tree_build(built, example: str, targets: list[str]) -> list[dict]:
    return [obj for target in targets for obj in built[(example, target)]]


def overlays_of(built, example: str) -> list[str]:
    return sorted(t for (ex, t) in built if ex == example and t.startswith("overlays/"))


@pytest.mark.parametrize("example", ["exchange-star", "krm-function", "multi-cluster"])
def test_generator_equals_the_rendered_tree(built, example):
    result = run_function({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [],
                           "functionConfig": spec_document(example)})
    assert result.returncode == 0, result.stderr
    generated = yaml.safe_load(result.stdout)["items"]
    expected = tree_build(built, example, overlays_of(built, example))
    assert generated, "the function generated nothing"
    assert DeepDiff(expected, generated, ignore_order=True) == {}


@pytest.mark.parametrize("selection, targets", [
    ({"parties": [9999]}, ["overlays/9999"]),
    ({"cluster": "org-b"}, ["overlays/10000"]),
    ({}, ["overlays/10000", "overlays/9999"]),
])
def test_transformer_expands_the_selection_and_passes_other_items_through(built, selection, targets):
    federation = spec_document("krm-function")
    other = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "unrelated", "annotations": {"internal.config.kubernetes.io/path": "x.yaml"}},
             "data": {"a": "b"}}
    build_config = {"apiVersion": "kfplug.dev/v1alpha1", "kind": "FederationBuild", "metadata": {"name": "b"},
                    "spec": selection}
    result = run_function({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                           "items": [other, federation], "functionConfig": build_config})
    assert result.returncode == 0, result.stderr
    items = yaml.safe_load(result.stdout)["items"]
    assert items[0] == other
    assert not [i for i in items if i.get("kind") == "Federation"], "the Federation is consumed"
    assert DeepDiff(tree_build(built, "krm-function", targets), items[1:], ignore_order=True) == {}


def test_generated_secrets_need_references_inside_kustomize():
    result = run_function({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [],
                           "functionConfig": spec_document("two-party")})
    assert result.returncode == 1
    results = yaml.safe_load(result.stdout)["results"]
    assert {r["field"]["path"] for r in results} >= {"spec.parties[0].secrets.mysql"}
    assert all(r["severity"] == "error" and "reads no files" in r["message"] for r in results)


def test_bad_federation_becomes_error_results():
    bad = spec_document("krm-function")
    bad["spec"]["parties"][0]["replicas"] = {"mysql": 3}
    bad["spec"]["parties"][1]["namepsace"] = "x"
    result = run_function({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [],
                           "functionConfig": bad})
    assert result.returncode == 1
    results = yaml.safe_load(result.stdout)["results"]
    # every problem in one run: the semantic one is no longer hidden by the structural one
    assert [r["field"]["path"] for r in results] == ["spec.parties[0].replicas.mysql", "spec.parties[1].namepsace"]
    assert "spec.parties[1].namepsace: unknown field 'namepsace' (did you mean 'namespace'?)" in result.stderr


@pytest.mark.parametrize("stdin", ["items: [", "kind: Deployment\n", "[]"])
def test_malformed_resource_list_is_an_error_result(stdin):
    result = subprocess.run([FUNCTION], input=stdin, capture_output=True, text=True, env=ENV, timeout=60)
    assert result.returncode == 1
    assert yaml.safe_load(result.stdout)["results"][0]["severity"] == "error"
    assert result.stderr.strip()


@pytest.mark.tools
@pytest.mark.parametrize("cluster", ["org-a", "org-b"])
def test_kustomize_runs_the_exec_function(built, kustomize, cluster):
    result = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec",
                             str(KRM_EXAMPLE / "clusters" / cluster)], capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr
    objects = parse(result.stdout)
    assert objects
    assert DeepDiff(built[("krm-function", f"clusters/{cluster}")], objects) == {}


@pytest.mark.tools
def test_kustomize_generator_mode(built, kustomize, tmp_path):
    document = spec_document("exchange-star")
    document["metadata"]["annotations"] = {"config.kubernetes.io/function": "exec:\n  path: kfplug-fn\n"}
    (tmp_path / "federation.yaml").write_text(yaml.safe_dump(document))
    (tmp_path / "kustomization.yaml").write_text("generators:\n  - federation.yaml\n")
    result = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec", str(tmp_path)],
                            capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr
    assert DeepDiff(built[("exchange-star", "clusters/default")], parse(result.stdout)) == {}


@pytest.mark.tools
def test_bad_federation_fails_the_kustomize_build(kustomize, tmp_path):
    shutil.copytree(KRM_EXAMPLE, tmp_path / "krm")
    spec = tmp_path / "krm/federation/federation.yaml"
    spec.write_text(spec.read_text().replace("endpoint: 192.168.20.1:30101", "endpoint: nowhere"))
    result = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec",
                             str(tmp_path / "krm/clusters/org-a")], capture_output=True, text=True, env=ENV)
    assert result.returncode != 0
    assert "spec.parties[1].endpoint: 'nowhere' is not host:port" in result.stderr
    assert result.stdout == ""


@pytest.mark.tools
def test_kubectl_runs_the_legacy_exec_plugin(built, tmp_path):
    kubectl = kubectl_binaries()[-1] if kubectl_binaries() else None
    require_tool(str(kubectl) if kubectl else shutil.which("kubectl"), "kubectl")
    home = tmp_path / "plugins"
    installed = subprocess.run([str(BIN / "kfplug"), "install-plugin", "--plugin-home", str(home)],
                               capture_output=True, text=True, env=ENV)
    assert installed.returncode == 0, installed.stderr
    assert (home / "kfplug.dev/v1alpha1/federation/Federation").stat().st_mode & 0o111
    package = tmp_path / "legacy"
    package.mkdir()
    (package / "federation.yaml").write_text(SPECS["exchange-star"].read_text())
    (package / "kustomization.yaml").write_text("generators:\n  - federation.yaml\n")
    result = subprocess.run([str(kubectl), "kustomize", "--enable-alpha-plugins", str(package)],
                            capture_output=True, text=True, env={**ENV, "KUSTOMIZE_PLUGIN_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    objects = parse(result.stdout)
    assert objects, "kubectl silently produced nothing"
    assert DeepDiff(built[("exchange-star", "clusters/default")], objects, ignore_order=True) == {}


@pytest.fixture(scope="module")
def kpt() -> str:
    return require_tool(shutil.which("kpt"), "kpt")


@pytest.mark.tools
def test_kpt_fn_eval(built, kpt, tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    config = tmp_path / "federation.yaml"
    config.write_text(SPECS["exchange-star"].read_text())
    result = subprocess.run([kpt, "fn", "eval", str(package), "--exec", FUNCTION, "--fn-config", str(config),
                             "-o", "unwrap"], capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr
    objects = strip_orchestrator_annotations(parse(result.stdout))
    assert DeepDiff(built[("exchange-star", "clusters/default")], objects, ignore_order=True) == {}


@pytest.mark.tools
def test_kpt_fn_render_pipeline(built, kpt, tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "Kptfile").write_text(
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pkg\n"
        "pipeline:\n  mutators:\n    - exec: kfplug-fn\n      configPath: federation.yaml\n")
    document = spec_document("exchange-star")
    document["metadata"]["annotations"] = {"config.kubernetes.io/local-config": "true"}
    (package / "federation.yaml").write_text(yaml.safe_dump(document))
    result = subprocess.run([kpt, "fn", "render", ".", "--allow-exec", "-o", "unwrap"], cwd=package,
                            capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr
    objects = [o for o in strip_orchestrator_annotations(parse(result.stdout))
               if o["kind"] not in ("Kptfile", "Federation")]
    assert DeepDiff(built[("exchange-star", "clusters/default")], objects, ignore_order=True) == {}


@pytest.mark.tools
def test_kpt_shows_the_results_of_a_bad_federation(kpt, tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    config = tmp_path / "federation.yaml"
    config.write_text(SPECS["exchange-star"].read_text().replace("id: 9999", "id: 09999"))
    results = tmp_path / "results"
    result = subprocess.run([kpt, "fn", "eval", str(package), "--exec", FUNCTION, "--fn-config", str(config),
                             "--results-dir", str(results)], capture_output=True, text=True, env=ENV)
    assert result.returncode != 0
    (listing,) = results.glob("*.yaml")
    found = yaml.safe_load(listing.read_text())
    messages = [r for item in found["items"] for r in item.get("results", [])]
    assert any(r["field"]["path"] == "spec.parties[1].id" and "is not a FATE party id" in r["message"]
               for r in messages), found
