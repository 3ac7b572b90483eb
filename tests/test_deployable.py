"""What `validate: ok` promises past the spec itself: an exposed router listens where peers dial it,
and what holds a party's data outlives any commit (the prune guards on its Namespace and volumes).
The refusals (an endpoint nothing exposes, limits below requests, GitOps over git-ignored Secrets,
every problem in one run) are cases in tests/bad_input/."""

from __future__ import annotations

from pathlib import Path

from kfplug import api

SPEC = """\
apiVersion: kfplug.dev/v1alpha1
kind: Federation
metadata: {{name: demo}}
spec:
  runtime: fate
  version: "2.0.0"
  clusters: [{{name: a}}, {{name: b}}]
  defaults:
    secrets: {{mysql: {{secretName: m}}, fateboard: {{secretName: f}}, client: {{secretName: c}}}}
  parties:
    - {{id: 9999, cluster: a, expose: {first}, endpoint: '{first_endpoint}'}}
    - {{id: 10000, cluster: b, expose: {second}, endpoint: '{second_endpoint}'{storage}}}
"""


def _spec(tmp_path: Path, first="{type: NodePort, nodePort: 30091}", first_endpoint="10.0.0.1:30091",
          second="{type: NodePort, nodePort: 30092}", second_endpoint="10.0.0.2:30092", storage="") -> Path:
    path = tmp_path / "federation.yaml"
    path.write_text(SPEC.format(first=first, first_endpoint=first_endpoint, second=second,
                                second_endpoint=second_endpoint, storage=storage))
    return path


def _warnings(path: Path) -> list[str]:
    return [f"{w.path}: {w.message}" for w in api.read(path)[1]]


def test_an_endpoint_port_other_than_the_node_port_is_warned(tmp_path):
    assert not [w for w in _warnings(_spec(tmp_path)) if "node port" in w]
    found = _warnings(_spec(tmp_path, first_endpoint="10.0.0.1:30099", second="{type: NodePort}"))
    assert "spec.parties[0].endpoint: peers dial port 30099, but the router's node port is 30091; fine only if " \
           "something in front forwards 30099 to it" in found
    assert "spec.parties[1].expose: Kubernetes picks a random node port, which peers dialling 10.0.0.2:30092 " \
           "cannot know; set nodePort: 30092" in found


def test_a_load_balancer_listens_on_the_endpoint_port(tmp_path):
    """Peers dial fl.example.net:443: the load balancer listens on 443 (to the router's port), and on 9370
    still for the cluster's own use."""
    path = _spec(tmp_path, second="{type: LoadBalancer}", second_endpoint="fl.example.net:443")
    objects = api.build_objects(api.load(path), ["10000"])
    (service,) = [o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "osx"]
    assert service["spec"]["type"] == "LoadBalancer"
    ports = {p["port"]: p.get("targetPort") for p in service["spec"]["ports"]}
    assert ports == {443: "grpc", 9370: "grpc"}


def test_a_party_external_exposure_keeps_its_service_inside(tmp_path):
    """expose.type External: something kfplug does not manage publishes the router, so the endpoint is
    accepted and the Service stays ClusterIP."""
    path = _spec(tmp_path, second="{type: External}", second_endpoint="fl.example.net:443")
    objects = api.build_objects(api.load(path), ["10000"])
    (service,) = [o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "osx"]
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"


def test_what_holds_a_party_data_is_never_pruned(tmp_path):
    """The Namespace (its deletion takes the claims) and static NFS volumes carry Flux's and Argo CD's guards."""
    path = _spec(tmp_path, storage=", storage: {nfs: {server: 10.0.0.9, path: /exports/fate}}")
    objects = api.build_objects(api.load(path), ["10000"])
    guarded = [o for o in objects if o["kind"] in ("Namespace", "PersistentVolume")]
    assert {o["kind"] for o in guarded} == {"Namespace", "PersistentVolume"}
    for obj in guarded:
        annotations = obj["metadata"]["annotations"]
        assert annotations["kustomize.toolkit.fluxcd.io/prune"] == "disabled"
        assert set(annotations["argocd.argoproj.io/sync-options"].split(",")) == {"Prune=false", "Delete=false"}
    assert all(o["spec"]["persistentVolumeReclaimPolicy"] == "Retain" for o in guarded
               if o["kind"] == "PersistentVolume")
