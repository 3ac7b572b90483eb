"""Reading built Kubernetes objects in tests."""

from __future__ import annotations

import json

import yaml

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def parse(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def key(obj: dict) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def index(objects: list[dict]) -> dict[tuple[str, str, str], dict]:
    return {key(obj): obj for obj in objects}


def canonical(objects: list[dict]) -> str:
    """Order-independent form, for comparing two builds of the same objects."""
    return json.dumps(sorted(objects, key=key), sort_keys=True)


def find(objects: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def generated(objects: list[dict], kind: str, prefix: str) -> dict:
    """A generated ConfigMap/Secret by its name before the hash suffix."""
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].rsplit("-", 1)[0] == prefix]
    assert len(matches) == 1, f"expected one generated {kind} {prefix}-<hash>, found {len(matches)}"
    return matches[0]


def pod_spec(obj: dict) -> dict | None:
    return obj["spec"]["template"]["spec"] if obj["kind"] in WORKLOADS else None


def containers(obj: dict) -> list[dict]:
    spec = pod_spec(obj) or {}
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def references(obj: dict) -> set[tuple[str, str]]:
    """(kind, name) of every ConfigMap and Secret a workload's pods use."""
    spec = pod_spec(obj)
    if spec is None:
        return set()
    refs = set()
    for volume in spec.get("volumes", []):
        if "configMap" in volume:
            refs.add(("ConfigMap", volume["configMap"]["name"]))
        if "secret" in volume:
            refs.add(("Secret", volume["secret"]["secretName"]))
    for container in containers(obj):
        for env in container.get("env", []):
            source = env.get("valueFrom", {})
            if "secretKeyRef" in source:
                refs.add(("Secret", source["secretKeyRef"]["name"]))
            if "configMapKeyRef" in source:
                refs.add(("ConfigMap", source["configMapKeyRef"]["name"]))
        for env_from in container.get("envFrom", []):
            if "configMapRef" in env_from:
                refs.add(("ConfigMap", env_from["configMapRef"]["name"]))
            if "secretRef" in env_from:
                refs.add(("Secret", env_from["secretRef"]["name"]))
    return refs
