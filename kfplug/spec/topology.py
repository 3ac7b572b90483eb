"""Who talks to whom, and at which address.

FATE with an exchange is a star (each party <-> the exchange); without one, a
full mesh. Inside one cluster a router is reached by its Service DNS name;
across clusters by the peer's declared `endpoint`.
"""

from __future__ import annotations

import attrs

from ..runtimes.catalog import Peer
from .model import Spec

EXCHANGE = "exchange"
MASTER = "master"  # Kuscia's master: overlay directory and party label


@attrs.frozen
class Member:
    """A party or the exchange: anything with a router."""
    id: str
    name: str  # overlay directory and party label: the id, or "exchange"
    namespace: str
    cluster: str | None
    endpoint: str | None
    path: tuple  # where it is in the spec
    router: str
    router_port: int


def members(spec: Spec, router: str, router_port: int) -> list[Member]:
    out = []
    if spec.exchange is not None:
        ex = spec.exchange
        out.append(Member(ex.id, EXCHANGE, ex.namespace, ex.cluster, ex.endpoint, ("spec", "exchange"),
                          router, router_port))
    if spec.master is not None:
        ms = spec.master
        out.append(Member(ms.id, MASTER, ms.namespace, ms.cluster, ms.endpoint, ("spec", "master"),
                          router, router_port))
    for index, party in enumerate(spec.parties):
        out.append(Member(party.id, party.id, party.namespace, party.cluster, party.endpoint,
                          ("spec", "parties", index), router, router_port))
    return out


def links(all_members: list[Member]) -> dict[str, list[Member]]:
    """For each member name, the members its route table names."""
    hub = next((m for m in all_members if m.name == EXCHANGE), None)
    parties = [m for m in all_members if m.name != EXCHANGE]
    if hub is None:
        return {m.name: [p for p in parties if p is not m] for m in parties}
    return {hub.name: parties, **{m.name: [hub] for m in parties}}


def reach(source: Member, target: Member) -> Peer | None:
    """How `source` dials `target`'s router; None when it cannot be derived."""
    if source.cluster == target.cluster:
        host = f"{target.router}.{target.namespace}.svc.cluster.local"
        return Peer(target.id, host, target.router_port)
    if target.endpoint is None:
        return None
    host, _, port = target.endpoint.rpartition(":")
    return Peer(target.id, host.strip("[]"), int(port))
