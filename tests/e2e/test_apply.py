"""Every example applied to a real kube-apiserver as a user would: server-side, each
`clusters/<cluster>` build on its own, namespaces first, each cluster an ApplySet so that
applying a changed render prunes what left it."""

from __future__ import annotations

import base64
import copy
import shutil
import time
from collections import Counter

import pytest
import yaml

from conftest import EXAMPLES, REPO, SPECS, build
from kfplug import api
from objects import key, parse, pod_spec

from .kube import Federation, dump

pytestmark = [pytest.mark.e2e, pytest.mark.tools]  # tools: it runs kubectl and kustomize too
MISSING = object()


@pytest.fixture(scope="module", params=EXAMPLES)
def federation(request, kubectl, built) -> Federation:
    """One example applied to the server; afterwards uninstalled, so the next can reuse its namespaces."""
    example = request.param
    clusters = {target.split("/")[1]: objects for (name, target), objects in built.items()
                if name == example and target.startswith("clusters/")}
    names = {o["metadata"]["labels"]["app.kubernetes.io/part-of"] for objects in clusters.values() for o in objects}
    assert len(names) == 1, names
    if any(o["apiVersion"].startswith("cert-manager.io/") for objects in clusters.values() for o in objects):
        request.getfixturevalue("cert_manager_crds")  # spec.tls.mode mutual: Issuers and Certificates
    federation = Federation(example, names.pop(), kubectl)
    for cluster, objects in clusters.items():
        federation.outputs[cluster] = federation.apply(cluster, objects)
    yield federation
    for cluster in list(federation.clusters):
        federation.uninstall(cluster)
    assert not federation.applied(), "objects left after uninstalling"


