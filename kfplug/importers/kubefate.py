"""KubeFATE cluster.yaml files (one per party, and the exchange's) -> one FederationSpec.

Each file becomes a member in a cluster of its own (named after KubeFATE's `name`): KubeFATE
routes between parties by node address and NodePort, so every member gets the `endpoint`
that some route entry (`partyList`, `exchange`) of another file gives it. A password becomes a
reference to a Secret (`kubefate_member.secret_name`), never a value. Every key not carried is
reported at its path; what cannot be written at all (not a cluster.yaml, two parties with one
id, a Spark party) is an error, and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from ..diagnostics import FieldPath, Issue, SpecError
from ..runtime import Runtime, find
from ..spec.values import dns_label, endpoint
from ..yamlwrite import dump
from . import kubefate_member as member_of
from .kubefate_member import EXCHANGE, Member
from .settle import settle
from .source import EMPTY, Fragment, Origin, Walk, read_sources

CHARTS = {"fate": "party", "fate-exchange": "exchange"}
FLAVOUR = {"computing": ("Eggroll",), "federation": ("Eggroll", "OSX"), "storage": ("Eggroll",)}
STANDARD_IMAGES = {"algorithm": "Basic", "device": "CPU"}  # other values add a suffix to the image names
PARTY_ORDER = ("id", "namespace", "cluster", "modules", "replicas", "expose", "endpoint", "placement", "storage",
               "ingress", "secrets", "resources")
UNSUPPORTED_MODULES = ("spark", "hdfs", "nginx", "rabbitmq", "pulsar", "lbrollsite", "trafficServer")
REASONS = {
    "servingIp": "kfplug neither deploys nor connects FATE-Serving",
    "servingPort": "kfplug neither deploys nor connects FATE-Serving",
    "serving": "kfplug neither deploys nor connects FATE-Serving",
    "istio": "kfplug renders no Istio resources",
    "podSecurityPolicy": "kfplug renders no PodSecurityPolicy (Kubernetes 1.25 removed them)",
    "ingressClassName": "no Ingress is carried for this party",
    "image": "kfplug runs its release's images (spec.images.registry moves them all)",
    "imageTag": "kfplug runs its release's images (spec.images.registry moves them all)",
    "subPath": "kfplug mounts each claim whole",
    "accessMode": "kfplug's claims are ReadWriteOnce",
    "claimName": "kfplug names its claims itself",
    "type": "only the router is exposed (expose); the other modules are ClusterIP Services",
    "httpNodePort": "only the router is exposed (expose)",
    "grpcNodePort": "only the router is exposed (expose)",
    "nodePort": "only the router is exposed (expose)",
    "loadBalancerIP": "only the router is exposed (expose)",
    "logLevel": "kfplug sets no log level",
    "annotations": "kfplug's Ingresses carry no annotations of their own",
    "polling": "kfplug's routers do not poll",
    "sessionProcessorsPerNode": "kfplug keeps eggroll's default",
    "mysqlServerTimezone": "kfplug's clustermanager connects with serverTimezone=UTC",
    "hosts": "kfplug publishes one host per web UI",
    "tls": "kfplug has one TLS Secret per party",
    "exchange": "kfplug's exchange is the centre of the star: nothing routes above it",
    "replicas": "kfplug's exchange runs one router",
}
MYSQL_KEYS = ("ip", "port", "database", "user")
EXTERNAL_MYSQL = re.compile(r"externalMysql[A-Z]\w*")
SECRET_VALUE = re.compile(r".*pass(wd|word)?", re.IGNORECASE)  # password, default_pass, ...


@attrs.frozen
class Header:
    kind: str  # "party" or "exchange"
    id: str
    release: str | None  # the FATE release its chartVersion names, as kfplug calls it
    chart_version: str


@attrs.frozen
class Imported:
    """The spec as data, where each field came from, and what was reported."""
    document: dict[str, Any]
    origins: dict[FieldPath, Origin]
    warnings: list[Issue]


def import_files(paths: Sequence[str | Path], name: str | None, endpoints: Mapping[str, str],
                 target: str) -> tuple[str, list[Issue]]:
    """The text of the spec to write to `target` (the federation called `name`, default fate), and
    the warnings. Raises SpecError."""
    imported = convert([Walk(source) for source in read_sources(paths)], name or "fate", endpoints)
    files = [str(path) for path in paths]
    text, dropped = settle(imported.document, imported.origins, lambda document: spec_text(document, files),
                           target)
    return text, sorted(imported.warnings + dropped)


def spec_text(document: dict[str, Any], files: list[str]) -> str:
    shown = ", ".join(re.sub(r"[\x00-\x1f\x7f]", "?", file) for file in files)
    return (f"# Written by `kfplug import kubefate` from {shown}.\n"
            "# Review it: from now on this file, not the cluster.yaml files, describes the federation.\n"
            + dump(document))


def convert(walks: list[Walk], name: str, endpoints: Mapping[str, str]) -> Imported:
    """Every file's member, in one spec. Raises SpecError with every error of every file."""
    runtime = find("fate")
    assert runtime is not None, "the fate runtime ships with kfplug"
    known = [(walk, head) for walk in walks if (head := header(walk, runtime)) is not None]
    version = release(known)
    members = [member(walk, head, runtime, version) for walk, head in known] if version else []
    problems = identities(known) + _options(name, endpoints, members)
    document = Fragment()
    failed = problems or any(issue.severity == "error" for walk in walks for issue in walk.found)
    if version and not failed:
        document, problems = assemble(members, name, version, endpoints)
    found = [issue for walk in walks for issue in walk.found + walk.leftovers(reason)] + problems
    errors = [issue for issue in found if issue.severity == "error"]
    if errors:
        raise SpecError(errors)
    return Imported(document.data, document.origins, found)


