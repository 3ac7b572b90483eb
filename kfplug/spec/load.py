"""Read a FederationSpec: strict YAML -> typed model -> defaults merged -> validated."""

from __future__ import annotations

from pathlib import Path

import attrs

from ..diagnostics import Issue, SpecError, format_path
from ..yamlio import Marks, load_document, read_file
from .model import PARTY_IDENTITY, Federation, Party
from .structure import Structurer, is_invalid


@attrs.frozen
class Locator:
    """Finds the line of a field path; merged party fields fall back to `spec.defaults`."""
    source: str
    marks: Marks

    def line(self, path: tuple) -> int:
        candidates = [path]
        if path[:2] == ("spec", "parties") and len(path) > 3:
            candidates.append(("spec", "defaults") + path[3:])
        for candidate in candidates:
            if candidate in self.marks:
                return self.marks[candidate]
        for end in range(len(path) - 1, 0, -1):
            if path[:end] in self.marks:
                return self.marks[path[:end]]
        return self.marks.get((), 0)

    def issue(self, path: tuple, message: str, severity: str = "error") -> Issue:
        return Issue(self.source, self.line(path), format_path(path), message, severity)


def read_spec(path: str | Path) -> tuple[Federation, list[Issue]]:
    """Load and validate a spec file: (federation, warnings). Raises SpecError with every error."""
    path = Path(path)
    try:
        data = read_file(path)
    except OSError as err:
        raise SpecError([Issue(str(path), 0, "", f"cannot read: {err.strerror}")]) from None
    return parse_spec(data, str(path))


def parse_spec(data: bytes | str, source: str) -> tuple[Federation, list[Issue]]:
    from .resolve import resolve  # the runtime catalogs are only needed past parsing
    from .validate import validate

    raw, marks, issues = load_document(data, source)
    locator = Locator(source, marks)
    federation = structure(raw, locator, issues)
    resolved = resolve(federation, locator, issues)
    issues += validate(resolved, locator)
    errors = [issue for issue in issues if issue.severity == "error"]
    if errors:
        raise SpecError(errors)
    return resolved, sorted(issue for issue in issues if issue.severity != "error")


def structure(raw, locator: Locator, issues: list[Issue]) -> Federation:
    """The typed model; raises SpecError with `issues` and every structural problem."""
    structurer = Structurer(lambda path, message: issues.append(locator.issue(path, message)))
    defaults = None
    if isinstance(raw, dict) and isinstance(raw.get("spec"), dict) and "defaults" in raw["spec"]:
        spec = dict(raw["spec"])
        defaults_raw = spec.pop("defaults")
        raw = {**raw, "spec": spec}
        if defaults_raw is not None:
            defaults = structurer.structure(Party, defaults_raw, ("spec", "defaults"), exclude=PARTY_IDENTITY)
    federation = structurer.structure(Federation, raw, ())
    if issues or is_invalid(federation) or is_invalid(defaults):
        raise SpecError(issues)
    if defaults is not None:
        federation = attrs.evolve(federation, spec=attrs.evolve(federation.spec, defaults=defaults))
    return federation
