"""Fill in what the user left out: `defaults` merged into each party, then the
runtime's defaults (namespace, cluster, modules)."""

from __future__ import annotations

import attrs

from ..runtimes import RUNTIMES
from .model import Cluster, Federation

DEFAULT_CLUSTER = "default"
EXCHANGE_NAMESPACE = "fate-exchange"
MASTER_NAMESPACE = "kuscia-master"
DEFAULT_PROTOCOL = "NOTLS"  # as upstream's Kubernetes manifests; see README (Kuscia)


def merge(base, override):
    """Party fields override defaults; nested objects and mappings merge, lists and scalars replace."""
    if override is None:
        return base
    if base is None:
        return override
    if attrs.has(type(override)):
        return attrs.evolve(override, **{
            f.name: merge(getattr(base, f.name), getattr(override, f.name))
            for f in attrs.fields(type(override)) if f.init
        })
    if isinstance(override, dict) and isinstance(base, dict):
        return {**base, **{key: merge(base.get(key), value) for key, value in override.items()}}
    return override


def resolve(federation: Federation, locator, issues: list) -> Federation:
    spec = federation.spec
    runtime = RUNTIMES.get(spec.runtime)
    release = runtime.releases.get(spec.version) if runtime else None
    clusters = spec.clusters or (Cluster(DEFAULT_CLUSTER),)
    only_cluster = clusters[0].name if len(clusters) == 1 else None

    def cluster_of(party, path) -> str | None:
        if party.cluster is None and only_cluster is None:
            issues.append(locator.issue(path + ("cluster",), "required when spec.clusters lists several clusters"))
        return party.cluster or only_cluster

    parties = []
    for index, party in enumerate(spec.parties):
        party = merge(spec.defaults, party)
        prefix = runtime.namespace_prefix if runtime else ""
        party = attrs.evolve(
            party,
            namespace=party.namespace or f"{prefix}{party.id}",
            cluster=cluster_of(party, ("spec", "parties", index)),
        )
        if spec.runtime == "kuscia":
            party = attrs.evolve(party, protocol=party.protocol or DEFAULT_PROTOCOL, runtime=party.runtime or "runk")
        else:
            party = attrs.evolve(party, modules=party.modules if party.modules is not None
                                 else (release.modules if release else ()))
        parties.append(party)
    exchange = spec.exchange
    if exchange is not None:
        exchange = attrs.evolve(exchange, namespace=exchange.namespace or EXCHANGE_NAMESPACE,
                                cluster=cluster_of(exchange, ("spec", "exchange")))
    master = spec.master
    if master is not None:
        default_protocol = spec.defaults.protocol if spec.defaults else None
        master = attrs.evolve(master, namespace=master.namespace or MASTER_NAMESPACE,
                              cluster=cluster_of(master, ("spec", "master")),
                              protocol=master.protocol or default_protocol or DEFAULT_PROTOCOL)
    return attrs.evolve(federation, spec=attrs.evolve(
        spec, clusters=clusters, parties=tuple(parties), exchange=exchange, master=master))
