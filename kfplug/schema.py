"""The JSON Schema (draft 2020-12) of a Federation document, generated from the attrs model.

A help for editors (completion, hover, early errors); `kfplug validate` stays the authority. Every
attrs class becomes an object with its YAML keys, the required ones and no others; `Literal` an
enum; `tuple[X, ...]` an array; `dict[str, X]` an object of X; a union `anyOf` its members; a typed
value (`Annotated[T, check]`) the closest form of its check in VALUE_FORMS, or else the YAML type
its check reads, described. Named value types and classes are `$defs`; the root is `Federation`.
"""

from __future__ import annotations

import functools
import inspect
import json
import types
import typing
from collections.abc import Callable
from typing import Any

import attrs

from .spec import model, values
from .spec.walk import hints, value_types, yaml_key

DRAFT = "https://json-schema.org/draft/2020-12/schema"

# What a JSON Schema cannot say; `kfplug validate` checks it (docs/spec.md#editor-support).
NOT_EXPRESSED = ("whether the runtime and its version exist", "which fields and party ids a runtime takes",
                 "unique party ids, cluster names, namespaces, node ports and ingress hosts",
                 "references between fields (a party's cluster, module names, the parties of routes)",
                 "rules between fields, and what spec.defaults merges into each party")

# `spec.defaults` holds any party field but the identity ones (as spec/load.py structures it): a
# definition of its own, named and described here.
PARTIAL = {(model.Spec, "defaults"): ("PartyDefaults", model.PARTY_IDENTITY,
                                      "What spec.defaults gives every party: any party field but {keys}; a "
                                      "party's own value wins, mappings merge key by key, lists replace.")}

_LABEL = values._DNS_LABEL.pattern
_SUBDOMAIN = rf"{_LABEL}(\.{_LABEL})*"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"  # as Python's ipaddress reads one: no leading zero
_LABEL_KEY = rf"(({_SUBDOMAIN})?/)?{values._LABEL_NAME.pattern}"
_PORT = r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"


def _whole(pattern: str, guard: str = "") -> str:
    """A JSON Schema pattern (which searches) that must match the whole text, as `re.fullmatch` does;
    `guard` a lookahead at the start."""
    return f"^{guard}({pattern})$"


