"""NetworkPolicies: deny by default, then allow exactly what the runtime needs.

- every pod: DNS to kube-dns, and to the cluster's DNS address when the spec names it;
- inside the party: any module to any other, on any port (eggroll's egg_pair
  processes listen on ephemeral ports in the nodemanager pods), except the ports
  a module guards with `clients` (mysql; fateflow's HTTP API), which accept only
  those modules; a guarded module reaches the party only if it requires others;
- the router: its port from peers and the exchange, and out to their routers;
- a UI published through an Ingress: its web port, from the ingress controller.

`security.networkPolicy: false` turns all of it off for a party.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..plan import NAME, Part, Resource
from ..spec.topology import Member
from .context import PartyContext
from .ingress import ingress_host

NAMESPACE_NAME = "kubernetes.io/metadata.name"
DNS_PEERS = {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: "kube-system"}},
             "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def network_policies(ctx: PartyContext) -> Iterator[Part]:
    security = ctx.party.security
    if security is not None and security.network_policy is False:
        return
    yield policy(ctx, "default-deny", ctx.runtime.name, {}, ingress=[], egress=[])
    yield allow_dns(ctx, ctx.runtime.name)
    guarded = [m for m in ctx.modules if m.clients]
    if len(ctx.modules) > 1:
        open_modules = _not_named([m.name for m in guarded])
        yield policy(ctx, "allow-within-party", ctx.runtime.name, open_modules,
                     ingress=[{"from": [party_pods()]}], egress=[{"to": [party_pods()]}])
    for module in guarded:
        yield from _guarded(ctx, module)
    yield from _router(ctx)
    for module in ctx.modules:
        if module.web_port and _published(ctx, module.name):
            yield policy(ctx, module.name, module.name, named(module.name),
                         ingress=[{"ports": tcp([module.web_port])}])


def _guarded(ctx: PartyContext, module) -> Iterator[Part]:
    """Each guarded port from its clients only; the module's other ports from the whole party."""
    ingress = []
    open_ports = [port for name, port in module.ports.items() if name not in module.clients]
    if open_ports:
        ingress.append({"from": [party_pods()], "ports": tcp(open_ports)})
    for port_name, names in module.clients.items():
        clients = [name for name in names if ctx.module(name)]
        if clients:
            ingress.append({"from": [{"podSelector": _any_of(clients)}], "ports": tcp([module.ports[port_name]])})
    egress = [{"to": [party_pods()]}] if module.requires else None
    if ingress or egress:
        yield policy(ctx, module.name, module.name, named(module.name), ingress=ingress or None, egress=egress)


def allow_dns(ctx: PartyContext, component: str) -> Resource:
    """DNS for every pod: kube-dns by labels and, when the cluster names its DNS server, that address
    too (NodeLocal DNSCache answers on the node, where no pod selector reaches)."""
    peers = [DNS_PEERS]
    if ctx.cluster_dns is not None:
        peers.append({"ipBlock": {"cidr": f"{ctx.cluster_dns}/32"}})
    return policy(ctx, "allow-dns", component, {}, egress=[{"to": peers, "ports": DNS_PORTS}])


def _router(ctx: PartyContext) -> Iterator[Part]:
    router = next(m for m in ctx.modules if m.router)
    port = router.ports["grpc"]
    yield policy(ctx, router.name, router.name, named(router.name),
                 ingress=[{**_sources(ctx), "ports": tcp([port])}],
                 egress=[_egress_to(ctx, peer) for peer in ctx.neighbours] or None)


def _published(ctx: PartyContext, module: str) -> bool:
    return getattr(ctx.party, "ingress", None) is not None and ingress_host(ctx.party, module) is not None


def _sources(ctx: PartyContext) -> dict:
    """Who may dial the router: the neighbours' routers when all are in this cluster and the
    router is not exposed outside it; otherwise anyone (peers come through a NodePort or LB)."""
    expose = ctx.party.expose
    exposed = expose is not None and expose.type not in (None, "ClusterIP")
    if exposed or any(peer.cluster != ctx.member.cluster for peer in ctx.neighbours):
        return {}
    return {"from": [_router_of(peer) for peer in ctx.neighbours]}


def _router_of(peer: Member) -> dict:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: peer.namespace}},
            "podSelector": {"matchLabels": {NAME: peer.router}}}


def _egress_to(ctx: PartyContext, peer: Member) -> dict:
    """A neighbour's router: by namespace and labels in this cluster, by address (or port alone) across."""
    if peer.cluster == ctx.member.cluster:
        return {"to": [_router_of(peer)], "ports": tcp([peer.router_port])}
    host, _, port = peer.endpoint.rpartition(":")
    host = host.strip("[]")
    rule: dict = {"ports": tcp([int(port)])}
    cidr = host_cidr(host)
    if cidr:
        rule = {"to": [{"ipBlock": {"cidr": cidr}}], **rule}
    return rule


def host_cidr(host: str) -> str | None:
    import ipaddress  # only for cross-cluster endpoints

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a DNS name: its addresses are unknown here, so the rule names the port only
    return f"{address}/{address.max_prefixlen}"


def policy(ctx: PartyContext, name: str, component: str, selector: dict, *,
           ingress: list | None = None, egress: list | None = None) -> Resource:
    spec: dict = {"podSelector": selector, "policyTypes": []}
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


def party_pods() -> dict:
    """Every pod of the policy's own namespace (a new dict each time: a shared one would be a YAML alias)."""
    return {"podSelector": {}}


def named(module: str) -> dict:
    return {"matchLabels": {NAME: module}}


def _any_of(modules: list[str]) -> dict:
    return {"matchExpressions": [{"key": NAME, "operator": "In", "values": modules}]}


def _not_named(modules: list[str]) -> dict:
    return {"matchExpressions": [{"key": NAME, "operator": "NotIn", "values": modules}]} if modules else {}


def tcp(ports) -> list[dict]:
    return [{"protocol": "TCP", "port": port} for port in ports]
