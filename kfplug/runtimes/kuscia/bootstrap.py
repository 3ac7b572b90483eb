"""Kuscia's Domains and ClusterDomainRoutes, and the Job that applies them inside the master's
embedded k3s (ConfigMap kuscia-resources, read by `kubectl apply` over the exec's stdin)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from ...compile.context import PartyContext, federation_labels
from ...plan import NAME, ConfigMapGen, Part, Resource
from ...spec.members import service_host
from ...spec.model import Federation, Party
from ...yamlwrite import dump
from . import catalog
from .topology import routed

CRD_VERSION = "kuscia.secretflow/v1alpha1"
BOOTSTRAP = catalog.BOOTSTRAP_NAME


def kuscia_resources(federation: Federation) -> list[dict[str, Any]]:
    """One Domain per lite, one ClusterDomainRoute per routed pair (no lite -> master routes:
    the master creates those when a Domain appears).

    As upstream's add_domain_lite.sh, but without its `domain/<id>` annotation (purpose not checked);
    routes leave out `requestHeadersToAdd`, whose placeholder upstream's script never fills
    (research: assumed unnecessary between lites, not verified)."""
    spec = federation.spec
    labels = federation_labels(federation)
    out = [{"apiVersion": CRD_VERSION, "kind": "Domain", "metadata": {"name": p.id, "labels": labels},
            "spec": {"authCenter": {"authenticationType": "Token", "tokenGenMethod": "RSA-GEN"}}}
           for p in spec.parties]
    return out + [_route(labels, source, destination) for source, destination in routed(spec)]


def _route(labels: dict[str, str], source: Party, destination: Party) -> dict[str, Any]:
    if source.cluster == destination.cluster:
        host, port = service_host(catalog.LITE, destination.namespace or ""), catalog.ENVOY_PORT
    else:
        assert destination.endpoint is not None, "validated: a lite routed to from another cluster has one"
        host, port = destination.endpoint
    tls = destination.protocol != "NOTLS"
    return {"apiVersion": CRD_VERSION, "kind": "ClusterDomainRoute",
            "metadata": {"name": f"{source.id}-{destination.id}", "labels": labels},
            "spec": {"source": source.id, "destination": destination.id, "interConnProtocol": "kuscia",
                     "endpoint": {"host": host, "ports": [{"name": "http", "protocol": "HTTP", "pathPrefix": "/",
                                                           "isTLS": tls, "port": port}]},
                     "authenticationType": "Token",
                     "tokenConfig": {"tokenGenMethod": "RSA-GEN", "rollingUpdatePeriod": 86400}}}


def resources_yaml(federation: Federation) -> str:
    """The objects as one YAML stream, Domains first."""
    return "---\n".join(dump(obj) for obj in kuscia_resources(federation))


def bootstrap(ctx: PartyContext) -> Iterator[Part]:
    """The compile step of the master."""
    text = resources_yaml(ctx.federation)
    yield ConfigMapGen("kuscia-resources", BOOTSTRAP, {RESOURCES_FILE: text})
    namespace = ctx.member.namespace
    meta = {"name": BOOTSTRAP, "labels": {NAME: BOOTSTRAP}}
    yield Resource("bootstrap-serviceaccount.yaml", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta})
    yield Resource("bootstrap-role.yaml", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
                  # kubectl >= 1.30 opens exec as a WebSocket (GET); servers >= 1.35 also ask for create
                  {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]},
                  {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": [catalog.MASTER],
                   "verbs": ["get"]}]})
    yield Resource("bootstrap-rolebinding.yaml", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": BOOTSTRAP},
        "subjects": [{"kind": "ServiceAccount", "name": BOOTSTRAP, "namespace": namespace}]})
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    tag = ctx.release.images[catalog.KUSCIA_IMAGE][1]
    yield Resource("bootstrap-job.yaml", _job(f"{BOOTSTRAP}-{digest}", namespace, f"{catalog.KUSCIA_IMAGE}:{tag}"))


RESOURCES_FILE = "resources.yaml"
RESOURCES_DIR = "/etc/kuscia-resources"
# Runs in the Kuscia image (its sh and kubectl): waits for the master, then streams the objects into
# `kubectl apply` inside it over the exec's stdin, never its URL (proxies in front of API servers
# refuse long URLs). The kubeconfig is the one Kuscia writes for its k3s (confloader/config.go).
BOOTSTRAP_SCRIPT = """set -eu
kubectl wait --namespace={namespace} --for=condition=Ready pod --selector={selector} --timeout=900s
kubectl exec -i --namespace={namespace} deployment/{master} --container={master} -- \\
  kubectl --kubeconfig=/home/kuscia/etc/kubeconfig apply -f - < {resources}
"""


def _job(name: str, namespace: str, image: str) -> dict[str, Any]:
    script = BOOTSTRAP_SCRIPT.format(namespace=namespace, selector=f"{NAME}={catalog.MASTER}",
                                     master=catalog.MASTER, resources=f"{RESOURCES_DIR}/{RESOURCES_FILE}")
    container = {
        "name": BOOTSTRAP, "image": image,
        "imagePullPolicy": "IfNotPresent", "command": ["sh", "-c", script],
        "env": [{"name": "HOME", "value": "/tmp"}, {"name": "KUBECACHEDIR", "value": "/tmp/kube-cache"}],
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "resources", "mountPath": RESOURCES_DIR, "readOnly": True},
                         {"name": "tmp", "mountPath": "/tmp"}]}
    pod = {"serviceAccountName": BOOTSTRAP, "automountServiceAccountToken": True, "restartPolicy": "OnFailure",
           "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000,
                               "seccompProfile": {"type": "RuntimeDefault"}},
           "containers": [container],
           "volumes": [{"name": "resources", "configMap": {"name": "kuscia-resources"}},
                       {"name": "tmp", "emptyDir": {}}]}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "labels": {NAME: BOOTSTRAP}},
            "spec": {"backoffLimit": 20, "template": {"metadata": {"labels": {NAME: BOOTSTRAP}}, "spec": pod}}}
