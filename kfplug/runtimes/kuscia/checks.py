"""Kuscia's own checks of a federation (centralized: one master, lite domains), run after the
shared ones. Each yields (path, message) or a Finding."""

from __future__ import annotations

from collections.abc import Iterator

from ...diagnostics import FieldPath, Finding, format_path, warning
from ...runtime import Runtime
from ...spec.members import members
from ...spec.model import Spec
from ...spec.structure import did_you_mean
from .topology import lite_pairs

Found = Iterator[tuple[FieldPath, str] | Finding]
RUNK_CAPACITY = ("cpu", "memory", "pods", "storage")


def check_master(spec: Spec, runtime: Runtime) -> Found:
    master = spec.master
    if master is None:
        yield ("spec", "master"), "required: the kuscia runtime runs one master domain (centralized mode)"
        return
    if master.key_secret is None:
        yield ("spec", "master", "keySecret"), "required: the Secret holding the master's RSA key " \
                                               "(key domainKeyData)"
    if master.datastore is None:
        yield ("spec", "master", "datastore"), "required: a Secret with the database DSN (key datastoreEndpoint); " \
                                               "without one the master keeps its state in the pod and loses it"
    ids = {party.id: index for index, party in enumerate(spec.parties)}
    if master.id in ids:
        yield ("spec", "master", "id"), f"domain id {master.id!r} is also spec.parties[{ids[master.id]}].id"


def check_lites(spec: Spec, runtime: Runtime) -> Found:
    for index, party in enumerate(spec.parties):
        path = ("spec", "parties", index)
        if len(party.namespace or "") > 63:  # only a derived one can be: lite-<id>
            yield path + ("id",), f"the namespace {party.namespace!r} would be longer than 63 characters; " \
                                  f"give a namespace"
        if party.key_secret is None:
            yield path + ("keySecret",), "required: the Secret holding this domain's RSA key (key domainKeyData)"
        if party.runtime == "runk":
            capacity = party.capacity
            missing = [name for name in RUNK_CAPACITY if capacity is None or getattr(capacity, name) is None]
            if missing:
                yield path + ("capacity",), f"runtime runk needs capacity {', '.join(missing)} " \
                                            f"(Kuscia cannot detect them for task pods)"


def check_key_secrets(spec: Spec, runtime: Runtime) -> Found:
    """Each domain has its own key: a Secret (by cluster and namespace) is never shared."""
    seen: dict[tuple[str, str, str], FieldPath] = {}
    for member in members(spec):
        secret = member.spec.key_secret  # type: ignore[union-attr]  # kuscia has no exchange
        if secret is None:
            continue
        path = member.path
        key = (member.cluster, member.namespace, secret.secret_name)
        here = path + ("keySecret", "secretName")
        if key in seen:
            yield here, f"Secret {key[2]!r} in namespace {key[1]} is already the key of {format_path(seen[key])}; " \
                        f"each domain needs its own key"
        seen.setdefault(key, path)


MAX_ROUTES = 1200  # the routes travel in one ConfigMap (1 MiB); a route takes about 500-700 bytes


def check_routes(spec: Spec, runtime: Runtime) -> Found:
    count = len(lite_pairs(spec))
    if count > MAX_ROUTES:
        yield ("spec", "routes"), f"{count} routes do not fit the bootstrap ConfigMap (at most {MAX_ROUTES}); " \
                                  f"list the routes you need instead of all"
    if spec.routes is None or spec.routes == "all":
        return
    known = [party.id for party in spec.parties]
    master = spec.master.id if spec.master else None
    seen: dict[tuple[str, str], int] = {}
    for index, route in enumerate(spec.routes):
        path = ("spec", "routes", index)
        for field, value in (("from", route.source), ("to", route.destination)):
            if value == master:
                yield path + (field,), f"{value!r} is the master; routes between lites and the master are " \
                                       f"created by the master itself"
            elif value not in known:
                yield path + (field,), f"unknown lite {value!r}" + did_you_mean(value, known)
        if route.source == route.destination:
            yield path, f"a route from {route.source!r} to itself"
        pair = (route.source, route.destination)
        if pair in seen:
            yield path, f"duplicate route {route.source} -> {route.destination} (first at spec.routes[{seen[pair]}])"
        seen.setdefault(pair, index)


