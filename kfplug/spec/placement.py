"""Checks of placement: selectors and required node affinity against the node inventory,
tolerations, affinity to the last field, and `nodes:` pinning. Each yields (path, message).

The inventory `spec.nodes` is the whole of the clusters it describes: those of the members that
pin a module to its nodes by name, or the federation's one cluster. A member on such a
cluster whose nodeSelector, required node affinity or pinned nodes (alone or as its pods get them
together) leave no inventory node would have its pods stay Pending."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import FieldPath
from ..runtime import Runtime
from .members import members
from .model import (
    Affinity,
    LabelSelectorRequirement,
    ModulePlacement,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Placement,
    PodAffinityTerm,
    Spec,
    Toleration,
)
from .structure import did_you_mean

Found = Iterator[tuple[FieldPath, str]]
Inventory = dict[str, dict[str, str]]  # node name -> its labels


def check_placement(spec: Spec, runtime: Runtime) -> Found:
    inventory: Inventory = {node.name: node.labels or {} for node in spec.nodes or ()}
    release = runtime.releases[spec.version]
    everyone = members(spec)
    pinning = {m.cluster for m in everyone if m.spec.placement
               and any(o.nodes for o in (m.spec.placement.modules or {}).values())}
    clusters = {m.cluster for m in everyone}
    described = pinning or (clusters if len(clusters) == 1 else set())
    for member in everyone:
        placement: Placement | None = member.spec.placement
        if placement is None:
            continue
        path = member.path + ("placement",)
        modules = {module.name: module for module in runtime.modules_of(member, release)}
        # the inventory this member's pods are placed on, if spec.nodes describes its cluster
        nodes = inventory if member.cluster in described else {}
        yield from _check_tolerations(placement.tolerations, path)
        yield from _check_affinity(placement.affinity, path + ("affinity",))
        yield from _check_fit(placement, None, nodes, path, party_path=None)
        for name, override in (placement.modules or {}).items():
            here = path + ("modules", name)
            if name not in modules:
                yield here, f"{name!r} is not a module of this {member.kind}" + did_you_mean(name, list(modules))
                continue
            yield from _check_tolerations(override.tolerations, here)
            yield from _check_affinity(override.affinity, here + ("affinity",))
            yield from _check_fit(placement, override, nodes, here, party_path=path)
            if override.nodes:
                party = member.party
                replicas = party.replica_count(name, modules[name].replicas) if party else modules[name].replicas
                yield from _check_nodes(override.nodes, inventory, here + ("nodes",), replicas)
                own = override.affinity
                if own is not None and (own.node_affinity or own.pod_anti_affinity):
                    yield here + ("nodes",), ("sets the module's nodeAffinity and podAntiAffinity itself; "
                                              "give either nodes or affinity.nodeAffinity/podAntiAffinity")


def _check_tolerations(tolerations: tuple[Toleration, ...] | None, path: FieldPath) -> Found:
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


def _check_affinity(affinity: Affinity | None, path: FieldPath) -> Found:
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
        for i, pod_term in enumerate(part.required_during_scheduling_ignored_during_execution or ()):
            yield from _check_pod_term(pod_term, path + (name, REQUIRED, i))
        for i, weighted in enumerate(part.preferred_during_scheduling_ignored_during_execution or ()):
            yield from _check_pod_term(weighted.pod_affinity_term, path + (name, PREFERRED, i, "podAffinityTerm"))


def _check_node_term(term: NodeSelectorTerm, path: FieldPath) -> Found:
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


def _check_pod_term(term: PodAffinityTerm, path: FieldPath) -> Found:
    for selector, name in ((term.label_selector, "labelSelector"), (term.namespace_selector, "namespaceSelector")):
        for i, requirement in enumerate((selector.match_expressions or ()) if selector else ()):
            yield from _check_requirement(requirement, path + (name, "matchExpressions", i))


def _check_requirement(requirement: NodeSelectorRequirement | LabelSelectorRequirement, path: FieldPath) -> Found:
    values: tuple[str, ...] = requirement.values or ()
    operator = requirement.operator
    if operator in ("In", "NotIn") and not values:
        yield path + ("values",), f"operator {operator} needs at least one value"
    elif operator in ("Exists", "DoesNotExist") and values:
        yield path + ("values",), f"must be empty when operator is {operator}"
    elif operator in ("Gt", "Lt") and (len(values) != 1 or not values[0].removeprefix("-").isdigit()):
        yield path + ("values",), f"operator {operator} takes exactly one integer value (quoted)"


def _check_fit(party: Placement, override: ModulePlacement | None, inventory: Inventory, path: FieldPath,
               party_path: FieldPath | None) -> Found:
    """The inventory nodes a placement leaves, by each of its fields and by all of them, as the
    module's pods get them (compile/placement.py): a module's nodeSelector or affinity replaces the
    party's, and pinning by name replaces the node affinity. For a module only what its own fields
    add is reported; the party's own fields are reported once, at the party."""
    if not inventory or (party_path is not None and override is None):
        return
    own = override or party
    selector = own.node_selector if own.node_selector is not None else party.node_selector
    affinity = own.affinity if own.affinity is not None else party.affinity
    required = _required_terms(affinity)
    pinned = override.nodes if override else None
    wanted = ", ".join(f"{k}={v}" for k, v in (selector or {}).items())
    fits = {
        "nodeSelector": {n for n, labels in inventory.items() if _has_labels(labels, selector or {})},
        "affinity": {n for n, labels in inventory.items() if pinned or required is None
                     or any(_term_matches(t, n, labels) for t in required)},
    }
    if own.node_selector and not fits["nodeSelector"]:
        yield path + ("nodeSelector",), f"no node in spec.nodes has the labels {wanted}; the pods would stay Pending"
    if own.affinity is not None and required is not None and not pinned and not fits["affinity"]:
        yield (path + ("affinity", "nodeAffinity", REQUIRED, "nodeSelectorTerms"),
               "no node in spec.nodes matches any of these terms; the pods would stay Pending")
    if not all(fits.values()):
        return  # reported above, or at the party
    if pinned:
        for i, node in enumerate(pinned):
            if node in inventory and node not in fits["nodeSelector"]:
                yield path + ("nodes", i), (f"node {node!r} lacks the labels {wanted} of the nodeSelector; "
                                            "the replica placed there would stay Pending")
    elif not fits["nodeSelector"] & fits["affinity"] and (override is None or own.node_selector or own.affinity):
        yield path, ("no node in spec.nodes has both the nodeSelector's labels and the required node affinity; "
                     "the pods would stay Pending")


