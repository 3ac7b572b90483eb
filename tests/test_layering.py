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
