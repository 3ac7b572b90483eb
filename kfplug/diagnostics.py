"""Problems found in a spec: one `Issue` each, raised together as a `SpecError`."""

from __future__ import annotations

import json
import re
from typing import NamedTuple

# Where a value is in a spec or an object: mapping keys and list indexes, ("spec", "parties", 1, "id").
FieldPath = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class Issue(NamedTuple):  # a tuple, so the function's start-up needs no attrs
    file: str
    line: int
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        prefix = f"{self.path}: " if self.path else ""
        return f"{where}: {self.severity}: {prefix}{self.message}"


class Finding(NamedTuple):
    """What a check found at a field path of the spec; the loader gives it a file and a line."""
    path: FieldPath
    message: str
    severity: str = "error"  # or "warning": reported, and rendering goes on


def warning(path: FieldPath, message: str) -> Finding:
    return Finding(path, message, "warning")


class SpecError(Exception):
    """Invalid input. Carries every issue found, sorted."""

    def __init__(self, issues: list[Issue]):
        self.issues = sorted(set(issues))
        super().__init__("\n".join(map(str, self.issues)))


def format_path(parts: FieldPath) -> str:
    """("spec", "parties", 1, "id") -> "spec.parties[1].id"; a key that is not a plain name is quoted,
    ("metadata", "annotations", "a.b/c") -> 'metadata.annotations["a.b/c"]', so a path is never empty
    nor ambiguous, and shows no control or bidi characters."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(str(part)):
            out += f"[{json.dumps(str(part))}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_SECRET_PART = re.compile(r"pass|secret|token|credential|key", re.IGNORECASE)
_SECRET_KEY = re.compile(r"(pass(word|wd|phrase)?|token|credentials?|key|secret)$", re.IGNORECASE)
SECRET_HINT = ("the spec never holds secret values: name an existing Secret (secretName), "
               "or let `kfplug secrets init` generate one")


def may_hold_secret(path: FieldPath) -> bool:
    """A value under `secrets`, `password`, `token`, `apiKey`, ... is never echoed in a message."""
    return any(isinstance(part, str) and _SECRET_PART.search(part) for part in path)


def is_secret_key(key: object) -> bool:
    """`password`, `mysqlPassword`, `token`, `apiKey`, `credentials`: a key that would hold a secret value."""
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))


def hide_value(message: str, value: object) -> str:
    """`message` with every echo of `value` (as repr, or a number as text) replaced."""
    shown = repr(value) if isinstance(value, str) else str(value)
    return re.sub(rf"(?<![\w.-]){re.escape(shown)}(?![\w.-])", lambda _: "(value not shown)", message)
