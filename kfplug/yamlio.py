"""The one YAML reader for untrusted input and the one YAML writer.

The reader is strict: one document, a size and depth limit checked before
parsing (the C loader crashes on very deep nesting), no anchors or aliases
(alias bombs), no duplicate keys, and no YAML 1.1 guesses such as `010` -> 8
or `yes` -> true. It returns plain data plus the line of every path in it.
"""

from __future__ import annotations

import re

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .diagnostics import Issue, SpecError, format_path

MAX_BYTES = 1 << 20
MAX_DEPTH = 64

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_TAG = "tag:yaml.org,2002:"
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?")
_YAML12_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}

Marks = dict[tuple, int]


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


def _decode(data: bytes | str, source: str) -> str:
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > MAX_BYTES:
        raise SpecError([Issue(source, 0, "", f"input is {size} bytes; the limit is {MAX_BYTES}")])
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise SpecError([Issue(source, 0, "", f"not valid UTF-8 at byte {err.start}")]) from None
    data = data.removeprefix("\ufeff")
    if "\x00" in data:
        line = data.count("\n", 0, data.index("\x00")) + 1
        raise SpecError([Issue(source, line, "", "NUL byte in input")])
    return data


def _prescan(text: str, source: str) -> None:
    """Walk the event stream: depth, anchors, aliases and document count, without building a tree."""
    depth = 0
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1
            if isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise SpecError([Issue(source, line, "", "expected exactly one document, found more")])
            elif isinstance(event, AliasEvent):
                raise SpecError([Issue(source, line, "", f"YAML aliases are not allowed (*{event.anchor})")])
            elif isinstance(event, NodeEvent) and event.anchor is not None:
                raise SpecError([Issue(source, line, "", f"YAML anchors are not allowed (&{event.anchor})")])
            if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise SpecError([Issue(source, line, "", f"nesting deeper than {MAX_DEPTH} levels")])
            elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as err:
        raise SpecError([_syntax_issue(err, source, text)]) from None


def _syntax_issue(err: yaml.MarkedYAMLError, source: str, text: str = "") -> Issue:
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark else 0
    problem = err.problem or str(err)
    lines = text.splitlines()
    if mark and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
        problem = "tab character is not allowed for indentation"
    return Issue(source, line, "", f"invalid YAML: {problem}")


def _convert(node, path: tuple, marks: Marks, issues: list[Issue], source: str):
    line = node.start_mark.line + 1
    marks[path] = line

    def problem(message: str, at: int = line) -> None:
        issues.append(Issue(source, at, format_path(path), message))

    if isinstance(node, MappingNode):
        if node.tag != _TAG + "map":
            problem(f"unsupported tag {node.tag}")
        out: dict = {}
        first_line: dict = {}
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
    return _scalar(node, problem)


def _scalar(node: ScalarNode, problem):
    tag, text = node.tag.removeprefix(_TAG), node.value
    if tag == "str":
        return text
    if tag == "null":
        return None
    if tag == "int":
        if _PLAIN_INT.fullmatch(text):
            return int(text)
        problem(f"ambiguous number {text!r}: YAML 1.1 reads it as "
                f"{yaml.safe_load(text)!r}; write a plain decimal, or quote it")
        return UNREADABLE
    if tag == "float":
        if _PLAIN_FLOAT.fullmatch(text):
            return float(text)
        problem(f"ambiguous number {text!r}; write a plain decimal, or quote it")
        return UNREADABLE
    if tag == "bool":
        if text in _YAML12_BOOL:
            return _YAML12_BOOL[text]
        problem(f"ambiguous value {text!r}: YAML 1.1 reads it as a boolean; write true/false, or quote it")
        return UNREADABLE
    if tag == "timestamp":
        problem(f"{text!r} reads as a YAML timestamp; quote it")
        return UNREADABLE
    problem(f"unsupported tag {node.tag}")
    return UNREADABLE


def dump(obj) -> str:
    """Deterministic block-style YAML; key order as given."""
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1 << 20)


def dump_all(docs) -> str:
    return yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=1 << 20)


def load_trusted(text: str):
    """Load YAML we wrote ourselves (bases, generated files)."""
    return yaml.load(text, Loader=_Loader)


def load_all_trusted(text: str) -> list:
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
