"""Problems found in a spec: one `Issue` each, raised together as a `SpecError`."""

from __future__ import annotations

import attrs


@attrs.frozen(order=True)
class Issue:
    file: str
    line: int
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        prefix = f"{self.path}: " if self.path else ""
        return f"{where}: {self.severity}: {prefix}{self.message}"


class SpecError(Exception):
    """Invalid input. Carries every issue found, sorted."""

    def __init__(self, issues: list[Issue]):
        self.issues = sorted(set(issues))
        super().__init__("\n".join(map(str, self.issues)))


def format_path(parts: tuple) -> str:
    """("spec", "parties", 1, "id") -> "spec.parties[1].id"."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
