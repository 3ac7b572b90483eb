"""`kfplug secrets init`: fill each overlay's secret env files with random values.

The rendered tree lists the keys in `secrets/<name>.env.example`; this writes
`secrets/<name>.env` (mode 0600, git-ignored) where it does not exist yet.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import string
from pathlib import Path

from .write import has_link

ALPHABET = string.ascii_letters + string.digits  # safe inside config files and sed


def random_value(length: int = 32) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def notebook_hash(password: str) -> str:
    """Jupyter's salted sha1 password hash (`sha1:<salt>:<digest>`)."""
    salt = secrets.token_hex(6)
    return f"sha1:{salt}:{hashlib.sha1((password + salt).encode()).hexdigest()}"


def init_secrets(out: Path) -> list[Path]:
    """Create the missing secret files under `out`; returns the files written.

    Nothing is read or written through a symbolic link inside `out`."""
    written = []
    for example in sorted(out.glob("overlays/*/secrets/*.env.example")):
        target = example.with_suffix("")
        if has_link(out, example) or not example.is_file() or target.exists() or target.is_symlink():
            continue
        keys = [line.split("=", 1)[0] for line in example.read_text().splitlines()
                if line and not line.startswith("#")]
        values, extra = _values(keys)
        _write_private(target, "".join(f"{key}={value}\n" for key, value in values.items()))
        written.append(target)
        for suffix, text in extra.items():
            path = target.with_suffix(suffix)
            if not (path.exists() or path.is_symlink()):
                _write_private(path, text)
                written.append(path)
    return written


def _values(keys: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    values, extra = {}, {}
    for key in keys:
        if key == "username":
            values[key] = "admin"
        elif key.endswith("hashed-password"):
            password = random_value()
            values[key] = notebook_hash(password)
            extra[".password"] = password + "\n"  # the plain password the user types in
        else:
            values[key] = random_value()
    return values, extra


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
