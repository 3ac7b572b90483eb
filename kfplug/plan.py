"""The whole answer in memory: one Overlay per party (and the exchange), and
which overlays each cluster deploys. Both emitters read only this."""

from __future__ import annotations

from typing import Any

import attrs

MANAGED_BY = "app.kubernetes.io/managed-by"
PART_OF = "app.kubernetes.io/part-of"
NAME = "app.kubernetes.io/name"
PARTY = "kfplug.dev/party"


@attrs.frozen
class Image:
    name: str
    new_name: str
    new_tag: str


@attrs.frozen
class ConfigMapGen:
    """configMapGenerator entry; files live at config/<name>/<file> in the overlay."""
    name: str
    component: str
    files: dict[str, str]
    env: bool = False


@attrs.frozen
class SecretGen:
    """secretGenerator entry reading a git-ignored env file the user owns."""
    name: str
    component: str
    keys: tuple[str, ...]

    @property
    def env_file(self) -> str:
        return f"secrets/{self.name}.env"

    @property
    def sops_file(self) -> str:
        """The SOPS-encrypted Secret manifest that stands for the env file when secrets live in Git."""
        return f"secrets/{self.name}.sops.yaml"


@attrs.frozen
class Patch:
    """A strategic-merge patch in its own file, applied to `target`."""
    file: str
    kind: str
    name: str | None
    body: dict[str, Any]


@attrs.frozen
class Resource:
    """An object the overlay adds (Namespace, Ingress, ...), one per file."""
    file: str
    body: dict[str, Any]


Part = ConfigMapGen | SecretGen | Patch | Resource


@attrs.frozen
class Overlay:
    name: str  # directory under overlays/ and the party label
    namespace: str
    cluster: str
    bases: tuple[str, ...]  # component bases, e.g. "fate/2.0.0/mysql"
    labels: dict[str, str]
    images: tuple[Image, ...] = ()
    replicas: tuple[tuple[str, int], ...] = ()
    config_maps: tuple[ConfigMapGen, ...] = ()
    secrets: tuple[SecretGen, ...] = ()
    patches: tuple[Patch, ...] = ()
    resources: tuple[Resource, ...] = ()
    sops_age: tuple[str, ...] = ()  # with Plan.encrypted: the age recipients of its Secrets kept in Git


@attrs.frozen
class Plan:
    federation: str
    runtime: str
    overlays: tuple[Overlay, ...]
    clusters: dict[str, tuple[str, ...]]  # cluster name -> overlay names
    reconcilers: tuple[Resource, ...] = ()  # Flux and Argo CD objects, by their path in the tree
    encrypted: bool = False  # generated Secrets are kept in Git, SOPS-encrypted for each overlay's sops_age

    @property
    def bases(self) -> tuple[str, ...]:
        return tuple(sorted({base for overlay in self.overlays for base in overlay.bases}))
