"""Which lites talk to each other: one ClusterDomainRoute per (from, to) pair, from `routes`
(`all`: every ordered pair). Lites and the master reach each other without one."""

from __future__ import annotations

from ...spec.model import Party, Spec


def lite_pairs(spec: Spec) -> list[tuple[str, str]]:
    """Every ordered (from, to) pair of lite ids that gets a route, in spec order."""
    ids = [party.id for party in spec.parties]
    if spec.routes == "all":
        return [(a, b) for a in ids for b in ids if a != b]
    return [(route.source, route.destination) for route in spec.routes or ()]


def routed(spec: Spec) -> list[tuple[Party, Party]]:
    """The routed pairs of a validated spec, as its parties."""
    lites = {party.id: party for party in spec.parties}
    return [(lites[source], lites[destination]) for source, destination in lite_pairs(spec)]
