"""Plan -> the objects `kustomize build overlays/<name>` gives, computed in-process.

Only what kfplug's own trees use is implemented: bases with resources and a
configMapGenerator, then in the overlay: namespace, generators (content-hash
suffixes, as kustomize computes them), strategic-merge patches of the shapes
the planner writes, labels, replicas, images, and name references to the
generated objects. A test compares this with real kustomize for every example.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from ..plan import NAME, Image, Overlay, Plan
from ..yamlread import load_all_trusted, load_trusted
from .bases import base_files

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
CLUSTER_SCOPED = {"Namespace", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
                  "CustomResourceDefinition"}
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
              "volumeMounts": "mountPath", "imagePullSecrets": "name", "ports": "containerPort"}
SERVICE_MERGE_KEYS = {**MERGE_KEYS, "ports": "port"}
# kustomize's legacy output order
ORDER_FIRST = ["Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
               "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap",
               "Secret", "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume",
               "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget"]
ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]
Renamed = dict[tuple[str, str], str]  # (kind, name) of a generated object -> its name with the hash suffix


class SecretFilesNeeded(Exception):
    """The overlay generates Secrets from files, which an in-process build cannot read."""

    def __init__(self, overlay: Overlay):
        self.overlay = overlay
        names = ", ".join(s.name for s in overlay.secrets)
        super().__init__(f"overlay {overlay.name} generates Secrets ({names}) from git-ignored files")


def build(plan: Plan, names: list[str] | None = None) -> list[dict[str, Any]]:
    """The objects of the selected overlays (all by default), in kustomize's order."""
    objects: list[dict[str, Any]] = []
    wanted = None if names is None else set(names)
    for overlay in plan.overlays:
        if wanted is None or overlay.name in wanted:
            objects += build_overlay(overlay)
    return sorted(objects, key=_order)


def build_overlay(overlay: Overlay) -> list[dict[str, Any]]:
    if overlay.secrets:
        raise SecretFilesNeeded(overlay)
    objects = [copy.deepcopy(r.body) for r in overlay.resources]
    for base in overlay.bases:
        objects += _build_base(base)
    generated = [_config_map(c.name, c.component, c.files, c.env) for c in overlay.config_maps]
    objects += generated
    for patch in overlay.patches:
        for obj in objects:
            if obj["kind"] == patch.kind and obj["metadata"]["name"] == patch.name:
                _merge(obj, patch.body, SERVICE_MERGE_KEYS if obj["kind"] == "Service" else MERGE_KEYS)
    for obj in objects:
        _set_namespace(obj, overlay.namespace)
        _add_labels(obj, overlay.labels)
        _set_replicas(obj, dict(overlay.replicas))
        _set_images(obj, {i.name: i for i in overlay.images})
    _add_hash_suffixes(objects, generated)
    return objects


def _build_base(base: str) -> list[dict[str, Any]]:
    files = base_files(base)
    kustomization = load_trusted(files[f"{base}/kustomization.yaml"])
    objects: list[dict[str, Any]] = []
    for resource in kustomization.get("resources", []):
        objects += load_all_trusted(files[f"{base}/{resource}"])
    generated: list[dict[str, Any]] = []
    for generator in kustomization.get("configMapGenerator", []):
        sources = {name.rsplit("/", 1)[-1]: files[f"{base}/{name}"] for name in generator.get("files", [])}
        labels = (generator.get("options") or {}).get("labels") or {}
        generated.append(_config_map(generator["name"], labels.get(NAME), sources, False))
    objects += generated
    _add_hash_suffixes(objects, generated)
    return objects


def _config_map(name: str, component: str | None, files: dict[str, str], env: bool) -> dict[str, Any]:
    data: dict[str, str] = {}
    for filename, text in files.items():
        data.update(_env_lines(text) if env else {filename: text})
    metadata: dict[str, Any] = {"name": name}
    if component:
        metadata["labels"] = {NAME: component}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": dict(sorted(data.items()))}


