"""One KubeFATE cluster.yaml -> one member of the spec (a party, or the exchange).

Which key means what is read from KubeFATE's charts (helm-charts/FATE and FATE-Exchange,
values-template.yaml and templates, at v1.11.2 and v2.0.0): each module has its section,
named like the module in `modules`; the router's section also holds the route table
(`partyList`) and the exchange (`exchange`); `persistence: false` (the default) gives every
module an emptyDir. What is carried is marked used on the `Walk`; the rest is left over.
"""

from __future__ import annotations

import attrs

from ..runtime import Runtime
from ..spec.values import dns_subdomain, endpoint
from .source import EMPTY, Fragment, Origin, Walk

# KubeFATE module (and section) -> kfplug module; the router (osx or rollsite) is mapped apart
MODULES = {"mysql": "mysql", "clustermanager": "clustermanager", "nodemanager": "nodemanager",
           "python": "fateflow", "fateboard": "fateboard", "client": "client"}
ROUTERS = ("osx", "rollsite")  # KubeFATE's chart v2.0.0 has osx, v1.11.x and the exchange chart rollsite
PLACEMENT = ("nodeSelector", "tolerations", "affinity")
EXPOSE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
EXCHANGE = "exchange"  # a route's peer when it is the exchange
# kfplug's mysql: Service mysql, port 3306, database eggroll_meta, user fate (bases/fate)
MYSQL_SAME = {"ip": ("mysql",), "port": (3306, "3306"), "database": ("eggroll_meta",), "user": ("fate",)}
# the values of a cluster.yaml that go into a Secret of kfplug's: section -> (the Secret, the section's keys)
SECRET_KEYS = {"mysql": ("mysql", ("password",)), "fateboard": ("fateboard", ("username", "password")),
               "client": ("client", ("notebook_hashed_password",))}


@attrs.frozen
class Route:
    """A route entry: the peer (a party id, or EXCHANGE) is reached at `address` (host:port)."""
    peer: str
    address: str
    origin: Origin


@attrs.frozen
class Setting:
    """A federation-wide value one file sets (registry, pull policy, a pull secret)."""
    value: str
    origin: Origin


@attrs.define
class Member:
    """What one file says: its member's spec fields, its routes and its image settings."""
    kind: str  # "party" or "exchange"
    id: str
    name: str | None  # KubeFATE's name for the cluster
    walk: Walk
    fields: Fragment = attrs.field(factory=Fragment)
    routes: list[Route] = attrs.field(factory=list)
    images: dict[str, list[Setting]] = attrs.field(factory=dict)  # registry, pullPolicy, pullSecrets


def secret_name(party: str, secret: str) -> str:
    """The Secret a party's spec refers to where its cluster.yaml held a password: fate-<id>-<secret>."""
    return f"fate-{party}-{secret}"


def party(member: Member, runtime: Runtime, version: str) -> None:
    """A FATE party's fields: modules, placement, resources, replicas, exposure, storage,
    ingress and Secrets."""
    walk, fields = member.walk, member.fields
    release = runtime.releases[version]
    sections = modules(walk, runtime, version)
    fields.put(("modules",), list(sections))
    for name, key in sections.items():
        workload(walk, fields, name, key, replicas=True)
    expose(walk, fields, sections[release.router])
    member.routes += routes(walk, sections[release.router])
    storage(walk, fields, runtime, sections)
    ingress(walk, fields, runtime, sections)
    secrets(walk, fields, member.id, runtime, sections)


def exchange(member: Member, runtime: Runtime, version: str) -> None:
    """The exchange: its router's placement, resources, exposure and route table."""
    walk, fields = member.walk, member.fields
    router = runtime.releases[version].router
    listed = walk.take(("modules",))
    names = list(enumerate(listed)) if isinstance(listed, list) else []
    at, key = next(((index, name) for index, name in names if name in ROUTERS), (0, None))
    if key is None:
        walk.error(("modules",), "the exchange runs no rollsite: kfplug's exchange is a router, "
                                 "not nginx or trafficServer")
        return
    for index, _ in names:
        if index != at:
            walk.warn(("modules", index), f"not carried: kfplug's exchange runs only its router ({router})")
    if key != router:
        walk.warn(("modules", at), f"read as {router}, the router of FATE {version}")
    workload(walk, fields, router, key, replicas=False)
    expose(walk, fields, key)
    member.routes += routes(walk, key)
    walk.take(("persistence",))  # the exchange keeps no data


