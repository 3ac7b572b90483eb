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

from ..plan import NAME, Part
from ..runtimes.kuscia import BOOTSTRAP_NAME, ENVOY_PORT, LITE, MASTER
from ..spec.kuscia import lite_pairs
from ..spec.topology import MASTER as MASTER_OVERLAY
from .context import PartyContext
from .network import NAMESPACE_NAME, allow_dns, host_cidr, named, policy, tcp

API_SERVER_PORTS = tcp([443, 6443])  # the API server's address is not known here: by port
DATASTORE_PORTS = tcp([3306, 5432])  # MySQL, PostgreSQL: the DSN (and so the host) is inside a Secret


def network_policies(ctx: PartyContext) -> Iterator[Part]:
    security = ctx.party.security
    if security is not None and security.network_policy is False:
        return
    yield policy(ctx, "default-deny", "kuscia", {}, ingress=[], egress=[])
    yield allow_dns(ctx, "kuscia")
    yield policy(ctx, "allow-within-namespace", "kuscia", {},
                 ingress=[{"from": [{"podSelector": {}}]}], egress=[{"to": [{"podSelector": {}}]}])
    if ctx.member.name == MASTER_OVERLAY:
        yield from _master(ctx)
    else:
        yield from _lite(ctx)


def _master(ctx: PartyContext) -> Iterator[Part]:
    master, lites = ctx.party, ctx.spec.parties
    sources = None if _exposed(master) else _gateways(ctx, lites, LITE)
    near = [lite for lite in lites if lite.cluster == master.cluster]
    egress = [_to(ctx, lite, LITE) for lite in near] + [{"ports": DATASTORE_PORTS}]
    yield policy(ctx, MASTER, MASTER, named(MASTER), ingress=[_from(sources, ENVOY_PORT)], egress=egress)
    yield policy(ctx, BOOTSTRAP_NAME, BOOTSTRAP_NAME, named(BOOTSTRAP_NAME),
                 egress=[{"ports": API_SERVER_PORTS}])


def _lite(ctx: PartyContext) -> Iterator[Part]:
    lite, spec = ctx.party, ctx.spec
    by_id = {p.id: p for p in spec.parties}
    pairs = lite_pairs(spec)
    callers = [by_id[s] for s, d in pairs if d == lite.id]
    callees = [by_id[d] for s, d in pairs if s == lite.id]
    sources = None if _exposed(lite) else _gateways(ctx, callers, LITE)
    if sources is not None:
        sources += _gateways(ctx, [spec.master], MASTER) or []
    egress = [_to(ctx, spec.master, MASTER), *(_to(ctx, p, LITE) for p in callees)]
    if lite.runtime == "runk":
        egress.append({"ports": API_SERVER_PORTS})
    yield policy(ctx, LITE, LITE, named(LITE), ingress=[_from(sources, ENVOY_PORT)], egress=egress)
    if lite.data_sources:
        # the lite's DataMesh and its task pods read the domain's data where the spec says it lives
        yield policy(ctx, "allow-data-sources", "kuscia", {},
                     egress=[_data_rule(source) for source in lite.data_sources])


def _data_rule(source) -> dict:
    rule: dict = {"ports": tcp(source.ports)}
    return {"to": [{"ipBlock": {"cidr": source.cidr}}], **rule} if source.cidr else rule


def _exposed(holder) -> bool:
    return holder.expose is not None and holder.expose.type not in (None, "ClusterIP")


def _gateways(ctx: PartyContext, holders, module: str) -> list[dict] | None:
    """Peers in this cluster by namespace and labels; None (anyone) when one lives in another cluster."""
    if any(h.cluster != ctx.member.cluster for h in holders):
        return None
    return [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: h.namespace}},
             "podSelector": {"matchLabels": {NAME: module}}} for h in holders]


def _from(sources: list[dict] | None, port: int) -> dict:
    rule = {"ports": tcp([port])}
    return rule if sources is None else {"from": sources, **rule}


def _to(ctx: PartyContext, holder, module: str) -> dict:
    if holder.cluster == ctx.member.cluster:
        return {"to": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: holder.namespace}},
                        "podSelector": {"matchLabels": {NAME: module}}}], "ports": tcp([ENVOY_PORT])}
    host, _, port = holder.endpoint.rpartition(":")
    rule: dict = {"ports": tcp([int(port)])}
    cidr = host_cidr(host.strip("[]"))
    return {"to": [{"ipBlock": {"cidr": cidr}}], **rule} if cidr else rule
