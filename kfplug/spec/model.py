"""The FederationSpec v1alpha1 model. YAML keys are camelCase, fields snake_case;
`structure` maps them. Optional fields are None when the user left them out;
`defaults.resolve` fills them in."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

import attrs

from .values import (
    AbsolutePath,
    DNSLabel,
    DNSSubdomain,
    EndpointValue,
    HostName,
    ImagePrefix,
    CIDR,
    IPAddress,
    IPv4Address,
    LabelKey,
    Labels,
    NodePort,
    Port,
    PositiveInt,
    Quantity,
    Weight,
)


def _party_id(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value:
        return value
    raise ValueError(f"{value!r} is not a party id (a FATE integer, or a Kuscia domain name)")


PartyId = Annotated[Any, _party_id]


@attrs.frozen
class Metadata:
    name: DNSLabel
    labels: Optional[dict[str, str]] = None
    annotations: Optional[dict[str, str]] = None  # e.g. config.kubernetes.io/function for kustomize


@attrs.frozen
class Images:
    registry: Optional[ImagePrefix] = None
    pull_policy: Optional[Literal["Always", "IfNotPresent", "Never"]] = None
    pull_secrets: Optional[tuple[DNSSubdomain, ...]] = None


@attrs.frozen
class Cluster:
    name: DNSLabel
    dns: Optional[IPv4Address] = None  # the DNS server the cluster's pods use (kube-dns, or NodeLocal DNSCache)


@attrs.frozen
class Node:
    name: DNSSubdomain
    labels: Optional[Labels] = None


@attrs.frozen
class Expose:
    type: Optional[Literal["ClusterIP", "NodePort", "LoadBalancer"]] = None
    node_port: Optional[NodePort] = None
    load_balancer_ip: Optional[IPAddress] = attrs.field(default=None, metadata={"key": "loadBalancerIP"})

    @property
    def outside(self) -> bool:
        """Reachable from outside the cluster (a NodePort or a load balancer)."""
        return self.type in ("NodePort", "LoadBalancer")


@attrs.frozen
class Toleration:
    """A core/v1 Toleration, checked here so a typo fails at render, not at apply."""
    key: Optional[str] = None
    operator: Optional[Literal["Exists", "Equal"]] = None
    value: Optional[str] = None
    effect: Optional[Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]] = None
    toleration_seconds: Optional[int] = None


@attrs.frozen
class NodeSelectorRequirement:
    key: LabelKey
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: Optional[tuple[str, ...]] = None


@attrs.frozen
class NodeSelectorTerm:
    match_expressions: Optional[tuple[NodeSelectorRequirement, ...]] = None
    match_fields: Optional[tuple[NodeSelectorRequirement, ...]] = None


@attrs.frozen
class NodeSelector:
    node_selector_terms: tuple[NodeSelectorTerm, ...]


@attrs.frozen
class PreferredSchedulingTerm:
    weight: Weight
    preference: NodeSelectorTerm


@attrs.frozen
class NodeAffinity:
    required_during_scheduling_ignored_during_execution: Optional[NodeSelector] = None
    preferred_during_scheduling_ignored_during_execution: Optional[tuple[PreferredSchedulingTerm, ...]] = None


@attrs.frozen
class LabelSelectorRequirement:
    key: LabelKey
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: Optional[tuple[str, ...]] = None


@attrs.frozen
class LabelSelector:
    match_labels: Optional[Labels] = None
    match_expressions: Optional[tuple[LabelSelectorRequirement, ...]] = None


@attrs.frozen
class PodAffinityTerm:
    topology_key: LabelKey
    label_selector: Optional[LabelSelector] = None
    namespaces: Optional[tuple[DNSLabel, ...]] = None
    namespace_selector: Optional[LabelSelector] = None
    match_label_keys: Optional[tuple[LabelKey, ...]] = None
    mismatch_label_keys: Optional[tuple[LabelKey, ...]] = None


@attrs.frozen
class WeightedPodAffinityTerm:
    weight: Weight
    pod_affinity_term: PodAffinityTerm


@attrs.frozen
class PodAffinity:
    """core/v1 PodAffinity and PodAntiAffinity (the same fields)."""
    required_during_scheduling_ignored_during_execution: Optional[tuple[PodAffinityTerm, ...]] = None
    preferred_during_scheduling_ignored_during_execution: Optional[tuple[WeightedPodAffinityTerm, ...]] = None


@attrs.frozen
class Affinity:
    """A core/v1 Affinity, typed to the last field so that a typo fails at render, not at apply."""
    node_affinity: Optional[NodeAffinity] = None
    pod_affinity: Optional[PodAffinity] = None
    pod_anti_affinity: Optional[PodAffinity] = None


@attrs.frozen
class ModulePlacement:
    node_selector: Optional[Labels] = None
    tolerations: Optional[tuple[Toleration, ...]] = None
    affinity: Optional[Affinity] = None
    nodes: Optional[tuple[DNSSubdomain, ...]] = None


@attrs.frozen
class Placement:
    node_selector: Optional[Labels] = None
    tolerations: Optional[tuple[Toleration, ...]] = None
    affinity: Optional[Affinity] = None
    modules: Optional[dict[str, ModulePlacement]] = None


@attrs.frozen
class NFS:
    server: str
    path: AbsolutePath


@attrs.frozen
class Storage:
    storage_class: Optional[DNSSubdomain] = None
    nfs: Optional[NFS] = None
    none: Optional[bool] = None
    sizes: Optional[dict[str, Quantity]] = None
    existing_claims: Optional[dict[str, DNSSubdomain]] = None


@attrs.frozen
class TLS:
    secret_name: DNSSubdomain


@attrs.frozen
class Ingress:
    class_name: Optional[DNSSubdomain] = None
    domain: Optional[DNSSubdomain] = None
    hosts: Optional[dict[str, HostName]] = None
    tls: Optional[TLS] = None


@attrs.frozen
class SecretRef:
    secret_name: DNSSubdomain


@attrs.frozen
class Resources:
    requests: Optional[dict[str, Quantity]] = None
    limits: Optional[dict[str, Quantity]] = None


@attrs.frozen
class Security:
    network_policy: Optional[bool] = None


@attrs.frozen
class Capacity:
    """Kuscia's schedulable capacity of a lite (kuscia.yaml `capacity`); runk needs it."""
    cpu: Optional[Quantity] = None
    memory: Optional[Quantity] = None
    pods: Optional[Quantity] = None
    storage: Optional[Quantity] = None
    ephemeral_storage: Optional[Quantity] = None