def header(walk: Walk, runtime: Runtime) -> Header | None:
    """Which chart the file is for, its release and its party id; None (with an error) when it is
    not a KubeFATE cluster.yaml kfplug can read."""
    if not isinstance(walk.source.document, dict) or "chartName" not in walk.source.document:
        walk.error((), "not a KubeFATE cluster.yaml: it has no chartName (fate, or fate-exchange)")
        return None
    chart = walk.take(("chartName",))
    kind = CHARTS.get(chart) if isinstance(chart, str) else None
    if kind is None:
        walk.error(("chartName",), f"{chart!r}: kfplug imports KubeFATE's charts fate and fate-exchange")
        return None
    version = walk.take(("chartVersion",))
    party_id = walk.take(("partyId",))
    try:
        if isinstance(party_id, bool) or not isinstance(party_id, (int, str)):
            raise ValueError("expected the party id")
        checked = runtime.party_id(str(party_id))
    except ValueError as error:
        walk.error(("partyId",), str(error))
        return None
    return Header(kind, checked, release_of(version), str(version))


def release_of(chart_version: object) -> str | None:
    """KubeFATE's chart v2.0.0 deploys FATE 2.0.0; its v1.11.x charts FATE 1.11.x, which kfplug runs as 1.11.2."""
    match = re.fullmatch(r"v?(\d+\.\d+)\.(\d+)", chart_version) if isinstance(chart_version, str) else None
    if match is None:
        return None
    return {"2.0": "2.0.0" if match[2] == "0" else None, "1.11": "1.11.2"}.get(match[1])


def release(known: list[tuple[Walk, Header]]) -> str | None:
    """The one FATE release of the parties; every file that names another is an error."""
    parties = [(walk, head) for walk, head in known if head.kind == "party"]
    for walk, head in parties:
        if head.release is None:
            walk.error(("chartVersion",), f"{head.chart_version!r}: kfplug imports KubeFATE's charts "
                                          "v1.11.x and v2.0.0 (FATE 1.11.2 and 2.0.0)")
        elif head.release != head.chart_version.removeprefix("v"):
            walk.warn(("chartVersion",), f"read as FATE {head.release}, the 1.11 release kfplug has")
    releases = [head.release for _, head in parties if head.release]
    if not releases:
        return None
    first = next(walk for walk, head in parties if head.release == releases[0])
    for walk, head in parties:
        if head.release and head.release != releases[0]:
            walk.error(("chartVersion",), f"FATE {head.release}, and {first.file} FATE {releases[0]}: one "
                                          "federation runs one release")
    for walk, head in known:
        if head.kind == "exchange" and head.release != releases[0]:
            walk.warn(("chartVersion",), f"the exchange runs the parties' release, FATE {releases[0]}")
    return releases[0]


