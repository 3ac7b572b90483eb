"""Write docs/spec-reference.md from the attrs model in kfplug/spec/model.py.

    python tools/specref.py           write the page
    python tools/specref.py --check   write nothing; exit 1 with a unified diff when the page is stale

One table per attrs class reachable from `Federation` (breadth first, in field
order): the YAML key, the type as a reader sees it, required or optional, and
the class docstring. Everything comes from the model; nothing is listed here by hand.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import sys
import types
import typing
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "spec-reference.md"
sys.path.insert(0, str(REPO))

import attrs  # noqa: E402

from kfplug.spec import model  # noqa: E402
from kfplug.spec.structure import camel  # noqa: E402

PRIMITIVES = {str: "string", int: "integer", bool: "boolean", float: "number", dict: "map",
              typing.Any: "any (the check decides)"}


def yaml_key(field: attrs.Attribute) -> str:
    return field.metadata.get("key") or camel(field.name)


def hints(cls) -> dict:
    return typing.get_type_hints(cls, include_extras=True)


def value_type_names() -> dict:
    """Named value types (`Quantity = Annotated[...]`) as the model module sees them -> their names."""
    return {value: name for name, value in sorted(vars(model).items())
            if typing.get_origin(value) is typing.Annotated and not name.startswith("_")}


def classes(root) -> list:
    """Every attrs class reachable from `root`, breadth first, each once."""
    found, queue = [], [root]
    while queue:
        cls = queue.pop(0)
        if cls in found:
            continue
        found.append(cls)
        for field in attrs.fields(cls):
            queue.extend(nested(hints(cls)[field.name]))
    return found


def nested(tp) -> list:
    """The attrs classes inside a type hint, in order."""
    if attrs.has(tp):
        return [tp]
    if typing.get_origin(tp) is typing.Annotated:
        return nested(typing.get_args(tp)[0])
    return [cls for arg in typing.get_args(tp) for cls in nested(arg)]


def describe(tp, names: dict) -> str:
    """A type hint as a reader of the YAML sees it."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in args if arg is not type(None)]
        return " or ".join(describe(arg, names) for arg in inner)
    if origin is typing.Annotated:
        if tp in names:
            return f"[{names[tp]}](#value-types)"
        return describe(args[0], names)
    if attrs.has(tp):
        return f"[{tp.__name__}](#{tp.__name__.lower()})"
    if origin is tuple:
        return f"list of {describe(args[0], names)}"
    if origin is dict:
        return f"map of {describe(args[0], names)} to {describe(args[1], names)}"
    if origin is typing.Literal:
        values = ", ".join(f"`{value}`" for value in args)
        return values if len(args) == 1 else f"one of {values}"
    return PRIMITIVES.get(tp, getattr(tp, "__name__", str(tp)))


def presence(field: attrs.Attribute) -> str:
    if field.default is attrs.NOTHING:
        return "required"
    if field.default is None or isinstance(field.default, attrs.Factory):
        return "optional"
    return f"optional, default `{field.default}`"


def users(all_classes: list) -> dict:
    """class -> where it is used: `[Holder](#holder) `key`, `key``, one entry per holding class."""
    used: dict = {cls: {} for cls in all_classes}
    for cls in all_classes:
        for field in attrs.fields(cls):
            for inner in dict.fromkeys(nested(hints(cls)[field.name])):
                used[inner].setdefault(cls, []).append(f"`{yaml_key(field)}`")
    return {cls: [f"[{holder.__name__}](#{holder.__name__.lower()}) " + ", ".join(keys)
                  for holder, keys in holders.items()] for cls, holders in used.items()}


def class_section(cls, names: dict, used_by: list) -> list[str]:
    lines = [f"## {cls.__name__}", ""]
    doc = inspect.cleandoc(cls.__doc__) if cls.__dict__.get("__doc__") else ""
    if doc:
        lines += [" ".join(doc.split()), ""]
    if used_by:
        lines += ["Used in: " + "; ".join(used_by) + ".", ""]
    lines += ["| key | type | required or optional |", "|---|---|---|"]
    for field in attrs.fields(cls):
        kind = describe(hints(cls)[field.name], names).replace("|", "\\|")
        lines.append(f"| `{yaml_key(field)}` | {kind} | {presence(field)} |")
    return lines + [""]


def value_types_section(names: dict) -> list[str]:
    lines = ["## Value types", "",
             "Checked when the spec is read; a value that fails its check is an error with its field path.", "",
             "| name | YAML value | checked by |", "|---|---|---|"]
    for tp, name in sorted(names.items(), key=lambda item: item[1].lower()):
        base, check = typing.get_args(tp)[:2]
        base = getattr(check, "raw_type", base)  # what the YAML holds, as kfplug.spec.structure reads it
        doc = inspect.getdoc(check) or ""
        summary = f": {doc.splitlines()[0]}" if doc else ""
        where = f"`{check.__module__}.{check.__name__}`"
        lines.append(f"| `{name}` | {describe(base, {})} | {where}{summary.replace('|', chr(92) + '|')} |")
    return lines + [""]


def render() -> str:
    names = value_type_names()
    found = classes(model.Federation)
    used = users(found)
    lines = [
        "<!-- generated by tools/specref.py from kfplug/spec/model.py; do not edit -->",
        "# FederationSpec reference",
        "",
        "Every key of a `Federation` document, generated from the model that reads it "
        "(`python tools/specref.py`). The guide to what the keys do is [spec.md](spec.md); "
        "Kuscia's keys are explained in [kuscia.md](kuscia.md).",
        "",
        "Keys are camelCase; a key not listed is an error. *Optional* keys may be left out "
        "(kfplug fills in its defaults). Types: *list of X* is a YAML sequence, "
        "*map of string to X* a mapping with keys of your choice.",
        "",
    ]
    for cls in found:
        lines += class_section(cls, names, used[cls])
    used_types = {inner for cls in found for field in attrs.fields(cls)
                  for inner in value_types_in(hints(cls)[field.name])}
    lines += value_types_section({tp: name for tp, name in names.items() if tp in used_types})
    return "\n".join(lines).rstrip("\n") + "\n"


def value_types_in(tp) -> list:
    """The named-or-not Annotated value types inside a type hint."""
    found = [tp] if typing.get_origin(tp) is typing.Annotated else []
    return found + [inner for arg in typing.get_args(tp) for inner in value_types_in(arg)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 with a diff when stale")
    args = parser.parse_args(argv)
    text = render()
    if not args.check:
        PAGE.parent.mkdir(exist_ok=True)
        PAGE.write_text(text, encoding="utf-8")
        return 0
    current = PAGE.read_text(encoding="utf-8") if PAGE.is_file() else ""
    if current == text:
        return 0
    sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                               str(PAGE.relative_to(REPO)), "generated"))
    print(f"{PAGE.relative_to(REPO)} is stale: run python tools/specref.py", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
