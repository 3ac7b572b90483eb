"""Read a FederationSpec: strict YAML -> typed model -> defaults merged -> validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from ..diagnostics import FieldPath, Issue, SpecError, format_path
from ..yamlread import Marks, load_document, read_file, shared_node
from .model import PARTY_IDENTITY, Federation, Party
from .structure import Structurer, is_invalid


@attrs.frozen
class Locator:
    """Finds the line of a field path; merged party fields fall back to `spec.defaults`."""
    source: str
    marks: Marks

    def line(self, path: FieldPath) -> int:
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

    def issue(self, path: FieldPath, message: str, severity: str = "error") -> Issue:
        return Issue(self.source, self.line(path), format_path(path), message, severity)


def read_spec(path: str | Path) -> tuple[Federation, list[Issue]]:
    """Load and validate a spec file: (federation, warnings). Raises SpecError with every error."""
    path = Path(path)
    return parse_spec(_read(path), str(path), base=path.parent)


def _read(path: Path) -> bytes:
    try:
        return read_file(path)
    except OSError as err:
        raise SpecError([Issue(str(path), 0, "", f"cannot read: {err.strerror}")]) from None


def read_unchecked(path: Path) -> Federation:
    """A spec structured and defaulted, its CA files not read and nothing else checked: what
    `kfplug tls init` needs to make those files. Raises SpecError."""
    from .resolve import resolve

    raw, marks, issues = load_document(_read(path), str(path))
    locator = Locator(str(path), marks)
    federation = resolve(structure(raw, locator, issues), locator, issues)
    errors = [issue for issue in issues if issue.severity == "error"]
    if errors:
        raise SpecError(errors)
    return federation


def parse_spec(data: bytes | str, source: str, base: Path | None = None) -> tuple[Federation, list[Issue]]:
    """Load and validate a spec's text (strict YAML, lines kept). Files the spec names (CA
    certificates) are read relative to `base`; without it, none is. Raises SpecError."""
    raw, marks, issues = load_document(data, source)
    return parse_tree(raw, Locator(source, marks), issues, base)


def parse_tree(raw: object, locator: Locator, issues: list[Issue] | None = None,
               base: Path | None = None) -> tuple[Federation, list[Issue]]:
    """Structure, resolve and validate loaded data: (federation, warnings). Raises SpecError."""
    from .resolve import resolve  # the runtime catalogs are only needed past parsing
    from .trust import read_cas
    from .validate import validate

    issues = [] if issues is None else issues
    federation = structure(raw, locator, issues)
    structural = [issue for issue in issues if issue.severity == "error"]
    federation = read_cas(federation, base, locator, issues)
    resolved = resolve(federation, locator, issues)
    issues += validate(resolved, locator)
    errors = [issue for issue in issues if issue.severity == "error"]
    if errors:
        raise SpecError(structural + [issue for issue in errors if issue not in structural
                                      and not _follows(issue, structural)])
    return resolved, sorted(issue for issue in issues if issue.severity != "error")


def _follows(finding: Issue, unreadable: list[Issue]) -> bool:
    """A finding that only repeats a value left out as unreadable: at or below its field, or above it
    naming it (`needs domain, or hosts.fateboard` when hosts.fateboard was unreadable)."""
    for issue in unreadable:
        path = issue.path
        if path and (finding.path == path or finding.path.startswith((path + ".", path + "["))):
            return True
        leaf = path.rsplit(".", 1)[-1]
        if path.startswith(finding.path + ".") and leaf and f".{leaf}" in finding.message:
            return True
    return False


CONFIG_ANNOTATIONS = ("config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/",
                      "kustomize.config.k8s.io/")  # what kustomize and kpt add to a function's input


def parse_object(document: dict[str, Any], source: str) -> tuple[Federation, list[Issue]]:
    """A Federation an orchestrator handed over as data (no lines: a ResourceList carries none),
    without the annotations the orchestrator added. Raises SpecError."""
    if shared_node(document):
        raise SpecError([Issue(source, 0, "", "anchors are not allowed in a Federation")])
    metadata = document.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("annotations"), dict):
        kept = {k: v for k, v in metadata["annotations"].items() if not str(k).startswith(CONFIG_ANNOTATIONS)}
        metadata = {k: v for k, v in metadata.items() if k != "annotations"} | ({"annotations": kept} if kept else {})
        document = {**document, "metadata": metadata}
    return parse_tree(document, Locator(source, {}))


def structure(raw: object, locator: Locator, issues: list[Issue]) -> Federation:
    """The typed model, what could not be read left out (reported in `issues`); raises SpecError
    with every problem when too much is missing to check the rest (a required field)."""
    structurer = Structurer(lambda path, message: issues.append(locator.issue(path, message)), lenient=True)
    defaults = None
    if isinstance(raw, dict) and isinstance(raw.get("spec"), dict) and "defaults" in raw["spec"]:
        spec = dict(raw["spec"])
        defaults_raw = spec.pop("defaults")
        raw = {**raw, "spec": spec}
        if defaults_raw is not None:
            defaults = structurer.structure(Party, defaults_raw, ("spec", "defaults"), exclude=PARTY_IDENTITY)
    federation = structurer.structure(Federation, raw, ())
    if is_invalid(federation) or is_invalid(defaults):
        issues += _unknown_runtime(raw, locator)
        raise SpecError(issues)
    if defaults is not None:
        federation = attrs.evolve(federation, spec=attrs.evolve(federation.spec, defaults=defaults))
    return federation


def _unknown_runtime(raw: object, locator: Locator) -> list[Issue]:
    """A runtime kfplug does not have, said even when the spec cannot be checked further."""
    from ..runtime import names
    from .structure import did_you_mean

    spec = raw.get("spec") if isinstance(raw, dict) else None
    runtime = spec.get("runtime") if isinstance(spec, dict) else None
    if not isinstance(runtime, str) or runtime in names():
        return []
    return [locator.issue(("spec", "runtime"), f"runtime {runtime!r} is not implemented yet (available: "
                                               f"{', '.join(names())})" + did_you_mean(runtime, list(names())))]
