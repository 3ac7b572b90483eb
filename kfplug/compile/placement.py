"""Placement: party-wide nodeSelector/tolerations/affinity, per-module overrides,
and `nodes:` pinning a module to inventory nodes, one replica per node."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..plan import NAME, Part
from ..spec.model import ModulePlacement, Placement
from ..spec.structure import unstructure
from .context import PartyContext, workload_patch

HOSTNAME = "kubernetes.io/hostname"


def placement(ctx: PartyContext) -> Iterator[Part]:
    party = ctx.member.spec.placement
    if party is None:
        return
    overrides = party.modules or {}
    for module in ctx.modules:
        override = overrides.get(module.name)
        pod = _pod_placement(party, override, module.name)
        if pod:
            yield workload_patch(f"placement-{module.name}.yaml", module, pod=pod)


def _pod_placement(party: Placement, override: ModulePlacement | None, module_name: str) -> dict[str, Any]:
    """The effective placement of one module: a module's own value replaces the party's, field by field."""
    def pick(field: str) -> Any:
        value = getattr(override, field, None) if override else None
        return value if value is not None else getattr(party, field)

    pod: dict[str, Any] = {}
    if pick("node_selector"):
        pod["nodeSelector"] = dict(pick("node_selector"))
    if pick("tolerations"):
        pod["tolerations"] = unstructure(pick("tolerations"))
    affinity = unstructure(pick("affinity")) if pick("affinity") else {}
    nodes = override.nodes if override else None
    if nodes:
        affinity.update(_pinned(nodes, module_name))
    if affinity:
        pod["affinity"] = affinity
    return pod


def _pinned(nodes: tuple[str, ...], module_name: str) -> dict[str, Any]:
    """Only these nodes (by name), and never two replicas on one node. A node-name field
    selector takes one value, so each node is a term of its own (terms are ORed)."""
    return {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]} for node in nodes]}},
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {NAME: module_name}}, "topologyKey": HOSTNAME}]},
    }
