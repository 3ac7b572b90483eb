"""Kuscia NetworkPolicies: deny by default, then allow what a centralized federation needs.

- every pod: DNS to kube-dns and the cluster's DNS address (Kuscia's CoreDNS forwards there); pods of
  one namespace reach each other (runk task pods and their lite);
- a lite's pods: its `dataSources` (TCP ports, at a CIDR block or anywhere);
- a lite's gateway (1080): from the master and from the lites routed to it, out to the master and
  to the lites it routes to, and to the API server (runk creates pods there);
- the master's gateway (1080): from the lites; the master dials the lites of its cluster and its
  datastore on 3306 or 5432, at any address (the DSN is inside a Secret); the bootstrap Job dials
  the API server only.
A peer in another cluster (or an exposed gateway) is matched by its port, or its IP when given.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...compile.context import PartyContext
from ...compile.policy import (
    Rule,
    allow_dns,
    callers,
    from_sources,
    named,
    pods_of,
    policy,
    tcp,
    to_member,
    wanted,
)
from ...plan import Part
from ...spec.members import MASTER as MASTER_MEMBER
from ...spec.members import PARTY, Member, members
from ...spec.model import DataSource
from .catalog import BOOTSTRAP_NAME, ENVOY_PORT, LITE, MASTER
from .topology import lite_pairs

API_SERVER_PORTS = tcp([443, 6443])  # the API server's address is not known here: by port
DATASTORE_PORTS = tcp([3306, 5432])  # MySQL, PostgreSQL: the DSN (and so the host) is inside a Secret


def network_policies(ctx: PartyContext) -> Iterator[Part]:
    if not wanted(ctx):
        return
    yield policy("default-deny", "kuscia", {}, ingress=[], egress=[])
    yield allow_dns(ctx, "kuscia")
    yield policy("allow-within-namespace", "kuscia", {},
                 ingress=[{"from": [{"podSelector": {}}]}], egress=[{"to": [{"podSelector": {}}]}])
    if ctx.member.kind == MASTER_MEMBER:
        yield from _master(ctx)
    else:
        yield from _lite(ctx)


def _master(ctx: PartyContext) -> Iterator[Part]:
    lites = [m for m in members(ctx.spec) if m.kind == PARTY]
    sources = callers(ctx, ((lite, LITE) for lite in lites))
    near = [lite for lite in lites if lite.cluster == ctx.member.cluster]
    egress = [to_member(ctx, lite, LITE, ENVOY_PORT) for lite in near] + [{"ports": DATASTORE_PORTS}]
    yield policy(MASTER, MASTER, named(MASTER), ingress=[from_sources(sources, ENVOY_PORT)], egress=egress)
    yield policy(BOOTSTRAP_NAME, BOOTSTRAP_NAME, named(BOOTSTRAP_NAME), egress=[{"ports": API_SERVER_PORTS}])


def _lite(ctx: PartyContext) -> Iterator[Part]:
    everyone = {m.id: m for m in members(ctx.spec)}
    master = next(m for m in everyone.values() if m.kind == MASTER_MEMBER)
    pairs = lite_pairs(ctx.spec)
    me = ctx.member.id
    calling = [everyone[source] for source, destination in pairs if destination == me]
    called = [everyone[destination] for source, destination in pairs if source == me]
    sources = callers(ctx, ((lite, LITE) for lite in calling))
    if sources is not None and master.cluster == ctx.member.cluster:
        sources.append(pods_of(master, MASTER))
    egress = [_to(ctx, master, MASTER), *(_to(ctx, lite, LITE) for lite in called)]
    party = ctx.party
    if party is not None and party.runtime == "runk":
        egress.append({"ports": API_SERVER_PORTS})
    yield policy(LITE, LITE, named(LITE), ingress=[from_sources(sources, ENVOY_PORT)], egress=egress)
    if party is not None and party.data_sources:
        # the lite's DataMesh and its task pods read the domain's data where the spec says it lives
        yield policy("allow-data-sources", "kuscia", {},
                     egress=[_data_rule(source) for source in party.data_sources])


def _to(ctx: PartyContext, target: Member, module: str) -> Rule:
    return to_member(ctx, target, module, ENVOY_PORT)


def _data_rule(source: DataSource) -> Rule:
    rule: Rule = {"ports": tcp(source.ports)}
    return {"to": [{"ipBlock": {"cidr": source.cidr}}], **rule} if source.cidr else rule
