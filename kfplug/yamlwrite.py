"""The one YAML writer: deterministic block style, key order as given."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml
from yaml.nodes import ScalarNode

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_TAG = "tag:yaml.org,2002:"


def dump(obj: object) -> str:
    """Deterministic block-style YAML; key order as given.

    Plain data (mappings with string keys, lists, one-line strings, integers, booleans, null) is
    written directly, byte for byte as PyYAML writes it (a test compares the two), at a fraction of
    PyYAML's cost; anything else goes through PyYAML."""
    try:
        return _emit(obj)
    except _Unusual:
        return _pyyaml_dump(obj)


def _pyyaml_dump(obj: object) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1 << 20)


class _Unusual(Exception):
    """Data the direct writer leaves to PyYAML: other types, shared objects, multi-line or long text."""


_PLAIN = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./-]*")  # never an indicator, quote or space
_STR_TAG = _TAG + "str"
_RESOLVER = yaml.resolver.Resolver()
_MAX_KEY = 100  # UTF-8 bytes; a longer key is a complex key ("? "), left to PyYAML
_BREAK = re.compile("[\r\n\x85\u2028\u2029]")
_MAX_TEXT = 4096  # far below the width at which PyYAML would fold a line
_texts: dict[str, str | None] = {}  # a string -> how it is written (plain or quoted); None: unusual
_keys: dict[str, str | None] = {}  # the same for mapping keys


def _emit(obj: Any) -> str:  # Any: mypy does not narrow through `kind`
    out: list[str] = []
    seen: set[int] = set()
    kind = type(obj)
    if kind is dict and obj:
        _mapping(obj, 0, "", out, seen)
    elif kind is list and obj:
        _sequence(obj, 0, "", out, seen)
    elif kind is dict or kind is list:
        return "{}\n" if kind is dict else "[]\n"
    else:
        raise _Unusual
    return "".join(out)


def _mapping(mapping: dict[str, Any], indent: int, lead: str, out: list[str], seen: set[int]) -> None:
    """Block mapping; `lead` starts the first line (indentation, or a sequence's "- ")."""
    _once(mapping, seen)
    pad = " " * indent
    for key, value in mapping.items():
        key = _keys.get(key) or _key(key)
        kind = type(value)
        if kind is str:  # the common case, first
            out.append(f"{lead}{key}: {_texts.get(value) or _text(value)}\n")
        elif kind is dict and value:
            out.append(f"{lead}{key}:\n")
            _mapping(value, indent + 2, " " * (indent + 2), out, seen)
        elif kind is list and value:
            out.append(f"{lead}{key}:\n")
            _sequence(value, indent, pad, out, seen)  # PyYAML does not indent a sequence in a mapping
        else:
            out.append(f"{lead}{key}: {_leaf(value, seen)}\n")
        lead = pad


def _sequence(items: list[Any], indent: int, lead: str, out: list[str], seen: set[int]) -> None:
    _once(items, seen)
    pad = " " * indent
    for item in items:
        kind = type(item)
        if kind is dict and item:
            _mapping(item, indent + 2, lead + "- ", out, seen)
        elif kind is list and item:
            _sequence(item, indent + 2, lead + "- ", out, seen)
        else:
            out.append(f"{lead}- {_leaf(item, seen)}\n")
        lead = pad


def _once(container: object, seen: set[int]) -> None:
    """PyYAML writes an anchor and aliases for an object met twice in one document."""
    if id(container) in seen:
        raise _Unusual
    seen.add(id(container))


def _leaf(value: Any, seen: set[int]) -> str:  # Any: as in _emit
    """A scalar, or an empty mapping or list (flow style)."""
    kind = type(value)
    if kind is str:
        return _texts.get(value) or _text(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if kind is dict or kind is list:
        _once(value, seen)
        return "{}" if kind is dict else "[]"
    raise _Unusual


def _text(value: str) -> str:
    """How a string is written (the slow path of `_texts.get`); raises _Unusual when not on one line."""
    if value not in _texts:
        _texts[value] = _written(value)
    written = _texts[value]
    if written is None:
        raise _Unusual
    return written


def _key(key: object) -> str:
    """The same for a mapping key, which must be a string of at most _MAX_KEY bytes."""
    if type(key) is not str:
        raise _Unusual
    if key not in _keys:
        _keys[key] = _written(key) if len(key.encode("utf-8")) <= _MAX_KEY else None
    written = _keys[key]
    if written is None:
        raise _Unusual
    return written


def _written(value: str) -> str | None:
    """How PyYAML writes a one-line string in block context: plain when it can, else quoted."""
    if len(value) > _MAX_TEXT or _BREAK.search(value):
        return None  # several lines, indented by context
    if _PLAIN.fullmatch(value) and (  # types-PyYAML leaves Resolver.resolve unannotated
            _RESOLVER.resolve(ScalarNode, value, (True, False)) == _STR_TAG):  # type: ignore[no-untyped-call]
        return value
    return _pyyaml_dump([value])[2:-1]  # "- <text>\n"


def dump_all(docs: Iterable[object]) -> str:
    return yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=1 << 20)
