"""What every compile step sees of one member (a party, the exchange or the master)."""

from __future__ import annotations

from typing import Any

import attrs

from ..catalog import Entry, Module, Release
from ..plan import MANAGED_BY, PART_OF, PARTY, Overlay, Patch, Plan, Resource
from ..runtime import Runtime
from ..spec.members import Member
from ..spec.model import Federation, Party, Spec


@attrs.frozen
class PartyContext:
    federation: Federation
    runtime: Runtime
    release: Release
    member: Member
    modules: tuple[Module, ...]
    neighbours: tuple[Member, ...] = ()  # the members this one's router dials (and is dialled by)

    @property
    def spec(self) -> Spec:
        return self.federation.spec

    @property
    def party(self) -> Party | None:
        return self.member.party

    @property
    def router(self) -> Module:
        return next(m for m in self.modules if m.router)

    @property
    def entry(self) -> Entry:
        """Where peers dial this member's router (and it dials theirs: one runtime, one mode)."""
        return self.router.entry(self.spec.mutual_tls)

    @property
    def cluster_dns(self) -> str | None:
        """The DNS server the pods of this member's cluster use, when the spec names it."""
        return next((c.dns for c in self.spec.clusters or () if c.name == self.member.cluster), None)

    def module(self, name: str) -> Module | None:
        return next((m for m in self.modules if m.name == name), None)

    def replicas_of(self, module: Module) -> int:
        return self.party.replica_count(module.name, module.replicas) if self.party else module.replicas


def federation_labels(federation: Federation, member: Member | None = None) -> dict[str, str]:
    """The labels every object kfplug makes carries: the federation's, and the member's when it has one."""
    labels = {MANAGED_BY: "kfplug", PART_OF: federation.metadata.name}
    return labels | ({PARTY: member.name} if member else {})


def workload_patch(file: str, module: Module, *, pod: dict[str, Any] | None = None,
                   container: dict[str, Any] | None = None, spec: dict[str, Any] | None = None) -> Patch:
    """A strategic-merge patch of one module's workload: its spec, pod spec and main container."""
    pod_spec = dict(pod or {})
    if container:
        pod_spec["containers"] = [{"name": module.name, **container}]
    body_spec = dict(spec or {})
    if pod_spec:
        body_spec["template"] = {"spec": pod_spec}
    body = {"apiVersion": "apps/v1", "kind": module.kind, "metadata": {"name": module.name}, "spec": body_spec}
    return Patch(file, module.kind, module.name, body)


def plan_of(federation: Federation, runtime: Runtime, overlays: list[Overlay],
            reconcilers: tuple[Resource, ...] = ()) -> Plan:
    """The plan of these overlays, with each cluster's overlays in spec order."""
    by_cluster: dict[str, list[str]] = {}
    for overlay in overlays:
        by_cluster.setdefault(overlay.cluster, []).append(overlay.name)
    clusters = {c.name: tuple(by_cluster[c.name]) for c in federation.spec.clusters or () if c.name in by_cluster}
    gitops = federation.spec.gitops
    encrypted = gitops is not None and gitops.sops is not None
    return Plan(federation.metadata.name, runtime.name, tuple(overlays), clusters, reconcilers, encrypted)
