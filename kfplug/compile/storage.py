"""Storage for stateful modules: a StorageClass, static NFS volumes, existing
claims, or emptyDir. Without a storage block, claims use the cluster's default class."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..catalog import Module
from ..plan import NAME, Part, Resource
from ..spec.model import NFS
from .context import PartyContext, workload_patch
from .frame import KEEP


def storage(ctx: PartyContext) -> Iterator[Part]:
    spec = ctx.party.storage if ctx.party else None
    if spec is None:
        return
    sizes = spec.sizes or {}
    claims = spec.existing_claims or {}
    for module in ctx.modules:
        if not module.stateful:
            continue
        size = sizes.get(module.name, module.default_size)
        if module.name in claims:
            yield _volume_instead(module, {"persistentVolumeClaim": {"claimName": claims[module.name]}})
        elif spec.none:
            yield _volume_instead(module, {"emptyDir": {}})
        elif spec.nfs is not None:
            yield workload_patch(f"storage-{module.name}.yaml", module, spec={"volumeClaimTemplates": [
                _claim_template(module.name, size, storage_class="")]})
            for ordinal in range(ctx.replicas_of(module)):
                yield _nfs_volume(ctx, module.name, ordinal, size, spec.nfs)
        else:
            yield workload_patch(f"storage-{module.name}.yaml", module, spec={"volumeClaimTemplates": [
                _claim_template(module.name, size, storage_class=spec.storage_class)]})


def _claim_template(module_name: str, size: str, storage_class: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"metadata": {"name": "data", "labels": {NAME: module_name}}, "spec": spec}


def _volume_instead(module: Module, source: dict[str, Any]) -> Part:
    """Drop the claim template; the `data` volume comes from `source`."""
    return workload_patch(f"storage-{module.name}.yaml", module, spec={"volumeClaimTemplates": None},
                          pod={"volumes": [{"name": "data", **source}]})


def _nfs_volume(ctx: PartyContext, module_name: str, ordinal: int, size: str, nfs: NFS) -> Part:
    """A static PersistentVolume bound to the claim the StatefulSet creates for this replica."""
    namespace = ctx.member.namespace
    claim = f"data-{module_name}-{ordinal}"
    body = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"{namespace}-{module_name}-{ordinal}", "labels": {NAME: module_name},
                     "annotations": dict(KEEP)},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "",
            "claimRef": {"namespace": namespace, "name": claim},
            "nfs": {"server": nfs.server, "path": f"{nfs.path.rstrip('/')}/{ctx.member.name}/{module_name}-{ordinal}"},
        },
    }
    return Resource(f"pv-{module_name}-{ordinal}.yaml", body)
