"""The FederationSpec v1alpha1 model. YAML keys are camelCase, fields snake_case;
`structure` maps them. Optional fields are None when the user left them out;
`resolve.resolve` fills them in."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import attrs

from .values import (
    CIDR,
    URL,
    AbsolutePath,
    AgeRecipient,
    DNSLabel,
    DNSSubdomain,
    Duration,
    EndpointValue,
    HostName,
    ImagePrefix,
    IPAddress,
    IPv4Address,
    LabelKey,
    Labels,
    NodePort,
    Port,
    PositiveInt,
    Quantity,
    RepositoryPath,
    Weight,
    raw_type,
)

MAX_INTEGER_ID = 2**31 - 1  # integer ids are FATE's, which keeps them in a Java int


@raw_type(Any)  # a number or text
def _party_id(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        if value > MAX_INTEGER_ID:
            raise ValueError(f"{value} is too large for a party id (at most {MAX_INTEGER_ID})")
        return str(value)
    if isinstance(value, str) and value:
        return value
    raise ValueError(f"{value!r} is not a party id (a FATE integer, or a Kuscia domain name)")


PartyId = Annotated[str, _party_id]


@attrs.frozen
class Metadata:
    name: DNSLabel
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None  # e.g. config.kubernetes.io/function for kustomize


@attrs.frozen
class Images:
    registry: ImagePrefix | None = None
    pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    pull_secrets: tuple[DNSSubdomain, ...] | None = None


@attrs.frozen
class Cluster:
    name: DNSLabel
    dns: IPv4Address | None = None  # the DNS server the cluster's pods use (kube-dns, or NodeLocal DNSCache)


@attrs.frozen
class Node:
    name: DNSSubdomain
    labels: Labels | None = None


@attrs.frozen
class Expose:
    # External: published by something kfplug does not manage (a proxy, a load balancer of your own) that
    # forwards `endpoint` to the router's Service, which stays ClusterIP
    type: Literal["ClusterIP", "NodePort", "LoadBalancer", "External"] | None = None
    node_port: NodePort | None = None
    load_balancer_ip: IPAddress | None = attrs.field(default=None, metadata={"key": "loadBalancerIP"})

    @property
    def outside(self) -> bool:
        """Reachable from outside the cluster (a NodePort, a load balancer, or published externally)."""
        return self.type in ("NodePort", "LoadBalancer", "External")

    @property
    def service_type(self) -> Literal["NodePort", "LoadBalancer"] | None:
        """The Service type kfplug sets to publish it; None when it does not (ClusterIP, External)."""
        return self.type if self.type in ("NodePort", "LoadBalancer") else None


@attrs.frozen
class Toleration:
    """A core/v1 Toleration, checked here so a typo fails at render, not at apply."""
    key: str | None = None
    operator: Literal["Exists", "Equal"] | None = None
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = None


@attrs.frozen
class NodeSelectorRequirement:
    key: LabelKey
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: tuple[str, ...] | None = None


@attrs.frozen
class NodeSelectorTerm:
    match_expressions: tuple[NodeSelectorRequirement, ...] | None = None
    match_fields: tuple[NodeSelectorRequirement, ...] | None = None


@attrs.frozen
class NodeSelector:
    node_selector_terms: tuple[NodeSelectorTerm, ...]


@attrs.frozen
class PreferredSchedulingTerm:
    weight: Weight
    preference: NodeSelectorTerm


@attrs.frozen
class NodeAffinity:
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: tuple[PreferredSchedulingTerm, ...] | None = None


@attrs.frozen
class LabelSelectorRequirement:
    key: LabelKey
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: tuple[str, ...] | None = None


@attrs.frozen
class LabelSelector:
    match_labels: Labels | None = None
    match_expressions: tuple[LabelSelectorRequirement, ...] | None = None


@attrs.frozen
class PodAffinityTerm:
    topology_key: LabelKey
    label_selector: LabelSelector | None = None
    namespaces: tuple[DNSLabel, ...] | None = None
    namespace_selector: LabelSelector | None = None
    match_label_keys: tuple[LabelKey, ...] | None = None
    mismatch_label_keys: tuple[LabelKey, ...] | None = None


@attrs.frozen
class WeightedPodAffinityTerm:
    weight: Weight
    pod_affinity_term: PodAffinityTerm


@attrs.frozen
class PodAffinity:
    """core/v1 PodAffinity and PodAntiAffinity (the same fields)."""
    required_during_scheduling_ignored_during_execution: tuple[PodAffinityTerm, ...] | None = None
    preferred_during_scheduling_ignored_during_execution: tuple[WeightedPodAffinityTerm, ...] | None = None


@attrs.frozen
class Affinity:
    """A core/v1 Affinity, typed to the last field so that a typo fails at render, not at apply."""
    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAffinity | None = None


@attrs.frozen
class ModulePlacement:
    node_selector: Labels | None = None
    tolerations: tuple[Toleration, ...] | None = None
    affinity: Affinity | None = None
    nodes: tuple[DNSSubdomain, ...] | None = None


@attrs.frozen
class Placement:
    node_selector: Labels | None = None
    tolerations: tuple[Toleration, ...] | None = None
    affinity: Affinity | None = None
    modules: dict[str, ModulePlacement] | None = None


@attrs.frozen
class NFS:
    server: str
    path: AbsolutePath


@attrs.frozen
class Storage:
    storage_class: DNSSubdomain | None = None
    nfs: NFS | None = None
    none: bool | None = None
    sizes: dict[str, Quantity] | None = None
    existing_claims: dict[str, DNSSubdomain] | None = None


@attrs.frozen
class TLS:
    secret_name: DNSSubdomain


@attrs.frozen
class Ingress:
    class_name: DNSSubdomain | None = None
    domain: DNSSubdomain | None = None
    hosts: dict[str, HostName] | None = None
    tls: TLS | None = None


@attrs.frozen
class SecretRef:
    secret_name: DNSSubdomain


@attrs.frozen
class Resources:
    requests: dict[str, Quantity] | None = None
    limits: dict[str, Quantity] | None = None


@attrs.frozen
class Security:
    network_policy: bool | None = None


@attrs.frozen
class Capacity:
    """Kuscia's schedulable capacity of a lite (kuscia.yaml `capacity`); runk needs it."""
    cpu: Quantity | None = None
    memory: Quantity | None = None
    pods: Quantity | None = None
    storage: Quantity | None = None
    ephemeral_storage: Quantity | None = None