def member(walk: Walk, head: Header, runtime: Runtime, version: str) -> Member:
    raw_name = walk.take(("name",))
    found = Member(head.kind, head.id, raw_name if isinstance(raw_name, str) else None, walk)
    fields = found.fields
    namespace = walk.take(("namespace",))
    default = f"fate-{head.id}" if head.kind == "party" else "fate-exchange"
    if namespace not in EMPTY and namespace != default:
        fields.put(("namespace",), namespace, walk.origin(("namespace",)))
    walk.take(("skippedKeys",))  # KubeFATE's own validation
    walk.accept(("istio", "enabled"), (False,))
    walk.accept(("podSecurityPolicy", "enabled"), (False,))
    if head.kind == "party":
        flavour(walk)
        member_of.party(found, runtime, version)
        unlisted(walk, fields)
    else:
        member_of.exchange(found, runtime, version)
    found.images = member_of.images(walk, "fate" if head.kind == "party" else "fate-exchange", head.release or "")
    return found


def flavour(walk: Walk) -> None:
    """Eggroll only; the Basic CPU images."""
    for key, allowed in FLAVOUR.items():
        value = walk.take((key,))
        if value not in EMPTY and value not in allowed:
            walk.error((key,), f"{value!r}: kfplug's FATE runs on eggroll ({key}: {' or '.join(allowed)})")
    for key, standard in STANDARD_IMAGES.items():
        value = walk.take((key,))
        if value not in EMPTY and value != standard:
            walk.warn((key,), f"not carried: KubeFATE adds a suffix to its image names for {value}; "
                              "kfplug runs the release's standard images")


def unlisted(walk: Walk, fields: Fragment) -> None:
    """A section of a module the party does not run: KubeFATE ignores it, so does the spec."""
    running = set(fields.get(("modules",)) or ())
    document = walk.source.document
    assert isinstance(document, dict)
    for key in [*member_of.MODULES, *member_of.ROUTERS]:
        name = member_of.MODULES.get(key, key)
        if key in document and (key,) not in walk.used and not any(u[:1] == (key,) for u in walk.used) \
                and name not in running and document[key] not in EMPTY:
            walk.take((key,))
            walk.warn((key,), f"not carried: {key} is not in modules")


def identities(known: list[tuple[Walk, Header]]) -> list[Issue]:
    """One file per party id, at most one exchange, at least one party."""
    problems: list[Issue] = []
    seen: dict[str, Walk] = {}
    for walk, head in known:
        if head.id in seen:
            other = seen[head.id]
            problems.append(walk.issue(("partyId",), f"party {head.id} is also in "
                                                     f"{other.file}:{other.source.line(('partyId',))}", "error"))
        seen.setdefault(head.id, walk)
    exchanges = [walk for walk, head in known if head.kind == "exchange"]
    problems += [extra.issue(("chartName",), f"a second exchange ({exchanges[0].file} is one)", "error")
                 for extra in exchanges[1:]]
    if known and len(exchanges) == len(known):
        problems.append(known[0][0].issue((), "no party: give the cluster.yaml of at least one FATE party", "error"))
    return problems


def _options(name: str, endpoints: Mapping[str, str], members: list[Member]) -> list[Issue]:
    problems = []
    try:
        dns_label(name)
    except ValueError as error:
        problems.append(Issue("--name", 0, "", str(error)))
    ids = {found.id for found in members} | {EXCHANGE}
    for key, value in endpoints.items():
        try:
            if key not in ids:
                raise ValueError(f"{key!r} is neither an imported party's id nor 'exchange'")
            endpoint(value)
        except ValueError as error:
            problems.append(Issue("--endpoint", 0, "", f"{key}={value}: {error}"))
    return problems