def differences(expected, actual, path: str = "") -> list[str]:
    """Where the server's copy lacks what the build says (the server may add defaults)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return [d for k, v in expected.items() for d in differences(v, actual.get(k, MISSING), f"{path}.{k}")]
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [d for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for d in differences(e, a, f"{path}[{i}]")]
    if expected == actual or (actual is MISSING and expected in ("", [], {})):  # the server omits empty values
        return []
    return [f"{path}: built {expected!r}, server has {'nothing' if actual is MISSING else repr(actual)}"]


def canonical_secret(obj: dict) -> dict:
    """A Secret as the server stores it: kustomize wraps long base64 values, which the server keeps
    unwrapped, and the server moves `stringData` (the SOPS-kept Secrets' form) into `data`."""
    if obj["kind"] != "Secret":
        return obj
    data = {k: base64.b64encode(base64.b64decode(v)).decode() for k, v in obj.get("data", {}).items()}
    data |= {k: base64.b64encode(v.encode()).decode() for k, v in obj.get("stringData", {}).items()}
    return {k: v for k, v in obj.items() if k != "stringData"} | {"data": data}


def resource(obj: dict) -> str:
    """How kubectl names an object in its output: deployment.apps/osx."""
    group = obj["apiVersion"].rpartition("/")[0]
    return f"{obj['kind'].lower()}{'.' + group if group else ''}/{obj['metadata']['name']}"


def test_server_is_the_pinned_kubernetes(kubectl):
    pinned = next(line.split()[2] for line in (REPO / "tools/k8s/go.mod").read_text().splitlines()
                  if line.startswith("require k8s.io/kubernetes "))
    version = yaml.safe_load(kubectl.run("version", "-o", "yaml").stdout)
    assert version["serverVersion"]["gitVersion"] == pinned
    print(f"server {pinned}, client {version['clientVersion']['gitVersion']}")


def test_apply_reports_every_object(federation):
    for cluster, objects in federation.clusters.items():
        reported = Counter(line.rsplit(" ", 1)[0] for line in federation.outputs[cluster].splitlines()
                           if line.endswith(" serverside-applied"))
        assert reported == Counter(resource(o) for o in objects), cluster
    print(f"{federation.example}: {sum(map(len, federation.clusters.values()))} objects applied")


def test_every_rendered_object_is_on_the_server(federation, kubectl):
    for cluster, objects in federation.clusters.items():
        server = kubectl.get(objects)
        assert [key(o) for o in server] == [key(o) for o in objects]
        for built_obj, server_obj in zip(objects, server, strict=True):
            assert differences(canonical_secret(built_obj), server_obj) == [], f"{cluster}: {key(built_obj)}"


def applied_state(obj: dict) -> dict:
    """An object as far as apply is concerned: everything but status and the bookkeeping
    (controllers update status and other managers' fields at any time)."""
    meta = {k: v for k, v in obj["metadata"].items() if k not in ("resourceVersion", "managedFields")}
    meta["applied"] = [m for m in obj["metadata"]["managedFields"] if m["operation"] == "Apply"]
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def test_a_second_apply_changes_nothing(federation, kubectl):
    everything = [o for objects in federation.clusters.values() for o in objects]
    before = [applied_state(o) for o in kubectl.get(everything)]
    for cluster, objects in list(federation.clusters.items()):
        assert " pruned" not in federation.apply(cluster, objects)
    assert [applied_state(o) for o in kubectl.get(everything)] == before


INVALID = {  # how to break a Deployment -> what the server says
    "negative replicas": (lambda d: d["spec"].update(replicas=-1), "spec.replicas: Invalid value: -1"),
    "unknown field": (lambda d: d["spec"].update(replicaz=1), ".spec.replicaz: field not declared in schema"),
    "missing namespace": (lambda d: d["metadata"].update(namespace="kfplug-missing"),
                          'namespaces "kfplug-missing" not found'),
}


@pytest.mark.parametrize("case", INVALID)
def test_server_dry_run_rejects_an_invalid_object(federation, kubectl, case):
    deployment = next(o for objects in federation.clusters.values() for o in objects if o["kind"] == "Deployment")
    dry_run = ("apply", "--server-side", "--dry-run=server", "--validate=strict", "-f", "-")
    kubectl.run(*dry_run, stdin=dump([deployment]))  # the object as rendered passes
    broken = copy.deepcopy(deployment)
    breaking, message = INVALID[case]
    breaking(broken)
    result = kubectl.run(*dry_run, stdin=dump([broken]), check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def expected_pods(workload: dict) -> int:
    """Without nodes no pod becomes ready, so an OrderedReady StatefulSet stops at its first pod."""
    replicas = workload["spec"].get("replicas", 1)
    ordered = workload["kind"] == "StatefulSet" and workload["spec"].get("podManagementPolicy") != "Parallel"
    return min(replicas, 1) if ordered else replicas


# Bugs in kfplug that only a real API server shows; strict, so a fix turns them into failures to remove.
def test_controllers_make_pods_and_claims_as_rendered(federation, kubectl):
    workloads = [o for objects in federation.clusters.values() for o in objects
                 if o["kind"] in ("Deployment", "StatefulSet")]
    assert workloads

    def owned(items: list[dict], workload: dict) -> list[dict]:
        selector = workload["spec"]["selector"]["matchLabels"]
        return [i for i in items if i["metadata"]["namespace"] == workload["metadata"]["namespace"]
                and selector.items() <= i["metadata"].get("labels", {}).items()]

    deadline = time.monotonic() + 30  # the controllers need a few seconds
    while True:
        found = kubectl.list({"Pod", "PersistentVolumeClaim"}, f"app.kubernetes.io/part-of={federation.name}")
        pods = [i for i in found if i["kind"] == "Pod"]
        if all(len(owned(pods, w)) >= expected_pods(w) for w in workloads) or time.monotonic() > deadline:
            break
        time.sleep(1)
    claims = {key(i): i for i in found if i["kind"] == "PersistentVolumeClaim"}
    problems = []
    for workload in workloads:
        where = f"{workload['kind']}/{workload['metadata']['name']} in {workload['metadata']['namespace']}"
        template = pod_spec(workload)
        if len(owned(pods, workload)) != expected_pods(workload):
            problems.append(f"{where}: {len(owned(pods, workload))} pods, expected {expected_pods(workload)}; "
                            + failed_creates(kubectl, workload))
        for pod in owned(pods, workload):
            spec = pod["spec"]
            volumes = {v["name"]: v for v in spec.get("volumes", [])}
            problems += [f"{where}: {p}" for p in [
                *(["not Pending"] if pod["status"]["phase"] != "Pending" else []),  # there are no nodes
                *(["nodeSelector"] if spec.get("nodeSelector") != template.get("nodeSelector") else []),
                *differences(template.get("affinity"), spec.get("affinity"), ".affinity"),
                *[f"toleration {t}" for t in template.get("tolerations", []) if t not in spec.get("tolerations", [])],
                *[d for v in template.get("volumes", []) for d in differences(v, volumes.get(v["name"]), ".volumes")],
            ]]
            for claim_template in workload["spec"].get("volumeClaimTemplates", []):
                volume = claim_template["metadata"]["name"]
                name = f"{volume}-{pod['metadata']['name']}"
                claim = claims.get(("PersistentVolumeClaim", pod["metadata"]["namespace"], name))
                if volumes.get(volume, {}).get("persistentVolumeClaim", {}).get("claimName") != name or not claim:
                    problems.append(f"{where}: pod {pod['metadata']['name']} has no claim {name}")
                else:
                    problems += [f"{where}: claim {name}{d}"
                                 for d in differences(claim_template["spec"], claim["spec"])]
    assert problems == []


def failed_creates(kubectl, workload: dict) -> str:
    """Why a controller could not create a workload's pods, from its events."""
    meta = workload["metadata"]
    events = kubectl.run("get", "events", "-n", meta["namespace"], "-o", "jsonpath={.items[*].message}",
                         "--field-selector", f"involvedObject.name={meta['name']},reason=FailedCreate").stdout
    return events[:500] or "no FailedCreate event"


def removable_party(spec: dict) -> dict:
    """The last party that shares its cluster with another party or the exchange, else the last party."""
    parties = spec["spec"]["parties"]
    members = Counter(p.get("cluster") for p in parties)
    if "exchange" in spec["spec"]:
        members[spec["spec"]["exchange"].get("cluster")] += 1
    return ([p for p in parties if members[p.get("cluster")] > 1] or parties)[-1]


def test_removing_a_party_prunes_exactly_its_objects(federation, kubectl, rendered, kustomize, tmp_path):
    spec = yaml.safe_load(SPECS[federation.example].read_text())
    party = removable_party(spec)
    spec["spec"]["parties"].remove(party)
    if isinstance(spec["spec"].get("routes"), list):  # Kuscia: the routes naming the lite go with it
        spec["spec"]["routes"] = [r for r in spec["spec"]["routes"] if party["id"] not in (r["from"], r["to"])]
    before = federation.applied()
    its_objects = {k for k, o in before.items() if o["metadata"]["labels"]["kfplug.dev/party"] == str(party["id"])}
    assert its_objects

    tree = tmp_path / "tree"
    shutil.copytree(rendered[federation.example], tree)  # with its secret files, which a re-render keeps
    folder = tmp_path / "spec"  # with the files the spec names relative to itself (tls.ca)
    shutil.copytree(SPECS[federation.example].parent, folder)
    (folder / "federation.yaml").write_text(yaml.safe_dump(spec))
    api.render(folder / "federation.yaml", tree)
    new = {d.name: parse(build([kustomize, "build"], d)) for d in sorted((tree / "clusters").iterdir())}
    for cluster in sorted(federation.clusters.keys() | new.keys()):
        if cluster in new:
            federation.apply(cluster, new[cluster])
        else:  # the party was the cluster's last: nothing to apply there, so uninstall
            federation.uninstall(cluster)

    expected = {key(o) for objects in new.values() for o in objects}
    removed = [o for k, o in before.items() if k not in expected]
    kubectl.run("wait", "--for=delete", "--timeout=180s", "-f", "-", stdin=dump(removed))  # namespaces finalize
    after = federation.applied()
    assert set(after) == expected
    assert its_objects <= set(before) - set(after)
    kept = set(before) & expected
    assert kept and all(after[k]["metadata"]["uid"] == before[k]["metadata"]["uid"] for k in kept)
