"""The public facade: what the CLI and the KRM entry point call.

The writer's modules are imported where they are used: `kfplug-fn` runs once
per kustomize build and never writes files.
"""

from __future__ import annotations

from pathlib import Path

from .compile import compile_plan
from .plan import Plan
from .spec.load import read_spec
from .spec.model import Federation


def load(spec_file: str | Path) -> Federation:
    """Read and validate a spec; raises SpecError."""
    return read_spec(spec_file)[0]


def warnings(spec_file: str | Path) -> list:
    """What is allowed but worth saying (e.g. storage that does not survive a restart)."""
    return read_spec(spec_file)[1]


def plan(spec_file: str | Path) -> Plan:
    return compile_plan(load(spec_file))


def render(spec_file: str | Path, out: str | Path) -> list:
    """Write the kustomize tree for `spec_file` into `out`, atomically. Returns the warnings."""
    from .emit.tree import tree_files
    from .emit.write import check_output_dir, write_tree

    spec_file, out = Path(spec_file), Path(out)
    federation, found = read_spec(spec_file)
    files = tree_files(compile_plan(federation))
    check_output_dir(out, spec_file)
    write_tree(files, out)
    return found


def drift(spec_file: str | Path, out: str | Path) -> str:
    """The diff between `out` and a fresh render; empty when `out` is up to date."""
    from .emit.tree import tree_files
    from .emit.write import diff_tree

    return diff_tree(tree_files(plan(spec_file)), Path(out))


def init_secrets(out: str | Path) -> list[Path]:
    """Write random values for every secret file a rendered tree expects."""
    from .emit.secrets import init_secrets as _init

    return _init(Path(out))


def build_objects(federation: Federation, names: list[str] | None = None) -> list[dict]:
    """The objects `kustomize build` of the rendered overlays gives, for the selected overlays."""
    from .emit.resources import build

    return build(compile_plan(federation), names)
