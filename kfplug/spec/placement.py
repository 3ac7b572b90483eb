"""Checks of placement: selectors against the node inventory, tolerations, affinity to the
last field, and `nodes:` pinning. Each yields (path, message)."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import FieldPath
from ..runtime import Runtime
from .members import members
from .model import (
    Affinity,
    LabelSelectorRequirement,
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
    for member in members(spec):
        placement: Placement | None = member.spec.placement
        if placement is None:
            continue
        path = member.path + ("placement",)
        modules = {module.name: module for module in runtime.modules_of(member, release)}
        if placement.node_selector:
            yield from _selector_matches(placement.node_selector, inventory, path + ("nodeSelector",))
        yield from _check_tolerations(placement.tolerations, path)
        yield from _check_affinity(placement.affinity, path + ("affinity",))
        for name, override in (placement.modules or {}).items():
            here = path + ("modules", name)
            if name not in modules:
                yield here, f"{name!r} is not a module of this {member.kind}" + did_you_mean(name, list(modules))
                continue
            if override.node_selector:
                yield from _selector_matches(override.node_selector, inventory, here + ("nodeSelector",))
            yield from _check_tolerations(override.tolerations, here)
            yield from _check_affinity(override.affinity, here + ("affinity",))
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


def _selector_matches(selector: dict[str, str], inventory: Inventory, path: FieldPath) -> Found:
    if inventory and not any(all(labels.get(k) == v for k, v in selector.items()) for labels in inventory.values()):
        wanted = ", ".join(f"{k}={v}" for k, v in selector.items())
        yield path, f"no node in spec.nodes has the labels {wanted}; the pods would stay Pending"


def _check_nodes(nodes: tuple[str, ...], inventory: Inventory, path: FieldPath, replicas: int) -> Found:
    if not inventory:
        yield path, "placing by node name needs the node inventory spec.nodes"
        return
    for i, node in enumerate(nodes):
        if node not in inventory:
            yield path + (i,), f"unknown node {node!r}" + did_you_mean(node, list(inventory))
    if replicas > len(nodes):
        yield path, f"{replicas} replicas cannot spread one per node over {len(nodes)} node(s)"
