"""The component bases shipped with kfplug (`bases/` in the repository)."""

from __future__ import annotations

from ..catalog import bases_root


def base_files(base: str) -> dict[str, str]:
    """Files of one base, e.g. "fate/2.0.0/mysql", keyed by their path relative to bases/."""
    root = bases_root()
    directory = root / base
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(directory.iterdir()) if path.is_file()}
