"""The public facade: what the CLI and the KRM entry point call.

The writer's modules are imported where they are used: `kfplug-fn` runs once
per kustomize build and never writes files; `kfplug validate` never compiles.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from pathlib import Path
from typing import TYPE_CHECKING

from .spec.load import read_spec
from .spec.model import Federation

if TYPE_CHECKING:
    from .plan import Plan


@contextlib.contextmanager
def _no_cycle_collection():
    """Reading and compiling allocate a million small objects and leave no cycles behind; the
    cycle collector would walk the growing heap again and again (a third of the compile time of a
    thousand parties). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _bulk(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with _no_cycle_collection():
            return function(*args, **kwargs)
    return wrapper


def load(spec_file: str | Path) -> Federation:
    """Read and validate a spec; raises SpecError."""
    return read_spec(spec_file)[0]


@_bulk
def warnings(spec_file: str | Path) -> list:
    """What is allowed but worth saying (e.g. storage that does not survive a restart)."""
    return read_spec(spec_file)[1]


@_bulk
def plan(spec_file: str | Path) -> Plan:
    from .compile import compile_plan

    return compile_plan(load(spec_file))


@_bulk
def render(spec_file: str | Path, out: str | Path) -> list:
    """Write the kustomize tree for `spec_file` into `out`, atomically. Returns the warnings."""
    from .compile import compile_plan
    from .emit.tree import tree_files
    from .emit.write import check_output_dir, write_tree

    spec_file, out = Path(spec_file), Path(out)
    federation, found = read_spec(spec_file)
    files = tree_files(compile_plan(federation))
    check_output_dir(out, spec_file)
    write_tree(files, out)
    return found


@_bulk
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
    from .compile import compile_plan
    from .emit.resources import build

    return build(compile_plan(federation), names)