def _env_lines(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value
    return pairs


def content_hash(obj: dict[str, Any]) -> str:
    """kustomize's name suffix: sha256 of a Go-JSON encoding of kind, name and data, 10 chars remapped.

    kustomize looks the name up as one field called "metadata/name", finds
    nothing and hashes "" instead; we do the same to get the same suffix.
    """
    encoded: dict[str, Any] = {"data": obj.get("data", ""), "kind": obj["kind"], "name": ""}
    if obj["kind"] == "Secret":
        encoded["type"] = obj.get("type", "Opaque")
    text = json.dumps(encoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return digest.translate(str.maketrans("013ae", "ghkmt"))


def _add_hash_suffixes(objects: list[dict[str, Any]], generated: list[dict[str, Any]]) -> None:
    renamed: Renamed = {}
    for obj in generated:
        old = obj["metadata"]["name"]
        new = f"{old}-{content_hash(obj)}"
        obj["metadata"]["name"] = new
        renamed[(obj["kind"], old)] = new
    for obj in objects:
        if obj["kind"] in WORKLOADS:
            _rename_references(obj["spec"]["template"]["spec"], renamed)


def _rename_references(pod: dict[str, Any], renamed: Renamed) -> None:
    def rename(holder: dict[str, Any] | None, field: str, kind: str) -> None:
        if holder is not None and (kind, holder.get(field)) in renamed:
            holder[field] = renamed[(kind, holder[field])]

    for volume in pod.get("volumes", []):
        rename(volume.get("configMap"), "name", "ConfigMap")
        rename(volume.get("secret"), "secretName", "Secret")
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        for env in container.get("env", []):
            source = env.get("valueFrom") or {}
            rename(source.get("configMapKeyRef"), "name", "ConfigMap")
            rename(source.get("secretKeyRef"), "name", "Secret")
        for env_from in container.get("envFrom", []):
            rename(env_from.get("configMapRef"), "name", "ConfigMap")
            rename(env_from.get("secretRef"), "name", "Secret")
    for secret in pod.get("imagePullSecrets", []):
        rename(secret, "name", "Secret")


def _merge(target: dict[str, Any], patch: dict[str, Any], keys: dict[str, str]) -> None:
    """Strategic merge of the shapes the planner writes: maps merge, keyed lists merge by key, null deletes."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value, keys)
        elif isinstance(value, list) and key in keys and isinstance(target.get(key), list):
            _merge_list(target[key], value, keys[key], keys)
        else:
            target[key] = copy.deepcopy(value)


def _merge_list(target: list[Any], patch: list[Any], merge_key: str, keys: dict[str, str]) -> None:
    """Patched items first, in patch order, then the untouched ones (kustomize's order)."""
    existing = {item.get(merge_key): item for item in target}
    merged: list[Any] = []
    for item in patch:
        if item.get(merge_key) in existing:
            _merge(existing[item[merge_key]], item, keys)
            merged.append(existing[item[merge_key]])
        else:
            merged.append(copy.deepcopy(item))
    patched = {item.get(merge_key) for item in patch}
    target[:] = merged + [item for item in target if item.get(merge_key) not in patched]


def _set_namespace(obj: dict[str, Any], namespace: str) -> None:
    if obj["kind"] not in CLUSTER_SCOPED:
        obj["metadata"]["namespace"] = namespace
    if obj["kind"] in ("RoleBinding", "ClusterRoleBinding"):  # as kustomize: subjects in "default" move along
        for subject in obj.get("subjects", []):
            if subject.get("kind") == "ServiceAccount" and subject.get("namespace") == "default":
                subject["namespace"] = namespace


def _add_labels(obj: dict[str, Any], labels: dict[str, str]) -> None:
    obj["metadata"].setdefault("labels", {}).update(labels)
    if obj["kind"] in WORKLOADS:
        obj["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {}).update(labels)
    if obj["kind"] == "StatefulSet":
        for claim in obj["spec"].get("volumeClaimTemplates", []):
            claim.setdefault("metadata", {}).setdefault("labels", {}).update(labels)


def _set_replicas(obj: dict[str, Any], replicas: dict[str, int]) -> None:
    if obj["kind"] in WORKLOADS and obj["metadata"]["name"] in replicas:
        obj["spec"]["replicas"] = replicas[obj["metadata"]["name"]]


def _set_images(obj: dict[str, Any], images: dict[str, Image]) -> None:
    if obj["kind"] not in WORKLOADS:
        return
    pod = obj["spec"]["template"]["spec"]
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        name = container["image"].split("@")[0].rsplit(":", 1)[0] if ":" in container["image"].rsplit("/", 1)[-1] \
            else container["image"]
        if name in images:
            container["image"] = f"{images[name].new_name}:{images[name].new_tag}"


def _order(obj: dict[str, Any]) -> tuple[int, str, str, str]:  # kustomize's legacy order (kyaml resid.Gvk)
    kind = obj["kind"]
    if kind in ORDER_FIRST:
        rank = ORDER_FIRST.index(kind)
    elif kind in ORDER_LAST:
        rank = len(ORDER_FIRST) + 1 + ORDER_LAST.index(kind)
    else:
        rank = len(ORDER_FIRST)
    meta = obj["metadata"]
    return rank, _gvk(obj), meta.get("namespace", ""), meta["name"]


def _gvk(obj: dict[str, Any]) -> str:
    """kustomize's order among kinds of one rank: group, version, kind (no group sorts last, as `~G`)."""
    group, _, version = str(obj["apiVersion"]).rpartition("/")
    return f"{group or '~G'}_{version or '~V'}_{obj['kind']}"
