"""The model as data, for what describes it (`kfplug schema`, tools/specref.py): the attrs classes
reachable from a root, their YAML keys and type hints, and the named value types."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

import attrs

from . import model
from .structure import _hints, _key

if TYPE_CHECKING:
    from attrs import AttrsInstance

    Model = type[AttrsInstance]


def hints(cls: type) -> dict[str, Any]:
    """The type hints of a class's fields, `Annotated` kept (as the Structurer reads them)."""
    return _hints(cls)


def yaml_key(field: attrs.Attribute[Any]) -> str:
    """The YAML key of a field: camelCase, or its `metadata={"key": ...}`."""
    return _key(field)


def classes(root: Model) -> list[Model]:
    """Every attrs class reachable from `root`, breadth first in field order, each once."""
    found: list[Model] = []
    queue = [root]
    while queue:
        cls = queue.pop(0)
        if cls in found:
            continue
        found.append(cls)
        for field in attrs.fields(cls):
            queue.extend(nested(hints(cls)[field.name]))
    return found


def nested(tp: Any) -> list[Model]:
    """The attrs classes inside a type hint, in order."""
    if attrs.has(tp):
        return [tp]
    if typing.get_origin(tp) is typing.Annotated:
        return nested(typing.get_args(tp)[0])
    return [cls for arg in typing.get_args(tp) for cls in nested(arg)]


def value_types() -> dict[Any, str]:
    """Named value types (`Quantity = Annotated[str, quantity]`) as the model module sees them -> their names."""
    return {value: name for name, value in sorted(vars(model).items())
            if typing.get_origin(value) is typing.Annotated and not name.startswith("_")}