def modules(walk: Walk, runtime: Runtime, version: str) -> dict[str, str]:
    """kfplug module -> its KubeFATE section, for every module of `modules` kfplug has, with the
    router and what each module requires added."""
    release = runtime.releases[version]
    listed = walk.take(("modules",))
    if not isinstance(listed, list) or not listed:
        walk.error(("modules",), "expected the list of the party's modules")
        listed = []
    sections: dict[str, str] = {}
    for index, name in enumerate(listed):
        if name in ROUTERS:
            if name != release.router:
                walk.warn(("modules", index), f"read as {release.router}, the router of FATE {version} "
                                              f"(KubeFATE's chart v{version} has no {name} module)")
            sections[release.router] = str(name)
        elif isinstance(name, str) and name in MODULES:
            sections[MODULES[name]] = name
        else:
            walk.warn(("modules", index), f"not carried: kfplug's FATE runs on eggroll and has no {name!r} module")
    added = []
    for name in release.modules:
        wanted = name == release.router or any(name in runtime.modules[m].requires for m in sections)
        if wanted and name not in sections:
            sections[name] = release.router if name == release.router else _section(name)
            added.append(name)
    if added:
        walk.warn(("modules",), f"added {', '.join(added)}: kfplug's parties need "
                                f"{'them' if len(added) > 1 else 'it'} (the router, and what the others require)")
    return {name: sections[name] for name in release.modules if name in sections}


def _section(module: str) -> str:
    return next(key for key, name in MODULES.items() if name == module)


def workload(walk: Walk, fields: Fragment, module: str, key: str, replicas: bool) -> None:
    """A module's placement, resources and (for a party) replica count."""
    walk.mapping((key,))
    for field in PLACEMENT:
        value = walk.take((key, field))
        if value not in EMPTY:
            fields.put(("placement", "modules", module, field), value, walk.origin((key, field)))
    value = walk.take((key, "resources"))
    if value not in EMPTY:
        fields.put(("resources", module), value, walk.origin((key, "resources")))
    if replicas and walk.present((key, "replicas")):
        fields.put(("replicas", module), walk.take((key, "replicas")), walk.origin((key, "replicas")))
    walk.accept((key, "type"), ("ClusterIP",))  # what kfplug's Services are; only the router is exposed
    if key == "mysql":
        for field, same in MYSQL_SAME.items():
            walk.accept((key, field), same)


def expose(walk: Walk, fields: Fragment, key: str) -> None:
    """The router's Service: type, node port, load balancer address; TLS between routers is not carried."""
    kind = walk.take((key, "type"))
    if kind not in EMPTY and kind not in EXPOSE_TYPES:
        walk.warn((key, "type"), f"not carried: expected one of {', '.join(EXPOSE_TYPES)}")
    elif kind not in EMPTY and kind != "ClusterIP":
        fields.put(("expose", "type"), kind, walk.origin((key, "type")))
    for field, needs in (("nodePort", ("NodePort", "LoadBalancer")), ("loadBalancerIP", ("LoadBalancer",))):
        value = walk.take((key, field))
        if value in EMPTY:
            continue
        if kind in needs:
            fields.put(("expose", field), value, walk.origin((key, field)))
        else:
            walk.warn((key, field), f"not carried: needs type {' or '.join(needs)}")
    if walk.take((key, "enableTLS")) not in (None, False):
        walk.warn((key, "enableTLS"), "not carried: kfplug's routers talk plain gRPC; TLS between them "
                                      "is not supported yet")


def routes(walk: Walk, key: str) -> list[Route]:
    """The route table: each partyList entry gives a peer's address, `exchange` the exchange's."""
    found = []
    for index, entry in enumerate(walk.items((key, "partyList"))):
        path = (key, "partyList", index)
        if not isinstance(entry, dict):
            walk.take(path)
            walk.warn(path, "not carried: expected partyId, partyIp and partyPort")
            continue
        peer = walk.take(path + ("partyId",))
        route = _route(walk, path, str(peer) if peer not in EMPTY else "", "partyIp", "partyPort")
        found += [route] if route else []
    if walk.present((key, "exchange")):
        route = _route(walk, (key, "exchange"), EXCHANGE, "ip", "port")
        found += [route] if route else []
    return found