@attrs.frozen
class DataSource:
    """Where a Kuscia lite's data lives: TCP ports, at a CIDR block or (without one) anywhere."""
    ports: tuple[Port, ...]
    cidr: CIDR | None = None


Protocol = Literal["NOTLS", "TLS", "MTLS"]


@attrs.frozen
class RouterTLS:
    """A member's part in the trust between parties (spec.tls): its CA and, optionally, its router's key pair."""
    # this member's CA certificate (PEM, public): a path relative to the spec, or the PEM text itself;
    # read and checked at load, so later stages see the PEM
    ca: str | None = None
    secret_name: DNSSubdomain | None = None  # an existing Secret (tls.crt, tls.key) signed by `ca`


@attrs.frozen
class MemberSops:
    """The age recipients of one member's Secrets kept in Git (with spec.gitops.sops)."""
    age: tuple[AgeRecipient, ...]


@attrs.frozen
class Party:
    id: PartyId
    namespace: DNSLabel | None = None
    cluster: DNSLabel | None = None
    modules: tuple[str, ...] | None = None
    replicas: dict[str, PositiveInt] | None = None
    expose: Expose | None = None
    endpoint: EndpointValue | None = None
    placement: Placement | None = None
    storage: Storage | None = None
    ingress: Ingress | None = None
    secrets: dict[str, SecretRef] | None = None
    resources: dict[str, Resources] | None = None
    security: Security | None = None
    tls: RouterTLS | None = None
    sops: MemberSops | None = None
    # kuscia lites only
    protocol: Protocol | None = None
    key_secret: SecretRef | None = None
    deploy_token_secret: SecretRef | None = None
    runtime: Literal["runk", "runp"] | None = None
    capacity: Capacity | None = None
    data_sources: tuple[DataSource, ...] | None = None

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
                                 "security", "tls", "sops"})
# Fields a party has and `defaults` may not set.
PARTY_IDENTITY = ("id", "namespace", "cluster", "endpoint", "tls")  # tls: each member has its own CA


