"""The frame of every overlay: its Namespace, images, replicas, pull settings and resource overrides."""

from __future__ import annotations

from collections.abc import Iterator

from ..plan import NAME, Image, Part, Resource
from .context import PartyContext, workload_patch

# On what holds a party's data (its Namespace, whose deletion takes the claims with it, and static
# PersistentVolumes): a reconciler never deletes it, whatever a commit removes or renames. Flux skips
# pruning it; Argo CD neither prunes it nor deletes it with its Application. Decommissioning a party is
# done by hand, after a backup (docs/gitops.md).
KEEP = {"kustomize.toolkit.fluxcd.io/prune": "disabled", "argocd.argoproj.io/sync-options": "Prune=false,Delete=false"}


def namespace(ctx: PartyContext) -> Iterator[Part]:
    body = {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ctx.member.namespace, "labels": {NAME: ctx.runtime.name}, "annotations": dict(KEEP)}}
    yield Resource("namespace.yaml", body)


def images(ctx: PartyContext) -> tuple[Image, ...]:
    """One `images:` entry per image the overlay's bases use."""
    used = dict.fromkeys(image for module in ctx.modules for image in module.images)
    return tuple(image(ctx, name) for name in used)


def image(ctx: PartyContext, name: str, source: str | None = None) -> Image:
    """The `images:` entry for the base image `name`: the release's image `source` (by default the
    same name), under the user's registry if any."""
    repository, tag = ctx.release.images[source or name]
    registry = ctx.spec.images.registry if ctx.spec.images else None
    if registry:
        repository = f"{registry}/{repository.rsplit('/', 1)[-1]}"
    return Image(name, repository, tag)


def replicas(ctx: PartyContext) -> tuple[tuple[str, int], ...]:
    """The replica counts the spec sets."""
    wanted = (ctx.party.replicas if ctx.party else None) or {}
    return tuple((module.name, wanted[module.name]) for module in ctx.modules if module.name in wanted)


def pull_settings(ctx: PartyContext) -> Iterator[Part]:
    """imagePullPolicy and imagePullSecrets from spec.images, per workload."""
    settings = ctx.spec.images
    if settings is None or (settings.pull_policy is None and not settings.pull_secrets):
        return
    for module in ctx.modules:
        pod, container = {}, {}
        if settings.pull_secrets:
            pod["imagePullSecrets"] = [{"name": name} for name in settings.pull_secrets]
        if settings.pull_policy:
            container["imagePullPolicy"] = settings.pull_policy
            if module.init_containers:
                pod["initContainers"] = [{"name": name, "imagePullPolicy": settings.pull_policy}
                                         for name in module.init_containers]
        yield workload_patch(f"images-{module.name}.yaml", module, pod=pod, container=container)


def resource_overrides(ctx: PartyContext) -> Iterator[Part]:
    """Per-module requests and limits; they merge over the bases' defaults."""
    for name, resources in sorted((ctx.member.spec.resources or {}).items()):
        module = ctx.module(name)
        if module is None:
            continue
        wanted = {key: value for key, value in (("requests", resources.requests), ("limits", resources.limits))
                  if value}
        yield workload_patch(f"resources-{name}.yaml", module, container={"resources": wanted})
