"""What a runtime is: modules, releases and a configuration builder.

A runtime is data plus one function; the planner reads it and never names a
module itself. The facts must match the component bases under `bases/`
(a test checks kinds, names, containers, ports and claims against them).
"""

from __future__ import annotations

from typing import Callable

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
class Module:
    name: str
    kind: str  # Deployment | StatefulSet
    image: str  # the image name used in the base
    ports: dict[str, int]  # Service port name -> port
    init_containers: dict[str, str] = {}  # name -> image; the main container is named like the module
    stateful: bool = False  # has the volumeClaimTemplate "data"
    scalable: bool = False  # replicas may be raised
    replicas: int = 1  # as in the base
    web_port: int | None = None  # HTTP UI, published through an Ingress
    router: bool = False  # the party's federation entry point
    requires: tuple[str, ...] = ()
    secrets: tuple[SecretUse, ...] = ()
    secret_mounts: tuple[SecretMount, ...] = ()
    # port name -> the only modules of the party that may connect to it; other ports admit the whole party
    clients: dict[str, tuple[str, ...]] = {}

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
    name: str
    keys: tuple[str, ...]
    component: str


@attrs.frozen
class ConfigMap:
    """A generated ConfigMap: files (or env lines) rendered from the spec."""
    name: str
    component: str
    files: dict[str, str]
    env: bool = False  # one KEY=value file consumed with envFrom


@attrs.frozen
class Runtime:
    name: str
    namespace_prefix: str
    modules: dict[str, Module]
    releases: dict[str, Release]
    secrets: dict[str, SecretKind]
    configure: Callable[..., list[ConfigMap]]
    party_id: Callable[[str], str]  # raises ValueError for an id this runtime cannot use


@attrs.frozen
class Peer:
    """Where a party's router reaches another router."""
    party: str
    host: str
    port: int


@attrs.frozen
class ConfigInput:
    """Everything a runtime needs to write one party's configuration."""
    party: str
    release: Release
    modules: tuple[str, ...]
    peers: tuple[Peer, ...]  # explicit routes, in spec order
    default_route: Peer | None = None  # the exchange, in a star
    exchange: bool = False  # this party is the exchange itself
    replicas: dict[str, int] = {}  # module -> pods, for the modules whose count the configuration names
