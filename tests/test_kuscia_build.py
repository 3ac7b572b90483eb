"""Kuscia (centralized): the objects built from examples/kuscia-centralized and from variants of it.

The example is built by the real kustomize (the `built` fixture); variants go through the
in-process build, which tests/test_emitter.py holds equal to kustomize for every example.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import SPECS
from kfplug import api
from objects import pod_spec
from test_policy import STRANGER, Pod, can_connect

EXAMPLE = "kuscia-centralized"
NAME, PARTY = "app.kubernetes.io/name", "kfplug.dev/party"
SECRET_KEYS = ("domainKeyData", "datastoreEndpoint", "liteDeployToken")
COMMON = {"Namespace", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Service", "Deployment",
          "NetworkPolicy"}


def overlay(built, name: str) -> list[dict]:
    return built[(EXAMPLE, f"overlays/{name}")]


def find(objects, kind: str, name_prefix: str) -> dict:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(name_prefix)]
    return found


def kuscia_yaml(objects) -> dict:
    return yaml.safe_load(find(objects, "ConfigMap", "kuscia-config-")["data"]["kuscia.yaml"])


def resources(objects) -> list[dict]:
    data = find(objects, "ConfigMap", "kuscia-resources-")["data"]
    return list(yaml.safe_load_all(data["resources.yaml"]))


def variant(tmp_path: Path, old: str, new: str) -> list[dict]:
    text = SPECS[EXAMPLE].read_text()
    assert old in text
    spec = tmp_path / "federation.yaml"
    spec.write_text(text.replace(old, new))
    return api.build_objects(api.load(spec))


def test_each_domain_gets_its_objects_in_its_namespace(built):
    expected = {"master": ("kuscia-master", COMMON | {"Job"}), "alice": ("lite-alice", COMMON),
                "bob": ("lite-bob", COMMON)}
    for name, (namespace, kinds) in expected.items():
        objects = overlay(built, name)
        assert {o["kind"] for o in objects} == kinds, name
        assert {o["metadata"].get("namespace", namespace) for o in objects} == {namespace}
        assert all(o["metadata"]["labels"][PARTY] == name for o in objects)
    master = overlay(built, "master")
    assert {o["metadata"]["name"] for o in master if o["kind"] == "Deployment"} == {"kuscia-master"}
    for lite in ("alice", "bob"):
        binding = find(overlay(built, lite), "RoleBinding", "kuscia-lite-runk")
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kuscia-lite", "namespace": f"lite-{lite}"}]
        deployment = find(overlay(built, lite), "Deployment", "kuscia-lite")
        assert pod_spec(deployment)["serviceAccountName"] == "kuscia-lite"


def test_kuscia_yaml_is_derived_and_holds_no_secret_key(built):
    master = kuscia_yaml(overlay(built, "master"))
    assert master == {"mode": "master", "domainID": "kuscia-system", "logLevel": "INFO", "protocol": "NOTLS"}
    alice = kuscia_yaml(overlay(built, "alice"))
    assert alice["mode"] == "lite" and alice["domainID"] == "alice"
    assert alice["masterEndpoint"] == "http://kuscia-master.kuscia-master.svc.cluster.local:1080"
    assert alice["runtime"] == "runk" and alice["runk"] == {"namespace": "lite-alice", "kubeconfigFile": ""}
    assert alice["capacity"] == {"cpu": 4, "memory": "8Gi", "pods": 500, "storage": "100Gi"}
    for config in (master, alice):
        assert not set(SECRET_KEYS) & set(config)


def test_domains_and_routes_for_every_ordered_pair_of_lites(built):
    objects = resources(overlay(built, "master"))
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Domain", "alice"), ("Domain", "bob"),
        ("ClusterDomainRoute", "alice-bob"), ("ClusterDomainRoute", "bob-alice")]
    route = objects[2]["spec"]
    assert route["source"] == "alice" and route["destination"] == "bob"
    assert route["endpoint"] == {"host": "kuscia-lite.lite-bob.svc.cluster.local", "ports": [
        {"name": "http", "protocol": "HTTP", "pathPrefix": "/", "isTLS": False, "port": 1080}]}
    assert route["authenticationType"] == "Token" and route["tokenConfig"]["tokenGenMethod"] == "RSA-GEN"
    assert objects[0]["spec"]["authCenter"] == {"authenticationType": "Token", "tokenGenMethod": "RSA-GEN"}


def test_bootstrap_job_streams_the_objects_into_the_master(built):
    """The objects reach `kubectl apply` inside the master over the exec's stdin, from a mounted
    ConfigMap: never in the request URL, which proxies in front of API servers cap (8-60 KiB)."""
    master = overlay(built, "master")
    job = find(master, "Job", "kuscia-bootstrap-")
    pod = pod_spec(job)
    (apply,) = pod["containers"]
    assert not pod.get("initContainers")
    assert apply["image"] == \
        find(master, "Deployment", "kuscia-master")["spec"]["template"]["spec"]["containers"][0]["image"]
    script = apply["command"][-1]
    assert "kubectl wait --namespace=kuscia-master --for=condition=Ready pod" in script
    assert re.search(r"kubectl exec -i --namespace=kuscia-master deployment/kuscia-master "
                     r"--container=kuscia-master -- \\\n"
                     r"\s+kubectl --kubeconfig=/home/kuscia/etc/kubeconfig apply -f - "
                     r"< /etc/kuscia-resources/resources.yaml",
                     script), script
    (volume,) = [v for v in pod["volumes"] if "configMap" in v]
    assert volume["configMap"]["name"] == find(master, "ConfigMap", "kuscia-resources-")["metadata"]["name"]
    assert len(script) < 1024 and "${" not in script
    role = find(master, "Role", "kuscia-bootstrap")
    assert {(tuple(r["resources"]), tuple(r["verbs"])) for r in role["rules"]} == {
        (("pods",), ("get", "list", "watch")), (("pods/exec",), ("get", "create")), (("deployments",), ("get",))}


def test_bootstrap_script_sends_the_objects_on_stdin(built, tmp_path):
    """Run the Job's own script with `kubectl` replaced by a recorder: the exec gets the file on stdin."""
    import subprocess

    master = overlay(built, "master")
    container = pod_spec(find(master, "Job", "kuscia-bootstrap-"))["containers"][0]
    text = find(master, "ConfigMap", "kuscia-resources-")["data"]["resources.yaml"]
    (tmp_path / "resources.yaml").write_text(text)
    (tmp_path / "bin").mkdir()
    recorder = tmp_path / "bin/kubectl"
    recorder.write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/calls\ncat > {tmp_path}/stdin-$#\n')
    recorder.chmod(0o755)
    script = container["command"][-1].replace("/etc/kuscia-resources", str(tmp_path))
    result = subprocess.run(["sh", "-c", script], env={"PATH": f"{tmp_path}/bin:/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[0].startswith("wait ") and calls[1].startswith("exec -i ")
    stdin = {p.read_text() for p in tmp_path.glob("stdin-*")}
    assert text in stdin and len(text) > 1000


def test_a_changed_route_set_names_a_new_job(tmp_path, built):
    before = find(overlay(built, "master"), "Job", "kuscia-bootstrap-")["metadata"]["name"]
    objects = variant(tmp_path, "routes: all", "routes:\n    - {from: alice, to: bob}")
    after = find(objects, "Job", "kuscia-bootstrap-")["metadata"]["name"]
    assert before != after
    routes = [o for o in resources([o for o in objects if o["metadata"].get("namespace") == "kuscia-master"])
              if o["kind"] == "ClusterDomainRoute"]
    assert [r["metadata"]["name"] for r in routes] == ["alice-bob"]


def test_tls_sets_the_schemes_and_is_tls(tmp_path):
    objects = variant(tmp_path, "  defaults:\n", "  defaults:\n    protocol: TLS\n")
    lite = kuscia_yaml([o for o in objects if o["metadata"].get("namespace") == "lite-alice"])
    assert lite["masterEndpoint"].startswith("https://") and lite["protocol"] == "TLS"
    master = [o for o in objects if o["metadata"].get("namespace") == "kuscia-master"]
    assert kuscia_yaml(master)["protocol"] == "TLS"
    assert [r for r in resources(master) if r["kind"] == "ClusterDomainRoute"]
    assert all(r["spec"]["endpoint"]["ports"][0]["isTLS"] for r in resources(master)
               if r["kind"] == "ClusterDomainRoute")


def test_across_clusters_the_endpoints_are_used(tmp_path):
    text = SPECS[EXAMPLE].read_text()
    text = text.replace("  clusters: [{name: default, dns: 10.96.0.10}]", "  clusters: [{name: hq, dns: 10.96.0.10}, "
                                                                         "{name: branch, dns: 10.96.0.10}]")
    text = text.replace("  master:\n", "  master:\n"
                                       "    cluster: hq\n    expose: {type: NodePort, nodePort: 31080}\n"
                                       "    endpoint: 10.0.0.1:31080\n")
    text = text.replace("    - id: alice\n", "    - id: alice\n      cluster: hq\n      endpoint: 10.0.0.2:31082\n"
                                            "      expose: {type: NodePort, nodePort: 31082}\n")
    text = text.replace("    - id: bob\n", "    - id: bob\n      cluster: branch\n"
                                          "      endpoint: bob.example.org:31081\n"
                                          "      expose: {type: NodePort, nodePort: 31081}\n")
    spec = tmp_path / "federation.yaml"
    spec.write_text(text)
    objects = api.build_objects(api.load(spec))
    bob = [o for o in objects if o["metadata"].get("namespace") == "lite-bob"]
    assert kuscia_yaml(bob)["masterEndpoint"] == "http://10.0.0.1:31080"
    routes = {r["metadata"]["name"]: r["spec"]["endpoint"] for r in
              resources([o for o in objects if o["metadata"].get("namespace") == "kuscia-master"])
              if r["kind"] == "ClusterDomainRoute"}
    assert routes["alice-bob"]["host"] == "bob.example.org" and routes["alice-bob"]["ports"][0]["port"] == 31081
    assert routes["bob-alice"]["host"] == "10.0.0.2" and routes["bob-alice"]["ports"][0]["port"] == 31082


def test_no_secret_reaches_a_manifest_or_the_environment(built):
    for name in ("master", "alice", "bob"):
        objects = overlay(built, name)
        assert not [o for o in objects if o["kind"] == "Secret"]
        text = yaml.safe_dump_all(objects)
        for key in SECRET_KEYS:
            assert f"{key}:" not in text.replace(f"key: {key}", "").replace(f"path: {key}", "")
        deployment = next(o for o in objects if o["kind"] == "Deployment")
        pod = pod_spec(deployment)
        secret_volumes = {v["name"] for v in pod["volumes"] if "secret" in v}
        assert secret_volumes and "kuscia-config" in [c["name"] for c in pod["initContainers"] + pod["containers"]]
        for container in pod["initContainers"] + pod["containers"]:
            assert not any("valueFrom" in e for e in container.get("env", []))
            mounted = {m["name"] for m in container.get("volumeMounts", [])} & secret_volumes
            assert mounted == (secret_volumes if container["name"] == "kuscia-config" else set())
        conf = next(v for v in pod["volumes"] if v["name"] == "kuscia-conf")
        assert conf["emptyDir"]["medium"] == "Memory"


def test_secret_names_come_from_the_spec(built):
    volumes = {v["name"]: v["secret"]["secretName"] for o in (overlay(built, "master"), overlay(built, "alice"))
               for v in pod_spec(find(o, "Deployment", "kuscia-"))["volumes"] if "secret" in v}
    assert volumes == {"domain-key": "kuscia-alice-key", "datastore": "kuscia-master-datastore",
                       "deploy-token": "kuscia-deploy-token"}
    master = {v["name"]: v["secret"]
              for v in pod_spec(find(overlay(built, "master"), "Deployment", "kuscia-"))["volumes"] if "secret" in v}
    assert master["domain-key"]["secretName"] == "kuscia-master-key"
    assert master["datastore"]["items"] == [{"key": "datastoreEndpoint", "path": "datastoreEndpoint"}]


HOSTILE = ["plain", "it's ''quoted''", 'dq"uote \\ back', " lead and trail ", "$HOME `id` $(id) ${x}", "a: b # c",
           "ünïcödé ✓"]


def run_init(tmp_path: Path, objects: list[dict], values: dict[str, str], env: dict | None = None):
    """Run the init container's script from the built Deployment under sh, with its mounts under tmp_path."""
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    init = pod_spec(deployment)["initContainers"][0]
    script = init["command"][2]
    for path in ("/run/kuscia-conf", "/etc/kuscia", "/run/secrets/kuscia"):
        script = script.replace(path, str(tmp_path) + path)
    (tmp_path / "etc/kuscia").mkdir(parents=True)
    (tmp_path / "run/kuscia-conf").mkdir(parents=True)
    (tmp_path / "etc/kuscia/kuscia.yaml").write_text(
        find(objects, "ConfigMap", "kuscia-config-")["data"]["kuscia.yaml"])
    for key, value in values.items():
        directory = tmp_path / "run/secrets/kuscia" / key.lower()
        directory.mkdir(parents=True)
        (directory / key).write_text(value + "\n")
    result = subprocess.run(["sh", "-c", script], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", **(env or {})})
    return result, tmp_path / "run/kuscia-conf/kuscia.yaml"


@pytest.mark.parametrize("value", HOSTILE)
def test_init_script_writes_secret_values_intact(tmp_path, built, value):
    objects = overlay(built, "alice")
    result, out = run_init(tmp_path, objects, {"domainKeyData": value, "liteDeployToken": "t0ken"},
                           {"KUSCIA_LITE_SERVICE_HOST": "10.96.0.53"})
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(out.read_text())
    assert config["domainKeyData"] == value and config["liteDeployToken"] == "t0ken"
    assert config["runk"]["dnsServers"] == ["10.96.0.53"] and config["runk"]["namespace"] == "lite-alice"
    assert (out.stat().st_mode & 0o777) == 0o600


def test_init_script_refuses_a_line_break(tmp_path, built):
    result, _ = run_init(tmp_path, overlay(built, "master"), {"domainKeyData": "a\nb", "datastoreEndpoint": "x"})
    assert result.returncode == 1 and "domainKeyData holds a line break" in result.stderr


def lite_pod(name: str) -> Pod:
    return Pod(f"lite-{name}", {NAME: "kuscia-lite", PARTY: name}, namespace_labels={
        "kubernetes.io/metadata.name": f"lite-{name}"})


MASTER_POD = Pod("kuscia-master", {NAME: "kuscia-master", PARTY: "master"},
                 namespace_labels={"kubernetes.io/metadata.name": "kuscia-master"})


def test_network_policies_allow_the_gateways_and_nothing_else(built):
    objects = built[(EXAMPLE, "clusters/default")]
    alice, bob = lite_pod("alice"), lite_pod("bob")
    for source, target in ((alice, bob), (bob, alice), (alice, MASTER_POD), (bob, MASTER_POD), (MASTER_POD, alice)):
        assert can_connect(objects, source, target, 1080), (source.namespace, target.namespace)
        assert not can_connect(objects, source, target, 8082), (source.namespace, target.namespace)
    for target in (alice, bob, MASTER_POD):
        for port in (1080, 8082, 80):
            assert not can_connect(objects, STRANGER, target, port)
    task = Pod("lite-alice", {"app": "task"}, namespace_labels={"kubernetes.io/metadata.name": "lite-alice"})
    assert can_connect(objects, task, alice, 53, "UDP") and can_connect(objects, task, alice, 80)
    assert not can_connect(objects, task, bob, 1080)


def test_one_way_route_opens_one_way(tmp_path):
    objects = variant(tmp_path, "routes: all", "routes:\n    - {from: alice, to: bob}")
    alice, bob = lite_pod("alice"), lite_pod("bob")
    assert can_connect(objects, alice, bob, 1080)
    assert not can_connect(objects, bob, alice, 1080)


def test_runp_lite_mounts_no_token_and_uses_the_runp_image(tmp_path):
    objects = variant(tmp_path, "    - id: bob\n", "    - id: bob\n      runtime: runp\n")
    bob = [o for o in objects if o["metadata"].get("namespace") == "lite-bob"]
    pod = pod_spec(find(bob, "Deployment", "kuscia-lite"))
    assert pod["automountServiceAccountToken"] is False
    assert pod["containers"][0]["image"].endswith("/kuscia-secretflow:1.1.0b0")
    assert "runk" not in kuscia_yaml(bob)
    assert not [o for o in bob if o["kind"] in ("Role", "RoleBinding")], "a runp lite starts no pods: no runk rights"


@pytest.mark.parametrize("component", ["master", "lite"])
def test_base_matches_the_catalog(component):
    from kfplug.runtimes.kuscia import RUNTIME as KUSCIA
    from test_catalog import REPO, load_all_trusted

    module = KUSCIA.modules[f"kuscia-{component}"]
    directory = REPO / "bases/kuscia" / component
    objects = [doc for path in sorted(directory.glob("*.yaml")) if path.name != "kustomization.yaml"
               for doc in load_all_trusted(path.read_text())]
    (workload,) = [o for o in objects if pod_spec(o) is not None]
    assert (workload["kind"], workload["metadata"]["name"]) == (module.kind, module.name)
    pod = pod_spec(workload)
    assert pod["containers"][0]["name"] == module.name
    assert {c["name"]: c["image"].rsplit(":", 1)[0] for c in pod["initContainers"]} == module.init_containers
    assert pod["containers"][0]["image"] == f"{module.image}:1.1.0b0"
    service = next(o for o in objects if o["kind"] == "Service")
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == module.ports
    declared = {p["name"]: p["containerPort"] for p in pod["containers"][0]["ports"]}
    assert declared == module.ports
    for obj in objects:
        assert obj["metadata"]["labels"][NAME] == module.name and "namespace" not in obj["metadata"]
    configs = {v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v}
    assert configs == {"kuscia-config"}


def test_notls_on_an_exposed_gateway_is_a_warning(tmp_path):
    text = SPECS[EXAMPLE].read_text().replace(
        "    datastore:", "    expose: {type: LoadBalancer}\n    datastore:")
    spec = tmp_path / "federation.yaml"
    spec.write_text(text)
    (warning,) = api.read(spec)[1]
    assert warning.path == "spec.master.expose" and "protocol NOTLS on an exposed gateway" in warning.message


def test_a_cluster_selection_includes_the_master():
    federation = api.load(SPECS[EXAMPLE])
    assert sorted(api.select(federation, {"cluster": "default"}, "f.yaml")) == ["alice", "bob", "master"]


def test_many_routes_travel_in_one_file(tmp_path):
    lites = "".join(f"    - {{id: lite{i}, keySecret: {{secretName: key{i}}}}}\n" for i in range(30))
    text = SPECS[EXAMPLE].read_text()
    head, _, _ = text.partition("  parties:\n")
    spec = tmp_path / "federation.yaml"
    spec.write_text(head + "  parties:\n" + lites + "  routes: all\n")
    objects = api.build_objects(api.load(spec))
    master = [o for o in objects if o["metadata"].get("namespace") == "kuscia-master"]
    data = find(master, "ConfigMap", "kuscia-resources-")["data"]
    assert list(data) == ["resources.yaml"] and len(data["resources.yaml"]) > 200 * 1024
    assert len([o for o in resources(master) if o["kind"] == "ClusterDomainRoute"]) == 30 * 29
    assert resources(master)[0]["kind"] == "Domain"


def test_placement_and_resources_patch_the_domain_workloads(tmp_path):
    text = SPECS[EXAMPLE].read_text()
    text = text.replace("    datastore:", "    placement: {nodeSelector: {role: coordinator}}\n"
                        "    resources: {kuscia-master: {requests: {cpu: '2'}, limits: {memory: 8Gi}}}\n    datastore:")
    text = text.replace("    - id: bob\n",
                        "    - id: bob\n      placement: {tolerations: [{key: fl, operator: Exists}]}\n")
    spec = tmp_path / "federation.yaml"
    spec.write_text(text)
    objects = api.build_objects(api.load(spec))
    master = pod_spec(next(o for o in objects
                           if o["kind"] == "Deployment" and o["metadata"]["name"] == "kuscia-master"))
    assert master["nodeSelector"] == {"role": "coordinator"}
    assert master["containers"][0]["resources"] == {"requests": {"cpu": "2", "memory": "2Gi"},
                                                    "limits": {"memory": "8Gi"}}
    bob = pod_spec(next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["namespace"] == "lite-bob"))
    assert bob["tolerations"] == [{"key": "fl", "operator": "Exists"}]
    alice = pod_spec(next(o for o in objects
                          if o["kind"] == "Deployment" and o["metadata"]["namespace"] == "lite-alice"))
    assert "tolerations" not in alice and "nodeSelector" not in alice


def test_an_exposed_domain_publishes_its_gateway_port_only(tmp_path):
    objects = variant(tmp_path, "    - id: bob\n", "    - id: bob\n      protocol: TLS\n"
                                                  "      expose: {type: NodePort, nodePort: 31081}\n")
    services = {o["metadata"]["name"]: o["spec"] for o in objects
                if o["kind"] == "Service" and o["metadata"]["namespace"] == "lite-bob"}
    assert services["kuscia-lite"].get("type", "ClusterIP") == "ClusterIP"
    assert services["kuscia-lite-gateway"]["type"] == "NodePort"
    assert services["kuscia-lite-gateway"]["ports"] == [{"name": "envoy", "port": 1080, "targetPort": "envoy",
                                                          "nodePort": 31081}]
    assert services["kuscia-lite-gateway"]["selector"] == {NAME: "kuscia-lite"}
    stranger_can = can_connect(objects, STRANGER, lite_pod("bob"), 1080)
    assert stranger_can and not can_connect(objects, STRANGER, lite_pod("bob"), 8082)


def test_across_clusters_gateways_meet_through_the_endpoints(built):
    """examples/kuscia-multi-cluster: master and alice in hq, bob (exposed) and carol (runp) in branch."""
    hq = built[("kuscia-multi-cluster", "clusters/hq")]
    branch = built[("kuscia-multi-cluster", "clusters/branch")]
    master = Pod("kuscia-master", {NAME: "kuscia-master", PARTY: "master"},
                 namespace_labels={"kubernetes.io/metadata.name": "kuscia-master"})
    alice, bob, carol = lite_pod("alice"), lite_pod("bob"), lite_pod("carol")
    outside = Pod(None, {}, ip="203.0.113.5")
    master_node = Pod(None, {}, ip="192.168.10.2")
    assert can_connect(hq, alice, master, 1080) and can_connect(hq, STRANGER, master, 1080)
    assert not can_connect(hq, STRANGER, master, 8082)
    assert can_connect(hq, alice, outside, 31081)  # bob's endpoint is a DNS name: by port
    assert not can_connect(hq, alice, outside, 31080)
    assert can_connect(branch, bob, master_node, 31080) and can_connect(branch, carol, master_node, 31080)
    assert not can_connect(branch, bob, outside, 31080)  # the master's endpoint is an IP: only there
    assert can_connect(branch, carol, bob, 1080) and can_connect(branch, bob, carol, 1080)
    assert can_connect(branch, STRANGER, bob, 1080) and not can_connect(branch, STRANGER, carol, 1080)
    assert can_connect(branch, bob, outside, 6443) and not can_connect(branch, carol, outside, 6443)  # runk vs runp
    assert can_connect(branch, carol, outside, 443) and not can_connect(branch, bob, outside, 3306)  # dataSources
    routes = {r["metadata"]["name"]: r["spec"] for r in resources(built[("kuscia-multi-cluster", "overlays/master")])
              if r["kind"] == "ClusterDomainRoute"}
    assert set(routes) == {"alice-bob", "carol-bob", "bob-carol"}
    assert routes["alice-bob"]["endpoint"]["host"] == "bob.branch.example.org"
    assert routes["alice-bob"]["endpoint"]["ports"][0] == {"name": "http", "protocol": "HTTP", "pathPrefix": "/",
                                                           "isTLS": True, "port": 31081}
    assert routes["carol-bob"]["endpoint"]["host"] == "kuscia-lite.lite-bob.svc.cluster.local"
    carol_config = kuscia_yaml(built[("kuscia-multi-cluster", "overlays/carol")])
    assert carol_config["masterEndpoint"] == "https://192.168.10.2:31080" and carol_config["runtime"] == "runp"


def test_render_is_byte_identical_across_runs_and_hash_seeds(tmp_path):
    import os
    import sys

    trees = []
    for seed in ("0", "4242"):
        out = tmp_path / f"out-{seed}"
        subprocess.run([sys.executable, "-m", "kfplug", "render", str(SPECS["kuscia-multi-cluster"]), "-o", str(out)],
                       check=True, env={**os.environ, "PYTHONHASHSEED": seed}, cwd=tmp_path)
        trees.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert trees[0] == trees[1]
    assert not [name for name in trees[0] if "/secrets/" in name]  # Kuscia Secrets are the user's


DOMAINS = {"kuscia-centralized": {"master": "10.96.0.10", "alice": "10.96.0.10", "bob": "10.96.0.10"},
           "kuscia-multi-cluster": {"master": "10.96.0.10", "alice": "10.96.0.10", "bob": "169.254.20.10",
                                    "carol": "169.254.20.10"}}


@pytest.mark.parametrize("example", sorted(DOMAINS))
def test_domains_resolve_through_kuscias_own_dns_which_forwards_to_their_cluster_dns(built, example):
    """Kuscia's CoreDNS answers Kuscia's own names (apiserver.master.svc, <service>.<domain>.svc) and
    forwards the rest to the file its corefile names; a uid-1000 Kuscia does not write that file."""
    for domain, dns in DOMAINS[example].items():
        objects = built[(example, f"overlays/{domain}")]
        (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
        pod = pod_spec(deployment)
        assert pod["dnsPolicy"] == "None" and pod["dnsConfig"] == {"nameservers": ["127.0.0.1"]}, domain
        (mount,) = [m for m in pod["containers"][0]["volumeMounts"]
                    if m["mountPath"] == "/home/kuscia/var/tmp/resolv.conf"]
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        config = next(o for o in objects if o["kind"] == "ConfigMap"
                      and o["metadata"]["name"] == volume["configMap"]["name"])
        lines = [line for line in config["data"][mount["subPath"]].splitlines() if not line.startswith("#")]
        assert lines == [f"nameserver {dns}"], domain
        (allow_dns,) = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "allow-dns"]
        assert {"ipBlock": {"cidr": f"{dns}/32"}} in allow_dns["spec"]["egress"][0]["to"], domain


def test_a_runp_lite_takes_its_capacity_from_its_container(built):
    """runp measures CPU and memory from its cgroup limits and ignores the file's (capacity_manager.go)."""
    carol = kuscia_yaml(built[("kuscia-multi-cluster", "overlays/carol")])
    assert carol["runtime"] == "runp" and not {"cpu", "memory"} & set(carol.get("capacity", {}))
    bob = kuscia_yaml(built[("kuscia-multi-cluster", "overlays/bob")])
    assert {"cpu", "memory"} <= set(bob["capacity"])


def test_data_sources_open_exactly_the_declared_egress(built):
    objects = built[(EXAMPLE, "clusters/default")]
    alice_task = Pod("lite-alice", {"kuscia.secretflow/namespace": "alice"},
                     namespace_labels={"kubernetes.io/metadata.name": "lite-alice"})
    bob_task = Pod("lite-bob", {"kuscia.secretflow/namespace": "bob"},
                   namespace_labels={"kubernetes.io/metadata.name": "lite-bob"})
    database, elsewhere = Pod(None, {}, ip="10.20.5.6"), Pod(None, {}, ip="10.30.5.6")
    assert can_connect(objects, alice_task, database, 3306)
    assert not can_connect(objects, alice_task, database, 5432)
    assert not can_connect(objects, alice_task, elsewhere, 3306)
    assert not can_connect(objects, bob_task, database, 3306)
