"""The one YAML reader for untrusted input (and for YAML kfplug wrote itself).

The reader is strict: one document, a size and depth limit checked before
parsing (the C loader crashes on very deep nesting), no anchors or aliases
(alias bombs), no duplicate keys, and no YAML 1.1 guesses such as `010` -> 8
or `yes` -> true. It returns plain data plus the line of every path in it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .diagnostics import FieldPath, Issue, SpecError, format_path, may_hold_secret

MAX_BYTES = 1 << 20
MAX_DEPTH = 64
MAX_STREAM_DEPTH = 256  # objects passing through the KRM function (CRD schemas nest deeply)
MAX_DIGITS = 64  # Python refuses to print integers past 4300 digits; none of ours needs more than 10

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
LIBYAML_DEPTH_LIMIT = "exceeded maximum nesting depth"  # PyYAML 6.0.4 stops at 1000 levels itself

_TAG = "tag:yaml.org,2002:"
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?")
_YAML12_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}

Marks = dict[FieldPath, int]


class _Unreadable:
    """Stands for a scalar that was reported already (an ambiguous number, say)."""

    def __repr__(self) -> str:
        return "<unreadable>"


UNREADABLE = _Unreadable()


def load_document(data: bytes | str, source: str) -> tuple[object, Marks, list[Issue]]:
    """Parse one untrusted YAML document.

    Returns (data, line of each path, problems with single values). Problems
    that leave no document (syntax, size, depth, aliases) raise SpecError.
    """
    text = _decode(data, source)
    _prescan(text, source)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:  # pragma: no cover - the prescan parses first
        raise SpecError([_syntax_issue(err, source)]) from None
    if node is None:
        raise SpecError([Issue(source, 1, "", "the file holds no document")])
    issues: list[Issue] = []
    marks: Marks = {}
    value = _convert(node, (), marks, issues, source)
    return value, marks, issues


def shared_node(document: object) -> bool:
    """Whether a mapping or list occurs twice in loaded data (a YAML alias: expanding it could explode)."""
    seen: set[int] = set()
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, (dict, list)):
            if id(node) in seen:
                return True
            seen.add(id(node))
            pending.extend(node.values() if isinstance(node, dict) else node)
    return False


def read_file(path: str | Path) -> bytes:
    """A spec file's bytes, reading no more than the limit (the path may be /dev/zero or a pipe).

    Raises OSError, or SpecError when the file is too large."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            size = max(os.fstat(handle.fileno()).st_size, len(data))
            raise SpecError([_too_large(str(path), size if size > len(data) else f"more than {MAX_BYTES}")])
    return data


def _too_large(source: str, size: int | str) -> Issue:
    return Issue(source, 0, "", f"input is {size} bytes; the limit is {MAX_BYTES}")


def _decode(data: bytes | str, source: str) -> str:
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError as err:
            raise SpecError([Issue(source, 0, "", f"not valid Unicode at character {err.start} "
                                                  "(a lone surrogate)")]) from None
    size = len(data)
    if size > MAX_BYTES:
        raise SpecError([_too_large(source, size)])
    try:
        data = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SpecError([Issue(source, 0, "", f"not valid UTF-8 at byte {err.start}")]) from None
    data = data.removeprefix("\ufeff")
    if "\x00" in data:
        line = data.count("\n", 0, data.index("\x00")) + 1
        raise SpecError([Issue(source, line, "", "NUL byte in input")])
    return data


def _prescan(text: str, source: str, max_depth: int = MAX_DEPTH, strict: bool = True) -> None:
    """Walk the event stream: depth, and when strict anchors, aliases and document count, without
    building a tree (iteratively: the C parser keeps its own stack)."""
    depth = 0
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1  # type: ignore[union-attr]  # the parser marks every event
            documents += isinstance(event, DocumentStartEvent)
            refused = strict and _refused(event, documents)
            if refused:
                raise SpecError([Issue(source, line, "", refused)])
            if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                depth += 1
                if depth > max_depth:
                    raise SpecError([Issue(source, line, "", f"nesting deeper than {max_depth} levels")])
            elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as err:
        if err.problem == LIBYAML_DEPTH_LIMIT:
            line = err.problem_mark.line + 1  # type: ignore[union-attr]  # libyaml marks where it stopped
            raise SpecError([Issue(source, line, "", f"nesting deeper than {max_depth} levels")]) from None
        raise SpecError([_syntax_issue(err, source, text)]) from None
    except yaml.reader.ReaderError as err:  # a character YAML does not allow; `position` is a byte offset
        line = text.encode("utf-8")[: err.position].count(b"\n") + 1
        raise SpecError([Issue(source, line, "", f"{err.reason} (U+{err.character:04X})")]) from None


