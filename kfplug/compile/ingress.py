"""An Ingress for each module with a web UI: host <id>.<module>.<domain> or an explicit one."""

from __future__ import annotations

from collections.abc import Iterator

from ..plan import NAME, Part, Resource
from .context import PartyContext


def ingress_host(party, module_name: str) -> str | None:
    spec = party.ingress
    if spec is None:
        return None
    if spec.hosts and module_name in spec.hosts:
        return spec.hosts[module_name]
    return f"{party.id}.{module_name}.{spec.domain}" if spec.domain else None


def ingresses(ctx: PartyContext) -> Iterator[Part]:
    spec = getattr(ctx.party, "ingress", None)
    if spec is None:
        return
    for module in ctx.modules:
        host = ingress_host(ctx.party, module.name) if module.web_port else None
        if host is None:
            continue
        body_spec: dict = {}
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