def assemble(members: list[Member], name: str, version: str,
             given: Mapping[str, str]) -> tuple[Fragment, list[Issue]]:
    """The spec: images, a cluster per file, the exchange, the parties, each member's endpoint from
    the route entries (or --endpoint); and the problems found on the way."""
    document = Fragment({"apiVersion": "kfplug.dev/v1alpha1", "kind": "Federation", "metadata": {"name": name},
                         "spec": {"runtime": "fate", "version": version}})
    images(members, document)
    exchange = next((found for found in members if found.kind == "exchange"), None)
    addresses = routes(members, exchange)
    star = exchange is not None or EXCHANGE in addresses
    problems = [Issue("--endpoint", 0, "", f"{key}={value}: there is no exchange")
                for key, value in given.items() if _key(key, exchange) == EXCHANGE and not star]
    addresses.update({_key(key, exchange): (value, None) for key, value in given.items()})
    clusters = cluster_names(members)
    used = [clusters[found.id] for found in members] + ([clusters[EXCHANGE]] if star and not exchange else [])
    document.put(("spec", "clusters"), [{"name": cluster} for cluster in used])
    if star:
        fields = exchange.fields if exchange else Fragment()
        if exchange:
            fields.put(("id",), int(exchange.id))
        fields.put(("cluster",), clusters[exchange.id if exchange else EXCHANGE])
        _endpoint(fields, addresses.get(EXCHANGE))
        problems += _exposed(fields, addresses.get(EXCHANGE), "the exchange")
        document.put(("spec", "exchange"), _ordered(fields.data))
        document.origins.update(fields.under(("spec", "exchange")))
        problems += _star_notes(members, exchange)
    parties = [found for found in members if found.kind == "party"]
    for index, party in enumerate(parties):
        party.fields.put(("id",), int(party.id))
        party.fields.put(("cluster",), clusters[party.id])
        _endpoint(party.fields, addresses.get(party.id))
        problems += _exposed(party.fields, addresses.get(party.id), f"party {party.id}")
        document.origins.update(party.fields.under(("spec", "parties", index)))
    document.put(("spec", "parties"), [_ordered(party.fields.data) for party in parties])
    if len(members) + (exchange is None and star) > 1:
        problems += [found.walk.issue(("partyId",), f"no route entry of another file gives {_who(_name(found))}'s "
                                                    f"address; give it with --endpoint {_hint(found)}", "error")
                     for found in members if _name(found) not in addresses]
    return document, problems


def _star_notes(members: list[Member], exchange: Member | None) -> list[Issue]:
    """What a star means that the files did not say: the exchange renders too, parties route through it."""
    notes = []
    if exchange is None:
        origin = next(route.origin for found in members for route in found.routes if route.peer == EXCHANGE)
        notes.append(Issue(origin.file, origin.line, origin.path, "the exchange has no cluster.yaml here: the spec "
                           "has kfplug render it too (overlays/exchange), with its defaults", "warning"))
    parties = {found.id for found in members if found.kind == "party"}
    for found in members:
        for route in found.routes if found.kind == "party" else ():
            if route.peer in parties:
                notes.append(Issue(route.origin.file, route.origin.line, route.origin.path,
                                   f"kfplug routes to party {route.peer} through the exchange (a star); this entry "
                                   "gives its endpoint", "warning"))
    return notes


def _key(key: str, exchange: Member | None) -> str:
    return EXCHANGE if exchange is not None and key == exchange.id else key


def _endpoint(fields: Fragment, address: tuple[str, Origin | None] | None) -> None:
    if address is not None:
        fields.put(("endpoint",), address[0], address[1])


NODE_PORTS = range(30000, 32768)  # Kubernetes' default node port range


def _exposed(fields: Fragment, address: tuple[str, Origin | None] | None, who: str) -> list[Issue]:
    """A member peers dial at an address must be published there: KubeFATE routes by node address and
    NodePort, so a member whose file did not say (or that has no file) gets the NodePort it is dialled at."""
    if address is None or "expose" in fields.data:
        return []
    port = endpoint(address[0]).port
    exposure = {"type": "NodePort", "nodePort": port} if port in NODE_PORTS else {"type": "LoadBalancer"}
    for key, value in exposure.items():
        fields.put(("expose", key), value, address[1])
    origin = address[1]
    kind = f"NodePort {port}" if port in NODE_PORTS else "a LoadBalancer"
    return [Issue(origin.file if origin else "--endpoint", origin.line if origin else 0, origin.path if origin else "",
                  f"{who} is dialled at {address[0]}, so its router is exposed as {kind}: check that this is how "
                  f"it is reached", "warning")]


