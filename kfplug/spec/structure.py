"""Turn loaded YAML data into the attrs model, collecting every problem with its path.

Driven by the type hints of the model: attrs classes are mappings with known
keys, `tuple[X, ...]` lists, `dict[str, X]` maps, `Literal` enums, and
`Annotated[T, check]` typed values whose check raises ValueError.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union

import attrs

from ..diagnostics import SECRET_HINT, FieldPath, hide_value, is_secret_key, may_hold_secret
from ..yamlread import UNREADABLE

if TYPE_CHECKING:
    from attrs import AttrsInstance
    from typing_extensions import TypeIs

_NOTHING = attrs.NOTHING
T = TypeVar("T", bound="AttrsInstance")
Report = Callable[[FieldPath, str], None]


class Structurer:
    """Loaded YAML -> model. Lenient, it drops what it cannot read where the checks that follow can do
    without (an optional scalar, a mapping's entry), so that they still see the rest and every problem
    is reported in one run; strict, any problem makes its holder invalid."""

    def __init__(self, report: Report, lenient: bool = False) -> None:
        self.report = report
        self.lenient = lenient

    def problem(self, path: FieldPath, message: str, value: object) -> None:
        """Report a problem with `value`, which is not echoed where it may be a secret."""
        self.report(path, hide_value(message, value) if may_hold_secret(path) else message)

    def structure(self, cls: type[T], raw: object, path: FieldPath, exclude: tuple[str, ...] = ()) -> T | _Invalid:
        """An instance of `cls`, or the invalid marker when a problem was reported."""
        if not isinstance(raw, dict):
            self.problem(path, f"expected a mapping, got {_describe(raw)}", raw)
            return _INVALID
        fields = {_key(f): f for f in attrs.fields(cls) if f.name not in exclude}
        hints = _hints(cls)
        for key in raw:
            if key not in fields:
                self.report(path + (key,), _unknown(key, fields, exclude) + _one_level_down(key, fields, hints))
        values: dict[str, Any] = {}
        ok = True
        for key, field in fields.items():
            if key not in raw or raw[key] is None:
                if field.default is _NOTHING:
                    self.report(path + (key,), "required")
                    ok = False
                continue
            value = self.convert(hints[field.name], raw[key], path + (key,))
            if value is _INVALID:  # reported; an optional scalar is dropped, anything else spoils its holder
                ok = ok and self.lenient and field.default is not _NOTHING and not _compound(hints[field.name])
            else:
                values[field.name] = value
        if not ok:
            return _INVALID
        if exclude:
            values.update({name: None for name in exclude if name not in values})
        return cls(**values)

    def convert(self, tp: Any, value: object, path: FieldPath) -> Any:
        """`value` as the type hint `tp` says, or _INVALID. (`tp` is a hint such as `tuple[X, ...]` or
        `Annotated[...]`, which is no `type`; the result is whatever it describes.)"""
        if value is UNREADABLE:  # reported by the YAML reader
            return _INVALID
        origin = typing.get_origin(tp)
        if origin in (Union, types.UnionType):
            inner = [arg for arg in typing.get_args(tp) if arg is not type(None)]
            if len(inner) > 1:  # e.g. `all` or a list: the list type takes lists, the first other type the rest
                lists = [arg for arg in inner if typing.get_origin(arg) is tuple]
                others = [arg for arg in inner if arg not in lists]
                inner = lists[:1] if isinstance(value, list) and lists else others[:1] or lists[:1]
            return self.convert(inner[0], value, path)
        if origin is Annotated:
            base, check = typing.get_args(tp)[:2]
            value = self.convert(getattr(check, "raw_type", base), value, path)
            if value is _INVALID:
                return value
            try:
                return check(value)
            except ValueError as err:
                self.problem(path, str(err), value)
                return _INVALID
        if attrs.has(tp):
            return self.structure(tp, value, path)
        if origin is tuple:
            if not isinstance(value, list):
                self.problem(path, f"expected a list, got {_describe(value)}", value)
                return _INVALID
            inner = typing.get_args(tp)[0]
            items = [self.convert(inner, item, path + (i,)) for i, item in enumerate(value)]
            return _INVALID if _INVALID in items else tuple(items)
        if origin is dict:
            if not isinstance(value, dict):
                self.problem(path, f"expected a mapping, got {_describe(value)}", value)
                return _INVALID
            inner = typing.get_args(tp)[1]
            entries = {k: self.convert(inner, v, path + (k,)) for k, v in value.items()}
            if self.lenient:
                return {k: v for k, v in entries.items() if v is not _INVALID}
            return _INVALID if _INVALID in entries.values() else entries
        if origin is Literal:
            options = typing.get_args(tp)
            if value not in options or type(value) is not type(options[0]):
                self.problem(path, f"{value!r} is not one of {', '.join(map(str, options))}"
                             + did_you_mean(str(value), [str(o) for o in options]), value)
                return _INVALID
            return value
        return self._primitive(tp, value, path)

    def _primitive(self, tp: Any, value: object, path: FieldPath) -> object:  # tp: typing.Any or a plain type
        if tp is Any:
            return value
        expected = {str: "a string", int: "an integer", bool: "true or false", dict: "a mapping",
                    float: "a number"}[tp]
        if (isinstance(value, bool) and tp is not bool) or not isinstance(value, tp):
            hint = "; quote it" if tp is str and not isinstance(value, (dict, list)) else ""
            self.problem(path, f"expected {expected}, got {_describe(value)}{hint}", value)
            return _INVALID
        return value


class _Invalid:
    def __repr__(self) -> str:
        return "<invalid>"


_INVALID = _Invalid()


def is_invalid(value: object) -> TypeIs[_Invalid]:
    return value is _INVALID


def unstructure(value: object) -> Any:
    """The YAML data of a model value: camelCase keys, fields left out when None (the inverse of structure)."""
    cls = type(value)
    if attrs.has(cls):
        return {_key(field): unstructure(getattr(value, field.name)) for field in attrs.fields(cls)
                if getattr(value, field.name) is not None}
    if isinstance(value, tuple):
        return [unstructure(item) for item in value]
    if isinstance(value, dict):
        return {key: unstructure(item) for key, item in value.items()}
    return value


def _compound(tp: Any) -> bool:
    """An object, list or mapping (under Optional and Annotated): what checks read as a whole."""
    while typing.get_origin(tp) in (Union, types.UnionType, Annotated):
        args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        tp = args[0]
    return attrs.has(tp) or typing.get_origin(tp) in (tuple, dict)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _key(field: attrs.Attribute[Any]) -> str:
    return field.metadata.get("key") or camel(field.name)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, include_extras=True)


def _unknown(key: object, fields: Iterable[str], exclude: tuple[str, ...]) -> str:
    if camel(re.sub(r"(?<!^)(?=[A-Z])", "_", str(key)).lower()) in exclude or key in [camel(name) for name in exclude]:
        return f"{key!r} is not allowed here"
    if is_secret_key(key):
        return f"unknown field {key!r}: {SECRET_HINT}"
    return f"unknown field {key!r}" + did_you_mean(str(key), list(fields))


def _one_level_down(key: object, fields: dict[str, attrs.Attribute[Any]], hints: dict[str, Any]) -> str:
    """A key that belongs to one of this object's fields (`parties` at the top level): an indentation slip."""
    for name, field in fields.items():
        inner = hints[field.name]
        while typing.get_origin(inner) in (Union, types.UnionType):
            inner = next(arg for arg in typing.get_args(inner) if arg is not type(None))
        if attrs.has(inner) and key in {_key(f) for f in attrs.fields(inner)}:
            return f"; {key!r} is a field of {name}: is it indented under {name}?"
    return ""


def did_you_mean(word: str, options: list[str]) -> str:
    import difflib  # only for a spec with a mistake in it

    same_but_case = [option for option in options if option.lower() == word.lower()]
    close = same_but_case or difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)
    return kind if isinstance(value, (list, dict)) else f"{kind} {value!r}"