def check_reachability(spec: Spec, runtime: Runtime) -> Found:
    """Lites dial the master; a route's source dials its destination. Across clusters: `endpoint`."""
    master = spec.master
    if master is None:
        return
    far = [p for p in spec.parties if p.cluster != master.cluster]
    if far and master.endpoint is None:
        names = ", ".join(f"lite {p.id} (cluster {p.cluster})" for p in far)
        yield ("spec", "master", "endpoint"), f"required: the master (cluster {master.cluster}) is reached " \
                                              f"from other clusters by {names}; expose it and give its endpoint"
    by_id = {p.id: (i, p) for i, p in enumerate(spec.parties)}
    dialled: dict[str, list[str]] = {}
    for source, destination in lite_pairs(spec):
        if source in by_id and destination in by_id and by_id[source][1].cluster != by_id[destination][1].cluster:
            dialled.setdefault(destination, []).append(source)
    for destination, sources in dialled.items():
        index, target = by_id[destination]
        if target.endpoint is None:
            names = ", ".join(f"lite {s} (cluster {by_id[s][1].cluster})" for s in sources)
            yield ("spec", "parties", index, "endpoint"), f"required: lite {destination} (cluster {target.cluster}) " \
                                                          f"is routed to from other clusters by {names}"


def check_plain_exposure(spec: Spec, runtime: Runtime) -> Found:
    """A NOTLS domain behind a NodePort or LoadBalancer: its gateway speaks plain HTTP to the world."""
    for member in members(spec):
        if member.spec.protocol == "NOTLS" and member.exposed:  # type: ignore[union-attr]  # no exchange here
            yield warning(member.path + ("expose",), "protocol NOTLS on an exposed gateway: traffic between "
                                                     "clusters is plain HTTP; consider protocol TLS")


def check_dns(spec: Spec, runtime: Runtime) -> Found:
    """Kuscia answers DNS itself (its own names, like apiserver.master.svc) and forwards the rest to the
    cluster DNS, whose address it cannot learn when it does not run as root: each cluster names it."""
    used = {member.cluster for member in members(spec)}
    for index, cluster in enumerate(spec.clusters or ()):
        if cluster.name in used and cluster.dns is None:
            yield ("spec", "clusters", index, "dns"), \
                f"required for kuscia: the address of the DNS server pods use in cluster {cluster.name} " \
                f"(kubectl -n kube-system get service kube-dns; with NodeLocal DNSCache its local address), " \
                f"e.g. clusters: [{{name: {cluster.name}, dns: 10.96.0.10}}]; Kuscia forwards the names it " \
                f"does not answer there"


def check_ipv4_endpoints(spec: Spec, runtime: Runtime) -> Found:
    """Kuscia 1.1.0b0 reaches peers over IPv4 only: its route CRD takes an IPv4 address or a DNS
    name, and the gateway splits host and port at every ':'."""
    for member in members(spec):
        if member.endpoint is not None and member.endpoint.is_ipv6:
            yield member.path + ("endpoint",), f"{str(member.endpoint)!r} is an IPv6 address; Kuscia reaches " \
                                               f"peers by IPv4 or a DNS name only"


def check_route_names(spec: Spec, runtime: Runtime) -> Found:
    """Routes are named <from>-<to> (Kuscia's own convention); ids with '-' can give two routes one name,
    or a route the name of the route the master makes for each lite (<lite>-<master id>)."""
    master = spec.master.id if spec.master else None
    owners = {f"{p.id}-{master}": (p.id, master) for p in spec.parties} if master else {}
    explicit = spec.routes not in (None, "all")
    for index, pair in enumerate(lite_pairs(spec)):
        name = "-".join(pair)
        other = owners.setdefault(name, pair)
        if other != pair:
            whose = "the master's own route" if other[1] == master else "route"
            yield ("spec", "routes", index) if explicit else ("spec", "routes"), \
                f"route {pair[0]} -> {pair[1]} and {whose} {other[0]} -> {other[1]} would both be named " \
                f"{name!r}, and one would replace the other; choose ids that do not run into each other"


def check_trust(spec: Spec, runtime: Runtime) -> Found:
    """Kuscia makes every domain's certificates itself, from the domain's key (kuscia.yaml's domainKeyData
    signs a self-signed CA per domain): a member's tls.ca or tls.secretName would be ignored. With
    spec.tls.mode mutual every domain speaks MTLS."""
    for member in members(spec):
        if member.spec.tls is not None:
            yield member.path + ("tls",), "Kuscia makes each domain's certificates from its own key; tls.ca " \
                                          "and tls.secretName do not apply (docs/security.md, Kuscia)"
        protocol = member.spec.protocol  # type: ignore[union-attr]  # no exchange here
        if spec.mutual_tls and protocol != "MTLS":
            yield member.path + ("protocol",), \
                f"{protocol}, but spec.tls.mode mutual takes MTLS on every domain"


CHECKS = (check_trust, check_plain_exposure, check_master, check_lites, check_key_secrets, check_routes,
          check_route_names, check_reachability, check_dns, check_ipv4_endpoints)
