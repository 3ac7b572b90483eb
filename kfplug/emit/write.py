"""The one writer: a rendered tree goes to a temporary directory next to the
target and is moved into place only when every file is written."""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from pathlib import Path

from .tree import MARKER

# what the user (or `kfplug secrets init`) puts into a tree: carried over a re-render, never compared
SECRET_FILES = ("overlays/*/secrets/*.env", "overlays/*/secrets/*.password", "overlays/*/secrets/*.sops.yaml")


class OutputError(Exception):
    """The output directory is not one kfplug may write to."""


def check_output_dir(out: Path, spec_file: Path | None = None) -> None:
    resolved = out.resolve()
    forbidden = {Path("/"), Path.home().resolve()}
    if resolved in forbidden:
        raise OutputError(f"refusing to write to {out}: it is / or the home directory")
    if spec_file is not None:
        spec_dir = spec_file.resolve().parent
        if resolved == spec_dir or spec_dir.is_relative_to(resolved):
            raise OutputError(f"refusing to write to {out}: it holds the spec itself")
    if out.is_symlink():
        raise OutputError(f"refusing to write to {out}: it is a symbolic link")
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"refusing to write to {out}: it is not a directory")
        if any(out.iterdir()) and not (out / MARKER).is_file():
            raise OutputError(f"refusing to write to {out}: a non-empty directory kfplug did not create "
                              f"(no {MARKER} marker)")


def write_tree(files: dict[str, str], out: Path) -> None:
    """Atomically replace `out` with exactly `files`, keeping the user's secret files.

    Raises OutputError when the file system refuses (read-only, full, ...); `out` is then unchanged."""
    for relative in files:
        if not _inside(relative):
            raise ValueError(f"refusing to write {relative!r}: not a path inside the output")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=".kfplug-"))
    except OSError as err:
        raise OutputError(f"cannot write to {out}: {err.strerror or err}") from None
    try:
        _write_files(staging, files)
        if out.is_dir():
            _carry_secrets(out, staging)
        _swap(staging, out)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"cannot write to {out}: {err.strerror or err}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _inside(relative: str) -> bool:
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    return bool(parts) and not relative.startswith("/") and ".." not in parts


def _write_files(root: Path, files: dict[str, str]) -> None:
    """Every file under `root`, making each directory once (a tree has thousands of files)."""
    made: set[str] = set()
    for relative, text in sorted(files.items()):
        directory = os.path.dirname(relative)
        if directory not in made:
            os.makedirs(os.path.join(root, directory), exist_ok=True)
            made.add(directory)
        _write_file(os.path.join(root, relative), text.encode("utf-8"), 0o644)


def _write_file(path: str | Path, data: bytes, mode: int) -> None:
    """A new file in an existing directory, never through a link."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def has_link(root: Path, path: Path) -> bool:
    """Whether `path`, or a directory between `root` and it, is a symbolic link (never followed)."""
    parts = path.relative_to(root).parts
    return any(root.joinpath(*parts[:end]).is_symlink() for end in range(1, len(parts) + 1))


def _carry_secrets(old: Path, new: Path) -> None:
    for path in sorted(p for pattern in SECRET_FILES for p in old.glob(pattern)):
        if not has_link(old, path) and path.is_file():
            target = new / path.relative_to(old)
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_file(target, path.read_bytes(), 0o600)


def _swap(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    retired = Path(tempfile.mkdtemp(dir=out.parent, prefix=".kfplug-old-"))
    os.rename(out, retired / "tree")
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(retired / "tree", out)  # should this fail too, the old tree stays in `retired`
        retired.rmdir()
        raise
    shutil.rmtree(retired, ignore_errors=True)


def is_secret_file(relative: str) -> bool:
    return any(Path(relative).match(pattern) for pattern in SECRET_FILES)


def diff_tree(files: dict[str, str], out: Path) -> str:
    """Unified diff from what is in `out` to what a render would write; '' when up to date."""
    if out.is_symlink():
        raise OutputError(f"refusing to compare with {out}: it is a symbolic link")
    current = {}
    if out.is_dir():
        for path in sorted(out.rglob("*")):  # does not descend into linked directories
            relative = path.relative_to(out).as_posix()
            if path.is_symlink():  # render replaces it; its target is never read
                current[relative] = "(a symbolic link, not followed)\n"
            elif path.is_file() and not is_secret_file(relative):
                current[relative] = path.read_text(encoding="utf-8", errors="replace")
    chunks: list[str] = []
    for relative in sorted(set(current) | set(files)):
        old, new = current.get(relative), files.get(relative)
        if old == new:
            continue
        chunks.extend(difflib.unified_diff(
            (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
            fromfile=f"a/{relative}" if old is not None else "/dev/null",
            tofile=f"b/{relative}" if new is not None else "/dev/null"))
    return "".join(chunks)
