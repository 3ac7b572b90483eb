"""Fill in what the user left out: `defaults` merged into each party, the cluster and the
party namespace everywhere, then the runtime's own defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ..diagnostics import FieldPath, Issue
from ..runtime import find
from .members import PARTY, members
from .model import Cluster, Federation

if TYPE_CHECKING:
    from .load import Locator

DEFAULT_CLUSTER = "default"
T = TypeVar("T")


def merge(base: Any, override: T) -> T:
    """Party fields override defaults; nested objects and mappings merge, lists and scalars replace."""
    if override is None:
        return base  # type: ignore[no-any-return]  # base is of the same type, or None
    if base is None:
        return override
    cls = type(override)
    if attrs.has(cls):
        return attrs.evolve(override, **{  # type: ignore[misc]  # mypy cannot evolve a TypeVar
            f.name: merge(getattr(base, f.name), getattr(override, f.name))
            for f in attrs.fields(cls) if f.init
        })
    if isinstance(override, dict) and isinstance(base, dict):  # T is a dict: so is the merged one
        return {**base, **{key: merge(base.get(key), value) for key, value in override.items()}}  # type: ignore[return-value]
    return override


def resolve(federation: Federation, locator: Locator, issues: list[Issue]) -> Federation:
    spec = federation.spec
    runtime = find(spec.runtime)
    clusters = spec.clusters or (Cluster(DEFAULT_CLUSTER),)
    only_cluster = clusters[0].name if len(clusters) == 1 else None
    prefix = runtime.namespace_prefix if runtime else ""
    resolved: dict[FieldPath, Any] = {}
    for member in members(spec):
        holder = merge(spec.defaults, member.spec) if member.kind == PARTY else member.spec
        if holder.cluster is None and only_cluster is None:
            issues.append(locator.issue(member.path + ("cluster",), "required when spec.clusters lists several "
                                                                      "clusters"))
        namespace = holder.namespace or (f"{prefix}{holder.id}" if member.kind == PARTY else None)
        resolved[member.path] = attrs.evolve(holder, cluster=holder.cluster or only_cluster, namespace=namespace)
    spec = attrs.evolve(
        spec, clusters=clusters,
        parties=tuple(resolved[("spec", "parties", i)] for i in range(len(spec.parties))),
        exchange=resolved.get(("spec", "exchange")), master=resolved.get(("spec", "master")))
    if runtime is not None:
        spec = runtime.resolve(spec)
    return attrs.evolve(federation, spec=spec)
