"""What a runtime's catalog is made of: modules, releases and the Secrets they read.

Plain data, and where the component bases live (`bases_root`) with what a module's
base asks of resources. The shared compile steps read it and never name a module; the
facts must match the component bases under `bases/` (a test checks kinds, names,
containers, ports and claims against them).
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import attrs


@attrs.frozen
class SecretUse:
    """A container env var read from a key of a per-party Secret."""
    secret: str
    env: str
    key: str


@attrs.frozen
class SecretMount:
    """A per-party Secret mounted read-only as a pod volume (the value stays out of the environment)."""
    secret: str
    volume: str  # the volume's name in the base


@attrs.frozen
class Entry:
    """Where peers reach a member's router: its Service, port name and port."""
    service: str
    port_name: str
    port: int


@attrs.frozen
class Module:
    name: str
    kind: str  # Deployment | StatefulSet
    image: str  # the image name used in the base
    ports: dict[str, int]  # Service port name -> port
    # init container name -> image; the main container is named like the module
    init_containers: dict[str, str] = attrs.field(factory=dict)
    stateful: bool = False  # has the volumeClaimTemplate "data"
    default_size: str = "10Gi"  # of that claim, when the spec names no size
    scalable: bool = False  # replicas may be raised
    replicas: int = 1  # as in the base
    web_port: int | None = None  # HTTP UI, published through an Ingress
    router_port: str | None = None  # the port (by name) peers dial: this module is the member's router
    requires: tuple[str, ...] = ()
    secrets: tuple[SecretUse, ...] = ()
    secret_mounts: tuple[SecretMount, ...] = ()
    # port name -> the only modules of the party that may connect to it; other ports admit the whole party
    clients: dict[str, tuple[str, ...]] = attrs.field(factory=dict)
    # a router's TLS port: with mutual TLS peers dial it, through a Service of its own (<name>-tls)
    tls_port: int | None = None

    @property
    def router(self) -> bool:
        return self.router_port is not None

    @property
    def federation_port(self) -> int:
        """The port peers dial (routers only)."""
        assert self.router_port is not None, f"{self.name} is not a router"
        return self.ports[self.router_port]

    def entry(self, mutual_tls: bool) -> Entry:
        """What peers dial: the TLS Service when the federation uses mutual TLS and the router has a TLS
        port; else its own Service and port."""
        if mutual_tls and self.tls_port is not None:
            return Entry(f"{self.name}-tls", "grpc-tls", self.tls_port)
        assert self.router_port is not None, f"{self.name} is not a router"
        return Entry(self.name, self.router_port, self.federation_port)

    @property
    def images(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.image, *self.init_containers.values())))


@attrs.frozen
class Release:
    version: str
    modules: tuple[str, ...]  # the standard set, in deployment order
    router: str
    images: dict[str, tuple[str, str]]  # base image name -> (default repository, tag)

    def base(self, runtime: str, module: str) -> str:
        """A module's base under bases/: each release has its own (commands and files differ)."""
        return f"{runtime}/{self.version}/{module}"


@attrs.frozen
class SecretKind:
    """A Secret the overlay generates unless the spec names an existing one."""
    name: str
    keys: tuple[str, ...]
    component: str


@functools.cache
def bases_root() -> Path:
    """The component bases shipped with kfplug (`bases/` in the repository)."""
    spec = importlib.util.find_spec("kfplug.bases")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)
    here = Path(__file__).resolve().parents[1] / "bases"  # a source checkout
    if here.is_dir():
        return here
    raise FileNotFoundError("kfplug's component bases are missing from this installation")


def base_resources(base: str, module: Module) -> dict[str, dict[str, str]]:
    """The requests and limits of a module's main container as its base sets them."""
    return _base_resources(base, module.kind, module.name)


@functools.cache
def _base_resources(base: str, kind: str, name: str) -> dict[str, dict[str, str]]:
    from .yamlread import load_all_trusted

    for path in sorted((bases_root() / base).glob("*.yaml")):
        for document in load_all_trusted(path.read_text(encoding="utf-8")):
            if isinstance(document, dict) and document.get("kind") == kind \
                    and document.get("metadata", {}).get("name") == name:
                containers: list[dict[str, Any]] = document["spec"]["template"]["spec"]["containers"]
                main = next(c for c in containers if c["name"] == name)
                return {key: {k: str(v) for k, v in value.items()} for key, value in main.get("resources", {}).items()}
    return {}
