"""The checks every runtime shares: ids, clusters and namespaces, module lists and the maps
keyed by module, exposure, storage and ingress. They read the runtime's catalog (which
modules are stateful, have a web UI, are the router) and name no module themselves."""

from __future__ import annotations

from collections.abc import Iterator

from ..catalog import base_resources
from ..diagnostics import FieldPath, Finding, format_path, warning
from ..runtime import Runtime
from .members import Member, members
from .model import Party, Spec
from .sops import check_sops, generated_secrets
from .structure import camel, did_you_mean
from .values import host_name, quantity_value

Found = Iterator[tuple[FieldPath, str] | Finding]


def check_ids(spec: Spec, runtime: Runtime) -> Found:
    seen: dict[str, FieldPath] = {}
    for member in members(spec):
        path = member.path + ("id",)
        try:
            runtime.party_id(member.id)
        except ValueError as err:
            yield path, str(err)
        if member.id in seen:
            yield path, f"duplicate party id {member.id} (first at {format_path(seen[member.id])})"
        seen.setdefault(member.id, path)


def check_clusters(spec: Spec, runtime: Runtime) -> Found:
    names = [c.name for c in spec.clusters or ()]
    yield from _duplicates(names, ("spec", "clusters"), "name", "cluster")
    yield from _duplicates([n.name for n in spec.nodes or ()], ("spec", "nodes"), "name", "node")
    taken: dict[tuple[str, str], FieldPath] = {}
    for member in members(spec):
        if member.cluster and member.cluster not in names:
            yield member.path + ("cluster",), f"unknown cluster {member.cluster!r}" \
                                              + did_you_mean(member.cluster, names)
        key = (member.cluster, member.namespace)
        if key in taken:
            yield member.path + ("namespace",), f"namespace {member.namespace!r} already used in cluster " \
                                                f"{member.cluster} by {format_path(taken[key])}"
        taken.setdefault(key, member.path)


def _duplicates(values: list[str], path: FieldPath, field: str, what: str) -> Found:
    first: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in first:
            yield path + (index, field), f"duplicate {what} {value!r} (first at {format_path(path + (first[value],))})"
        first.setdefault(value, index)


def check_modules(spec: Spec, runtime: Runtime) -> Found:
    """A party's own module list: known, of this release, once each, the router and what each requires."""
    release = runtime.releases[spec.version]
    for index, party in enumerate(spec.parties):
        if party.modules is None:
            continue
        path = ("spec", "parties", index, "modules")
        seen = set()
        for i, name in enumerate(party.modules):
            if name not in runtime.modules:
                yield path + (i,), f"unknown module {name!r}; expected one of {', '.join(release.modules)}" \
                                   + did_you_mean(name, list(release.modules))
            elif name not in release.modules:
                yield path + (i,), f"{name} is not part of {runtime.name} {release.version} " \
                                   f"(its router is {release.router})"
            elif name in seen:
                yield path + (i,), f"{name} is listed twice"
            seen.add(name)
        if release.router not in seen:
            yield path, f"every party needs the router {release.router}"
        for name in sorted(seen & set(release.modules)):
            for needed in runtime.modules[name].requires:
                if needed not in seen:
                    yield path, f"{name} requires {needed}"


def check_module_keys(spec: Spec, runtime: Runtime) -> Found:
    """Maps keyed by module (replicas, resources) name modules the member runs; Secrets the catalog's."""
    release = runtime.releases[spec.version]
    for member in members(spec):
        modules = {module.name: module for module in runtime.modules_of(member, release)}
        party = member.party
        for field, keys in (("replicas", party.replicas if party else None), ("resources", member.spec.resources)):
            for name in keys or {}:
                if name in modules:
                    continue
                elsewhere = runtime.modules.get(name)
                if elsewhere is not None and elsewhere.router and name not in release.modules:
                    yield member.path + (field, name), f"{name} is not part of {runtime.name} {release.version}: " \
                                                       f"its router is {release.router}"
                else:
                    yield member.path + (field, name), f"{name!r} is not a module of this {member.kind}" \
                                                       + did_you_mean(name, list(modules))
        if party is None:
            continue
        for name, count in (party.replicas or {}).items():
            if name in modules and not modules[name].scalable and count != 1:
                yield member.path + ("replicas", name), f"{name} runs as a single replica"
        for name in party.secrets or {}:
            if name not in runtime.secrets:
                yield member.path + ("secrets", name), f"unknown secret {name!r}; expected one of " \
                    f"{', '.join(runtime.secrets)}" + did_you_mean(name, list(runtime.secrets))


