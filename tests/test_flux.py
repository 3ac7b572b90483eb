"""Flux deploys the rendered tree as it is: no plugin, same objects, nothing to substitute.

.tools/bin/fluxbuild (tools/fluxbuild) builds a path with Flux's own build library, as
kustomize-controller v1.9.6 does: the generator pass over kustomization.yaml, a build confined to
the source root with plugins disabled, then postBuild substitution. Substitution here is strict
with one variable defined, so any ${...} in what kfplug renders would fail the build.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLES, fluxbuild_binary, require_tool, targets
from objects import canonical, parse

pytestmark = pytest.mark.tools


@pytest.fixture(scope="module")
def fluxbuild() -> str:
    return require_tool(fluxbuild_binary(), "fluxbuild (make tools)")


@pytest.fixture(scope="module")
def sources(rendered, tmp_path_factory) -> dict[str, Path]:
    """Each rendered example as a git checkout would hold it (the build rewrites kustomization.yaml
    files while it runs, so it gets its own copy)."""
    return {example: Path(shutil.copytree(root, tmp_path_factory.mktemp("flux") / example))
            for example, root in rendered.items()}


def flux_build(fluxbuild: str, root: Path, path: str, *assignments: str) -> subprocess.CompletedProcess:
    return subprocess.run([fluxbuild, str(root), path, *assignments], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("example", EXAMPLES)
def test_flux_builds_every_overlay_and_cluster_into_the_same_objects(fluxbuild, sources, built, example):
    paths = [f"{d.parent.name}/{d.name}" for d in targets(sources[example])]
    assert paths
    for path in paths:
        result = flux_build(fluxbuild, sources[example], path, "CLUSTER_NAME=production")
        assert result.returncode == 0, f"{example}/{path}: {result.stderr}"
        assert canonical(parse(result.stdout)) == canonical(built[(example, path)]), f"{example}/{path}"


def test_flux_leaves_the_tree_as_it_found_it(fluxbuild, sources):
    root = sources["two-party"]
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert flux_build(fluxbuild, root, "overlays/9999").returncode == 0
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_a_variable_reference_in_the_tree_would_fail_the_check(fluxbuild, rendered, tmp_path):
    """The strict substitution above can fail: a ${...} planted in a config file does."""
    root = Path(shutil.copytree(rendered["two-party"], tmp_path / "tree"))
    config = root / "overlays/9999/config/fateboard-config/application.properties"
    config.write_text(config.read_text() + "planted=${DATABASE_URL}\n")
    result = flux_build(fluxbuild, root, "overlays/9999", "CLUSTER_NAME=production")
    assert result.returncode == 1
    assert "DATABASE_URL" in result.stderr


def test_flux_cannot_run_the_function_so_it_takes_the_rendered_tree(fluxbuild, tmp_path):
    """What the README says: Flux runs no plugins, so a pipeline that keeps only the spec in git
    renders (or builds) it in CI and gives Flux the result."""
    root = Path(shutil.copytree(Path(__file__).resolve().parents[1] / "examples/krm-function", tmp_path / "repo"))
    result = flux_build(fluxbuild, root, "clusters/org-a")
    assert result.returncode == 1
    assert "plugin" in result.stderr.lower() or "function" in result.stderr.lower(), result.stderr