# The closest JSON Schema form of each check a typed value runs. A value type not listed here gets
# the YAML type its check reads and the check's docstring.
VALUE_FORMS: dict[Any, dict[str, Any]] = {
    model.PartyId: {"type": ["integer", "string"], "minimum": 0, "maximum": 2**31 - 1, "minLength": 1,
                    "description": "A party id: an integer (FATE) or a name (a Kuscia domain); the runtime "
                                   "decides which."},
    values.DNSLabel: {"type": "string", "pattern": _whole(_LABEL),
                      "description": "A DNS-1123 label: lowercase a-z, 0-9 and '-', at most 63 characters."},
    values.DNSSubdomain: {"type": "string", "pattern": _whole(_SUBDOMAIN), "maxLength": 253,
                          "description": "A DNS-1123 subdomain: lowercase labels joined by '.'."},
    values.HostName: {"type": "string", "pattern": _whole(rf"(\*\.)?{_SUBDOMAIN}", rf"(?!{_OCTET}(\.{_OCTET}){{3}}$)"),
                      "description": "An Ingress host: a DNS-1123 subdomain, not an IP address; one leading "
                                     "'*.' allowed."},
    values.LabelKey: {"type": "string", "pattern": _whole(_LABEL_KEY),
                      "description": "A label key: an optional DNS subdomain prefix and '/', then a name of at "
                                     "most 63 characters."},
    values.Labels: {"type": "object", "propertyNames": {"pattern": _whole(_LABEL_KEY)},
                    "additionalProperties": {"type": "string", "pattern": _whole(values._LABEL_VALUE.pattern)},
                    "description": "Kubernetes labels: label keys to label values (strings; quote numbers)."},
    values.Quantity: {"type": ["integer", "string"], "minimum": 1,
                      "pattern": _whole(values._QUANTITY.pattern, "(?=[^eE]*[1-9])"),  # a digit 1-9 before any exponent
                      "description": "A Kubernetes quantity above zero (10Gi, 500Mi, 0.5, 4)."},
    values.ImagePrefix: {"type": "string", "pattern": _whole(rf"{values._IMAGE_PREFIX.pattern}/*"),
                         "description": "An image registry prefix (harbor.local/federatedai); a trailing '/' "
                                        "is ignored."},
    values.AbsolutePath: {"type": "string", "pattern": r"^(?![\s\S]*/\.\.(/|$))/",
                          "description": "An absolute path, without '..'."},
    values.Port: {"type": "integer", "minimum": 1, "maximum": 65535, "description": "A TCP port (1-65535)."},
    values.NodePort: {"type": "integer", "minimum": 30000, "maximum": 32767,
                      "description": "A NodePort in the default range 30000-32767."},
    values.Weight: {"type": "integer", "minimum": 1, "maximum": 100, "description": "A weight from 1 to 100."},
    values.PositiveInt: {"type": "integer", "minimum": 1, "description": "An integer of at least 1."},
    values.IPAddress: {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}],
                       "description": "An IPv4 or IPv6 address."},
    values.IPv4Address: {"type": "string", "format": "ipv4", "description": "An IPv4 address."},
    values.EndpointValue: {"type": "string", "pattern": _whole(rf"(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F.]*:[0-9a-fA-F:.]*|"
                                                               rf"{_SUBDOMAIN}):{_PORT}"),
                           "description": "host:port that peers dial: an IP address ([...] for IPv6) or a DNS "
                                          "name, and a port 1-65535."},
    values.Duration: {"type": "string", "pattern": _whole(r"([0-9]+(\.[0-9]+)?(ms|s|m|h))+"),
                      "description": "A Go duration as Flux takes it: 10m, 1h30m, 45s."},
    values.AgeRecipient: {"type": "string", "pattern": _whole(r"age1[02-9ac-hj-np-z]{58}"),
                          "description": "An age X25519 public key (age1 and 58 bech32 characters)."},
}
# what a JSON Schema can say of one object's fields together
def _when(field: str, values: list[str], then: dict[str, Any]) -> dict[str, Any]:
    return {"if": {"properties": {field: {"enum": values}}, "required": [field]}, "then": then}


_REQUIREMENT = {"allOf": [_when("operator", ["Exists", "DoesNotExist"], {"not": {"required": ["values"]}}),
                          _when("operator", ["In", "NotIn"], {"required": ["values"],
                                                              "properties": {"values": {"minItems": 1}}})]}
CLASS_RULES: dict[Any, dict[str, Any]] = {
    # an Exists toleration matches any value: Kubernetes refuses one that names a value
    model.Toleration: _when("operator", ["Exists"], {"not": {"required": ["value"]}}),
    model.NodeSelectorRequirement: _REQUIREMENT,
    model.LabelSelectorRequirement: _REQUIREMENT,
    # a node port or a load balancer address needs the Service type that has one (the type may come
    # from spec.defaults, so only a type given beside it is checked)
    model.Expose: {"allOf": [
        {"if": {"required": ["nodePort"]}, "then": {"properties": {"type": {"enum": ["NodePort", "LoadBalancer"]}}}},
        {"if": {"required": ["loadBalancerIP"]}, "then": {"properties": {"type": {"const": "LoadBalancer"}}}}]},
}
_JSON_TYPES = {str: "string", int: "integer", bool: "boolean", float: "number", dict: "object"}


def federation_schema() -> dict[str, Any]:
    """The JSON Schema of a Federation document, as data."""
    builder = _Builder()
    root = builder.object(model.Federation)
    api_version = typing.get_args(hints(model.Federation)["api_version"])[0]  # kfplug.dev/v1alpha1
    return {
        "$schema": DRAFT,
        "$id": f"https://kfplug.dev/schemas/federation-{api_version.rpartition('/')[2]}.json",
        "$comment": "generated by `kfplug schema` from kfplug/spec/model.py; do not edit",
        "title": f"kfplug Federation ({api_version})",
        **root,
        "description": "A FederationSpec, for editors: `kfplug validate` is the authority. It also checks what "
                       "this schema cannot: " + "; ".join(NOT_EXPRESSED) + ".",
        "$defs": builder.defs,
    }