def check_exposure(spec: Spec, runtime: Runtime) -> Found:
    used: dict[tuple[str, int], FieldPath] = {}
    for member in members(spec):
        yield from _check_endpoint(member)
        expose = member.spec.expose
        if expose is None:
            continue
        path = member.path + ("expose",)
        if expose.node_port is not None and expose.service_type is None:
            yield path + ("nodePort",), "needs type NodePort or LoadBalancer"
        if expose.load_balancer_ip is not None and expose.type != "LoadBalancer":
            yield path + ("loadBalancerIP",), "needs type LoadBalancer"
        if expose.node_port is not None:
            key = (member.cluster, expose.node_port)
            if key in used:
                yield path + ("nodePort",), f"{expose.node_port} already used in cluster {member.cluster} by " \
                                            f"{format_path(used[key])}"
            used.setdefault(key, path + ("nodePort",))


def _check_endpoint(member: Member) -> Found:
    """An endpoint is where peers dial: something must listen there, on that port."""
    endpoint, expose = member.endpoint, member.spec.expose
    if endpoint is None:
        return
    path = member.path + ("endpoint",)
    if expose is None or not expose.outside:
        yield path, f"{member.label()}: nothing exposes its router, so peers would dial {endpoint} where " \
                    f"nothing listens; set expose.type NodePort or LoadBalancer (or External when a proxy " \
                    f"or load balancer kfplug does not manage publishes it)"
    elif expose.type == "NodePort" and expose.node_port is None:
        yield warning(member.path + ("expose",), f"Kubernetes picks a random node port, which peers dialling "
                                                 f"{endpoint} cannot know; set nodePort: {endpoint.port}")
    elif expose.type == "NodePort" and expose.node_port != endpoint.port:
        yield warning(path, f"peers dial port {endpoint.port}, but the router's node port is {expose.node_port}; "
                            f"fine only if something in front forwards {endpoint.port} to it")


def _parties(spec: Spec) -> Iterator[tuple[Member, Party]]:
    for member in members(spec):
        if member.party is not None:
            yield member, member.party


def check_storage(spec: Spec, runtime: Runtime) -> Found:
    release = runtime.releases[spec.version]
    for member, party in _parties(spec):
        storage = party.storage
        if storage is None:
            continue
        path = member.path + ("storage",)
        kinds = [key for key, value in (("storageClass", storage.storage_class), ("nfs", storage.nfs),
                                        ("none", storage.none)) if value is not None]
        if len(kinds) > 1:
            yield path, f"choose one of storageClass, nfs and none, not {' and '.join(kinds)}"
        stateful = {m.name: m for m in runtime.modules_of(member, release) if m.stateful}
        if storage.none is False:
            yield path + ("none",), "write none: true, or leave it out"
        elif storage.none:
            yield warning(path + ("none",), f"emptyDir storage: {', '.join(stateful)} lose their data when a pod "
                                            f"restarts")
        for field in ("sizes", "existing_claims"):
            for name in getattr(storage, field) or {}:
                if name not in stateful:
                    yield path + (camel(field), name), f"{name!r} is not a stateful module of this party " \
                                                        f"({', '.join(stateful)})"
        for name in storage.existing_claims or {}:
            replicas = party.replica_count(name, stateful[name].replicas) if name in stateful else 1
            if replicas > 1:
                yield path + ("existingClaims", name), f"one claim cannot serve the {replicas} replicas of {name}"


