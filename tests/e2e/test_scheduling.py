"""Past admission: every example on a control plane with a scheduler and simulated nodes (KWOK,
tests/e2e/apiserver.sh). The controllers create the pods, the scheduler binds them where the
placement says, KWOK makes them Running and Ready, claims bind, Services get endpoints, and a
changed ConfigMap (a party leaving, a lite's capacity) rolls exactly the pods that read it.

What the test stands in for, as a real cluster's owner would provide it:
  - Nodes: the spec's inventory `spec.nodes` (names and labels), one untainted node, and for every
    rendered placement no node fits yet a node made to fit it: the nodeSelector's labels, a label
    for each `In` value of its first required node-affinity term (e.g. one node per zone), a
    taint for each toleration. All are KWOK nodes (annotation kwok.x-k8s.io/node=fake).
  - Volumes: the NFS PersistentVolumes kfplug renders bind to their claims as rendered; every other
    claim (a StorageClass's or the default's) gets a pre-made PersistentVolume of its size, access
    modes and class, bound to it by claimRef (static provisioning: the controller-manager's binder
    does the binding; no provisioner runs), and each StorageClass the claims name is created
    (provisioner kubernetes.io/no-provisioner).
  - Secrets a pod reads that the build does not hold: those cert-manager would issue
    (Certificate.spec.secretName, type kubernetes.io/tls), the ones the spec names (`secretName`,
    image pull Secrets) and kfplug's default names, with placeholder values.
KWOK runs no container: Running and Ready say the pod was admitted, bound and would start, not that
FATE or Kuscia work (tests/app covers that)."""

from __future__ import annotations

import base64
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
import yaml

from conftest import EXAMPLES, SPECS, build
from kfplug import api
from objects import parse, pod_spec

from .kube import Federation, Kubectl, dump
from .test_apply import removable_party

pytestmark = [pytest.mark.e2e, pytest.mark.tools]
FAKE = {"kwok.x-k8s.io/node": "fake"}
HOSTNAME = "kubernetes.io/hostname"
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
WORKLOADS = ("Deployment", "StatefulSet")
CAPACITY = {"cpu": "64", "memory": "512Gi", "pods": "110", "ephemeral-storage": "1Ti"}
FIGURES: dict[str, dict[str, str]] = defaultdict(dict)  # example -> what -> figure, printed at the end


# --- placement as the scheduler reads it ---------------------------------------------------------

def requirement_holds(requirement: dict, value: str | None) -> bool:
    values = requirement.get("values", [])
    match requirement["operator"]:
        case "In":
            return value in values
        case "NotIn":
            return value not in values
        case "Exists":
            return value is not None
        case "DoesNotExist":
            return value is None
        case "Gt" | "Lt" if value is not None and value.lstrip("-").isdigit():
            return int(value) > int(values[0]) if requirement["operator"] == "Gt" else int(value) < int(values[0])
    return False


def term_matches(term: dict, node: dict) -> bool:
    labels, name = node["metadata"].get("labels", {}), node["metadata"]["name"]
    checks = [(r, labels.get(r["key"])) for r in term.get("matchExpressions", [])]
    checks += [(r, name) for r in term.get("matchFields", [])]
    return bool(checks) and all(requirement_holds(r, v) for r, v in checks)


def tolerated(taint: dict, tolerations: list[dict]) -> bool:
    return any((t.get("key") in (None, "", taint["key"]) if t.get("operator") == "Exists" else
                t.get("key") == taint["key"] and t.get("value", "") == taint.get("value", ""))
               and t.get("effect") in (None, "", taint["effect"]) for t in tolerations)


def fits(pod: dict, node: dict) -> list[str]:
    """Why the node cannot take the pod (its required placement only); empty when it can."""
    labels = node["metadata"].get("labels", {})
    why = [f"lacks {k}={v}" for k, v in (pod.get("nodeSelector") or {}).items() if labels.get(k) != v]
    why += [f"taint {t['key']}:{t['effect']} not tolerated" for t in node["spec"].get("taints", [])
            if t["effect"] in ("NoSchedule", "NoExecute") and not tolerated(t, pod.get("tolerations", []))]
    terms = required_terms(pod)
    if terms is not None and not any(term_matches(t, node) for t in terms):
        why.append("matches no required node-affinity term")
    return why