def _route(walk: Walk, path: tuple[str | int, ...], peer: str, host_key: str, port_key: str) -> Route | None:
    host, port = walk.take(path + (host_key,)), walk.take(path + (port_key,))
    address = f"[{host}]:{port}" if isinstance(host, str) and ":" in host else f"{host}:{port}"
    try:
        if not peer or isinstance(port, bool) or not isinstance(port, int):
            raise ValueError(f"expected {'a party id, ' if not peer else ''}a host and a port")
        endpoint(address)
    except ValueError as error:
        walk.warn(path, f"not carried: {error}")
        return None
    return Route(peer, address, walk.origin(path))


def storage(walk: Walk, fields: Fragment, runtime: Runtime, sections: dict[str, str]) -> None:
    """`persistence` and each stateful module's claim: one StorageClass per party, sizes, existing claims."""
    persistence = walk.take(("persistence",))
    if persistence in ("true", "false"):  # the chart reads it as text too
        persistence = persistence == "true"
    if not isinstance(persistence, bool) and persistence is not None:
        walk.error(("persistence",), "expected true or false")
        return
    stateful = {name: key for name, key in sections.items() if runtime.modules[name].stateful}
    claim_keys = ("storageClass", "size", "existingClaim", "accessMode", "subPath", "claimName")
    if not persistence:
        fields.put(("storage", "none"), True, walk.origin(("persistence",)))
        for key in stateful.values():
            for field in claim_keys:
                if walk.present((key, field)):
                    walk.take((key, field))
                    walk.warn((key, field), "not carried: persistence is off, so KubeFATE mounted an emptyDir too")
        return
    fields.mark(("storage",), walk.origin(("persistence",)))
    chosen: tuple[str, str] | None = None
    unnamed = []
    for key in stateful.values():
        cls = walk.take((key, "storageClass"))
        if cls in EMPTY:
            unnamed += [key] if key != "mysql" else []  # the chart names a class after the module, not mysql's
        elif chosen is None:
            chosen = (str(cls), key)
            fields.put(("storage", "storageClass"), cls, walk.origin((key, "storageClass")))
        elif cls != chosen[0]:
            walk.warn((key, "storageClass"), f"not carried: kfplug has one StorageClass per party "
                                             f"({chosen[0]}, from {chosen[1]}.storageClass)")
    for name, key in stateful.items():
        for field, target in (("size", "sizes"), ("existingClaim", "existingClaims")):
            value = walk.take((key, field))
            if value not in EMPTY:
                fields.put(("storage", target, name), value, walk.origin((key, field)))
        walk.accept((key, "accessMode"), ("ReadWriteOnce",))  # as kfplug's claims
    if unnamed:
        now = f"StorageClass {chosen[0]}" if chosen else "the cluster's default StorageClass"
        walk.warn(("persistence",), f"KubeFATE's chart names the StorageClass of {', '.join(unnamed)} after "
                                    f"the module when none is set; the spec uses {now}")


def ingress(walk: Walk, fields: Fragment, runtime: Runtime, sections: dict[str, str]) -> None:
    """One host per web UI, the class, one TLS Secret; all of a party's web UIs or none."""
    web = [name for name in sections if runtime.modules[name].web_port]
    hosts = {name: walk.take(("ingress", name, "hosts", 0, "name")) for name in web}
    given = {name: host for name, host in hosts.items() if host not in EMPTY}
    if not given:
        return
    missing = [name for name in web if name not in given]
    if missing:
        walk.used.add(("ingress",))
        walk.warn(("ingress",), f"not carried: kfplug publishes every web UI of a party ({', '.join(web)}) "
                                f"or none, and {', '.join(missing)} has no host here")
        return
    fields.mark(("ingress",), walk.origin(("ingress",)))
    class_name = walk.take(("ingressClassName",))  # the chart's default: nginx
    fields.put(("ingress", "className"), class_name if class_name not in EMPTY else "nginx",
               walk.origin(("ingressClassName",)))
    for name, host in given.items():
        fields.put(("ingress", "hosts", name), host, walk.origin(("ingress", name, "hosts", 0, "name")))
        walk.accept(("ingress", name, "hosts", 0, "path"), ("/",))  # kfplug's rule: every path
    tls(walk, fields, web)


