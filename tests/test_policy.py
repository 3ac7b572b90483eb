"""Project-owned policy checks on the built objects: who can reach whom under
the rendered NetworkPolicies, the pod-security fields of every pod, and no
plaintext secret anywhere.

Reachability is decided by a small evaluator of the NetworkPolicy semantics
(a connection needs an egress allow at the source and an ingress allow at the
destination, each side unrestricted when no policy selects the pod).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import attrs
import pytest
import yaml

from conftest import EXAMPLES, REPO, SPECS
from kfplug import api
from objects import containers, pod_spec

NAME = "app.kubernetes.io/name"
NAMESPACE_NAME = "kubernetes.io/metadata.name"
ROUTERS = {"osx", "rollsite"}
KUSCIA_GATEWAYS = {"kuscia-master", "kuscia-lite"}
MYSQL_CLIENTS = {"clustermanager", "fateflow"}
FATEFLOW_HTTP_CLIENTS = {"fateflow", "fateboard", "client"}  # its API serves the mysql password unauthenticated


def expected_reach(source: str, destination: str) -> list[tuple[int, bool]]:
    """(port, reachable) inside a party; mysql has no egress at all."""
    if destination == "mysql":
        return [(3306, source in MYSQL_CLIENTS)]
    if destination == "fateflow":
        return [(9380, source in FATEFLOW_HTTP_CLIENTS), (9360, source != "mysql")]
    return [(40123, source != "mysql")]  # an egg_pair's ephemeral port


@attrs.frozen
class Pod:
    namespace: str | None  # None: outside the cluster
    labels: dict
    ip: str | None = None
    namespace_labels: dict = attrs.field(factory=dict)


def cluster_builds(built, example):
    return {target: objects for (ex, target), objects in built.items()
            if ex == example and target.startswith("clusters/")}


def pods(objects) -> list[Pod]:
    namespaces = {o["metadata"]["name"]: o["metadata"].get("labels", {}) for o in objects if o["kind"] == "Namespace"}
    out = []
    for obj in objects:
        if pod_spec(obj) is not None:
            ns = obj["metadata"]["namespace"]
            out.append(Pod(ns, obj["spec"]["template"]["metadata"]["labels"],
                           namespace_labels={**namespaces.get(ns, {}), NAMESPACE_NAME: ns}))
    return out


def module(pod: Pod) -> str:
    return pod.labels[NAME]


def in_namespace(pod_list, namespace, name) -> Pod:
    return next(p for p in pod_list if p.namespace == namespace and module(p) == name)


KUBE_DNS = Pod("kube-system", {"k8s-app": "kube-dns"}, namespace_labels={NAMESPACE_NAME: "kube-system"})
STRANGER = Pod("default", {"app": "stranger"}, namespace_labels={NAMESPACE_NAME: "default"})


def selects(selector: dict, labels: dict) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        match operator:
            case "In":
                ok = labels.get(key) in values
            case "NotIn":
                ok = labels.get(key) not in values
            case "Exists":
                ok = key in labels
            case "DoesNotExist":
                ok = key not in labels
            case _:
                raise KeyError(operator)
        if not ok:
            return False
    return True


def peer_matches(peer: dict, policy_namespace: str, pod: Pod) -> bool:
    if "ipBlock" in peer:
        return pod.ip is not None and _in_cidr(pod.ip, peer["ipBlock"])
    if pod.namespace is None:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], pod.namespace_labels):
            return False
    elif pod.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector", {}), pod.labels)


def _in_cidr(ip: str, block: dict) -> bool:
    import ipaddress

    address = ipaddress.ip_address(ip)
    return address in ipaddress.ip_network(block["cidr"]) and not any(
        address in ipaddress.ip_network(e) for e in block.get("except", []))


def rule_admits(rule: dict, direction: str, policy_namespace: str, other: Pod, port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    if ports and not any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports):
        return False
    peers = rule.get(direction)
    return not peers or any(peer_matches(peer, policy_namespace, other) for peer in peers)


def side_allows(policies, pod: Pod, kind: str, other: Pod, port: int, protocol: str) -> bool:
    if pod.namespace is None:
        return True  # outside the cluster: not ours to restrict
    field, direction = ("egress", "to") if kind == "Egress" else ("ingress", "from")
    selecting = [p for p in policies if p["metadata"]["namespace"] == pod.namespace
                 and kind in p["spec"].get("policyTypes", []) and selects(p["spec"]["podSelector"], pod.labels)]
    if not selecting:
        return True
    return any(rule_admits(rule, direction, p["metadata"]["namespace"], other, port, protocol)
               for p in selecting for rule in p["spec"].get(field, []))


def can_connect(objects, source: Pod, target: Pod, port: int, protocol: str = "TCP") -> bool:
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    return (side_allows(policies, source, "Egress", target, port, protocol)
            and side_allows(policies, target, "Ingress", source, port, protocol))


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_party_namespace_denies_by_default(built, example):
    assert cluster_builds(built, example), f"no cluster build of {example}"
    for target, objects in cluster_builds(built, example).items():
        assert [o for o in objects if o["kind"] == "Namespace"], f"{target}: no Namespace"
        for namespace in (o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"):
            deny_all = [o for o in objects if o["kind"] == "NetworkPolicy"
                        and o["metadata"]["namespace"] == namespace and o["spec"]["podSelector"] == {}
                        and set(o["spec"]["policyTypes"]) == {"Ingress", "Egress"}
                        and not o["spec"].get("ingress") and not o["spec"].get("egress")]
            assert len(deny_all) == 1, f"{target}: {namespace} has {len(deny_all)} default-deny policies"
            stranger_in_namespace = attrs.evolve(STRANGER, namespace=namespace,
                                                 namespace_labels={NAMESPACE_NAME: namespace})
            assert not can_connect(objects, stranger_in_namespace, STRANGER, 7443), \
                f"{target}: an unlisted pod in {namespace} can reach other namespaces"


@pytest.mark.parametrize("example", EXAMPLES)
def test_modules_of_a_party_reach_each_other_but_only_their_clients_reach_mysql_and_fateflow_http(built, example):
    assert cluster_builds(built, example), f"no cluster build of {example}"
    pairs = 0
    for target, objects in cluster_builds(built, example).items():
        everyone = pods(objects)
        assert everyone, f"{target}: no pods"
        for source in everyone:
            for destination in everyone:
                if source is destination or source.namespace != destination.namespace:
                    continue
                for port, expected in expected_reach(module(source), module(destination)):
                    pairs += 1
                    assert can_connect(objects, source, destination, port) == expected, \
                        f"{target}: {module(source)} -> {module(destination)}:{port} in {source.namespace}"
            assert can_connect(objects, source, KUBE_DNS, 53, "UDP"), f"{target}: {module(source)} has no DNS"
    assert pairs, f"{example}: no two pods share a namespace"


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_route_is_allowed_and_only_routers_cross_namespaces(built, example):
    assert cluster_builds(built, example), f"no cluster build of {example}"
    routes = 0
    for target, objects in cluster_builds(built, example).items():
        everyone = pods(objects)
        for source in (p for p in everyone if module(p) in ROUTERS):
            for host, port in route_destinations(objects, source.namespace):
                routes += 1
                svc = re.fullmatch(r"([\w-]+)\.([\w-]+)\.svc\.cluster\.local", host)
                peer = in_namespace(everyone, svc[2], service_module(objects, svc[2], svc[1])) if svc \
                    else Pod(None, {}, ip=host)
                assert can_connect(objects, source, peer, port), f"{target}: route {source.namespace} -> {host}"
                if svc:  # the peer's other modules stay out of reach, and our other modules cannot dial out
                    for other in everyone:
                        if other.namespace == peer.namespace and other is not peer:
                            assert not can_connect(objects, source, other, port)
                        if other.namespace == source.namespace and other is not source:
                            assert not can_connect(objects, other, peer, port)
    # Kuscia has no FATE router and its routes live in the master's k3s: this test checks nothing there
    kuscia = yaml.safe_load(SPECS[example].read_text())["spec"]["runtime"] == "kuscia"
    assert routes or kuscia, f"{example}: no route of a router was checked"


def service_module(objects, namespace: str, name: str) -> str:
    """The module a Service sends to (osx-tls -> osx)."""
    service = next(o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == name
                   and o["metadata"]["namespace"] == namespace)
    return service["spec"]["selector"]["app.kubernetes.io/name"]


def peer_ports(objects, namespace: str, router: str) -> set[int]:
    """The ports peers dial a router at: its TLS Service's with mutual TLS, else its own Service's."""
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"
                and o["metadata"]["namespace"] == namespace}
    service = services.get(f"{router}-tls") or services[router]
    return {p["port"] for p in service["spec"]["ports"]}


def route_destinations(objects, namespace) -> list[tuple[str, int]]:
    maps = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["namespace"] == namespace
            and "route_table.json" in o.get("data", {})]
    if not maps:  # Kuscia: routes live in the master's k3s (tests/test_kuscia_build.py checks them)
        return []
    table = json.loads(maps[0]["data"]["route_table.json"])["route_table"]
    return [(entry["ip"], entry["port"]) for party, services in table.items()
            for service, entries in services.items() for entry in entries
            if not entry["ip"].isidentifier()]  # skip the party's own local services ("fateflow")


@pytest.mark.parametrize("example", EXAMPLES)
def test_from_outside_only_exposed_routers_and_published_uis_are_reachable(built, example):
    assert cluster_builds(built, example), f"no cluster build of {example}"
    declared_ports = 0
    for target, objects in cluster_builds(built, example).items():
        assert pods(objects), f"{target}: no pods"
        exposed = {o["metadata"]["namespace"] for o in objects
                   if o["kind"] == "Service" and o["spec"].get("type") in ("NodePort", "LoadBalancer")}
        published = {(o["metadata"]["namespace"], r["http"]["paths"][0]["backend"]["service"]["name"])
                     for o in objects if o["kind"] == "Ingress" for r in o["spec"]["rules"]}
        for pod in pods(objects):
            for container in containers_of(objects, pod):
                declared = [p["containerPort"] for p in container.get("ports", [])]
                for port in UNDECLARED_PORTS:
                    assert not can_connect(objects, STRANGER, pod, port), \
                        f"{target}: stranger -> {module(pod)}:{port} (a port no container declares)"
                for port in declared:
                    declared_ports += 1
                    reachable = can_connect(objects, STRANGER, pod, port)
                    across = any(not host.endswith(".svc.cluster.local")
                                 for host, _ in route_destinations(objects, pod.namespace))
                    router_open = module(pod) in ROUTERS and (pod.namespace in exposed or across) \
                        and port in peer_ports(objects, pod.namespace, module(pod))
                    if module(pod) in KUSCIA_GATEWAYS:  # only the gateway port of an exposed domain
                        router_open = port == 1080 and pod.namespace in exposed
                    expected = router_open or (pod.namespace, module(pod)) in published
                    assert reachable == expected, f"{target}: stranger -> {module(pod)}:{port} in {pod.namespace}"
    assert declared_ports, f"{example}: no container declares a port"


UNDECLARED_PORTS = (22, 443, 9999, 12345)


def containers_of(objects, pod: Pod) -> list[dict]:
    workload = next(o for o in objects if pod_spec(o) is not None and o["metadata"]["namespace"] == pod.namespace
                    and o["spec"]["template"]["metadata"]["labels"] == pod.labels)
    return pod_spec(workload)["containers"]


@pytest.mark.parametrize("example", EXAMPLES)
def test_policy_selectors_match_rendered_pods_and_no_rule_allows_everything(built, example):
    assert cluster_builds(built, example), f"no cluster build of {example}"
    for target, objects in cluster_builds(built, example).items():
        everyone = pods(objects)
        assert [o for o in objects if o["kind"] == "NetworkPolicy"], f"{target}: no NetworkPolicy"
        for policy in (o for o in objects if o["kind"] == "NetworkPolicy"):
            where = f"{target}: NetworkPolicy {policy['metadata']['name']} in {policy['metadata']['namespace']}"
            spec = policy["spec"]
            assert any(p.namespace == policy["metadata"]["namespace"] and selects(spec["podSelector"], p.labels)
                       for p in everyone), f"{where} selects no pod"
            for rule in spec.get("ingress", []) + spec.get("egress", []):
                assert rule, f"{where} has an allow-all rule"


def test_the_switch_turns_policies_off_for_one_party(tmp_path):
    spec = tmp_path / "federation.yaml"
    spec.write_text(SPECS["two-party"].read_text().replace(
        "    - id: 10000", "    - id: 10000\n      security: {networkPolicy: false}"))
    api.render(spec, tmp_path / "out")
    assert list((tmp_path / "out/overlays/9999").glob("networkpolicy-*.yaml"))
    assert not list((tmp_path / "out/overlays/10000").glob("networkpolicy-*.yaml"))
    assert "networkpolicy" not in (tmp_path / "out/overlays/10000/kustomization.yaml").read_text()


# Pod security: the restricted profile, with the exceptions written down in bases/fate/README.md.

def writable_root_exceptions() -> set[str]:
    return exceptions_for("readOnlyRootFilesystem: false")


def exceptions_for(field: str) -> set[str]:
    """Containers (named like their module) listed in a bases README's exceptions table for `field`."""
    tables = (REPO / "bases/fate/README.md").read_text() + (REPO / "bases/kuscia/README.md").read_text()
    return set(re.findall(rf"^\| ([\w-]+) \| `{re.escape(field)}[^`]*` \|", tables, re.M))


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_pod_meets_the_restricted_profile(built, example):
    writable = writable_root_exceptions()
    assert writable, "the exceptions table in bases/fate/README.md was not found"
    workloads = 0
    for (ex, target), objects in built.items():
        if ex != example:
            continue
        for workload in (o for o in objects if pod_spec(o) is not None):
            where = f"{target}: {workload['kind']}/{workload['metadata']['name']}"
            workloads += 1
            spec = pod_spec(workload)
            token = spec["containers"][0]["name"] in exceptions_for("automountServiceAccountToken: true")
            if "/kuscia-secretflow:" in spec["containers"][0]["image"]:
                token = False  # a runp lite starts no pods (bases/kuscia/README.md)
            assert spec.get("automountServiceAccountToken") is token, where
            assert spec.get("hostNetwork") is not True and spec.get("hostPID") is not True, where
            pod_context = spec.get("securityContext", {})
            if spec["containers"][0]["name"] in exceptions_for("runAsUser: 0"):
                assert pod_context.get("runAsUser") == 0 and "runAsNonRoot" not in pod_context, where
            else:
                assert pod_context.get("runAsNonRoot") is True, where
            assert pod_context.get("seccompProfile", {}).get("type") == "RuntimeDefault", where
            for container in containers(workload):
                at = f"{where} container {container['name']}"
                context = container.get("securityContext", {})
                assert context.get("allowPrivilegeEscalation") is False, at
                assert context.get("capabilities", {}).get("drop") == ["ALL"], at
                added = context.get("capabilities", {}).get("add")
                if container["name"] in exceptions_for("capabilities.add: [NET_BIND_SERVICE]"):
                    assert added == ["NET_BIND_SERVICE"], at
                else:
                    assert not added, at
                assert context.get("privileged") is not True, at
                assert context.get("readOnlyRootFilesystem") is (container["name"] not in writable), at
                resources = container.get("resources", {})
                assert {"cpu", "memory"} <= set(resources.get("requests", {})), at
                assert "memory" in resources.get("limits", {}), at
                tag = container["image"].rpartition(":")[2]
                assert ":" in container["image"] and tag != "latest" and "/" not in tag, at
            for container in spec["containers"] if workload["kind"] != "Job" else ():  # a Job runs to its end
                assert "readinessProbe" in container and "livenessProbe" in container, where
    assert workloads, f"{example}: no workload was checked"


