"""Mutual TLS between FATE routers (spec.tls.mode: mutual): the router's key pair, issued by
cert-manager from the party's own CA or named by the spec; the CAs it trusts; and its TLS
Service, the only one peers dial.

Files in the router's pod (bases/fate/README.md cites the router keys that name them):
- /etc/fate/tls/issued/  the key pair Secret (tls.crt, tls.key; PKCS#8, what Java's gRPC reads);
- /etc/fate/tls/served/  a copy made when the container starts (memory-backed), which the router
  reads: neither osx nor rollsite reloads a renewed certificate, so the liveness probe fails once
  the Secret's certificate differs from the copy, and the restarted container serves the new one;
- /etc/fate/tls/trust/   peers.crt, the CAs of every member this router has a route to (the
  server accepts clients that chain to one of them), and <member>.crt, the one CA a route to
  that member trusts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...compile.context import PartyContext, workload_patch
from ...plan import NAME, ConfigMapGen, Part, Resource
from ...spec.members import Member, service_host

TLS_DIR = "/etc/fate/tls"
ISSUED = f"{TLS_DIR}/issued"
SERVED = f"{TLS_DIR}/served"
TRUST = f"{TLS_DIR}/trust"
SERVED_CERT = f"{SERVED}/tls.crt"
SERVED_KEY = f"{SERVED}/tls.key"
PEERS_BUNDLE = f"{TRUST}/peers.crt"
CA_SECRET = "kfplug-ca"  # the party's CA key pair, created by the party in its own namespace
ISSUER = "kfplug-ca"
CERT_MANAGER = "cert-manager.io"
SECRET_MODE = 0o440  # readable by the pod's group (fsGroup), nobody else
# started through sh: copy the key pair the router will read, then run the base's command (args kept);
# -f: after a restart the copies of the last start are there, read-only (the Secret's mode)
START = f"cp -f {ISSUED}/tls.crt {ISSUED}/tls.key {SERVED}/ && exec \"$0\" \"$@\""
SAME_CERT = f'test "$(cat {ISSUED}/tls.crt)" = "$(cat {SERVED_CERT})"'


def trust_file(member: Member) -> str:
    """The CA a route to `member` trusts."""
    return f"{TRUST}/{member.name}.crt"


def key_pair_secret(ctx: PartyContext) -> str:
    tls = ctx.member.spec.tls
    return tls.secret_name if tls and tls.secret_name else f"{ctx.router.name}-tls"


def router_tls(ctx: PartyContext) -> Iterator[Part]:
    """The compile step: nothing unless the federation uses mutual TLS."""
    if not ctx.spec.mutual_tls:
        return
    yield _trust(ctx)
    yield _service(ctx)
    tls = ctx.member.spec.tls
    if tls is None or tls.secret_name is None:
        yield _issuer(ctx)
        yield _certificate(ctx)
    yield _router_patch(ctx)


def _pem(member: Member) -> str:
    tls = member.spec.tls
    assert tls is not None and tls.ca is not None, "validated: with mutual TLS every member names its CA"
    return tls.ca.strip() + "\n"


def _trust(ctx: PartyContext) -> ConfigMapGen:
    files = {"peers.crt": "".join(_pem(peer) for peer in ctx.neighbours)}
    files |= {f"{peer.name}.crt": _pem(peer) for peer in ctx.neighbours}
    return ConfigMapGen(f"{ctx.router.name}-trust", ctx.router.name, files)


def _service(ctx: PartyContext) -> Resource:
    """The Service peers dial: the TLS port alone, so exposing it never exposes the plaintext port."""
    router, entry = ctx.router, ctx.entry
    body = {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": entry.service, "labels": {NAME: router.name}},
            "spec": {"selector": {NAME: router.name},
                     "ports": [{"name": entry.port_name, "port": entry.port, "targetPort": entry.port_name}]}}
    return Resource(f"service-{entry.service}.yaml", body)


def _issuer(ctx: PartyContext) -> Resource:
    body = {"apiVersion": f"{CERT_MANAGER}/v1", "kind": "Issuer",
            "metadata": {"name": ISSUER, "labels": {NAME: ctx.router.name}},
            "spec": {"ca": {"secretName": CA_SECRET}}}
    return Resource("issuer.yaml", body)


def dialled_names(ctx: PartyContext) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) peers dial this router at: its TLS Service in the cluster, and its
    endpoint from other clusters."""
    dns = [service_host(ctx.entry.service, ctx.member.namespace)]
    ips: list[str] = []
    endpoint = ctx.member.endpoint
    if endpoint is not None:
        (ips if endpoint.ip_block() else dns).append(endpoint.host)
    return dns, ips


def _certificate(ctx: PartyContext) -> Resource:
    dns, ips = dialled_names(ctx)
    spec: dict[str, Any] = {
        "secretName": key_pair_secret(ctx),
        "issuerRef": {"name": ISSUER, "kind": "Issuer", "group": CERT_MANAGER},
        "dnsNames": dns,
        **({"ipAddresses": ips} if ips else {}),
        # the router serves peers and dials them with the same key pair
        "usages": ["digital signature", "key encipherment", "server auth", "client auth"],
        "duration": "2160h",
        "renewBefore": "720h",
        "privateKey": {"algorithm": "RSA", "size": 2048, "encoding": "PKCS8", "rotationPolicy": "Always"},
    }
    body = {"apiVersion": f"{CERT_MANAGER}/v1", "kind": "Certificate",
            "metadata": {"name": key_pair_secret(ctx), "labels": {NAME: ctx.router.name}}, "spec": spec}
    return Resource("certificate.yaml", body)


def _router_patch(ctx: PartyContext) -> Part:
    router, entry = ctx.router, ctx.entry
    volumes = [
        {"name": "tls-issued", "secret": {"secretName": key_pair_secret(ctx), "defaultMode": SECRET_MODE}},
        {"name": "tls-served", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
        {"name": "tls-trust", "configMap": {"name": f"{router.name}-trust"}},
    ]
    container = {
        "command": ["sh", "-c", START, "java"],  # "$0" is the base's command, java; its args follow
        "ports": [{"name": entry.port_name, "containerPort": entry.port}],
        # ready once the TLS port listens: a key the router cannot read leaves it serving plaintext only
        "readinessProbe": {"tcpSocket": {"port": entry.port_name}},
        "livenessProbe": {"tcpSocket": None, "exec": {"command": ["sh", "-c", SAME_CERT]}, "periodSeconds": 60},
        "volumeMounts": [
            {"name": "tls-issued", "mountPath": ISSUED, "readOnly": True},
            {"name": "tls-served", "mountPath": SERVED},
            {"name": "tls-trust", "mountPath": TRUST, "readOnly": True},
        ],
    }
    return workload_patch("tls.yaml", router, pod={"volumes": volumes}, container=container)
