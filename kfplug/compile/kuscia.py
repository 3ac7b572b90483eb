"""Federation -> Plan for Kuscia (centralized): overlays/master and one overlay per lite.

Each overlay: Namespace, the generated non-secret kuscia.yaml (ConfigMap kuscia-config),
patches naming the user's Secrets, images, exposure and NetworkPolicies. The master
overlay also carries the Domain and ClusterDomainRoute objects (ConfigMap kuscia-resources)
and the bootstrap Job that applies them inside the master's embedded k3s.
"""

from __future__ import annotations

import hashlib

from ..plan import MANAGED_BY, NAME, PART_OF, PARTY, ConfigMapGen, Image, Overlay, Patch, Plan, Resource
from ..runtimes import kuscia as catalog
from ..spec.kuscia import lite_pairs
from ..spec.model import Federation, Party
from ..spec.topology import MASTER, members
from ..yamlio import dump
from . import party, placement
from .context import PartyContext, plan_of, workload_patch
from .kuscia_network import network_policies

CRD_VERSION = "kuscia.secretflow/v1alpha1"
BOOTSTRAP = catalog.BOOTSTRAP_NAME


def compile_kuscia(federation: Federation) -> Plan:
    spec = federation.spec
    runtime = catalog.KUSCIA
    release = runtime.releases[spec.version]
    overlays = []
    for member in members(spec, catalog.LITE, catalog.ENVOY_PORT):
        holder = spec.master if member.name == MASTER else spec.parties[member.path[2]]
        module = runtime.modules[catalog.MASTER if member.name == MASTER else catalog.LITE]
        ctx = PartyContext(federation=federation, runtime=runtime, release=release, member=member, party=holder,
                           modules=(module,), peers=(), default_route=None, neighbours=())
        overlays.append(_overlay(ctx))
    return plan_of(federation, runtime, overlays)


def _overlay(ctx: PartyContext) -> Overlay:
    is_master = ctx.member.name == MASTER
    parts = [*party.namespace(ctx), _config(ctx), *_secret_patches(ctx), *party.pull_settings(ctx),
             *party.resource_overrides(ctx), *placement.placement(ctx), *_gateway_service(ctx),
             *network_policies(ctx)]
    if is_master:
        parts += _bootstrap(ctx)
    elif ctx.party.runtime == "runp":
        parts.append(workload_patch("runp.yaml", ctx.modules[0], pod={"automountServiceAccountToken": False}))
    return Overlay(
        name=ctx.member.name,
        namespace=ctx.member.namespace,
        cluster=ctx.member.cluster,
        bases=_bases(ctx.party, is_master),
        labels={MANAGED_BY: "kfplug", PART_OF: ctx.federation.metadata.name, PARTY: ctx.member.name},
        images=_images(ctx),
        config_maps=tuple(p for p in parts if isinstance(p, ConfigMapGen)),
        patches=tuple(p for p in parts if isinstance(p, Patch)),
        resources=tuple(p for p in parts if isinstance(p, Resource)),
    )


def _bases(holder, is_master: bool) -> tuple[str, ...]:
    """The master; a lite, with the runk Role and RoleBinding only where runk starts task pods."""
    if is_master:
        return ("kuscia/master",)
    return ("kuscia/lite", "kuscia/runk") if holder.runtime == "runk" else ("kuscia/lite",)


def _images(ctx: PartyContext) -> tuple[Image, ...]:
    """The Kuscia image (kuscia-secretflow for a runp lite; the bootstrap Job runs the plain one)."""
    registry = ctx.spec.images.registry if ctx.spec.images else None
    source = catalog.RUNP_IMAGE if getattr(ctx.party, "runtime", None) == "runp" else catalog.KUSCIA_IMAGE
    repository, tag = ctx.release.images[source]
    if registry:
        repository = f"{registry}/{repository.rsplit('/', 1)[-1]}"
    return (Image(catalog.KUSCIA_IMAGE, repository, tag),)


def _gateway_service(ctx: PartyContext):
    """An exposed domain gets a second Service, `<workload>-gateway`, with the gateway port only:
    exposing the main Service would give KusciaAPI (8082), 80 and 53 node ports too."""
    expose = ctx.party.expose
    if expose is None or expose.type in (None, "ClusterIP"):
        return
    module = ctx.modules[0].name
    port: dict = {"name": "envoy", "port": catalog.ENVOY_PORT, "targetPort": "envoy"}
    if expose.node_port is not None:
        port["nodePort"] = expose.node_port
    spec: dict = {"type": expose.type, "selector": {NAME: module}, "ports": [port]}
    if expose.load_balancer_ip is not None:
        spec["loadBalancerIP"] = expose.load_balancer_ip
    yield Resource("gateway-service.yaml", {"apiVersion": "v1", "kind": "Service",
                                            "metadata": {"name": f"{module}-gateway", "labels": {NAME: module}},
                                            "spec": spec})