# Secrets: values only in Secrets; everything else refers to them.

SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|_KEY$", re.I)
SWITCHES = {"yes", "no", "true", "false"}  # e.g. MYSQL_RANDOM_ROOT_PASSWORD=yes names no secret


@pytest.mark.parametrize("example", EXAMPLES)
def test_no_secret_value_outside_a_secret(rendered, built, example):
    values = secret_values(rendered[example])
    assert values or not list(rendered[example].glob("overlays/*/secrets/*.env.example")), \
        f"{example}: generates Secrets, but no secret value was found to look for"
    checked = 0
    for (ex, target), objects in built.items():
        if ex != example:
            continue
        for obj in objects:
            if obj["kind"] == "Secret":
                continue
            checked += 1
            text = json.dumps(obj)
            leaked = [v for v in values if v in text]
            assert not leaked, f"{target}: {obj['kind']}/{obj['metadata']['name']} carries a secret value"
            for container in containers(obj):
                for env in container.get("env", []):
                    if SECRET_NAME.search(env["name"]) and env.get("value") not in SWITCHES \
                            and not in_secret_volume(env.get("value"), pod_spec(obj), container):
                        assert "valueFrom" in env and "secretKeyRef" in env["valueFrom"], \
                            f"{target}: {obj['metadata']['name']} sets {env['name']} without a secretKeyRef"
    assert checked, f"{example}: no object was checked"


def in_secret_volume(path: str | None, pod: dict, container: dict) -> bool:
    """Whether `path` is a file the container reads from a mounted Secret (e.g. MYSQL_PASSWORD_FILE)."""
    secrets = {v["name"] for v in pod.get("volumes", []) if "secret" in v}
    return bool(path) and any(path.startswith(mount["mountPath"].rstrip("/") + "/")
                              for mount in container.get("volumeMounts", []) if mount["name"] in secrets)


def secret_values(root: Path) -> set[str]:
    values = set()
    for env_file in root.glob("overlays/*/secrets/*.env"):
        for line in env_file.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                values.add(line.split("=", 1)[1])
    for manifest in root.glob("overlays/*/secrets/*.sops.yaml"):  # decrypted in place by the `rendered` fixture
        secret = yaml.safe_load(manifest.read_text())
        assert "sops" not in secret, f"{manifest} is still encrypted"
        values.update(str(value) for value in (secret.get("stringData") or {}).values())
    return {v for v in values if len(v) >= 8}
