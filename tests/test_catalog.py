"""The runtime catalog and the hand-written bases agree: kinds, names,
containers, images, ports, claims and the Secrets and ConfigMaps they use."""

from __future__ import annotations

import pytest

from conftest import REPO
from kfplug.runtimes.fate import RUNTIME as FATE
from kfplug.runtimes.fate.catalog import RELEASES, STACKS
from kfplug.runtimes.fate.config import ConfigInput, configure
from kfplug.yamlread import load_all_trusted
from objects import containers, pod_spec, references

BASES = REPO / "bases" / "fate"


RELEASE_MODULES = [(version, name) for version, release in RELEASES.items() for name in release.modules]


def base_objects(version: str, module: str) -> list[dict]:
    directory = BASES / version / module
    assert (directory / "kustomization.yaml").is_file(), directory
    objects = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs = load_all_trusted(path.read_text())
            assert len(docs) == 1, f"{path}: one resource per file"
            objects += docs
    return objects


@pytest.mark.parametrize("version, name", RELEASE_MODULES)
def test_base_matches_catalog(version, name):
    module = FATE.modules[name]
    objects = base_objects(version, name)
    workloads = [o for o in objects if pod_spec(o) is not None]
    assert [(w["kind"], w["metadata"]["name"]) for w in workloads] == [(module.kind, name)]
    workload = workloads[0]
    spec = pod_spec(workload)
    assert spec["containers"][0]["name"] == name
    assert {c["name"]: c["image"].rsplit(":", 1)[0] for c in spec.get("initContainers", [])} == module.init_containers
    assert spec["containers"][0]["image"].rsplit(":", 1)[0] == module.image
    assert spec["containers"][0]["image"] == ":".join(RELEASES[version].images[module.image]), \
        "a base names its release's own image and tag"
    service = next(o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == name)
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == module.ports
    claims = [t["metadata"]["name"] for t in workload["spec"].get("volumeClaimTemplates", [])]
    assert claims == (["data"] if module.stateful else [])
    for obj in objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == name
        assert "namespace" not in obj["metadata"], "bases are not party-specific"
    assert workload["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}


@pytest.mark.parametrize("version, name", RELEASE_MODULES)
def test_base_consumes_the_secrets_the_catalog_names(version, name):
    module = FATE.modules[name]
    (workload,) = [o for o in base_objects(version, name) if pod_spec(o) is not None]
    main = next(c for c in containers(workload) if c["name"] == name)
    secret_env = {e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
                  for e in main.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
    assert secret_env == {use.env: (use.secret, use.key) for use in module.secrets}
    secret_volumes = {v["name"]: v["secret"]["secretName"] for v in pod_spec(workload).get("volumes", [])
                      if "secret" in v}
    assert secret_volumes == {mount.volume: mount.secret for mount in module.secret_mounts}
    mounts = [m for c in containers(workload) for m in c.get("volumeMounts", []) if m["name"] in secret_volumes]
    assert {m["name"] for m in mounts} == set(secret_volumes), f"{name}: a secret volume is not mounted"
    assert all(m.get("readOnly") is True for m in mounts), f"{name}: a secret volume is mounted writable"


def test_bases_use_only_config_maps_the_runtime_generates():
    generated = set()
    for release in RELEASES.values():
        ctx = ConfigInput(party="9999", release=release, modules=release.modules, peers=())
        generated |= {c.name for c in configure(ctx)}
    for version, name in RELEASE_MODULES:
        for obj in base_objects(version, name):
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


def test_mysql_admits_exactly_the_modules_holding_its_credentials():
    """mysql's NetworkPolicy admits only its `clients`; they must be the modules whose bases
    read its Secret, so a policy never cuts a real user off."""
    holders = {m.name for m in FATE.modules.values() if m.name != "mysql"
               and any(FATE.secrets[use.secret].component == "mysql" for use in (*m.secrets, *m.secret_mounts))}
    assert set(FATE.modules["mysql"].clients["mysql"]) == holders


@pytest.mark.parametrize("version", sorted(RELEASES))
def test_fateflow_http_admits_every_module_configured_to_call_it(version):
    """FATE-Flow's HTTP port is guarded (its API serves the mysql password); every module whose
    generated configuration dials it must be among its clients."""
    release = RELEASES[version]
    port = str(FATE.modules["fateflow"].ports["http"])
    callers = {config.component for config in configure(ConfigInput(
        party="9999", release=release, modules=release.modules, peers=()))
        if any(port in text for text in config.files.values())}
    assert callers >= {"fateboard", "client"}
    assert callers - {"fateflow"} <= set(FATE.modules["fateflow"].clients["http"])


@pytest.mark.parametrize("version", sorted(RELEASES))
def test_fateflow_counts_as_many_eggroll_nodes_as_there_are_node_managers(version):
    """FATE-Flow splits a job's cores over `nodes` (FATE-Flow v2.0.0 controller/job.py: cores // nodes
    per node manager), so it is the node manager's replica count."""
    import yaml

    release = RELEASES[version]
    for count in (1, 3):
        (conf,) = [c for c in configure(ConfigInput(party="9999", release=release, modules=release.modules,
                                                         peers=(), replicas={"nodemanager": count}))
                   if c.name == "fateflow-config"]
        service_conf = yaml.safe_load(conf.files["service_conf.yaml"])
        eggroll = service_conf["computing"]["eggroll"] if "computing" in service_conf \
            else service_conf["fate_on_eggroll"]["clustermanager"]
        assert eggroll["nodes"] == count


@pytest.mark.parametrize("version", sorted(RELEASES))
def test_each_release_says_what_it_pins(version):
    """FATE 2.x runs osx on eggroll 3 with FATE-Flow 2, FATE 1.x rollsite on eggroll 2.5 with FATE-Flow 1; only
    osx 1.1.0 (FATE 2.2.0) reads broker.properties' eggroll.version (FATE@v2.2.0 java/osx)."""
    stack, release = STACKS[version], RELEASES[version]
    assert stack.eggroll_3 == stack.fate_flow_2 == (release.router == "osx")
    (broker,) = [c.files["broker.properties"] for c in configure(ConfigInput(
        party="9999", release=release, modules=release.modules, peers=())) if "broker.properties" in c.files] \
        or [""]
    assert (f"\neggroll.version={stack.eggroll}\n" in broker) == stack.osx_names_eggroll


@pytest.mark.parametrize("version", sorted(RELEASES))
def test_base_images_carry_their_release_tags(version):
    """Within a release, every base names the tag the catalog gives its image (FATE 2.2.0's eggroll and
    fateboard ship under their own versions: FATE@5a06d9e4c deploy/docker-compose/README_zh.md)."""
    tags = {":".join(image) for image in RELEASES[version].images.values()}
    for name in RELEASES[version].modules:
        (workload,) = [o for o in base_objects(version, name) if pod_spec(o) is not None]
        for container in containers(workload):
            assert container["image"] in tags, (name, container["name"], container["image"])
