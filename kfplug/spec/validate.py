"""Semantic checks on a resolved Federation: cross references, the runtime
catalog, uniqueness and reachability. Every check yields (path, message)."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import Issue, format_path
from ..runtimes import RUNTIMES
from ..runtimes.catalog import Runtime
from ..runtimes.kuscia import MASTER as KUSCIA_MASTER
from . import kuscia
from .model import KUSCIA_FIELDS, Federation, Party, Spec
from .structure import camel, did_you_mean
from .topology import links, members, reach

Found = Iterator[tuple[tuple, str]]
WARNING = "warning: "  # a message with this prefix is reported, and rendering goes on


def validate(federation: Federation, locator) -> list[Issue]:
    spec = federation.spec
    found = list(_check_runtime(spec))
    runtime = RUNTIMES.get(spec.runtime)
    if not found and runtime is not None:
        for check in CHECKS[runtime.name]:
            found += check(spec, runtime)
    return [locator.issue(path, message.removeprefix(WARNING), "warning" if message.startswith(WARNING) else "error")
            for path, message in found]


def _check_runtime(spec: Spec) -> Found:
    runtime = RUNTIMES.get(spec.runtime)
    if runtime is None:
        yield ("spec", "runtime"), f"runtime {spec.runtime!r} is not implemented yet (available: " \
                                   f"{', '.join(RUNTIMES)})"
        return
    if spec.version not in runtime.releases:
        yield ("spec", "version"), f"{runtime.name} {spec.version!r} is not in the catalog (known: " \
                                   f"{', '.join(runtime.releases)})"
    if not spec.parties:
        yield ("spec", "parties"), "at least one party is required"
    if runtime.name == "fate":
        yield from _no_kuscia_fields(spec)


def _no_kuscia_fields(spec: Spec) -> Found:
    if spec.master is not None:
        yield ("spec", "master"), "only the kuscia runtime has a master"
    if spec.routes is not None:
        yield ("spec", "routes"), "only the kuscia runtime takes routes; fate derives them"
    for path in kuscia.fields_set(spec, KUSCIA_FIELDS):
        yield path, "a kuscia field; the fate runtime does not take it"


def _check_ids(spec: Spec, runtime: Runtime) -> Found:
    seen: dict[str, tuple] = {}
    named = [(("spec", "parties", i), p.id) for i, p in enumerate(spec.parties)]
    if spec.exchange is not None:
        named.insert(0, (("spec", "exchange"), spec.exchange.id))
    if spec.master is not None:
        named.insert(0, (("spec", "master"), spec.master.id))
    for path, party_id in named:
        try:
            runtime.party_id(party_id)
        except ValueError as err:
            yield path + ("id",), str(err)
        if party_id in seen:
            yield path + ("id",), f"duplicate party id {party_id} (first at {format_path(seen[party_id])})"
        seen.setdefault(party_id, path + ("id",))


def _check_clusters(spec: Spec, runtime: Runtime) -> Found:
    names = [c.name for c in spec.clusters]
    known = set(names)  # a federation may have as many clusters as parties
    yield from _duplicates(names, ("spec", "clusters"), "name", "cluster")
    yield from _duplicates([n.name for n in spec.nodes or ()], ("spec", "nodes"), "name", "node")
    for member in members(spec, "", 0):
        if member.cluster is not None and member.cluster not in known:
            yield member.path + ("cluster",), f"unknown cluster {member.cluster!r}" \
                                              + did_you_mean(member.cluster, names)
    taken: dict[tuple, tuple] = {}
    for member in members(spec, "", 0):
        key = (member.cluster, member.namespace)
        if key in taken:
            yield member.path + ("namespace",), f"namespace {member.namespace!r} already used in cluster " \
                                                f"{member.cluster} by {format_path(taken[key])}"
        taken.setdefault(key, member.path)


def _duplicates(values: list[str], path: tuple, field: str, what: str) -> Found:
    first: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in first:
            yield path + (index, field), f"duplicate {what} {value!r} (first at {format_path(path + (first[value],))})"
        first.setdefault(value, index)


def _check_modules(spec: Spec, runtime: Runtime) -> Found:
    release = runtime.releases[spec.version]
    for index, party in enumerate(spec.parties):
        path = ("spec", "parties", index)
        yield from _module_list(party, path, runtime, release)
        yield from _module_keys(party, path, runtime)


def _module_list(party: Party, path: tuple, runtime: Runtime, release) -> Found:
    seen = set()
    for i, name in enumerate(party.modules):
        if name not in runtime.modules:
            yield path + ("modules", i), f"unknown module {name!r}; expected one of " \
                                         f"{', '.join(release.modules)}" + did_you_mean(name, list(release.modules))
        elif name not in release.modules:
            yield path + ("modules", i), f"{name} is not part of {runtime.name} {release.version} " \
                                         f"(its router is {release.router})"
        elif name in seen:
            yield path + ("modules", i), f"{name} is listed twice"
        seen.add(name)
    if release.router not in seen:
        yield path + ("modules",), f"every party needs the router {release.router}"
    for name in sorted(seen & set(release.modules)):
        for needed in runtime.modules[name].requires:
            if needed not in seen:
                yield path + ("modules",), f"{name} requires {needed}"


def _module_keys(party: Party, path: tuple, runtime: Runtime) -> Found:
    """Maps keyed by module name (replicas, resources) name modules the party runs."""
    for field in ("replicas", "resources"):
        for name in getattr(party, field) or {}:
            if name not in party.modules:
                yield path + (field, name), f"{name!r} is not a module of this party" \
                                            + did_you_mean(name, list(party.modules))
    for name, count in (party.replicas or {}).items():
        module = runtime.modules.get(name)
        if module is not None and not module.scalable and count != 1:
            yield path + ("replicas", name), f"{name} runs as a single replica"
    for name in party.secrets or {}:
        if name not in runtime.secrets:
            yield path + ("secrets", name), f"unknown secret {name!r}; expected one of " \
                                            f"{', '.join(runtime.secrets)}" + did_you_mean(name, list(runtime.secrets))


def _check_reachability(spec: Spec, runtime: Runtime) -> Found:
    release = runtime.releases[spec.version]
    everyone = members(spec, release.router, 0)
    by_name = {m.name: m for m in everyone}
    unreachable: dict[str, list[str]] = {}
    for source_name, targets in links(everyone).items():
        source = by_name[source_name]
        for target in targets:
            if source.cluster is not None and target.cluster is not None and reach(source, target) is None:
                unreachable.setdefault(target.name, []).append(source.name)
    for target_name, sources in unreachable.items():
        target = by_name[target_name]
        yield target.path + ("endpoint",), (
            f"required: party {target.id} (cluster {target.cluster}) is reached from other clusters by "
            f"{', '.join(_label(by_name[s]) for s in sources)}")


def _label(member) -> str:
    return f"{member.name} (cluster {member.cluster})" if member.name == "exchange" \
        else f"party {member.id} (cluster {member.cluster})"


def _check_exposure(spec: Spec, runtime: Runtime) -> Found:
    used: dict[tuple, tuple] = {}
    for member_path, expose, cluster in _exposures(spec):
        if expose is None:
            continue
        path = member_path + ("expose",)
        if expose.node_port is not None and expose.type not in ("NodePort", "LoadBalancer"):
            yield path + ("nodePort",), "needs type NodePort or LoadBalancer"
        if expose.load_balancer_ip is not None and expose.type != "LoadBalancer":
            yield path + ("loadBalancerIP",), "needs type LoadBalancer"
        if expose.node_port is not None:
            key = (cluster, expose.node_port)
            if key in used:
                yield path + ("nodePort",), f"{expose.node_port} already used in cluster {cluster} by " \
                                            f"{format_path(used[key])}"
            used.setdefault(key, path + ("nodePort",))


def _exposures(spec: Spec):
    if spec.exchange is not None:
        yield ("spec", "exchange"), spec.exchange.expose, spec.exchange.cluster
    if spec.master is not None:
        yield ("spec", "master"), spec.master.expose, spec.master.cluster
    for index, party in enumerate(spec.parties):
        yield ("spec", "parties", index), party.expose, party.cluster


def _placed(spec: Spec, runtime: Runtime):
    """(path, placement, its module names, the party or None) of every party, the exchange and the master."""
    router = runtime.releases[spec.version].router
    if spec.exchange is not None and spec.exchange.placement is not None:
        yield ("spec", "exchange", "placement"), spec.exchange.placement, (router,), None
    if spec.master is not None and spec.master.placement is not None:
        yield ("spec", "master", "placement"), spec.master.placement, (KUSCIA_MASTER,), None
    for index, party in enumerate(spec.parties):
        if party.placement is not None:
            modules = party.modules if runtime.name == "fate" else (router,)
            yield ("spec", "parties", index, "placement"), party.placement, modules, party


def _check_placement(spec: Spec, runtime: Runtime) -> Found:
    inventory = {node.name: node.labels or {} for node in spec.nodes or ()}
    for path, placement, modules, party in _placed(spec, runtime):
        if placement.node_selector:
            yield from _selector_matches(placement.node_selector, inventory, path + ("nodeSelector",))
        yield from _check_tolerations(placement.tolerations, path)
        yield from _check_affinity(placement.affinity, path + ("affinity",))
        for name, override in (placement.modules or {}).items():
            here = path + ("modules", name)
            if name not in modules:
                yield here, f"{name!r} is not a module of this party" + did_you_mean(name, list(modules))
                continue
            if override.node_selector:
                yield from _selector_matches(override.node_selector, inventory, here + ("nodeSelector",))
            yield from _check_tolerations(override.tolerations, here)
            yield from _check_affinity(override.affinity, here + ("affinity",))
            if override.nodes:
                yield from _check_nodes(override.nodes, inventory, here + ("nodes",),
                                        _replica_count(runtime.modules[name], party))
                own = override.affinity
                if own is not None and (own.node_affinity or own.pod_anti_affinity):
                    yield here + ("nodes",), ("sets the module's nodeAffinity and podAntiAffinity itself; "
                                              "give either nodes or affinity.nodeAffinity/podAntiAffinity")


def _check_tolerations(tolerations, path: tuple) -> Found:
    for index, toleration in enumerate(tolerations or ()):
        here = path + ("tolerations", index)
        if toleration.operator == "Exists" and toleration.value:
            yield here + ("value",), "must be empty when operator is Exists"
        if toleration.key is None and toleration.operator != "Exists":
            yield here + ("operator",), "a toleration without a key must have operator Exists"
        if toleration.toleration_seconds is not None and toleration.effect != "NoExecute":
            yield here + ("tolerationSeconds",), "applies only with effect NoExecute"


REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"


def _check_affinity(affinity, path: tuple) -> Found:
    """What the types cannot say: operators and their values, node field selectors, empty terms."""
    if affinity is None:
        return
    node = affinity.node_affinity
    if node is not None:
        required = node.required_during_scheduling_ignored_during_execution
        if required is not None:
            terms = path + ("nodeAffinity", REQUIRED, "nodeSelectorTerms")
            if not required.node_selector_terms:
                yield terms, "needs at least one term"
            for i, term in enumerate(required.node_selector_terms):
                yield from _check_node_term(term, terms + (i,))
        for i, preferred in enumerate(node.preferred_during_scheduling_ignored_during_execution or ()):
            yield from _check_node_term(preferred.preference, path + ("nodeAffinity", PREFERRED, i, "preference"))
    for part, name in ((affinity.pod_affinity, "podAffinity"), (affinity.pod_anti_affinity, "podAntiAffinity")):
        if part is None:
            continue
        for i, term in enumerate(part.required_during_scheduling_ignored_during_execution or ()):
            yield from _check_pod_term(term, path + (name, REQUIRED, i))
        for i, weighted in enumerate(part.preferred_during_scheduling_ignored_during_execution or ()):
            yield from _check_pod_term(weighted.pod_affinity_term, path + (name, PREFERRED, i, "podAffinityTerm"))


def _check_node_term(term, path: tuple) -> Found:
    if not term.match_expressions and not term.match_fields:
        yield path, "an empty term matches no node; give matchExpressions or matchFields"
    for i, requirement in enumerate(term.match_expressions or ()):
        yield from _check_requirement(requirement, path + ("matchExpressions", i))
    for i, requirement in enumerate(term.match_fields or ()):
        here = path + ("matchFields", i)
        if requirement.key != "metadata.name":
            yield here + ("key",), f"{requirement.key!r}: a node field selector supports only metadata.name"
        elif requirement.operator not in ("In", "NotIn") or len(requirement.values or ()) != 1:
            yield here, "metadata.name takes operator In or NotIn and exactly one value (one term per node)"


def _check_pod_term(term, path: tuple) -> Found:
    for selector, name in ((term.label_selector, "labelSelector"), (term.namespace_selector, "namespaceSelector")):
        for i, requirement in enumerate((selector.match_expressions or ()) if selector else ()):
            yield from _check_requirement(requirement, path + (name, "matchExpressions", i))


def _check_requirement(requirement, path: tuple) -> Found:
    values, operator = requirement.values or (), requirement.operator
    if operator in ("In", "NotIn") and not values:
        yield path + ("values",), f"operator {operator} needs at least one value"
    elif operator in ("Exists", "DoesNotExist") and values:
        yield path + ("values",), f"must be empty when operator is {operator}"
    elif operator in ("Gt", "Lt") and (len(values) != 1 or not values[0].removeprefix("-").isdigit()):
        yield path + ("values",), f"operator {operator} takes exactly one integer value (quoted)"


def _replica_count(module, party) -> int:
    return ((party.replicas or {}) if party is not None else {}).get(module.name, module.replicas)


def _selector_matches(selector: dict, inventory: dict, path: tuple) -> Found:
    if inventory and not any(all(labels.get(k) == v for k, v in selector.items()) for labels in inventory.values()):
        wanted = ", ".join(f"{k}={v}" for k, v in selector.items())
        yield path, f"no node in spec.nodes has the labels {wanted}; the pods would stay Pending"


def _check_nodes(nodes: tuple, inventory: dict, path: tuple, replicas: int) -> Found:
    if not inventory:
        yield path, "placing by node name needs the node inventory spec.nodes"
        return
    for i, node in enumerate(nodes):
        if node not in inventory:
            yield path + (i,), f"unknown node {node!r}" + did_you_mean(node, list(inventory))
    if replicas > len(nodes):
        yield path, f"{replicas} replicas cannot spread one per node over {len(nodes)} node(s)"


def _check_storage(spec: Spec, runtime: Runtime) -> Found:
    for index, party in enumerate(spec.parties):
        storage = party.storage
        if storage is None:
            continue
        path = ("spec", "parties", index, "storage")
        kinds = [key for key, value in (("storageClass", storage.storage_class), ("nfs", storage.nfs),
                                        ("none", storage.none)) if value is not None]
        if len(kinds) > 1:
            yield path, f"choose one of storageClass, nfs and none, not {' and '.join(kinds)}"
        if storage.none is False:
            yield path + ("none",), "write none: true, or leave it out"
        elif storage.none:
            yield path + ("none",), WARNING + "emptyDir storage: mysql, fateflow, nodemanager and client lose " \
                                              "their data when a pod restarts"
        stateful = [m for m in party.modules if runtime.modules[m].stateful]
        for field in ("sizes", "existing_claims"):
            for name in getattr(storage, field) or {}:
                if name not in stateful:
                    yield path + (camel(field), name), f"{name!r} is not a stateful module of this party " \
                                                        f"({', '.join(stateful)})"
        for name in storage.existing_claims or {}:
            if name in stateful and _replica_count(runtime.modules[name], party) > 1:
                yield path + ("existingClaims", name), f"one claim cannot serve the " \
                    f"{_replica_count(runtime.modules[name], party)} replicas of {name}"


def _check_ingress(spec: Spec, runtime: Runtime) -> Found:
    from ..spec.values import host_name

    seen: dict[str, tuple] = {}
    for index, party in enumerate(spec.parties):
        ingress = party.ingress
        if ingress is None:
            continue
        path = ("spec", "parties", index, "ingress")
        web = [m for m in party.modules if runtime.modules[m].web_port]
        for name in ingress.hosts or {}:
            if name not in web:
                yield path + ("hosts", name), f"{name!r} is not a module with a web UI in this party " \
                                              f"({', '.join(web)})"
        for name in web:
            explicit = bool(ingress.hosts and name in ingress.hosts)
            if not explicit and not ingress.domain:
                yield path, f"needs domain, or hosts.{name}"
                continue
            host = ingress.hosts[name] if explicit else f"{party.id}.{name}.{ingress.domain}"
            where = path + (("hosts", name) if explicit else ("domain",))
            try:
                host_name(host)
            except ValueError as error:
                yield where, str(error)
            if host in seen:
                yield where, f"host {host} is already used by {format_path(seen[host])}"
            seen.setdefault(host, where)


def _kuscia(check):
    return lambda spec, runtime: check(spec)


CHECKS = {
    "fate": [_check_ids, _check_clusters, _check_modules, _check_reachability, _check_exposure,
             _check_placement, _check_storage, _check_ingress],
    "kuscia": [_check_ids, _check_clusters, _check_exposure, _check_placement, *map(_kuscia, kuscia.CHECKS)],
}
