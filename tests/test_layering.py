"""Imports flow one way: cli/krm -> api -> emit -> compile -> plan -> spec -> runtimes -> diagnostics."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "kfplug"
# A layer may import only layers ranked after it; `kfplug fn` in the CLI hands over to krm.
RANK = {"cli": 0, "krm": 0.5, "api": 1, "emit": 2, "compile": 3, "plan": 4, "spec": 5, "runtimes": 6,
        "yamlio": 7, "diagnostics": 8}
HEAVY = {"deepdiff", "click"}


def layer_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            depth_to_root = len(path.relative_to(PACKAGE).parts) - 1
            if node.level > depth_to_root:
                target = (node.module or "").split(".")[0]
                names = [target] if target else [alias.name for alias in node.names]
                found.update(n for n in names if n in RANK)
    return found


def test_imports_flow_one_way():
    problems = []
    for path in PACKAGE.rglob("*.py"):
        layer = layer_of(path)
        if layer not in RANK:
            continue
        for target in imported_layers(path):
            if target != layer and RANK[target] <= RANK[layer]:
                problems.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert not problems


def test_function_path_stays_light():
    """deepdiff never, click only in the CLI."""
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                   for alias in node.names}
        modules |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level == 0}
        allowed = {"click"} if path.name == "cli.py" else set()
        assert not (modules & HEAVY) - allowed, path


def test_function_starts_without_the_compiler():
    """kfplug-fn runs once per kustomize build: the compiler (and attrs) load only when a
    Federation arrives, so an unrelated or empty ResourceList costs little more than yaml."""
    import subprocess
    import sys

    probe = ("import sys; import kfplug.krm as krm; krm.run([]); "
             "print(sorted(m for m in sys.modules if m.startswith(('attr', 'kfplug.'))), file=sys.stderr)")
    resource_list = ("{apiVersion: config.kubernetes.io/v1, kind: ResourceList, items: [], "
                     "functionConfig: {apiVersion: kfplug.dev/v1alpha1, kind: FederationBuild}}")
    result = subprocess.run([sys.executable, "-c", probe], input=resource_list, capture_output=True, text=True)
    loaded = result.stderr.strip().splitlines()[-1]
    assert "'kfplug.compile'" not in loaded and "'attrs'" not in loaded, loaded
    assert "found 0" in result.stdout  # it did run: the FederationBuild found no Federation
