"""Writing an imported spec: one file, all at once, never over an input or through a link."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


class OutputRefused(Exception):
    """The spec file is not one the importer may write."""


def check_output(out: Path, inputs: Iterable[Path], force: bool = False) -> None:
    """An existing `out` is replaced only with `force`, and never when it is one of the inputs."""
    if any(out.resolve() == path.resolve() for path in inputs):
        raise OutputRefused(f"refusing to write to {out}: it is one of the input files")
    if os.path.lexists(out) and not force:
        raise OutputRefused(f"refusing to write to {out}: it exists (--force replaces it)")
    if out.is_dir():
        raise OutputRefused(f"refusing to write to {out}: it is a directory")


def write_spec(text: str, out: Path) -> None:
    """Write `text` to `out` atomically: a temporary file beside it, then a rename."""
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    except OSError as error:
        raise OutputRefused(f"cannot write to {out}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, out)  # a link at `out` is replaced, never written through
    except BaseException as error:
        os.unlink(temporary)
        if isinstance(error, OSError):
            raise OutputRefused(f"cannot write to {out}: {error.strerror}") from None
        raise