def render() -> str:
    """The schema as JSON text: sorted keys, two-space indent, a final newline; the same on every run."""
    return json.dumps(federation_schema(), indent=2, sort_keys=True) + "\n"


class _Builder:
    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, object] = {}
        self.names = value_types()

    def ref(self, name: str, source: object, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A reference to `$defs/<name>`, made from `source` (a class or a value type) the first time."""
        assert self.sources.setdefault(name, source) == source, f"two definitions named {name}"
        if name not in self.defs:
            self.defs[name] = {}  # taken before it is made: a class may hold itself
            self.defs[name] = make()
        return {"$ref": f"#/$defs/{name}"}

    def object(self, cls: Any, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
        """An attrs class as an object: its YAML keys, the required ones, no others."""
        properties, required = {}, []
        for field in attrs.fields(cls):
            if field.name in exclude:
                continue
            key = yaml_key(field)
            partial = PARTIAL.get((cls, field.name))
            if partial:
                inner = next(arg for arg in typing.get_args(hints(cls)[field.name]) if attrs.has(arg))
                properties[key] = self.ref(partial[0], partial, functools.partial(self.partial, inner, *partial[1:]))
            else:
                properties[key] = self.convert(hints(cls)[field.name])
            if field.default is attrs.NOTHING:
                required.append(key)
        form: dict[str, Any] = {"type": "object", "properties": properties, "required": required,
                                "additionalProperties": False, **CLASS_RULES.get(cls, {})}
        doc = inspect.cleandoc(cls.__doc__) if cls.__dict__.get("__doc__") else ""
        if doc:
            form["description"] = " ".join(doc.split())
        return form

    def partial(self, cls: Any, exclude: tuple[str, ...], description: str) -> dict[str, Any]:
        """An attrs class without the fields `exclude` names."""
        keys = [yaml_key(field) for field in attrs.fields(cls) if field.name in exclude]
        return self.object(cls, exclude) | {"description": description.format(keys=", ".join(keys))}

    def convert(self, tp: Any) -> dict[str, Any]:
        """A type hint of the model as a JSON Schema."""
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            inner = [self.convert(arg) for arg in args if arg is not type(None)]
            return inner[0] if len(inner) == 1 else {"anyOf": inner}
        if origin is typing.Annotated:
            return self.value(tp)
        if attrs.has(tp):
            return self.ref(tp.__name__, tp, lambda: self.object(tp))
        if origin is tuple:
            assert len(args) == 2 and args[1] is Ellipsis, f"{tp}: the model's tuples are tuple[X, ...]"
            return {"type": "array", "items": self.convert(args[0])}
        if origin is dict:
            assert args[0] is str, f"{tp}: the model's maps have string keys"
            return {"type": "object", "additionalProperties": self.convert(args[1])}
        if origin is typing.Literal:
            kinds = sorted({_JSON_TYPES[type(arg)] for arg in args})
            return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": list(args)}
        return {} if tp is Any else {"type": _JSON_TYPES[tp]}

    def value(self, tp: Any) -> dict[str, Any]:
        """A typed value: its form in VALUE_FORMS, or the YAML type its check reads; a `$defs` entry when named."""
        def make() -> dict[str, Any]:
            if tp in VALUE_FORMS:
                return dict(VALUE_FORMS[tp])
            base, check = typing.get_args(tp)[:2]
            form = self.convert(getattr(check, "raw_type", base))
            doc = inspect.getdoc(check)
            return form | {"description": " ".join(doc.split()) if doc else f"Checked by {check.__name__}."}

        name = self.names.get(tp)
        return self.ref(name, tp, make) if name else make()
