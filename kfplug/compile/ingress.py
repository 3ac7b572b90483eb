"""An Ingress for each module with a web UI: host <id>.<module>.<domain> or an explicit one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..plan import NAME, Part, Resource
from .context import PartyContext


def ingresses(ctx: PartyContext) -> Iterator[Part]:
    party = ctx.party
    spec = party.ingress if party else None
    if party is None or spec is None:
        return
    for module in ctx.modules:
        host = party.ingress_host(module.name) if module.web_port else None
        if host is None:
            continue
        body_spec: dict[str, Any] = {}
        if spec.class_name:
            body_spec["ingressClassName"] = spec.class_name
        if spec.tls:
            body_spec["tls"] = [{"hosts": [host], "secretName": spec.tls.secret_name}]
        body_spec["rules"] = [{"host": host, "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": module.name, "port": {"number": module.web_port}}}}]}}]
        body = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": {"name": module.name, "labels": {NAME: module.name}}, "spec": body_spec}
        yield Resource(f"ingress-{module.name}.yaml", body)