@attrs.frozen
class Exchange:
    """FATE's router-only party at the centre of a star."""
    id: PartyId | None = None  # the runtime's default
    namespace: DNSLabel | None = None
    cluster: DNSLabel | None = None
    expose: Expose | None = None
    endpoint: EndpointValue | None = None
    placement: Placement | None = None
    resources: dict[str, Resources] | None = None
    security: Security | None = None
    tls: RouterTLS | None = None
    sops: MemberSops | None = None


@attrs.frozen
class Master:
    """Kuscia's master domain (centralized mode): embedded k3s, controllers, gateway."""
    id: PartyId | None = None  # the runtime's default
    namespace: DNSLabel | None = None
    cluster: DNSLabel | None = None
    expose: Expose | None = None
    endpoint: EndpointValue | None = None
    protocol: Protocol | None = None
    key_secret: SecretRef | None = None
    datastore: SecretRef | None = None
    placement: Placement | None = None
    resources: dict[str, Resources] | None = None
    security: Security | None = None
    tls: RouterTLS | None = None
    sops: MemberSops | None = None


@attrs.frozen
class Route:
    source: DNSLabel = attrs.field(metadata={"key": "from"})
    destination: DNSLabel = attrs.field(metadata={"key": "to"})


@attrs.frozen
class SourceRef:
    """The Flux source that holds the rendered tree."""
    name: DNSSubdomain
    kind: Literal["GitRepository", "OCIRepository", "Bucket"] | None = None  # default GitRepository
    namespace: DNSLabel | None = None  # default: the Kustomizations' namespace


@attrs.frozen
class Flux:
    """Flux Kustomizations, one per overlay, under deploy/flux/<cluster>/."""
    source_ref: SourceRef
    namespace: DNSLabel | None = None  # where the Kustomizations live; default flux-system
    interval: Duration | None = None  # default 10m
    service_account_name: DNSSubdomain | None = None  # impersonated (Flux multi-tenancy)
    # cluster -> the Secret holding its kubeconfig, for a hub that reconciles other clusters
    kube_config_secrets: dict[str, DNSSubdomain] | None = None


@attrs.frozen
class ArgoCD:
    """An Argo CD ApplicationSet per cluster, one Application per overlay, under deploy/argocd/<cluster>/."""
    repo_url: URL = attrs.field(metadata={"key": "repoURL"})
    target_revision: str | None = None  # default HEAD
    namespace: DNSLabel | None = None  # Argo CD's namespace; default argocd
    project: DNSSubdomain | None = None  # default "default"
    destinations: dict[str, str] | None = None  # cluster -> its API server URL; default the local cluster


@attrs.frozen
class Sops:
    """Generated Secrets kept in Git, encrypted with SOPS: each member's for its own recipients
    (its `sops.age`) and these, which every member's files add."""
    age: tuple[AgeRecipient, ...] = ()
    decryption_secret: DNSSubdomain | None = None  # Flux's Secret holding the age key; default sops-age


@attrs.frozen
class GitOps:
    """How the rendered tree is reconciled from a Git repository."""
    path: RepositoryPath  # the rendered tree's directory in the repository
    flux: Flux | None = None
    argocd: ArgoCD | None = None
    sops: Sops | None = None


@attrs.frozen
class TrustSettings:
    """Trust between parties: `mutual` makes every link between two members' routers mutual TLS."""
    mode: Literal["off", "mutual"] | None = None  # default off

    @property
    def mutual(self) -> bool:
        return self.mode == "mutual"


@attrs.frozen
class Spec:
    runtime: DNSLabel  # a runtime kfplug has (kfplug/runtimes/<name>)
    version: str
    parties: tuple[Party, ...]
    images: Images | None = None
    clusters: tuple[Cluster, ...] | None = None
    nodes: tuple[Node, ...] | None = None
    defaults: Party | None = None
    exchange: Exchange | None = None
    master: Master | None = None
    routes: Literal["all"] | tuple[Route, ...] | None = None
    gitops: GitOps | None = None
    tls: TrustSettings | None = None

    @property
    def mutual_tls(self) -> bool:
        return self.tls is not None and self.tls.mutual


@attrs.frozen
class Federation:
    api_version: Literal["kfplug.dev/v1alpha1"]
    kind: Literal["Federation"]
    metadata: Metadata
    spec: Spec