def master_endpoint(master, lite: Party) -> str:
    """What a lite dials to register: the master's Service in its cluster, else its `endpoint`."""
    address = f"{catalog.MASTER}.{master.namespace}.svc.cluster.local:{catalog.ENVOY_PORT}" \
        if lite.cluster == master.cluster else master.endpoint
    return f"{catalog.scheme(master.protocol)}://{address}"


CAPACITY_KEYS = (("cpu", "cpu"), ("memory", "memory"), ("pods", "pods"), ("storage", "storage"),
                 ("ephemeralStorage", "ephemeral_storage"))
RUNP_MEASURED = {"cpu", "memory"}  # runp takes them from the container's limits and ignores the file's


def _config(ctx: PartyContext) -> ConfigMapGen:
    holder, module = ctx.party, ctx.modules[0]
    if ctx.member.name == MASTER:
        text = catalog.master_config(holder.id, holder.protocol)
    else:
        capacity = holder.capacity
        skipped = RUNP_MEASURED if holder.runtime == "runp" else set()
        values = {} if capacity is None else {
            key: _number_or_text(getattr(capacity, field)) for key, field in CAPACITY_KEYS
            if getattr(capacity, field) is not None and key not in skipped}
        text = catalog.lite_config(holder.id, holder.protocol, master_endpoint(ctx.spec.master, holder),
                                   holder.runtime, holder.namespace, values)
    # validation makes the cluster's DNS address required for Kuscia
    return ConfigMapGen("kuscia-config", module.name, {"kuscia.yaml": text,
                                                       "resolv.conf": catalog.resolv_conf(ctx.cluster_dns)})


def _number_or_text(quantity: str) -> int | str:
    """`4` and `500` as upstream's kuscia.yaml writes them (plain numbers); `8Gi` as text."""
    text = str(quantity)
    return int(text) if text.isdigit() else text


def deploy_token_secret(lite: Party) -> str:
    return lite.deploy_token_secret.secret_name if lite.deploy_token_secret else "kuscia-deploy-token"


def _secret_patches(ctx: PartyContext):
    """The base's Secret volumes get the user's Secret names (a lite's token Secret has a default name)."""
    holder = ctx.party
    names = {"domain-key": holder.key_secret.secret_name}
    if ctx.member.name == MASTER:
        names["datastore"] = holder.datastore.secret_name
    else:
        names["deploy-token"] = deploy_token_secret(holder)
    volumes = [{"name": volume, "secret": {"secretName": name}} for volume, name in names.items()]
    yield workload_patch("secrets.yaml", ctx.modules[0], pod={"volumes": volumes})


# --- Domain and ClusterDomainRoute, and the Job that applies them in the master's k3s -------------

def kuscia_resources(federation: Federation) -> list[dict]:
    """One Domain per lite, one ClusterDomainRoute per routed pair (no lite -> master routes:
    the master creates those when a Domain appears).

    As upstream's add_domain_lite.sh, but without its `domain/<id>` annotation (purpose not checked);
    routes leave out `requestHeadersToAdd`, whose placeholder upstream's script never fills
    (research: assumed unnecessary between lites, not verified)."""
    spec = federation.spec
    labels = {MANAGED_BY: "kfplug", PART_OF: federation.metadata.name}
    lites = {p.id: p for p in spec.parties}
    out = [{"apiVersion": CRD_VERSION, "kind": "Domain", "metadata": {"name": p.id, "labels": labels},
            "spec": {"authCenter": {"authenticationType": "Token", "tokenGenMethod": "RSA-GEN"}}}
           for p in spec.parties]
    for source, destination in lite_pairs(spec):
        out.append(_route(labels, lites[source], lites[destination]))
    return out


def _route(labels: dict, source: Party, destination: Party) -> dict:
    if source.cluster == destination.cluster:
        host, port = f"{catalog.LITE}.{destination.namespace}.svc.cluster.local", catalog.ENVOY_PORT
    else:
        host, _, text = destination.endpoint.rpartition(":")
        host, port = host.strip("[]"), int(text)
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


def _bootstrap(ctx: PartyContext):
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


def _job(name: str, namespace: str, image: str) -> dict:
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
