"""NetworkPolicy building blocks the runtimes share: the policy object, DNS for every pod,
and rules to and from another member's pods (by namespace and labels in one cluster, by
address or port across clusters)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..plan import NAME, Resource
from ..spec.members import Member
from .context import PartyContext

NAMESPACE_NAME = "kubernetes.io/metadata.name"
DNS_PEERS = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: "kube-system"}},
             "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
Rule = dict[str, Any]


def wanted(ctx: PartyContext) -> bool:
    """`security.networkPolicy: false` turns a member's policies off."""
    security = ctx.member.spec.security
    return security is None or security.network_policy is not False


def policy(name: str, component: str, selector: dict[str, Any], *,
           ingress: list[Rule] | None = None, egress: list[Rule] | None = None) -> Resource:
    """A NetworkPolicy; None leaves a direction out, an empty list denies it."""
    spec: dict[str, Any] = {"podSelector": selector, "policyTypes": []}
    if ingress is not None:
        spec["policyTypes"].append("Ingress")
        if ingress:
            spec["ingress"] = ingress
    if egress is not None:
        spec["policyTypes"].append("Egress")
        if egress:
            spec["egress"] = egress
    body = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "labels": {NAME: component}}, "spec": spec}
    return Resource(f"networkpolicy-{name}.yaml", body)


def allow_dns(ctx: PartyContext, component: str) -> Resource:
    """DNS for every pod: kube-dns by labels and, when the cluster names its DNS server, that address
    too (NodeLocal DNSCache answers on the node, where no pod selector reaches)."""
    peers: list[Rule] = [DNS_PEERS]
    if ctx.cluster_dns is not None:
        peers.append({"ipBlock": {"cidr": f"{ctx.cluster_dns}/32"}})
    return policy("allow-dns", component, {}, egress=[{"to": peers, "ports": DNS_PORTS}])


def pods_of(member: Member, module: str) -> Rule:
    """A module's pods in another member's namespace of the same cluster."""
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: member.namespace}},
            "podSelector": {"matchLabels": {NAME: module}}}


def callers(ctx: PartyContext, peers: Iterable[tuple[Member, str]]) -> list[Rule] | None:
    """Sources of an ingress rule: each (member, module)'s pods; None (anyone) when the member itself is
    exposed or a peer lives in another cluster (peers then come through a NodePort or load balancer)."""
    peers = list(peers)
    if ctx.member.exposed or any(member.cluster != ctx.member.cluster for member, _ in peers):
        return None
    return [pods_of(member, module) for member, module in peers]


def from_sources(sources: list[Rule] | None, port: int) -> Rule:
    rule: Rule = {"ports": tcp([port])}
    return rule if sources is None else {"from": sources, **rule}


def to_member(ctx: PartyContext, target: Member, module: str, port: int) -> Rule:
    """Egress to a module of another member: by namespace and labels in this cluster; across clusters to
    its endpoint, by address when it is an IP, else by port alone."""
    if target.cluster == ctx.member.cluster:
        return {"to": [pods_of(target, module)], "ports": tcp([port])}
    endpoint = target.endpoint
    assert endpoint is not None, "validated: a member dialled from another cluster has an endpoint"
    rule: Rule = {"ports": tcp([endpoint.port])}
    block = endpoint.ip_block()
    return {"to": [{"ipBlock": {"cidr": block}}], **rule} if block else rule


def party_pods() -> Rule:
    """Every pod of the policy's own namespace (a new dict each time: a shared one would be a YAML alias)."""
    return {"podSelector": {}}


def named(module: str) -> dict[str, Any]:
    return {"matchLabels": {NAME: module}}


def any_of(modules: list[str]) -> dict[str, Any]:
    return {"matchExpressions": [{"key": NAME, "operator": "In", "values": modules}]}


def not_named(modules: list[str]) -> dict[str, Any]:
    return {"matchExpressions": [{"key": NAME, "operator": "NotIn", "values": modules}]} if modules else {}


def tcp(ports: Iterable[int]) -> list[Rule]:
    return [{"protocol": "TCP", "port": port} for port in ports]
