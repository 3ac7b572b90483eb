"""The component bases shipped with kfplug (`bases/` in the repository)."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path


@functools.cache
def bases_root() -> Path:
    spec = importlib.util.find_spec("kfplug.bases")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)
    here = Path(__file__).resolve().parents[2] / "bases"  # a source checkout
    if here.is_dir():
        return here
    raise FileNotFoundError("kfplug's component bases are missing from this installation")


def base_files(base: str) -> dict[str, str]:
    """Files of one base, e.g. "fate/2.0.0/mysql", keyed by their path relative to bases/."""
    root = bases_root()
    directory = root / base
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(directory.iterdir()) if path.is_file()}