def tls(walk: Walk, fields: Fragment, web: list[str]) -> None:
    """The first TLS Secret named serves the party's every web UI."""
    named = [(name, walk.take(("ingress", name, "tls", 0, "secretName"))) for name in web]
    named = [(name, secret) for name, secret in named if secret not in EMPTY]
    if not named:
        return
    first, secret = named[0]
    fields.put(("ingress", "tls", "secretName"), secret, walk.origin(("ingress", first, "tls", 0, "secretName")))
    for name, other in named:
        walk.take(("ingress", name, "tls", 0, "hosts"))  # kfplug's TLS covers every host of the party
        if other != secret:
            walk.warn(("ingress", name, "tls", 0, "secretName"),
                      f"not carried: kfplug has one TLS Secret per party ({secret})")
    if len(named) < len(web):
        walk.warn(("ingress", first, "tls"), f"kfplug serves every web UI of the party ({', '.join(web)}) "
                                             f"with this TLS Secret")


def secrets(walk: Walk, fields: Fragment, party_id: str, runtime: Runtime, sections: dict[str, str]) -> None:
    """A password in the file becomes a reference to a Secret the user creates; the value is never read."""
    namespace = fields.get(("namespace",)) or f"fate-{party_id}"
    for module, (secret, keys) in SECRET_KEYS.items():
        given = [key for key in keys if walk.present((module, key))]
        walk.used.update((module, key) for key in keys)
        if not given:
            continue
        if MODULES[module] not in sections:
            walk.warn((module, given[0]), f"not copied: {module} is not a module of this party")
            continue
        name = secret_name(party_id, secret)
        fields.put(("secrets", secret, "secretName"), name)
        wanted = " and ".join(runtime.secrets[secret].keys)
        walk.warn((module, given[0]), f"not copied: the spec refers to Secret {name}; create it in namespace "
                                      f"{namespace} with {'keys' if ' and ' in wanted else 'key'} {wanted}")


def images(walk: Walk, chart: str, version: str) -> dict[str, list[Setting]]:
    """The registry as kfplug's prefix, the pull policy, the pull secrets' names."""
    found: dict[str, list[Setting]] = {}
    registry = walk.take(("registry",))
    if isinstance(registry, str) and registry.strip("/"):
        # chart fate 2.0.0 pulls <registry>federatedai/<image>; 1.11.x and fate-exchange <registry>/<image>
        prefix = registry.rstrip("/") + ("/federatedai" if chart == "fate" and version == "2.0.0" else "")
        if prefix != "federatedai":
            found["registry"] = [Setting(prefix, walk.origin(("registry",)))]
            if chart == "fate" and version == "2.0.0":
                walk.warn(("registry",), f"read as {prefix}: kfplug pulls every image from there, mysql too "
                                         f"(KubeFATE pulled {registry}mysql)")
    elif registry not in EMPTY:
        walk.warn(("registry",), "not carried: expected a registry prefix")
    policy = walk.take(("pullPolicy",))
    if policy in PULL_POLICIES:
        found["pullPolicy"] = [Setting(policy, walk.origin(("pullPolicy",)))]
    elif policy not in EMPTY:
        walk.warn(("pullPolicy",), f"not carried: expected one of {', '.join(PULL_POLICIES)}")
    walk.take(("imagePullSecrets",))
    for index, entry in enumerate(walk.items(("imagePullSecrets",))):
        name = entry.get("name") if isinstance(entry, dict) else entry
        try:
            found.setdefault("pullSecrets", []).append(Setting(dns_subdomain(name),
                                                               walk.origin(("imagePullSecrets", index))))
        except ValueError as error:
            walk.warn(("imagePullSecrets", index), f"not carried: {error}")
    return found
