"""SecretFlow Kuscia in centralized mode: the catalog (one master domain, lite domains).
Where each fact comes from: bases/kuscia/README.md."""

from __future__ import annotations

import re

from ...catalog import Module, Release

ENVOY_PORT = 1080  # the gateway: registration, lite <-> master and lite <-> lite traffic
KUSCIA_API_PORT = 8082
MASTER, LITE = "kuscia-master", "kuscia-lite"  # workload, Service and app.kubernetes.io/name
BOOTSTRAP_NAME = "kuscia-bootstrap"  # the Job that applies Domains and routes inside the master
KUSCIA_IMAGE = "secretflow/kuscia"
RUNP_IMAGE = "secretflow/kuscia-secretflow"  # runp on Kubernetes runs engines in-process (not verified: tag)
REGISTRY = "secretflow-registry.cn-hangzhou.cr.aliyuncs.com/secretflow"
RESERVED = ("default", "kube-system", "kube-public", "kube-node-lease", "master", "cross-domain")
_DOMAIN_ID = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")

MODULES = {
    m.name: m
    for m in (
        Module(MASTER, "Deployment", KUSCIA_IMAGE, {"envoy": ENVOY_PORT, "kusciaapi": KUSCIA_API_PORT},
               init_containers={"kuscia-config": KUSCIA_IMAGE}, router_port="envoy"),
        Module(LITE, "Deployment", KUSCIA_IMAGE,
               {"envoy": ENVOY_PORT, "envoy-internal": 80, "dns": 53, "kusciaapi": KUSCIA_API_PORT},
               init_containers={"kuscia-config": KUSCIA_IMAGE}, router_port="envoy"),
    )
}

RELEASES = {
    "1.1.0b0": Release("1.1.0b0", (MASTER, LITE), router=LITE, images={
        KUSCIA_IMAGE: (f"{REGISTRY}/kuscia", "1.1.0b0"),
        RUNP_IMAGE: (f"{REGISTRY}/kuscia-secretflow", "1.1.0b0"),
    }),
}


def party_id(value: str) -> str:
    """A Kuscia domain id: an RFC 1123 label that Kuscia does not reserve."""
    if not _DOMAIN_ID.fullmatch(value):
        raise ValueError(f"{value!r} is not a Kuscia domain id (an RFC 1123 label: lowercase a-z, 0-9 and "
                         f"'-', starting and ending with a letter or digit, at most 63)")
    if value in RESERVED:
        raise ValueError(f"domain id {value!r} is reserved by Kuscia ({', '.join(RESERVED)})")
    return value
