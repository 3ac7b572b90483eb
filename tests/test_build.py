"""Every overlay and cluster of every example builds with the real kustomize
(standalone and the one inside each installed kubectl) to identical objects,
and the objects are what the spec asks for."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import EXAMPLES, SPECS, build, kubectl_binaries, targets
from objects import canonical, find, generated, parse, pod_spec, references

pytestmark = pytest.mark.tools

FATE_2 = {"mysql": "StatefulSet", "osx": "Deployment", "clustermanager": "Deployment",
          "nodemanager": "StatefulSet", "fateflow": "StatefulSet", "fateboard": "Deployment",
          "client": "StatefulSet"}
FATE_1 = {**{k: v for k, v in FATE_2.items() if k != "osx"}, "rollsite": "Deployment"}


def spec_of(example: str) -> dict:
    return yaml.safe_load(SPECS[example].read_text())


def test_every_example_has_build_targets(rendered):
    assert set(rendered) == set(EXAMPLES) >= {"two-party", "exchange-star", "krm-function", "multi-cluster"}
    for name, root in rendered.items():
        assert (root / "clusters").is_dir() and targets(root), name


@pytest.mark.parametrize("example", EXAMPLES)
def test_all_kustomize_versions_build_identical_objects(rendered, kustomize, example):
    kubectls = kubectl_binaries()
    if len(kubectls) < 2:
        pytest.fail("expected the versioned kubectl binaries (kubectl.1.27 ... kubectl.1.33)")
    assert targets(rendered[example]), f"{example} has no build targets"
    for directory in targets(rendered[example]):
        reference = canonical(parse(build([kustomize, "build"], directory)))
        for kubectl in kubectls:
            built = canonical(parse(build([str(kubectl), "kustomize"], directory)))
            assert built == reference, f"{kubectl.name} kustomize {directory} differs from standalone kustomize"


@pytest.mark.parametrize("party, peer", [("9999", "10000"), ("10000", "9999")])
def test_two_party_overlay_runs_every_module_and_routes_to_the_peer(built, party, peer):
    objects = built[("two-party", f"overlays/{party}")]
    namespace = f"fate-{party}"
    for module, kind in FATE_2.items():
        workload = find(objects, kind, module)
        assert workload["metadata"]["namespace"] == namespace
        assert find(objects, "Service", module)["metadata"]["namespace"] == namespace
    assert find(objects, "Namespace", namespace)
    table = json.loads(generated(objects, "ConfigMap", "osx-config")["data"]["route_table.json"])
    assert table["route_table"][peer] == {"default": [{"ip": f"osx.fate-{peer}.svc.cluster.local", "port": 9370}]}
    assert table["route_table"][party] == {"fateflow": [{"ip": "fateflow", "port": 9360}]}
    assert table["self_party"] == [party]
    assert "default" not in table["route_table"]  # a mesh has no exchange
    broker = generated(objects, "ConfigMap", "osx-config")["data"]["broker.properties"]
    assert f"self.party={party}\n" in broker
    service_conf = yaml.safe_load(generated(objects, "ConfigMap", "fateflow-config")["data"]["service_conf.yaml"])
    assert service_conf["party_id"] == party
    assert service_conf["database"]["mysql"]["passwd"] == "@MYSQL_PASSWORD@"  # filled in from the Secret at start
    eggroll = generated(objects, "ConfigMap", "eggroll-config")["data"]["eggroll.properties"]
    assert f"eggroll.resourcemanager.process.tag={party}\n" in eggroll
    assert generated(objects, "ConfigMap", "client-env")["data"]["partyId"] == party


def test_every_object_carries_the_federation_labels(built):
    workloads = 0
    for (example, target), objects in built.items():
        for obj in objects:
            labels = obj["metadata"].get("labels", {})
            where = f"{example} {target} {obj['kind']}/{obj['metadata']['name']}"
            assert labels.get("app.kubernetes.io/managed-by") == "kfplug", where
            assert labels.get("app.kubernetes.io/part-of") == spec_of(example)["metadata"]["name"], where
            assert labels.get("app.kubernetes.io/name"), where
            assert labels.get("kfplug.dev/party"), where
            if pod_spec(obj) is not None:
                workloads += 1
                template = obj["spec"]["template"]["metadata"]["labels"]
                assert template["kfplug.dev/party"] == labels["kfplug.dev/party"], where
                if obj["kind"] != "Job":  # a Job's selector is the API server's own
                    assert set(obj["spec"]["selector"]["matchLabels"]) == {"app.kubernetes.io/name"}, where
    assert workloads, "no workload's pod template was checked"


def test_overlay_objects_live_in_the_party_namespace(built):
    overlays = 0
    for (example, target), objects in built.items():
        if not target.startswith("overlays/"):
            continue
        overlays += 1
        namespaces = {o["metadata"].get("namespace") for o in objects
                      if o["kind"] not in ("Namespace", "PersistentVolume")}
        (namespace,) = [o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"]
        assert namespaces == {namespace}, (example, target)
    assert overlays, "no overlay was checked"


def test_generated_config_and_secret_references_resolve(built):
    """Hash-suffixed names are rewritten in every workload; only named user Secrets stay external."""
    external = {"fate-mysql", "fate-fateboard", "fate-notebook"}  # exchange-star's references
    resolved = set()
    for (example, target), objects in built.items():
        present = {(o["kind"], o["metadata"]["name"]) for o in objects}
        # the Secrets cert-manager makes from the build's Certificates, and key pairs parties bring
        present |= {("Secret", o["spec"]["secretName"]) for o in objects if o["kind"] == "Certificate"}
        external |= {p["tls"]["secretName"] for p in spec_of(example)["spec"]["parties"]
                     if (p.get("tls") or {}).get("secretName")}
        for obj in objects:
            for kind, name in references(obj):
                if kind == "Secret" and name in external:
                    assert example in ("exchange-star", "krm-function", "multi-cluster", "mutual-tls")
                    continue
                if kind == "Secret" and spec_of(example)["spec"]["runtime"] == "kuscia":  # the user's Secrets
                    continue
                assert (kind, name) in present, \
                    f"{example} {target}: {obj['metadata']['name']} uses missing {kind}/{name}"
                resolved.add(example)
    assert resolved == {example for example, _ in built}, "an example had no reference to resolve"


def test_images_are_pinned_to_the_release(built):
    from kfplug.runtimes.fate.catalog import RELEASES

    pinned = set()
    for (example, _target), objects in built.items():
        spec = spec_of(example)["spec"]
        # FATE: the release's catalog names each image's tag (eggroll and fateboard may have their own);
        # Kuscia: its version
        tags = ({repository.rsplit("/", 1)[-1]: tag for repository, tag in RELEASES[spec["version"]].images.values()}
                if spec["runtime"] == "fate" else None)
        for obj in objects:
            for container in (pod_spec(obj) or {}).get("containers", []):
                image = container["image"]
                assert not image.endswith(":latest") and ":" in image, image
                name, tag = image.rsplit("/", 1)[-1].rsplit(":", 1)
                if image.rsplit(":", 1)[0] == "registry.k8s.io/kubectl":  # Kuscia's bootstrap Job
                    assert image.endswith(":v1.33.3"), image
                elif name != "mysql":
                    assert tag == (tags[name] if tags else spec["version"]), image
                    pinned.add(example)
    assert pinned == {example for example, _ in built}, "an example had no image to check against its release"


def test_exchange_star_routes_every_party_through_the_exchange(built):
    for party in ("9999", "10000"):
        objects = built[("exchange-star", f"overlays/{party}")]
        assert {o["metadata"]["name"] for o in objects if o["kind"] in FATE_1.values()} == set(FATE_1)
        table = json.loads(generated(objects, "ConfigMap", "rollsite-config")["data"]["route_table.json"])
        assert table["route_table"]["default"] == {
            "default": [{"ip": "rollsite.fate-exchange.svc.cluster.local", "port": 9370}]}
        assert set(table["route_table"]) == {party, "default"}
        assert find(objects, "StatefulSet", "fateflow")["spec"]["template"]["spec"]["containers"][0]["image"] \
            == "federatedai/fateflow:1.11.2-release"  # KubeFATE v1.11.2 values, FATE-Builder
    exchange = built[("exchange-star", "overlays/exchange")]
    assert {(o["kind"], o["metadata"]["name"]) for o in exchange if o["kind"] in ("Deployment", "StatefulSet")} \
        == {("Deployment", "rollsite")}
    table = json.loads(generated(exchange, "ConfigMap", "rollsite-config")["data"]["route_table.json"])
    assert table["route_table"] == {
        "10000": {"default": [{"ip": "rollsite.fate-10000.svc.cluster.local", "port": 9370}]},
        "9999": {"default": [{"ip": "rollsite.fate-9999.svc.cluster.local", "port": 9370}]},
    }
    properties = generated(exchange, "ConfigMap", "eggroll-config")["data"]["eggroll.properties"]
    assert "eggroll.rollsite.party.id=1\n" in properties and "jdbc" not in properties


def test_secret_references_replace_generated_secrets(built):
    objects = built[("exchange-star", "overlays/9999")]
    assert not [o for o in objects if o["kind"] == "Secret"]
    for kind, name in (("StatefulSet", "mysql"), ("StatefulSet", "fateflow"), ("Deployment", "clustermanager")):
        volumes = {v["name"]: v for v in find(objects, kind, name)["spec"]["template"]["spec"]["volumes"]}
        assert volumes["mysql-password"]["secret"] == {
            "secretName": "fate-mysql", "items": [{"key": "password", "path": "password"}], "defaultMode": 0o440}
    board = {v["name"]: v for v in find(objects, "Deployment", "fateboard")["spec"]["template"]["spec"]["volumes"]}
    assert board["fateboard-login"]["secret"]["secretName"] == "fate-fateboard"
    assert [item["key"] for item in board["fateboard-login"]["secret"]["items"]] == ["username", "password"]


def test_cluster_build_is_the_union_of_its_overlays(built, rendered):
    clusters = 0
    for (example, target), objects in built.items():
        if not target.startswith("clusters/"):
            continue
        clusters += 1
        listed = yaml.safe_load((rendered[example] / target / "kustomization.yaml").read_text())["resources"]
        union = [o for resource in listed for o in built[(example, resource.removeprefix("../../"))]]
        assert canonical(objects) == canonical(union), (example, target)
    assert clusters == sum(len(list(root.glob("clusters/*/kustomization.yaml"))) for root in rendered.values())
    assert clusters >= 10  # two-party, exchange-star, krm-function's org-a/b, multi-cluster's org-a/b/c, ...


def test_secret_files_exist_only_where_generated(rendered):
    two_party = rendered["two-party"]
    files = sorted(p.name for p in (two_party / "overlays/9999/secrets").iterdir())
    assert files == ["client.env", "client.env.example", "client.password", "fateboard.env",
                     "fateboard.env.example", "mysql.env", "mysql.env.example"]
    assert oct((two_party / "overlays/9999/secrets/mysql.env").stat().st_mode & 0o777) == "0o600"
    assert not (rendered["exchange-star"] / "overlays/9999/secrets").exists()
