"""How the router is reached from outside the cluster: its Service type and node port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..plan import Part, Patch
from .context import PartyContext


def exposure(ctx: PartyContext) -> Iterator[Part]:
    expose = ctx.member.spec.expose
    if expose is None or not expose.outside:
        return
    router = ctx.router
    spec: dict[str, Any] = {"type": expose.type}
    if expose.node_port is not None:
        spec["ports"] = [{"port": router.federation_port, "nodePort": expose.node_port}]
    if expose.load_balancer_ip is not None:
        spec["loadBalancerIP"] = expose.load_balancer_ip
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": router.name}, "spec": spec}
    yield Patch("exposure.yaml", "Service", router.name, body)