def required_terms(pod: dict) -> list[dict] | None:
    node_affinity = (pod.get("affinity") or {}).get("nodeAffinity") or {}
    return node_affinity.get(REQUIRED, {}).get("nodeSelectorTerms")


def node(name: str, labels: dict[str, str], taints: list[dict] | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "annotations": FAKE, "labels": {HOSTNAME: name, **labels}},
            "spec": {"taints": taints or []},
            "status": {"capacity": CAPACITY, "allocatable": CAPACITY}}


def fake_nodes(example: str, spec: dict, workloads: list[dict]) -> list[dict]:
    """The inventory, an untainted node, and a node fitted to each placement no node fits yet."""
    nodes = [node(n["name"], n.get("labels") or {}) for n in spec["spec"].get("nodes") or []]
    nodes.append(node(f"kwok-{example}", {}))
    for workload in workloads:
        pod = pod_spec(workload)
        if any(not fits(pod, n) for n in nodes):
            continue
        labels = dict(pod.get("nodeSelector") or {})
        variants: list[dict[str, str]] = [{}]
        for requirement in ((required_terms(pod) or [{}])[0].get("matchExpressions") or []):
            if requirement["operator"] == "In":  # one node per value: a node in each zone
                variants = [v | {requirement["key"]: value} for v in variants for value in requirement["values"]]
            elif requirement["operator"] == "Exists":
                labels[requirement["key"]] = "true"
        taints = [{"key": t["key"], **({"value": t["value"]} if t.get("value") else {}),
                   "effect": t.get("effect") or "NoSchedule"} for t in pod.get("tolerations", []) if t.get("key")]
        for variant in variants:
            nodes.append(node(f"kwok-{example}-{len(nodes)}", labels | variant, taints))
    assert all(any(not fits(pod_spec(w), n) for n in nodes) for w in workloads), "a placement no node fits"
    return nodes


# --- what a cluster's owner provides: Secrets, volumes ----------------------------------------------

def secrets_read(pod: dict) -> dict[str, set[str]]:
    """Secret name -> the keys the pod reads from it (optional references left out)."""
    read: dict[str, set[str]] = defaultdict(set)
    for volume in pod.get("volumes", []):
        if (secret := volume.get("secret")) and not secret.get("optional"):
            read[secret["secretName"]] |= {i["key"] for i in secret.get("items", [])}
        for source in (volume.get("projected") or {}).get("sources", []):
            if (secret := source.get("secret")) and not secret.get("optional"):
                read[secret["name"]] |= {i["key"] for i in secret.get("items", [])}
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        for env in container.get("env", []):
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref and not ref.get("optional"):
                read[ref["name"]].add(ref["key"])
        for source in container.get("envFrom", []):
            if (ref := source.get("secretRef")) and not ref.get("optional"):
                read[ref["name"]]
    return read


def stand_in_secrets(objects: list[dict]) -> list[dict]:
    rendered = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objects if o["kind"] == "Secret"}
    issued = {(o["metadata"]["namespace"], o["spec"]["secretName"]) for o in objects if o["kind"] == "Certificate"}
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    pulled: set[tuple[str, str]] = set()
    for workload in (o for o in objects if o["kind"] in WORKLOADS):
        namespace, pod = workload["metadata"]["namespace"], pod_spec(workload)
        for name, keys in secrets_read(pod).items():
            wanted[(namespace, name)] |= keys
        pulled |= {(namespace, s["name"]) for s in pod.get("imagePullSecrets", [])}
    out = []
    for namespace, name in sorted((wanted.keys() | pulled) - rendered):
        keys = wanted.get((namespace, name), set())
        if (namespace, name) in issued:
            kind, keys = "kubernetes.io/tls", keys | {"tls.crt", "tls.key", "ca.crt"}
        elif (namespace, name) in pulled:
            kind, keys = "kubernetes.io/dockerconfigjson", {".dockerconfigjson"}
        else:
            kind = "Opaque"
        value = '{"auths": {}}' if kind == "kubernetes.io/dockerconfigjson" else "stand-in"
        out.append({"apiVersion": "v1", "kind": "Secret", "type": kind,
                    "metadata": {"name": name, "namespace": namespace, "labels": {"kfplug.dev/e2e": "stand-in"}},
                    "data": {k: base64.b64encode(value.encode()).decode() for k in sorted(keys)}})
    return out


