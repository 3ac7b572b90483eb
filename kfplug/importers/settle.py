"""Make an imported spec one that `kfplug validate` accepts: validate the written text, drop
each field the spec refuses (reported at the input it came from), and again until it passes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..diagnostics import FieldPath, Issue, SpecError, format_path
from ..spec.load import parse_spec
from .source import Origin


def settle(document: dict[str, Any], origins: dict[FieldPath, Origin], render: Callable[[dict[str, Any]], str],
           target: str) -> tuple[str, list[Issue]]:
    """The spec's text and the fields dropped, as warnings. Raises SpecError when a problem lies in
    no field that came from the input (the mapping could not have written a valid spec)."""
    dropped: list[Issue] = []
    named = {format_path(path): path for path in origins}
    while True:
        text = render(document)
        try:
            parse_spec(text, target)
            return text, sorted(set(dropped))
        except SpecError as error:
            culprits = [(issue, _culprit(issue.path, named)) for issue in error.issues]
            fatal = [issue for issue, path in culprits if path is None]
            if fatal:
                raise SpecError(fatal) from None
            dropped += [_not_carried(issue, origins[path]) for issue, path in culprits if path is not None]
            for path in _outermost({path for _, path in culprits if path is not None}):
                _drop(document, path)
                named = {name: held for name, held in named.items() if held[:len(path)] != path}


def _not_carried(issue: Issue, origin: Origin) -> Issue:
    return Issue(origin.file, origin.line, origin.path, f"not carried: {issue.message}", "warning")


def _culprit(path: str, named: dict[str, FieldPath]) -> FieldPath | None:
    """The longest field with an origin that holds `path`."""
    holders = [name for name in named if path == name or path.startswith((name + ".", name + "["))]
    return named[max(holders, key=len)] if holders else None


def _outermost(paths: set[FieldPath]) -> list[FieldPath]:
    """The paths not inside another of them."""
    return sorted(path for path in paths if not any(other != path and path[:len(other)] == other for other in paths))


def _drop(document: dict[str, Any], path: FieldPath) -> None:
    """Remove the field at `path`, and the mappings it leaves empty (up to a list item: a party stays)."""
    parents: list[Any] = [document]
    for part in path[:-1]:
        parents.append(parents[-1][part])
    del parents[-1][path[-1]]
    for depth in range(len(path) - 1, 0, -1):
        if parents[depth] or not isinstance(parents[depth - 1], dict):
            break
        del parents[depth - 1][path[depth - 1]]
