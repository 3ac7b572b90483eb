"""FATE's NetworkPolicies: deny by default, then allow exactly what a party needs.

- every pod: DNS to kube-dns, and to the cluster's DNS address when the spec names it;
- inside the party: any module to any other, on any port (eggroll's egg_pair
  processes listen on ephemeral ports in the nodemanager pods), except the ports
  a module guards with `clients` (mysql; fateflow's HTTP API), which accept only
  those modules; a guarded module reaches the party only if it requires others;
- the router: its port from peers and the exchange, and out to their routers;
- a UI published through an Ingress: its web port, from the ingress controller.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...catalog import Module
from ...compile.context import PartyContext
from ...compile.policy import (
    allow_dns,
    any_of,
    callers,
    from_sources,
    named,
    not_named,
    party_pods,
    policy,
    tcp,
    to_member,
    wanted,
)
from ...plan import Part


def network_policies(ctx: PartyContext) -> Iterator[Part]:
    if not wanted(ctx):
        return
    component = ctx.runtime.name
    yield policy("default-deny", component, {}, ingress=[], egress=[])
    yield allow_dns(ctx, component)
    guarded = [m for m in ctx.modules if m.clients]
    if len(ctx.modules) > 1:
        yield policy("allow-within-party", component, not_named([m.name for m in guarded]),
                     ingress=[{"from": [party_pods()]}], egress=[{"to": [party_pods()]}])
    for module in guarded:
        yield from _guarded(ctx, module)
    yield _router(ctx)
    party = ctx.party
    for module in ctx.modules:
        if module.web_port and party is not None and party.ingress_host(module.name) is not None:
            yield policy(module.name, module.name, named(module.name), ingress=[{"ports": tcp([module.web_port])}])


def _guarded(ctx: PartyContext, module: Module) -> Iterator[Part]:
    """Each guarded port from its clients only; the module's other ports from the whole party."""
    ingress = []
    open_ports = [port for name, port in module.ports.items() if name not in module.clients]
    if open_ports:
        ingress.append({"from": [party_pods()], "ports": tcp(open_ports)})
    for port_name, names in module.clients.items():
        clients = [name for name in names if ctx.module(name)]
        if clients:
            ingress.append({"from": [{"podSelector": any_of(clients)}], "ports": tcp([module.ports[port_name]])})
    egress = [{"to": [party_pods()]}] if module.requires else None
    if ingress or egress:
        yield policy(module.name, module.name, named(module.name), ingress=ingress or None, egress=egress)


def _router(ctx: PartyContext) -> Part:
    """The port peers dial (with mutual TLS, the TLS port: the plaintext one stays inside the party) from
    the neighbours' routers (anyone, when exposed or across clusters), and out to theirs."""
    router = ctx.router
    port = ctx.entry.port
    sources = callers(ctx, ((peer, router.name) for peer in ctx.neighbours))
    return policy(router.name, router.name, named(router.name), ingress=[from_sources(sources, port)],
                  egress=[to_member(ctx, peer, router.name, port) for peer in ctx.neighbours] or None)
