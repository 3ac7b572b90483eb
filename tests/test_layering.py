"""Imports flow one way: cli/krm -> api -> importers -> schema -> emit -> runtimes -> compile -> plan -> spec
-> runtime -> catalog -> yaml -> diagnostics; and the generic code reaches a runtime only through the registry."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "kfplug"
# A layer may import only layers ranked after it; `kfplug fn` in the CLI hands over to krm. Imports
# made only for type checking (under `if TYPE_CHECKING:`) do not count: they run nothing.
RANK = {"cli": 0, "krm": 0.5, "plugin": 0.5, "api": 1, "importers": 1.5, "schema": 1.6, "emit": 2, "runtimes": 2.5,
        "compile": 3, "plan": 4, "spec": 5, "runtime": 6, "catalog": 6.5, "yamlread": 7, "yamlwrite": 7,
        "diagnostics": 8}
HEAVY = {"deepdiff", "click"}


def layer_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def runtime_imports(tree: ast.AST) -> list[ast.ImportFrom | ast.Import]:
    """Every import statement that runs (not the ones under `if TYPE_CHECKING:`)."""
    type_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                 and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                 for statement in block.body for node in ast.walk(statement)}
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
            and id(node) not in type_only]


def imported_modules(path: Path) -> set[tuple[str, ...]]:
    """The kfplug modules a file imports, as package-relative parts: ("compile", "frame")."""
    here = path.relative_to(PACKAGE).parts[:-1]
    found = set()
    for node in runtime_imports(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = here[:len(here) - (node.level - 1)] if node.level > 1 else here
            module = tuple((node.module or "").split(".")) if node.module else ()
            found |= {(*base, *module, alias.name) if not module else (*base, *module) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kfplug."):
            found.add(tuple(node.module.split(".")[1:]))
        elif isinstance(node, ast.Import):
            found |= {tuple(a.name.split(".")[1:]) for a in node.names if a.name.startswith("kfplug.")}
    return found


def test_imports_flow_one_way():
    problems = []
    for path in PACKAGE.rglob("*.py"):
        layer = layer_of(path)
        assert layer in RANK or layer in ("__init__", "__main__"), f"{path}: a module no layer names"
        for target in {parts[0] for parts in imported_modules(path) if parts and parts[0] in RANK}:
            if layer in RANK and target != layer and RANK[target] <= RANK[layer]:
                problems.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert not problems


def test_generic_code_names_no_runtime():
    """Outside kfplug/runtimes/, nothing imports a runtime package: the registry finds them by name.
    An importer translates one runtime's own tool (KubeFATE's files into a fate spec): it may name its
    runtime, and still reaches it only through the registry."""
    runtimes = {p.name for p in (PACKAGE / "runtimes").iterdir() if (p / "__init__.py").is_file()}
    assert runtimes >= {"fate", "kuscia"}
    problems = []
    for path in PACKAGE.rglob("*.py"):
        if layer_of(path) == "runtimes":
            continue
        for parts in imported_modules(path):
            if parts[:1] == ("runtimes",) and len(parts) > 1:
                problems.append(f"{path.relative_to(PACKAGE)} imports runtimes.{parts[1]}")
        if layer_of(path) == "importers":
            continue
        text = path.read_text()
        problems += [f"{path.relative_to(PACKAGE)} names runtimes.{name}" for name in runtimes
                     if f"runtimes.{name}" in text or f'"{name}"' in text]
    assert not problems


def test_each_runtime_imports_no_other():
    problems = []
    for path in (PACKAGE / "runtimes").rglob("*.py"):
        own = path.relative_to(PACKAGE / "runtimes").parts[0]
        for parts in imported_modules(path):
            if parts[:1] == ("runtimes",) and len(parts) > 1 and parts[1] != own:
                problems.append(f"{path.relative_to(PACKAGE)} imports runtimes.{parts[1]}")
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


def test_every_package_ships():
    """setuptools lists kfplug's packages by name (the bases are mapped in from bases/): a package
    missing from pyproject.toml would be missing from the wheel."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    present = {".".join(("kfplug", *p.parent.relative_to(PACKAGE).parts)) for p in PACKAGE.rglob("__init__.py")}
    assert present <= listed, f"add to [tool.setuptools] packages: {sorted(present - listed)}"


def test_every_base_file_ships():
    """The bases are package data of kfplug.bases, shipped by its package-data patterns alone (setuptools'
    include-package-data is off: it took base directories for packages): a file no pattern matches would
    be missing from the wheel (tests/test_install.py builds it)."""
    import tomllib

    setuptools = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]
    bases = PACKAGE.parent / setuptools["package-dir"]["kfplug.bases"]
    shipped = {p for pattern in setuptools["package-data"]["kfplug.bases"] for p in bases.glob(pattern)}
    missing = sorted(str(p.relative_to(bases)) for p in bases.rglob("*") if p.is_file() and p not in shipped)
    assert not missing, f"add a pattern to [tool.setuptools.package-data] for: {missing}"


def test_validate_loads_no_compiler():
    """`kfplug validate` reads and checks the spec through each runtime's catalog and checks; its
    compile steps (and the shared compiler) load only when a plan is made."""
    import subprocess
    import sys

    examples = PACKAGE.parent / "examples"
    probe = ("import sys; from kfplug import api; "
             f"[api.read(p) for p in {[str(p) for p in sorted(examples.glob('*/federation.yaml'))]!r}]; "
             "print(sorted(m for m in sys.modules if m.startswith(('kfplug.compile', 'kfplug.plan', "
             "'kfplug.emit'))))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