def _required_terms(affinity: Affinity | None) -> tuple[NodeSelectorTerm, ...] | None:
    node = affinity.node_affinity if affinity else None
    required = node.required_during_scheduling_ignored_during_execution if node else None
    return required.node_selector_terms if required else None


def _has_labels(labels: dict[str, str], selector: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _term_matches(term: NodeSelectorTerm, name: str, labels: dict[str, str]) -> bool:
    """As the scheduler reads a node selector term: its requirements ANDed (an empty term matches nothing)."""
    expressions = [(r, labels.get(r.key)) for r in term.match_expressions or ()]
    expressions += [(r, name) for r in term.match_fields or ()]  # only metadata.name (checked above)
    return bool(expressions) and all(_requirement_holds(r, value) for r, value in expressions)


def _requirement_holds(requirement: NodeSelectorRequirement, value: str | None) -> bool:
    values = requirement.values or ()
    match requirement.operator:
        case "In":
            return value in values
        case "NotIn":
            return value not in values
        case "Exists":
            return value is not None
        case "DoesNotExist":
            return value is None
    try:  # Gt, Lt: the label and the value as integers
        number, bound = int(value or ""), int(values[0])
    except (ValueError, IndexError):
        return False
    return number > bound if requirement.operator == "Gt" else number < bound


def _check_nodes(nodes: tuple[str, ...], inventory: Inventory, path: FieldPath, replicas: int) -> Found:
    if not inventory:
        yield path, "placing by node name needs the node inventory spec.nodes"
        return
    for i, node in enumerate(nodes):
        if node not in inventory:
            yield path + (i,), f"unknown node {node!r}" + did_you_mean(node, list(inventory))
    if replicas > len(nodes):
        yield path, f"{replicas} replicas cannot spread one per node over {len(nodes)} node(s)"
