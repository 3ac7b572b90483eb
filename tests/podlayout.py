"""A container's view of one directory tree, laid out from built objects the way the kubelet and
the container runtime present it (no pytest here).

`lay_out(objects, workload, container, under, root)` writes into `root` what the container sees
below the path `under`: first the image's files (given), then every volumeMount at or below
`under`, parents before children (containerd and CRI-O sort mounts by path depth), each one
hiding what was at its path before:

- a ConfigMap volume is the kubelet's atomic-writer directory: the keys (all, or `items`) as
  files in `..<timestamp>/`, `..data` pointing there, and one symlink per top-level name; a Secret
  volume the same, from a Secret among the objects (one the test stands in for, e.g. the key pair
  cert-manager would issue);
- an emptyDir is an empty directory;
- a `subPath` mounts that entry of the volume (symlinks resolved inside it, as the kubelet
  does); a missing one the kubelet creates as an empty directory.

Any other volume type, `subPathExpr`, or a ConfigMap the pod could not mount raises
LayoutError: the layout would not be the pod's. Owners and modes are not modelled.
"""

from __future__ import annotations

import base64
import posixpath
import shutil
from pathlib import Path

from objects import containers, pod_spec

ATOMIC_DIR = "..2025_01_01_00_00_00.000000001"


class LayoutError(Exception):
    pass


def container(workload: dict, name: str) -> dict:
    matches = [c for c in containers(workload) if c["name"] == name]
    if len(matches) != 1:
        raise LayoutError(f"{workload['metadata']['name']} has no container {name}")
    return matches[0]


VOLUME_KINDS = {"configMap": ("ConfigMap", "name"), "secret": ("Secret", "secretName")}


def _source(volume: dict) -> tuple[str, dict]:
    """The volume's type key (configMap or secret) and its source."""
    kinds = [key for key in VOLUME_KINDS if key in volume]
    if not kinds:
        raise LayoutError(f"volume {volume['name']}: no layout for {sorted(set(volume) - {'name'})}")
    return kinds[0], volume[kinds[0]]


def _config_map(objects: list[dict], namespace: str, volume: dict) -> dict[str, bytes] | None:
    """The files of a ConfigMap or Secret volume."""
    key, source = _source(volume)
    kind, name_field = VOLUME_KINDS[key]
    name = source[name_field]
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name
               and o["metadata"].get("namespace") == namespace]
    if not matches:
        if source.get("optional"):
            return None
        raise LayoutError(f"volume {volume['name']}: {kind} {namespace}/{name} is not in the build "
                          "(the pod would not start)")
    found = matches[0]
    if kind == "Secret":
        data = {k: base64.b64decode(v) for k, v in (found.get("data") or {}).items()}
        data.update({k: v.encode() for k, v in (found.get("stringData") or {}).items()})
        return data
    data = {k: value.encode() for k, value in (found.get("data") or {}).items()}
    data.update({k: base64.b64decode(value) for k, value in (found.get("binaryData") or {}).items()})
    return data


def _materialise(objects: list[dict], namespace: str, volume: dict, path: Path) -> None:
    path.mkdir(parents=True)
    if "emptyDir" in volume:
        return
    _, source = _source(volume)
    data = _config_map(objects, namespace, volume)
    if data is None:  # optional and missing: an empty volume
        return
    items = source.get("items")
    if items:
        for item in items:
            if item["key"] not in data and not source.get("optional"):
                raise LayoutError(f"volume {volume['name']}: ConfigMap has no key {item['key']!r} "
                                  "(the pod would not start)")
        files = {item["path"]: data[item["key"]] for item in items if item["key"] in data}
    else:
        files = data
    timestamped = path / ATOMIC_DIR
    timestamped.mkdir()
    for relative, content in files.items():
        target = timestamped / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (path / "..data").symlink_to(ATOMIC_DIR)
    for top in sorted({relative.split("/")[0] for relative in files}):
        (path / top).symlink_to(f"..data/{top}")


def _resolve_inside(volume: Path, sub_path: str) -> Path:
    """The subPath's target with symlinks resolved; it must stay inside the volume (kubelet's rule)."""
    target = (volume / sub_path).resolve()
    if target != volume.resolve() and volume.resolve() not in target.parents:
        raise LayoutError(f"subPath {sub_path!r} leaves its volume")
    return target


def _clear(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def lay_out(objects: list[dict], workload: dict, container_name: str, under: str, root: Path,
            image_files: dict[str, bytes] | None = None) -> list[str]:
    """Lay out below `root` what container `container_name` sees below the absolute path `under`.
    Returns the mountPaths that were laid out, in mount order."""
    spec = pod_spec(workload)
    if spec is None:
        raise LayoutError(f"{workload['kind']} has no pod template")
    namespace = workload["metadata"].get("namespace", "")
    under = posixpath.normpath(under)
    root.mkdir(parents=True, exist_ok=True)
    for path, content in (image_files or {}).items():
        target = root / posixpath.relpath(path, under)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)

    staging = root.parent / f"{root.name}.volumes"
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    materialised: dict[str, Path] = {}
    mounts = []
    for mount in container(workload, container_name).get("volumeMounts", []):
        path = posixpath.normpath(mount["mountPath"])
        if path != under and not path.startswith(under + "/"):
            continue
        if mount.get("subPathExpr"):
            raise LayoutError(f"mount {path}: subPathExpr is not laid out")
        if mount["name"] not in volumes:
            raise LayoutError(f"mount {path}: no volume {mount['name']!r} in the pod")
        mounts.append((path, mount))
    mounts.sort(key=lambda m: m[0].count("/"))  # stable: same depth keeps the pod's order

    for path, mount in mounts:
        name = mount["name"]
        if name not in materialised:
            materialised[name] = staging / name
            _materialise(objects, namespace, volumes[name], materialised[name])
        source = materialised[name]
        if mount.get("subPath"):
            candidate = source / mount["subPath"]
            if not candidate.exists() and not candidate.is_symlink():
                candidate.mkdir(parents=True)  # the kubelet creates a missing subPath as a directory
            source = _resolve_inside(materialised[name], mount["subPath"])
        target = root / posixpath.relpath(path, under)
        _clear(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copyfile(source, target)
    return [path for path, _ in mounts]
