"""What every compile step sees of one party (or the exchange)."""

from __future__ import annotations

import attrs

from ..plan import Overlay, Patch, Plan
from ..runtimes.catalog import Module, Peer, Release, Runtime
from ..spec.model import Exchange, Federation, Party
from ..spec.topology import EXCHANGE, Member


@attrs.frozen
class PartyContext:
    federation: Federation
    runtime: Runtime
    release: Release
    member: Member
    party: Party | Exchange
    modules: tuple[Module, ...]
    peers: tuple[Peer, ...]
    default_route: Peer | None
    neighbours: tuple[Member, ...]  # the members this one's router dials (and is dialled by)

    @property
    def spec(self):
        return self.federation.spec

    @property
    def is_exchange(self) -> bool:
        return self.member.name == EXCHANGE

    @property
    def cluster_dns(self) -> str | None:
        """The DNS server the pods of this member's cluster use, when the spec names it."""
        return next((c.dns for c in self.spec.clusters or () if c.name == self.member.cluster), None)

    def module(self, name: str) -> Module | None:
        return next((m for m in self.modules if m.name == name), None)


def workload_patch(file: str, module: Module, *, pod: dict | None = None, container: dict | None = None,
                   spec: dict | None = None) -> Patch:
    """A strategic-merge patch of one module's workload: its spec, pod spec and main container."""
    pod_spec = dict(pod or {})
    if container:
        pod_spec["containers"] = [{"name": module.name, **container}]
    body_spec = dict(spec or {})
    if pod_spec:
        body_spec["template"] = {"spec": pod_spec}
    body = {"apiVersion": "apps/v1", "kind": module.kind, "metadata": {"name": module.name}, "spec": body_spec}
    return Patch(file, module.kind, module.name, body)


def plan_of(federation: Federation, runtime: Runtime, overlays: list[Overlay]) -> Plan:
    """The plan of these overlays, with each cluster's overlays in spec order."""
    by_cluster: dict[str, list[str]] = {}
    for overlay in overlays:
        by_cluster.setdefault(overlay.cluster, []).append(overlay.name)
    clusters = {c.name: tuple(by_cluster[c.name]) for c in federation.spec.clusters if c.name in by_cluster}
    return Plan(federation.metadata.name, runtime.name, tuple(overlays), clusters)
