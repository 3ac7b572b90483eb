"""The runtime catalog and the hand-written bases agree: kinds, names,
containers, images, ports, claims and the Secrets and ConfigMaps they use."""

from __future__ import annotations

import pytest

from conftest import REPO
from kfplug.runtimes.fate import FATE, RELEASES
from objects import containers, pod_spec, references
from kfplug.yamlio import load_all_trusted

BASES = REPO / "bases" / "fate"


def base_objects(module: str) -> list[dict]:
    directory = BASES / module
    assert (directory / "kustomization.yaml").is_file(), directory
    objects = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs = load_all_trusted(path.read_text())
            assert len(docs) == 1, f"{path}: one resource per file"
            objects += docs
    return objects


@pytest.mark.parametrize("name", sorted(FATE.modules))
def test_base_matches_catalog(name):
    module = FATE.modules[name]
    objects = base_objects(name)
    workloads = [o for o in objects if pod_spec(o) is not None]
    assert [(w["kind"], w["metadata"]["name"]) for w in workloads] == [(module.kind, name)]
    workload = workloads[0]
    spec = pod_spec(workload)
    assert [c["name"] for c in spec["containers"]][0] == name
    assert {c["name"]: c["image"].rsplit(":", 1)[0] for c in spec.get("initContainers", [])} == module.init_containers
    assert spec["containers"][0]["image"].rsplit(":", 1)[0] == module.image
    service = next(o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == name)
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == module.ports
    claims = [t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])]
    assert claims == (["data"] if module.stateful else [])
    for obj in objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == name
        assert "namespace" not in obj["metadata"], "bases are not party-specific"
    assert workload["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}


@pytest.mark.parametrize("name", sorted(FATE.modules))
def test_base_consumes_the_secrets_the_catalog_names(name):
    module = FATE.modules[name]
    (workload,) = [o for o in base_objects(name) if pod_spec(o) is not None]
    main = next(c for c in containers(workload) if c["name"] == name)
    secret_env = {e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
                  for e in main.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
    assert secret_env == {use.env: (use.secret, use.key) for use in module.secrets}
    secret_volumes = {v["name"]: v["secret"]["secretName"] for v in pod_spec(workload).get("volumes", [])
                      if "secret" in v}
    assert secret_volumes == {mount.volume: mount.secret for mount in module.secret_mounts}
    mounted = {m["name"]: m for m in main.get("volumeMounts", [])}
    for volume in secret_volumes:
        assert mounted[volume].get("readOnly") is True, f"{name}: {volume} is not mounted read-only"


def test_bases_use_only_config_maps_the_runtime_generates():
    from kfplug.runtimes.catalog import ConfigInput

    generated = set()
    for release in RELEASES.values():
        ctx = ConfigInput(party="9999", release=release, modules=release.modules, peers=())
        generated |= {c.name for c in FATE.configure(ctx)}
    for name in FATE.modules:
        for obj in base_objects(name):
            for kind, ref in references(obj):
                if kind == "ConfigMap" and ref != "mysql-init":
                    assert ref in generated, f"{name} uses ConfigMap {ref} that nobody generates"
                if kind == "Secret":
                    assert ref in FATE.secrets, f"{name} uses Secret {ref} outside the catalog"


def test_release_images_cover_every_base_image():
    for release in RELEASES.values():
        for name in release.modules:
            for image in FATE.modules[name].images:
                assert image in release.images, (release.version, image)


@pytest.mark.parametrize("name", sorted(n for n, m in FATE.modules.items() if m.clients is not None))
def test_a_guarded_module_admits_exactly_the_modules_holding_its_credentials(name):
    """The NetworkPolicy of a module with `clients` admits only those; they must be the
    modules whose bases read that module's Secret, so a policy never cuts a real user off."""
    holders = {m.name for m in FATE.modules.values() if m.name != name
               and any(FATE.secrets[use.secret].component == name for use in (*m.secrets, *m.secret_mounts))}
    assert set(FATE.modules[name].clients) == holders
