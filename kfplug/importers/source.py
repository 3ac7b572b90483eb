"""Input files as an importer reads them, and the spec fragments it builds from them.

A `Walk` hands out the values of one file and remembers which it took, so that every
key left over can be reported with its path. A `Fragment` is spec data plus the input
each field came from (`Origin`), so that a field the spec refuses is reported there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ..diagnostics import FieldPath, Issue, SpecError, format_path
from ..yamlread import UNREADABLE, Marks, load_document, read_file

EMPTY: tuple[object, ...] = (None, "", [], {})  # KubeFATE's templates treat these as unset


@attrs.frozen
class Source:
    """One loaded input file."""
    file: str
    document: object
    marks: Marks
    # the strict reader's problems with single values (YAML 1.1 guesses), by path: raised where a value is used
    deferred: Mapping[FieldPath, Issue]

    def line(self, path: FieldPath) -> int:
        for end in range(len(path), -1, -1):
            if path[:end] in self.marks:
                return self.marks[path[:end]]
        return 0


def read_sources(paths: Iterable[str | Path]) -> list[Source]:
    """Every file loaded with kfplug's strict reader. Raises SpecError with the problems of all files."""
    sources, errors = [], []
    for path in paths:
        try:
            sources.append(_read(str(path)))
        except SpecError as error:
            errors += error.issues
    if errors:
        raise SpecError(errors)
    return sources


def _read(file: str) -> Source:
    try:
        data = read_file(file)
    except OSError as error:
        raise SpecError([Issue(file, 0, "", f"cannot read: {error.strerror}")]) from None
    document, marks, issues = load_document(data, file)
    deferred, errors = {}, []
    for issue in issues:
        path = _path_of(issue.path, marks)
        if path is not None and _at(document, path) is UNREADABLE:
            deferred[path] = issue
        else:
            errors.append(issue)
    if errors:
        raise SpecError(errors)
    return Source(file, document, marks, deferred)


def _path_of(formatted: str, marks: Marks) -> FieldPath | None:
    return next((path for path in marks if format_path(path) == formatted), None)


def _at(document: object, path: FieldPath) -> object:
    node = document
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


@attrs.frozen
class Origin:
    """Where a spec field came from: a file, its line, the input's field path."""
    file: str
    line: int
    path: str


@attrs.define
class Walk:
    """One file as a mapping reads it: values taken, and what the mapping found."""
    source: Source
    used: set[FieldPath] = attrs.field(factory=set)
    found: list[Issue] = attrs.field(factory=list)

    @property
    def file(self) -> str:
        return self.source.file

    def take(self, path: FieldPath) -> Any:  # Any: YAML data
        """The value at `path` (None when absent), marked used. A value the strict reader refused
        (a YAML 1.1 guess) in it is an error here, where it would be carried."""
        self.used.add(path)
        refused = [issue for at, issue in self.source.deferred.items() if at[:len(path)] == path]
        if refused:
            self.found += refused
            return None
        value = _at(self.source.document, path)
        return None if value is UNREADABLE else value

    def present(self, path: FieldPath) -> bool:
        """Whether the file sets `path` to something (a secret's value is never read further)."""
        return path in self.source.deferred or _at(self.source.document, path) not in EMPTY

    def accept(self, path: FieldPath, same: tuple[object, ...]) -> None:
        """Mark `path` used when its value is one of `same` (what kfplug does anyway): nothing to carry."""
        if path not in self.source.deferred and _at(self.source.document, path) in same:
            self.used.add(path)

    def items(self, path: FieldPath) -> list[Any]:
        """A list that must be a list when present; its items are not marked used."""
        value = _at(self.source.document, path)
        if isinstance(value, list):
            return value
        if value not in EMPTY:
            self.warn(path, "not carried: expected a list")
        self.used.add(path)
        return []

    def mapping(self, path: FieldPath) -> dict[str, Any]:
        """A section that must be a mapping when present; its keys are not marked used."""
        value = _at(self.source.document, path)
        if value in EMPTY:
            self.used.add(path)
            return {}
        if not isinstance(value, dict):
            self.used.add(path)
            self.error(path, "expected a mapping")
            return {}
        return value

    def origin(self, path: FieldPath) -> Origin:
        return Origin(self.file, self.source.line(path), format_path(path))

    def issue(self, path: FieldPath, message: str, severity: str = "warning") -> Issue:
        return Issue(self.file, self.source.line(path), format_path(path), message, severity)

    def warn(self, path: FieldPath, message: str) -> None:
        self.found.append(self.issue(path, message))

    def error(self, path: FieldPath, message: str) -> None:
        self.found.append(self.issue(path, message, "error"))

    def leftovers(self, reason: Any) -> list[Issue]:  # Any: a callable FieldPath -> str
        """Every key set and never taken, at the highest path that was not used at all."""
        return [self.issue(path, reason(path)) for path in _unused(self.source.document, (), self.used)]


def _unused(node: object, path: FieldPath, used: set[FieldPath]) -> list[FieldPath]:
    if path in used:
        return []
    partly = any(u[:len(path)] == path for u in used)
    if not partly or not isinstance(node, (dict, list)):  # a scalar where a section was expected: reported
        return [] if node in EMPTY else [path]
    children: Iterable[tuple[str | int, object]] = (
        node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ())
    return [found for key, child in children for found in _unused(child, path + (key,), used)]


@attrs.define
class Fragment:
    """Spec data under construction and the origin of each field put into it."""
    data: dict[str, Any] = attrs.field(factory=dict)
    origins: dict[FieldPath, Origin] = attrs.field(factory=dict)

    def put(self, path: FieldPath, value: object, origin: Origin | None = None) -> None:
        node = self.data
        for part in path[:-1]:
            node = node.setdefault(str(part), {})
        node[str(path[-1])] = value
        if origin is not None:
            self.origins[path] = origin

    def mark(self, path: FieldPath, origin: Origin) -> None:
        """A whole group (an ingress, a storage block) came from `origin`: dropped together if refused."""
        self.origins[path] = origin

    def get(self, path: FieldPath) -> Any:  # Any: spec data
        return _at(self.data, path)

    def under(self, prefix: FieldPath) -> dict[FieldPath, Origin]:
        """The origins, with `prefix` before each path: where this fragment sits in the spec."""
        return {prefix + path: origin for path, origin in self.origins.items()}
