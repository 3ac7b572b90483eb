"""How the router is reached from outside the cluster: the Service peers dial (with mutual TLS, the
router's TLS Service only), its type and node port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..plan import Part, Patch
from .context import PartyContext

PEERS_PORT = "peers"


def exposure(ctx: PartyContext) -> Iterator[Part]:
    expose = ctx.member.spec.expose
    if expose is None or expose.service_type is None:
        return
    entry, endpoint = ctx.entry, ctx.member.endpoint
    spec: dict[str, Any] = {"type": expose.service_type}
    if expose.node_port is not None:
        spec["ports"] = [{"port": entry.port, "nodePort": expose.node_port}]
    elif expose.service_type == "LoadBalancer" and endpoint is not None and endpoint.port != entry.port:
        # the load balancer listens where peers dial; the Service's own port stays for the cluster
        spec["ports"] = [{"name": PEERS_PORT, "port": endpoint.port, "targetPort": entry.port_name}]
    if expose.load_balancer_ip is not None:
        spec["loadBalancerIP"] = expose.load_balancer_ip
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": entry.service}, "spec": spec}
    yield Patch("exposure.yaml", "Service", entry.service, body)