def _ordered(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: fields[key] for key in PARTY_ORDER if key in fields}


def images(members: list[Member], document: Fragment) -> None:
    """One registry and pull policy for the federation (the first file's); every pull secret."""
    for field in ("registry", "pullPolicy"):
        settings = [setting for found in members for setting in found.images.get(field, [])]
        if not settings:
            continue
        first = settings[0]
        document.put(("spec", "images", field), first.value, first.origin)
        for found in members:
            for setting in found.images.get(field, []):
                if setting.value != first.value:
                    found.walk.warn((field,), f"not carried: kfplug has one {field} for the federation ({first.value}, "
                                    f"from {first.origin.file})")
    secrets = dict.fromkeys(setting.value for found in members for setting in found.images.get("pullSecrets", []))
    if secrets:
        document.put(("spec", "images", "pullSecrets"), list(secrets))


def routes(members: list[Member], exchange: Member | None) -> dict[str, tuple[str, Origin | None]]:
    """Each member's address from the route entries that name it; two different ones are an error."""
    ids = {found.id for found in members}
    addresses: dict[str, tuple[str, Origin | None]] = {}
    for found in members:
        for route in found.routes:
            key, origin = _key(route.peer, exchange), route.origin
            if key != EXCHANGE and key not in ids:
                found.walk.found.append(Issue(origin.file, origin.line, origin.path,
                                              f"not carried: no cluster.yaml of party {key} was given", "warning"))
                continue
            known = addresses.setdefault(key, (route.address, origin))
            if known[0] != route.address and known[1] is not None:
                found.walk.found.append(Issue(
                    origin.file, origin.line, origin.path,
                    f"{_who(key)} is at {route.address} here and at {known[0]} in {known[1].file}:{known[1].line}; "
                    "a party has one endpoint (or choose with --endpoint)", "error"))
    return addresses


def _who(key: str) -> str:
    return "the exchange" if key == EXCHANGE else f"party {key}"


def cluster_names(members: list[Member]) -> dict[str, str]:
    """A cluster per file, named as KubeFATE named the cluster when that is a DNS label; an exchange
    known only from route entries gets one called exchange."""
    names: dict[str, str] = {}
    for found in members:
        fallback = f"party-{found.id}" if found.kind == "party" else EXCHANGE
        chosen = found.name if found.name and _label(found.name) and found.name not in names.values() else fallback
        names[found.id] = chosen if chosen not in names.values() else f"{fallback}-{len(names)}"
    if not any(found.kind == "exchange" for found in members):
        names[EXCHANGE] = EXCHANGE if EXCHANGE not in names.values() else "fate-exchange"
    return names


def _label(text: str) -> bool:
    try:
        dns_label(text)
    except ValueError:
        return False
    return True


def reason(path: FieldPath) -> str:
    """Why a key left over is not carried."""
    keys = [part for part in path if isinstance(part, str)]
    key = keys[-1] if keys else ""
    if SECRET_VALUE.fullmatch(key):
        return "not copied: kfplug has no place for it, and a spec never holds a secret value"
    if keys and keys[0] in UNSUPPORTED_MODULES:
        return f"not carried: kfplug's FATE runs on eggroll and has no {keys[0]} module"
    if EXTERNAL_MYSQL.fullmatch(key):
        return "not carried: kfplug runs mysql inside the party; an external database is not supported"
    if keys[:1] == ["mysql"] and key in MYSQL_KEYS:
        return "not carried: kfplug's mysql is Service mysql, port 3306, database eggroll_meta, user fate"
    if keys == ["python", "clustermanager"]:
        return "not carried: FATE-Flow accounts 16 eggroll cores in kfplug (KubeFATE's own figure)"
    if keys[:1] == ["python"] and key in ("hive", "rabbitmq", "pulsar", "spark", "hdfs", "nginx"):
        return f"not carried: kfplug's FATE runs on eggroll and has no {key} module"
    return f"not carried: {REASONS.get(key, 'kfplug has no equivalent')}"


def _hint(found: Member) -> str:
    port = found.fields.get(("expose", "nodePort"))
    return f"{_name(found)}=HOST:{port or 'PORT'}"


def _name(found: Member) -> str:
    return found.id if found.kind == "party" else EXCHANGE