@attrs.frozen
class DataSource:
    """Where a Kuscia lite's data lives: TCP ports, at a CIDR block or (without one) anywhere."""
    ports: tuple[Port, ...]
    cidr: Optional[CIDR] = None


Protocol = Literal["NOTLS", "TLS", "MTLS"]


@attrs.frozen
class Party:
    id: PartyId
    namespace: Optional[DNSLabel] = None
    cluster: Optional[DNSLabel] = None
    modules: Optional[tuple[str, ...]] = None
    replicas: Optional[dict[str, PositiveInt]] = None
    expose: Optional[Expose] = None
    endpoint: Optional[EndpointValue] = None
    placement: Optional[Placement] = None
    storage: Optional[Storage] = None
    ingress: Optional[Ingress] = None
    secrets: Optional[dict[str, SecretRef]] = None
    resources: Optional[dict[str, Resources]] = None
    security: Optional[Security] = None
    # kuscia lites only
    protocol: Optional[Protocol] = None
    key_secret: Optional[SecretRef] = None
    deploy_token_secret: Optional[SecretRef] = None
    runtime: Optional[Literal["runk", "runp"]] = None
    capacity: Optional[Capacity] = None
    data_sources: Optional[tuple[DataSource, ...]] = None

    def replica_count(self, module: str, default: int) -> int:
        return (self.replicas or {}).get(module, default)

    def ingress_host(self, module: str) -> str | None:
        """The host a module's web UI is published at: explicit, or <id>.<module>.<domain>."""
        spec = self.ingress
        if spec is None:
            return None
        if spec.hosts and module in spec.hosts:
            return spec.hosts[module]
        return f"{self.id}.{module}.{spec.domain}" if spec.domain else None


# Fields every runtime reads; a runtime names the others it takes (Runtime.party_fields).
SHARED_PARTY_FIELDS = frozenset({"id", "namespace", "cluster", "expose", "endpoint", "placement", "resources",
                                 "security"})
# Fields a party has and `defaults` may not set.
PARTY_IDENTITY = ("id", "namespace", "cluster", "endpoint")


@attrs.frozen
class Exchange:
    """FATE's router-only party at the centre of a star."""
    id: Optional[PartyId] = None  # the runtime's default
    namespace: Optional[DNSLabel] = None
    cluster: Optional[DNSLabel] = None
    expose: Optional[Expose] = None
    endpoint: Optional[EndpointValue] = None
    placement: Optional[Placement] = None
    resources: Optional[dict[str, Resources]] = None
    security: Optional[Security] = None


@attrs.frozen
class Master:
    """Kuscia's master domain (centralized mode): embedded k3s, controllers, gateway."""
    id: Optional[PartyId] = None  # the runtime's default
    namespace: Optional[DNSLabel] = None
    cluster: Optional[DNSLabel] = None
    expose: Optional[Expose] = None
    endpoint: Optional[EndpointValue] = None
    protocol: Optional[Protocol] = None
    key_secret: Optional[SecretRef] = None
    datastore: Optional[SecretRef] = None
    placement: Optional[Placement] = None
    resources: Optional[dict[str, Resources]] = None
    security: Optional[Security] = None


@attrs.frozen
class Route:
    source: DNSLabel = attrs.field(metadata={"key": "from"})
    destination: DNSLabel = attrs.field(metadata={"key": "to"})


@attrs.frozen
class Spec:
    runtime: DNSLabel  # a runtime kfplug has (kfplug/runtimes/<name>)
    version: str
    parties: tuple[Party, ...]
    images: Optional[Images] = None
    clusters: Optional[tuple[Cluster, ...]] = None
    nodes: Optional[tuple[Node, ...]] = None
    defaults: Optional[Party] = None
    exchange: Optional[Exchange] = None
    master: Optional[Master] = None
    routes: Optional[Literal["all"] | tuple[Route, ...]] = None


@attrs.frozen
class Federation:
    api_version: Literal["kfplug.dev/v1alpha1"]
    kind: Literal["Federation"]
    metadata: Metadata
    spec: Spec