def check_ingress(spec: Spec, runtime: Runtime) -> Found:
    release = runtime.releases[spec.version]
    seen: dict[str, FieldPath] = {}
    for member, party in _parties(spec):
        ingress = party.ingress
        if ingress is None:
            continue
        path = member.path + ("ingress",)
        web = [m.name for m in runtime.modules_of(member, release) if m.web_port]
        for name in ingress.hosts or {}:
            if name not in web:
                yield path + ("hosts", name), f"{name!r} is not a module with a web UI in this party " \
                                              f"({', '.join(web)})"
        for name in web:
            host = party.ingress_host(name)
            if host is None:
                yield path, f"needs domain, or hosts.{name}"
                continue
            where = path + (("hosts", name) if ingress.hosts and name in ingress.hosts else ("domain",))
            try:
                host_name(host)
            except ValueError as error:
                yield where, str(error)
            if host in seen:
                yield where, f"host {host} is already used by {format_path(seen[host])}"
            seen.setdefault(host, where)


def check_resources(spec: Spec, runtime: Runtime) -> Found:
    """A limit below its request, once the spec's resources are merged over the base's, is refused by the
    API server: say so here, with the merged values."""
    release = runtime.releases[spec.version]
    for member in members(spec):
        modules = {module.name: module for module in runtime.modules_of(member, release)}
        for name, wanted in (member.spec.resources or {}).items():
            if name not in modules:
                continue  # reported by check_module_keys
            base = base_resources(release.base(runtime.name, name), modules[name])
            requests = {**base.get("requests", {}), **(wanted.requests or {})}
            limits = {**base.get("limits", {}), **(wanted.limits or {})}
            for resource in sorted(requests.keys() & limits.keys()):
                if quantity_value(limits[resource]) < quantity_value(requests[resource]):
                    yield member.path + ("resources", name), \
                        f"{name}'s {resource} limit {limits[resource]} is below its request {requests[resource]} " \
                        f"(the spec's values merged over the base's); the API server would refuse the pod"


def _check_git_can_build(spec: Spec, runtime: Runtime) -> Found:
    """Deployed from Git, an overlay cannot read Secrets generated from git-ignored .env files."""
    generating = [(member, names) for member in members(spec)
                  if (names := generated_secrets(spec, runtime, member))]
    if generating:
        who = "; ".join(f"{member.label()}: {', '.join(names)}" for member, names in generating)
        yield ("spec", "gitops"), f"the overlays generate Secrets from git-ignored .env files ({who}), so a " \
                                  f"clone of the repository cannot build them: keep them in Git encrypted " \
                                  f"(spec.gitops.sops), or name existing Secrets (secrets.<name>.secretName)"


def check_gitops(spec: Spec, runtime: Runtime) -> Found:
    """Clusters named under gitops exist; each member's Secrets kept in Git have recipients, and its own
    recipients need spec.gitops.sops; Argo CD cannot read SOPS-encrypted Secrets by itself."""
    yield from check_sops(spec, runtime)
    gitops = spec.gitops
    if gitops is None:
        return
    names = [c.name for c in spec.clusters or ()]
    per_cluster = (("flux", "kubeConfigSecrets", gitops.flux.kube_config_secrets if gitops.flux else None),
                   ("argocd", "destinations", gitops.argocd.destinations if gitops.argocd else None))
    for tool, field, mapping in per_cluster:
        for cluster in mapping or {}:
            if cluster not in names:
                yield ("spec", "gitops", tool, field, cluster), f"unknown cluster {cluster!r}" \
                                                                + did_you_mean(cluster, names)
    if (gitops.flux is not None or gitops.argocd is not None) and gitops.sops is None:
        yield from _check_git_can_build(spec, runtime)
    if gitops.argocd is not None and gitops.sops is not None:
        yield warning(("spec", "gitops", "sops"), "Argo CD does not decrypt SOPS by itself: its repo server needs "
                                                  "a SOPS plugin (e.g. KSOPS), or the overlays cannot be built")