def claims(objects: list[dict]) -> dict[tuple[str, str], dict]:
    """(namespace, name) -> spec of every claim the build makes or its StatefulSets' controller will."""
    out = {(o["metadata"]["namespace"], o["metadata"]["name"]): o["spec"]
           for o in objects if o["kind"] == "PersistentVolumeClaim"}
    for sts in (o for o in objects if o["kind"] == "StatefulSet"):
        for template in sts["spec"].get("volumeClaimTemplates", []):
            for i in range(sts["spec"].get("replicas", 1)):
                name = f"{template['metadata']['name']}-{sts['metadata']['name']}-{i}"
                out[(sts["metadata"]["namespace"], name)] = template["spec"]
    return out


def stand_in_volumes(objects: list[dict]) -> list[dict]:
    """A PersistentVolume per claim no rendered volume is for, and the StorageClasses they name."""
    rendered = {(o["spec"]["claimRef"].get("namespace"), o["spec"]["claimRef"]["name"])
                for o in objects if o["kind"] == "PersistentVolume" and o["spec"].get("claimRef")}
    out, classes = [], set()
    for (namespace, name), spec in sorted(claims(objects).items()):
        if (namespace, name) in rendered or spec.get("volumeName"):
            continue
        classes.add(spec.get("storageClassName") or "")
        out.append({"apiVersion": "v1", "kind": "PersistentVolume",
                    "metadata": {"name": f"e2e-{namespace}-{name}", "labels": {"kfplug.dev/e2e": "stand-in"}},
                    "spec": {"capacity": {"storage": spec["resources"]["requests"]["storage"]},
                             "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                             "storageClassName": spec.get("storageClassName") or "",
                             "persistentVolumeReclaimPolicy": "Retain",
                             "claimRef": {"namespace": namespace, "name": name},
                             "hostPath": {"path": f"/var/lib/kfplug-e2e/{namespace}/{name}"}}})
    out += [{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
             "metadata": {"name": c, "labels": {"kfplug.dev/e2e": "stand-in"}},
             "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "Immediate"}
            for c in sorted(classes - {""})]
    return out


# --- the cluster's state ----------------------------------------------------------------------------

@dataclass
class Running:
    """An example on the cluster, with its nodes and stand-ins, once everything settled."""

    federation: Federation
    spec: dict
    nodes: list[dict]
    stand_ins: list[dict]
    settled_in: float = 0.0  # seconds from the first apply until everything is there
    state: dict = field(default_factory=dict)

    def objects(self) -> list[dict]:
        return [o for objects in self.federation.clusters.values() for o in objects]


def snapshot(kubectl: Kubectl, namespaces: set[str]) -> dict[str, list[dict]]:
    kinds = "pods,persistentvolumeclaims,endpointslices.discovery.k8s.io,deployments.apps,statefulsets.apps"
    items = kubectl.json("get", kinds, "-A")["items"]
    out: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        if item["metadata"]["namespace"] in namespaces:
            out[item["kind"]].append(item)
    return out


def pods_of(state: dict, workload: dict) -> list[dict]:
    selector = workload["spec"]["selector"]["matchLabels"]
    return [p for p in state["Pod"] if p["metadata"]["namespace"] == workload["metadata"]["namespace"]
            and selector.items() <= p["metadata"].get("labels", {}).items()]


def ready(pod: dict) -> bool:
    return pod["status"].get("phase") == "Running" and "deletionTimestamp" not in pod["metadata"] and any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def rolled_out(workload: dict) -> bool:
    replicas, status = workload["spec"].get("replicas", 1), workload.get("status", {})
    done = (status.get("observedGeneration") == workload["metadata"]["generation"]
            and status.get("replicas", 0) == replicas and status.get("readyReplicas", 0) == replicas
            and status.get("updatedReplicas", 0) == replicas)
    if workload["kind"] == "StatefulSet":
        done = done and status.get("currentRevision") == status.get("updateRevision")
    return done


def unsettled(state: dict, objects: list[dict]) -> list[str]:
    """What is not there yet: workloads rolled out, every pod Ready, claims Bound, endpoints ready."""
    server = {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o
              for kind in WORKLOADS for o in state[kind]}
    waiting = []
    for workload in (o for o in objects if o["kind"] in WORKLOADS):
        meta = workload["metadata"]
        on_server = server.get((workload["kind"], meta["namespace"], meta["name"]))
        pods = pods_of(state, workload)
        if not on_server or not rolled_out(on_server) or len(pods) != workload["spec"].get("replicas", 1) \
                or not all(map(ready, pods)):
            waiting.append(f"{workload['kind']} {meta['namespace']}/{meta['name']}")
    waiting += [f"claim {c['metadata']['name']}" for c in state["PersistentVolumeClaim"]
                if c["status"].get("phase") != "Bound"]
    waiting += [f"endpoints of {s['metadata']['namespace']}/{s['metadata']['name']}"
                for s in objects if s["kind"] == "Service" and s["spec"].get("selector")
                and endpoints(state, s) != serving_pods(state, s)]
    return waiting


def serving_pods(state: dict, service: dict) -> set[str]:
    selector, namespace = service["spec"]["selector"], service["metadata"]["namespace"]
    return {p["metadata"]["name"] for p in state["Pod"] if p["metadata"]["namespace"] == namespace
            and selector.items() <= p["metadata"].get("labels", {}).items() and ready(p)}


def endpoints(state: dict, service: dict) -> set[str]:
    """The pods behind the Service's ready endpoints in its EndpointSlices."""
    meta = service["metadata"]
    return {e["targetRef"]["name"] for s in state["EndpointSlice"] if s["metadata"]["namespace"] == meta["namespace"]
            and s["metadata"].get("labels", {}).get("kubernetes.io/service-name") == meta["name"]
            for e in s.get("endpoints") or [] if e.get("conditions", {}).get("ready") and e.get("targetRef")}


def settle(kubectl: Kubectl, objects: list[dict], seconds: float = 180) -> tuple[dict, float]:
    namespaces = {o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")}
    start = time.monotonic()
    while True:
        state = snapshot(kubectl, namespaces)
        waiting = unsettled(state, objects)
        if not waiting:
            return state, time.monotonic() - start
        assert time.monotonic() - start < seconds, f"not settled after {seconds}s: {waiting[:10]}"
        time.sleep(1)


def cluster_objects(built: dict, example: str) -> dict[str, list[dict]]:
    return {target.split("/")[1]: objects for (name, target), objects in built.items()
            if name == example and target.startswith("clusters/")}


@pytest.fixture(scope="module", params=EXAMPLES)
def running(request, kubectl, built) -> Running:
    """One example applied beside its nodes and stand-ins, settled; afterwards all of it removed."""
    example = request.param
    clusters = cluster_objects(built, example)
    everything = [o for objects in clusters.values() for o in objects]
    if any(o["apiVersion"].startswith("cert-manager.io/") for o in everything):
        request.getfixturevalue("cert_manager_crds")
    spec = yaml.safe_load(SPECS[example].read_text())
    nodes = fake_nodes(example, spec, [o for o in everything if o["kind"] in WORKLOADS])
    kubectl.run("apply", "--server-side", "-f", "-", stdin=dump(nodes))
    federation = Federation(example, spec["metadata"]["name"], kubectl)
    stand_ins = stand_in_volumes(everything)
    start = time.monotonic()
    try:
        # the volumes first, so the binder binds each claim as it appears (not at its next resync)
        if stand_ins:
            kubectl.run("apply", "--server-side", "-f", "-", stdin=dump(stand_ins))
        for cluster, objects in clusters.items():
            federation.apply(cluster, objects)
        if secrets := stand_in_secrets(everything):  # once their namespaces exist
            kubectl.run("apply", "--server-side", "-f", "-", stdin=dump(secrets))
            stand_ins += secrets
        state, _ = settle(kubectl, everything)
        yield Running(federation, spec, nodes, stand_ins, time.monotonic() - start, state)
    finally:
        for cluster in list(federation.clusters):
            federation.uninstall(cluster)
        cluster_scoped = [o for o in stand_ins if "namespace" not in o["metadata"]]
        kubectl.run("delete", "--ignore-not-found", "--wait", "--timeout=120s", "-f", "-",
                    stdin=dump(cluster_scoped + nodes))


@pytest.fixture(scope="module", autouse=True)
def report():
    """The figures of every example, as a table at the end of the module (pytest -s shows it)."""
    yield
    if FIGURES:
        columns = ["pods scheduled", "claims bound", "endpoints ready", "rolled by a config change", "settled in"]
        print("\n" + " | ".join(["example", *columns]))
        for example, figures in FIGURES.items():
            print(" | ".join([example, *(figures.get(c, "-") for c in columns)]))


# --- the tests ----------------------------------------------------------------------------------------

def test_every_pod_runs_where_its_placement_says(running):
    state, nodes = running.state, {n["metadata"]["name"]: n for n in running.nodes}
    problems, placed, total = [], 0, 0
    for workload in (o for o in running.objects() if o["kind"] in WORKLOADS):
        where = f"{workload['kind']} {workload['metadata']['namespace']}/{workload['metadata']['name']}"
        template = pod_spec(workload)
        pods = pods_of(state, workload)
        total += len(pods)
        for pod in pods:
            on = pod["spec"].get("nodeName")
            if on not in nodes:
                problems.append(f"{where}: pod {pod['metadata']['name']} on {on!r}, not a test node")
                continue
            why = fits(template, nodes[on])
            problems += [f"{where}: pod {pod['metadata']['name']} on {on}: {w}" for w in why]
            placed += not why and ready(pod)
        anti = ((template.get("affinity") or {}).get("podAntiAffinity") or {}).get(REQUIRED, [])
        if any(t["topologyKey"] == HOSTNAME for t in anti):  # `nodes:`: one replica per node
            hosts = [p["spec"].get("nodeName") for p in pods]
            if len(set(hosts)) != len(hosts):
                problems.append(f"{where}: two replicas on one node: {hosts}")
    assert problems == []
    assert placed == total > 0
    FIGURES[running.federation.example]["pods scheduled"] = f"{placed}/{total} on {len(nodes)} nodes"
    FIGURES[running.federation.example]["settled in"] = f"{running.settled_in:.0f}s"
    print(f"{running.federation.example}: {placed}/{total} pods Running and Ready where placed, "
          f"{len(nodes)} nodes, settled in {running.settled_in:.1f}s")


def test_every_claim_binds_to_its_volume(running, kubectl):
    objects = running.objects()
    expected = claims(objects)
    rendered = {(o["spec"]["claimRef"].get("namespace"), o["spec"]["claimRef"]["name"]): o["metadata"]["name"]
                for o in objects if o["kind"] == "PersistentVolume" and o["spec"].get("claimRef")}
    stand_in = {(o["spec"]["claimRef"]["namespace"], o["spec"]["claimRef"]["name"]): o["metadata"]["name"]
                for o in running.stand_ins if o["kind"] == "PersistentVolume"}
    found = {(c["metadata"]["namespace"], c["metadata"]["name"]): c for c in running.state["PersistentVolumeClaim"]}
    assert set(found) == set(expected)
    for key, claim in found.items():
        assert claim["status"]["phase"] == "Bound", key
        assert claim["spec"]["volumeName"] == rendered.get(key, stand_in.get(key)), key
    volumes = {v["metadata"]["name"]: v for v in kubectl.json("get", "persistentvolumes")["items"]}
    for claim in found.values():  # the volume says so too, and keeps the claim's class
        volume = volumes[claim["spec"]["volumeName"]]
        assert volume["status"]["phase"] == "Bound"
        assert volume["spec"].get("storageClassName", "") == (claim["spec"].get("storageClassName") or "")
    figure = f"{len(found)}/{len(expected)} ({sum(k in rendered for k in found)} to rendered NFS volumes)"
    FIGURES[running.federation.example]["claims bound"] = figure
    print(f"{running.federation.example}: claims bound {figure}")


def test_every_service_has_ready_endpoints(running):
    services = [o for o in running.objects() if o["kind"] == "Service" and o["spec"].get("selector")]
    assert services
    counts = {}
    for service in services:
        pods = serving_pods(running.state, service)
        assert pods, f"{service['metadata']['namespace']}/{service['metadata']['name']} selects no ready pod"
        assert endpoints(running.state, service) == pods
        counts[service["metadata"]["name"]] = len(pods)
    figure = f"{len(services)}/{len(services)} Services, {sum(counts.values())} ready endpoints"
    FIGURES[running.federation.example]["endpoints ready"] = figure
    print(f"{running.federation.example}: {figure}")


def config_maps_read(pod: dict) -> set[str]:
    names = {v["configMap"]["name"] for v in pod.get("volumes", []) if "configMap" in v}
    names |= {s["configMap"]["name"] for v in pod.get("volumes", [])
              for s in (v.get("projected") or {}).get("sources", []) if "configMap" in s}
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        names |= {e["valueFrom"]["configMapKeyRef"]["name"] for e in container.get("env", [])
                  if "configMapKeyRef" in (e.get("valueFrom") or {})}
        names |= {s["configMapRef"]["name"] for s in container.get("envFrom", []) if "configMapRef" in s}
    return names


def changed_input(spec: dict) -> str:
    """One change to a ConfigMap input. FATE: a party leaves, so the route tables of those who dialled
    it change. Kuscia: a lite's capacity (its kuscia.yaml); a lite leaving changes only the routes
    the master's bootstrap Job applies, which no Deployment reads."""
    if spec["spec"]["runtime"] == "kuscia":  # a runp lite's capacity is its container's limits instead
        defaults = spec["spec"].get("defaults", {})
        lite = [p for p in spec["spec"]["parties"] if p.get("runtime", defaults.get("runtime")) != "runp"][-1]
        lite["capacity"] = {**defaults.get("capacity", {}), "cpu": "2"}
        return f"lite {lite['id']}'s capacity"
    party = removable_party(spec)
    spec["spec"]["parties"].remove(party)
    return f"party {party['id']} removed"


def test_a_config_change_rolls_exactly_the_pods_that_read_it(running, kubectl, rendered, kustomize, tmp_path):
    """A changed input changes a generated ConfigMap's content, so its name: exactly the pods that
    read it roll; every other pod keeps its uid."""
    federation, example = running.federation, running.federation.example
    spec = yaml.safe_load(SPECS[example].read_text())
    change = changed_input(spec)
    before_objects = running.objects()
    before = {workload_key(w): {p["metadata"]["uid"] for p in pods_of(running.state, w)}
              for w in before_objects if w["kind"] in WORKLOADS}

    tree = tmp_path / "tree"
    shutil.copytree(rendered[example], tree)
    folder = tmp_path / "spec"
    shutil.copytree(SPECS[example].parent, folder)
    (folder / "federation.yaml").write_text(yaml.safe_dump(spec))
    api.render(folder / "federation.yaml", tree)
    new = {d.name: parse(build([kustomize, "build"], d)) for d in sorted((tree / "clusters").iterdir())}
    for cluster in sorted(federation.clusters.keys() | new.keys()):
        if cluster in new:
            federation.apply(cluster, new[cluster])
        else:
            federation.uninstall(cluster)
    after_objects = [o for objects in new.values() for o in objects]
    if secrets := stand_in_secrets(after_objects):  # a new ConfigMap may come with a Secret of its own
        kubectl.run("apply", "--server-side", "-f", "-", stdin=dump(secrets))
    state, took = settle(kubectl, after_objects)

    old_maps = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in before_objects if o["kind"] == "ConfigMap"}
    old_templates = {workload_key(w): w["spec"]["template"] for w in before_objects if w["kind"] in WORKLOADS}
    rolled, kept, problems = [], 0, []
    for workload in (o for o in after_objects if o["kind"] in WORKLOADS):
        key = workload_key(workload)
        if key not in before:
            continue
        uids = {p["metadata"]["uid"] for p in pods_of(state, workload)}
        namespace = workload["metadata"]["namespace"]
        reads_new = {m for m in config_maps_read(pod_spec(workload)) if (namespace, m) not in old_maps}
        changed = workload["spec"]["template"] != old_templates[key]
        if changed != bool(reads_new):
            problems.append(f"{key}: template changed {changed}, reads a changed ConfigMap {sorted(reads_new)}")
        if changed and uids & before[key]:
            problems.append(f"{key}: reads the changed {sorted(reads_new)} but kept pods {sorted(uids & before[key])}")
        if not changed and uids != before[key]:
            problems.append(f"{key}: unchanged, but its pods were replaced")
        if changed:
            rolled.append(f"{key[1]}/{key[2]}")
        else:
            kept += 1
    assert problems == []
    assert rolled, f"{change} rolled no pod"
    figure = f"{len(rolled)} rolled ({', '.join(sorted(rolled))}), {kept} kept"
    FIGURES[example]["rolled by a config change"] = figure
    print(f"{example}: {change}: {figure}; settled in {took:.1f}s")


def workload_key(workload: dict) -> tuple[str, str, str]:
    return workload["kind"], workload["metadata"]["namespace"], workload["metadata"]["name"]


def test_a_placement_no_node_matches_stays_pending(kubectl, built):
    """What `kfplug validate` reports when spec.nodes tells it (tests/bad_input/selector-matches-no-node):
    on a cluster the pod never schedules."""
    example = EXAMPLES[0]
    deployment = next(o for objects in cluster_objects(built, example).values() for o in objects
                      if o["kind"] == "Deployment")
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kfplug-e2e-pending"}}
    stray = {**deployment, "metadata": {"name": deployment["metadata"]["name"], "namespace": "kfplug-e2e-pending"}}
    stray["spec"] = {**deployment["spec"], "replicas": 1, "template": {
        **deployment["spec"]["template"],
        "spec": {**pod_spec(deployment), "nodeSelector": {"kfplug.dev/e2e": "nowhere"}}}}
    nodes = [node("kwok-pending", {"kfplug.dev/e2e": "somewhere"})]
    kubectl.run("apply", "--server-side", "-f", "-", stdin=dump([*nodes, namespace, stray]))
    try:
        deadline = time.monotonic() + 60
        while True:
            pods = kubectl.json("get", "pods", "-n", "kfplug-e2e-pending")["items"]
            conditions = [c for p in pods for c in p["status"].get("conditions", []) if c["type"] == "PodScheduled"]
            if conditions or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert len(pods) == 1 and pods[0]["status"]["phase"] == "Pending"
        assert not pods[0]["spec"].get("nodeName")
        assert conditions[0]["status"] == "False" and conditions[0]["reason"] == "Unschedulable"
        assert "didn't match Pod's node affinity/selector" in conditions[0]["message"], conditions[0]["message"]
        print(f"a placement no node matches: {conditions[0]['message']}")
    finally:
        kubectl.run("delete", "--wait=false", "-f", "-", stdin=dump([namespace, *nodes]))  # nothing reuses them
