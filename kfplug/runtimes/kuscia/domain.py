"""The parts of a Kuscia domain's overlay beyond the shared frame: the user's Secrets named in
the workload, the gateway Service of an exposed domain, and no API token for a runp lite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...compile.context import PartyContext, workload_patch
from ...plan import NAME, Part, Resource
from ...spec.model import Master, Party
from .catalog import ENVOY_PORT

DEFAULT_DEPLOY_TOKEN_SECRET = "kuscia-deploy-token"


def deploy_token_secret(lite: Party) -> str:
    return lite.deploy_token_secret.secret_name if lite.deploy_token_secret else DEFAULT_DEPLOY_TOKEN_SECRET


def secret_volumes(ctx: PartyContext) -> Iterator[Part]:
    """The base's Secret volumes get the user's Secret names (a lite's token Secret has a default name)."""
    holder = ctx.member.spec
    assert isinstance(holder, (Master, Party)) and holder.key_secret is not None, "validated"
    names = {"domain-key": holder.key_secret.secret_name}
    if isinstance(holder, Master):
        assert holder.datastore is not None, "validated"
        names["datastore"] = holder.datastore.secret_name
    else:
        names["deploy-token"] = deploy_token_secret(holder)
    volumes = [{"name": volume, "secret": {"secretName": name}} for volume, name in names.items()]
    yield workload_patch("secrets.yaml", ctx.modules[0], pod={"volumes": volumes})


def gateway_service(ctx: PartyContext) -> Iterator[Part]:
    """An exposed domain gets a second Service, `<workload>-gateway`, with the gateway port only:
    exposing the main Service would give KusciaAPI (8082), 80 and 53 node ports too."""
    expose = ctx.member.spec.expose
    if expose is None or expose.service_type is None:
        return
    module = ctx.modules[0].name
    port: dict[str, Any] = {"name": "envoy", "port": ENVOY_PORT, "targetPort": "envoy"}
    if expose.node_port is not None:
        port["nodePort"] = expose.node_port
    endpoint = ctx.member.endpoint
    if expose.service_type == "LoadBalancer" and endpoint is not None:
        port["port"] = endpoint.port  # the load balancer listens where peers dial
    spec: dict[str, Any] = {"type": expose.service_type, "selector": {NAME: module}, "ports": [port]}
    if expose.load_balancer_ip is not None:
        spec["loadBalancerIP"] = expose.load_balancer_ip
    yield Resource("gateway-service.yaml", {"apiVersion": "v1", "kind": "Service",
                                            "metadata": {"name": f"{module}-gateway", "labels": {NAME: module}},
                                            "spec": spec})


def runp_token(ctx: PartyContext) -> Iterator[Part]:
    """A runp lite starts no pods, so its pod needs no API token."""
    if ctx.party is not None and ctx.party.runtime == "runp":
        yield workload_patch("runp.yaml", ctx.modules[0], pod={"automountServiceAccountToken": False})