def _refused(event: Event, documents: int) -> str | None:
    if isinstance(event, DocumentStartEvent) and documents > 1:
        return "expected exactly one document, found more"
    if isinstance(event, AliasEvent):
        return f"YAML aliases are not allowed (*{event.anchor})"
    if isinstance(event, NodeEvent) and event.anchor is not None:
        return f"YAML anchors are not allowed (&{event.anchor})"
    return None


def _syntax_issue(err: yaml.MarkedYAMLError, source: str, text: str = "") -> Issue:
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark else 0
    problem = err.problem or str(err)
    lines = text.splitlines()
    if mark and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
        problem = "tab character is not allowed for indentation"
    return Issue(source, line, "", f"invalid YAML: {problem}")


def _convert(node: Node, path: FieldPath, marks: Marks, issues: list[Issue], source: str) -> object:
    line = node.start_mark.line + 1
    marks[path] = line

    def problem(message: str, at: int = line) -> None:
        issues.append(Issue(source, at, format_path(path), message))

    if isinstance(node, MappingNode):
        if node.tag != _TAG + "map":
            problem(f"unsupported tag {node.tag}")
        out: dict[str, object] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode) or key_node.tag == _TAG + "merge":
                problem("mapping keys must be plain strings", key_line)
                continue
            key = key_node.value
            if key in first_line:
                issues.append(Issue(source, key_line, format_path(path + (key,)),
                                    f"duplicate key {key!r} (first at line {first_line[key]})"))
                continue
            first_line[key] = key_line
            out[key] = _convert(value_node, path + (key,), marks, issues, source)
        return out
    if isinstance(node, SequenceNode):
        if node.tag != _TAG + "seq":
            problem(f"unsupported tag {node.tag}")
        return [_convert(item, path + (i,), marks, issues, source) for i, item in enumerate(node.value)]
    return _scalar(cast(ScalarNode, node), problem, secret=may_hold_secret(path))  # compose makes no other kind


def _scalar(node: ScalarNode, problem: Callable[[str], None], secret: bool = False) -> object:
    tag, text = node.tag.removeprefix(_TAG), node.value
    shown = "(value not shown)" if secret else repr(text)  # a value under `password:` is never echoed
    if tag == "str":
        return text
    if tag == "null":
        return None
    if tag == "int":
        if len(text) > MAX_DIGITS:
            problem(f"a number of {len(text)} characters is too long (at most {MAX_DIGITS}); "
                    "quote it if it is a name")
            return UNREADABLE
        if _PLAIN_INT.fullmatch(text):
            return int(text)
        reading = "" if secret else f": YAML 1.1 reads it as {yaml.safe_load(text)!r}"
        problem(f"ambiguous number {shown}{reading}; write a plain decimal, or quote it")
        return UNREADABLE
    if tag == "float":
        if _PLAIN_FLOAT.fullmatch(text):
            return float(text)
        problem(f"ambiguous number {shown}; write a plain decimal, or quote it")
        return UNREADABLE
    if tag == "bool":
        if text in _YAML12_BOOL:
            return _YAML12_BOOL[text]
        problem(f"ambiguous value {shown}: YAML 1.1 reads it as a boolean; write true/false, or quote it")
        return UNREADABLE
    if tag == "timestamp":
        problem(f"{shown} reads as a YAML timestamp; quote it")
        return UNREADABLE
    problem(f"unsupported tag {node.tag}")
    return UNREADABLE


def load_stream(data: bytes | str, source: str) -> Any:
    """YAML an orchestrator hands over (a ResourceList on stdin): no size limit, as it carries every
    item of a build, and aliases are kept shared, but the depth is checked before the C loader, which
    crashes on very deep nesting, builds anything. Raises SpecError."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise SpecError([Issue(source, 0, "", f"not valid UTF-8 at byte {error.start}")]) from None
    _prescan(text, source, max_depth=MAX_STREAM_DEPTH, strict=False)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        raise SpecError([_syntax_issue(err, source, text)]) from None


def load_trusted(text: str) -> Any:
    """Load YAML we wrote ourselves (bases, generated files)."""
    return yaml.load(text, Loader=_Loader)


def load_all_trusted(text: str) -> list[Any]:
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
