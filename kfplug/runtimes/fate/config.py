"""The configuration files of one FATE party (or the exchange): route tables, osx's
broker.properties, eggroll.properties, FATE-Flow's service_conf.yaml, fateboard's
application.properties and the client's env file.

Secret values never appear here: files carry placeholders (@MYSQL_PASSWORD@, the
fateboard login), which the container fills in from a mounted Secret at start;
@POD_IP@ becomes the pod's address.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs

from ...catalog import Release
from ...compile.context import PartyContext
from ...plan import ConfigMapGen, Part
from ...spec.members import Member, reach
from ...spec.values import Endpoint
from ...yamlwrite import dump
from .catalog import OSX_TLS_PORT, ROUTER_PORT, STACKS, Stack
from .tls import PEERS_BUNDLE, SERVED_CERT, SERVED_KEY, trust_file

Route = dict[str, str | int | bool]
Routes = dict[str, list[Route]]  # a party's entry: service -> [{ip, port, ...}]
# a route's TLS fields: osx takes the client key pair and the CA per route; rollsite (eggroll 2.5) marks
# the route secure and uses its own key pair and CA from eggroll.properties
OSX_ROUTE_TLS: Route = {"useSSL": True, "certChainFile": SERVED_CERT, "privateKeyFile": SERVED_KEY}
ROLLSITE_ROUTE_TLS: Route = {"is_secure": True}

PASSWORD_PLACEHOLDER = "@MYSQL_PASSWORD@"
POD_IP_PLACEHOLDER = "@POD_IP@"  # filled in at start from the downward API (status.podIP)
FATEBOARD_USERNAME_PLACEHOLDER = "@FATEBOARD_USERNAME@"
FATEBOARD_PASSWORD_PLACEHOLDER = "@FATEBOARD_PASSWORD@"
EGGROLL_HOME = "/data/projects/fate/eggroll"  # in the eggroll and fateflow images (FATE-Builder)
ROLLSITE_SELF = "rollsite"  # rollsite's identity: its own route-table entries use this ip
EGGROLL_3_RELEASES = frozenset(version for version, stack in STACKS.items() if stack.eggroll_3)
EGG_PAIR = {True: "python/eggroll/computing/egg_pair/egg_pair.py", False: "python/eggroll/roll_pair/egg_pair.py"}
EGGROLL_CORES = 16  # cores FATE-Flow hands out on eggroll, over all nodes (KubeFATE's figure)


@attrs.frozen
class Peer:
    """Where a party's router reaches another router; with mutual TLS, the CA file it trusts there."""
    party: str
    address: Endpoint
    ca_file: str | None = None


@attrs.frozen
class ConfigInput:
    """Everything FATE's configuration of one party needs."""
    party: str
    release: Release
    modules: tuple[str, ...]
    peers: tuple[Peer, ...]  # explicit routes, in spec order
    default_route: Peer | None = None  # the exchange, in a star
    exchange: bool = False  # this party is the exchange itself
    # module -> pods, for the modules whose count the configuration names
    replicas: dict[str, int] = attrs.field(factory=dict)
    tls_port: int | None = None  # with mutual TLS: the router's TLS port, serving peers only


def config_maps(ctx: PartyContext) -> Iterator[Part]:
    """The compile step: the member's generated ConfigMaps."""
    yield from configure(config_input(ctx))


def config_input(ctx: PartyContext) -> ConfigInput:
    """Routes: a party in a star has the exchange as its default route; otherwise each neighbour."""
    entry, mutual = ctx.entry, ctx.spec.mutual_tls

    def peer(target: Member) -> Peer | None:
        address = reach(ctx.member, target, entry.service, entry.port)
        return None if address is None else Peer(target.id, address, trust_file(target) if mutual else None)

    hub = [target for target in ctx.neighbours if target.kind == "exchange"]
    return ConfigInput(
        party=ctx.member.id,
        release=ctx.release,
        modules=tuple(m.name for m in ctx.modules),
        peers=() if hub else tuple(p for p in map(peer, ctx.neighbours) if p is not None),
        default_route=peer(hub[0]) if hub else None,
        exchange=ctx.member.kind == "exchange",
        replicas={m.name: ctx.replicas_of(m) for m in ctx.modules},
        tls_port=entry.port if mutual else None,
    )


def configure(ctx: ConfigInput) -> list[ConfigMapGen]:
    """The generated ConfigMaps of one party (or of the exchange)."""
    has = set(ctx.modules)
    stack = _stack(ctx)
    maps = []
    if "osx" in has:
        maps.append(ConfigMapGen("osx-config", "osx", {
            "broker.properties": _broker_properties(ctx),
            "route_table.json": _route_table(ctx, osx=True),
        }))
    if "rollsite" in has:
        maps.append(ConfigMapGen("rollsite-config", "rollsite", {"route_table.json": _route_table(ctx, osx=False)}))
    if has & {"rollsite", "clustermanager", "nodemanager"}:
        files = {"eggroll.properties": _eggroll_properties(ctx)}
        if stack.eggroll_3 and "nodemanager" in has:  # read beside eggroll.properties; upstream ships it empty
            files["node-extend-env.properties"] = GENERATED
        if stack.eggroll_3 and has & {"clustermanager", "nodemanager"}:
            files[QUIET_LOG] = QUIET_LOG_CONFIG
        maps.append(ConfigMapGen("eggroll-config", "eggroll", files))
    if "fateflow" in has:
        service_conf = _service_conf_2(ctx) if stack.fate_flow_2 else _service_conf_1(ctx)
        maps.append(ConfigMapGen("fateflow-config", "fateflow", {"service_conf.yaml": service_conf}))
    if "fateboard" in has:
        maps.append(ConfigMapGen("fateboard-config", "fateboard", {"application.properties": _fateboard_properties()}))
    if "client" in has:
        maps.append(ConfigMapGen("client-env", "client", {"client.env": _client_env(ctx)}, env=True))
    return maps


QUIET_LOG = "log4j2-quiet.xml"
# Laid over eggroll's own conf/log4j2.xml (log4j2 merges a comma-separated list of files):
# eggroll 3 logs every configuration value at INFO, the mysql password included
# (eggroll@5b8de69 jvm/core/.../config/MetaInfo.java, init).
QUIET_LOG_CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by kfplug; do not edit -->
<Configuration status="ERROR">
  <Loggers>
    <Logger name="org.fedai.eggroll.core.config.MetaInfo" level="warn"/>
  </Loggers>
</Configuration>
"""


def _stack(ctx: ConfigInput) -> Stack:
    """What the party's release pins: the versions its files are written for."""
    return STACKS[ctx.release.version]


def _entry(peer: Peer, osx: bool) -> list[Route]:
    route: Route = {"ip": peer.address.host, "port": peer.address.port}
    if peer.ca_file is not None:
        route |= OSX_ROUTE_TLS | {"caFile": peer.ca_file} if osx else ROLLSITE_ROUTE_TLS
    return [route]


def _route_table(ctx: ConfigInput, osx: bool) -> str:
    """route_table.json: self -> local services, peers -> their routers, default -> the exchange.

    rollsite handles a call itself only when the entry's ip equals its `eggroll.rollsite.host`
    (ROLLSITE_SELF); osx learns its own party from `self_party`."""
    table: dict[str, Routes] = {}
    if not ctx.exchange:
        local: Routes = {"fateflow": [{"ip": "fateflow", "port": 9360}]}
        if not osx:
            local = {"default": [{"ip": ROLLSITE_SELF, "port": ROUTER_PORT}], **local}
        table[ctx.party] = local
    for peer in ctx.peers:
        table[peer.party] = {"default": _entry(peer, osx)}
    if ctx.default_route:
        table["default"] = {"default": _entry(ctx.default_route, osx)}
    document: dict[str, Any] = {"route_table": table}
    if osx:  # osx reads no `permission` block (who may connect is the trust bundle's CAs alone)
        document["self_party"] = [ctx.party]
    else:  # rollsite reads default_allow, and without it logs an error every minute; true: a role without
        # its own route takes the party's default one (fateflow)
        document["permission"] = {"default_allow": True}
    return json.dumps(document, indent=2) + "\n"


GENERATED = "# generated by kfplug; do not edit\n"


def _properties(pairs: list[tuple[str, object]], section: str | None = None) -> str:
    header = f"[{section}]\n" if section else ""
    return GENERATED + header + "".join(f"{key}={value}\n" for key, value in pairs)


def _broker_properties(ctx: ConfigInput) -> str:
    pairs = [
        ("grpc.port", ROUTER_PORT),
        ("self.party", ctx.party),
        *_osx_tls(ctx),
        ("open.http.server", "false"),
        ("http.port", 8807),
        ("deploy.model", "standalone"),
        ("zk.open", "false"),
        ("stream.limit.mode", "LOCAL"),
        ("grpc.server.max.concurrent.call.per.connection", 1000),
        ("grpc.server.max.inbound.message.size", 2147483647),
    ]
    if not ctx.exchange:
        pairs += [("eggroll.cluster.manager.ip", "clustermanager"), ("eggroll.cluster.manager.port", 4670)]
    stack = _stack(ctx)
    if stack.osx_names_eggroll:  # eggroll 3's protocol, as the base's classpath (pb_lib/v3) says
        pairs.append(("eggroll.version", stack.eggroll))
    return _properties(pairs)


def _osx_tls(ctx: ConfigInput) -> list[tuple[str, object]]:
    """osx's TLS server: a second port for peers, requiring a client certificate from the CAs of the
    members it has routes to; its plaintext port stays for the party's own modules."""
    if ctx.tls_port is None:
        return [("open.grpc.tls.server", "false"), ("grpc.tls.port", OSX_TLS_PORT)]
    return [
        ("open.grpc.tls.server", "true"),
        ("grpc.tls.port", ctx.tls_port),
        ("grpc.server.cert.chain.file", SERVED_CERT),
        ("grpc.server.private.key.file", SERVED_KEY),
        ("grpc.server.ca.file", PEERS_BUNDLE),
        ("grpc.ssl.open.client.validate", "true"),
    ]


def _rollsite_tls(ctx: ConfigInput) -> list[tuple[str, object]]:
    """rollsite's secure port beside its plaintext one, requiring client certificates; its routes marked
    is_secure dial with the same key pair and trust the same CAs (eggroll 2.5 has one client context,
    not one per route)."""
    if ctx.tls_port is None:
        return []
    return [
        ("eggroll.rollsite.secure.port", ctx.tls_port),
        ("eggroll.core.security.crt.path", SERVED_CERT),
        ("eggroll.core.security.key.path", SERVED_KEY),
        ("eggroll.core.security.ca.crt.path", PEERS_BUNDLE),
        ("eggroll.core.security.secure.client.auth.enabled", "true"),
        ("eggroll.core.security.client.crt.path", SERVED_CERT),
        ("eggroll.core.security.client.key.path", SERVED_KEY),
        ("eggroll.core.security.client.ca.crt.path", PEERS_BUNDLE),
    ]


def _eggroll_properties(ctx: ConfigInput) -> str:
    """eggroll.properties: read by the JVMs (java.util.Properties) and by eggroll's Python
    (configparser), which needs the [eggroll] section."""
    eggroll_3 = _stack(ctx).eggroll_3
    pairs: list[tuple[str, object]] = []
    if not ctx.exchange:
        pairs += [
            ("eggroll.resourcemanager.clustermanager.jdbc.driver.class.name", "com.mysql.cj.jdbc.Driver"),
            ("eggroll.resourcemanager.clustermanager.jdbc.url",
             "jdbc:mysql://mysql:3306/eggroll_meta?useSSL=false&serverTimezone=UTC"
             "&characterEncoding=utf8&allowPublicKeyRetrieval=true"),
            ("eggroll.resourcemanager.clustermanager.jdbc.username", "fate"),
            ("eggroll.resourcemanager.clustermanager.jdbc.password", PASSWORD_PLACEHOLDER),
            ("eggroll.data.dir", f"{EGGROLL_HOME}/data/"),  # egg_pair 3.0 refuses a relative one
            ("eggroll.logs.dir", f"{EGGROLL_HOME}/logs/"),
            ("eggroll.resourcemanager.clustermanager.host", "clustermanager"),
            ("eggroll.resourcemanager.clustermanager.port", 4670),
            ("eggroll.resourcemanager.nodemanager.port", 4671),
            ("eggroll.resourcemanager.process.tag", ctx.party),
            ("eggroll.session.processors.per.node", 4),
            ("eggroll.session.start.timeout.ms", 180000),
            ("eggroll.bootstrap.root.script", "bin/eggroll_boot.sh"),
            ("eggroll.resourcemanager.bootstrap.egg_pair.exepath", "bin/roll_pair/egg_pair_bootstrap.sh"),
            ("eggroll.resourcemanager.bootstrap.egg_pair.pythonpath", "python"),
            ("eggroll.resourcemanager.bootstrap.egg_pair.filepath", EGG_PAIR[eggroll_3]),
        ]
        if eggroll_3:
            pairs += [
                # each nodemanager pod advertises its own address (the start script fills in the pod IP)
                ("eggroll.resourcemanager.nodemanager.host", POD_IP_PLACEHOLDER),
                ("eggroll.resourcemanager.nodemanager.gpu.num.shell", "nvidia.sh"),
            ]
    if "rollsite" in ctx.modules:
        pairs += [
            ("eggroll.rollsite.coordinator", "fate"),
            ("eggroll.rollsite.host", ROLLSITE_SELF),
            ("eggroll.rollsite.port", ROUTER_PORT),
            ("eggroll.rollsite.party.id", ctx.party),
            ("eggroll.rollsite.route.table.path", "/etc/fate/rollsite-config/route_table.json"),
            ("eggroll.rollsite.route.table.key", ""),
            ("eggroll.rollsite.route.table.whitelist", "127.0.0.1"),
            ("eggroll.rollsite.push.max.retry", 3),
            ("eggroll.rollsite.push.long.retry", 2),
            ("eggroll.rollsite.push.batches.per.stream", 10),
            ("eggroll.rollsite.adapter.sendbuf.size", 100000),
            *_rollsite_tls(ctx),
        ]
    return _properties(pairs, section="eggroll")


def _mysql_database() -> dict[str, str | int]:
    return {"name": "eggroll_meta", "user": "fate", "passwd": PASSWORD_PLACEHOLDER,
            "host": "mysql", "port": 3306, "max_connections": 100, "stale_timeout": 30}


def _nodes(ctx: ConfigInput) -> int:
    """eggroll nodes: FATE-Flow splits a job's cores over them (task_cores_per_node = cores // nodes)."""
    return ctx.replicas.get("nodemanager", 1)


def _service_conf_2(ctx: ConfigInput) -> str:
    """FATE-Flow 2's service_conf.yaml (2.0.0 and 2.2.0 read the same sections and keys), whole: it
    replaces the image's file, so every section FATE-Flow reads is here (model_store and storage have
    no default)."""
    conf = {
        "party_id": ctx.party,
        "use_registry": False,
        "log_level": 20,
        "fateflow": {"host": POD_IP_PLACEHOLDER, "http_port": 9380, "grpc_port": 9360, "proxy_name": "osx"},
        "database": {"engine": "mysql", "decrypt_key": None, "mysql": _mysql_database()},
        "default_engines": {"computing": "eggroll", "federation": "osx", "storage": "eggroll"},
        "default_provider": {"name": "fate", "version": None, "device": "local"},
        "computing": {"eggroll": {"cores": EGGROLL_CORES, "nodes": _nodes(ctx), "host": "clustermanager",
                                  "port": 4670}},
        "federation": {"osx": {"host": "osx", "port": ROUTER_PORT, "mode": "stream"}},
        "storage": {"hdfs": {"name_node": "hdfs://fate-cluster"}},
        "hook_module": {"client_authentication": "fate_flow.hook.flow.client_authentication",
                        "site_authentication": "fate_flow.hook.flow.site_authentication",
                        "permission": "fate_flow.hook.flow.permission"},
        "authentication": {"client": False, "site": False, "permission": False},
        "model_store": {"engine": "file", "decrypt_key": None, "file": {"path": None}},
    }
    return GENERATED + dump(conf)


def _service_conf_1(ctx: ConfigInput) -> str:
    """FATE-Flow 1.11's service_conf.yaml (read from $FATE_PROJECT_BASE/conf)."""
    conf = {
        "party_id": int(ctx.party),
        "use_registry": False,
        "fateflow": {"host": POD_IP_PLACEHOLDER, "http_port": 9380, "grpc_port": 9360, "proxy": "rollsite",
                     "protocol": "default"},
        "database": _mysql_database(),
        "default_engines": {"computing": "eggroll", "federation": "eggroll", "storage": "eggroll"},
        "fate_on_eggroll": {
            "clustermanager": {"cores_per_node": EGGROLL_CORES // _nodes(ctx), "nodes": _nodes(ctx)},
            "rollsite": {"host": "rollsite", "port": ROUTER_PORT},
        },
        "fateboard": {"host": "fateboard", "port": 8080},
    }
    return GENERATED + dump(conf)


def _fateboard_properties() -> str:
    # fateboard re-reads this file at every login, so the login is in it: filled in from the
    # fateboard Secret by the init container, like the mysql password elsewhere.
    return _properties([
        ("server.port", 8080),
        ("fateflow.url", "http://fateflow:9380"),
        ("server.board.login.username", FATEBOARD_USERNAME_PLACEHOLDER),
        ("server.board.login.password", FATEBOARD_PASSWORD_PLACEHOLDER),
        ("server.board.encrypt.enable", "false"),
        ("server.servlet.encoding.charset", "UTF-8"),
        ("server.servlet.encoding.enabled", "true"),
        ("server.tomcat.uri-encoding", "UTF-8"),
        ("fateboard.front_end.cors", "false"),
        ("server.compression.enabled", "true"),
        ("management.endpoints.web.exposure.exclude", "*"),
        ("server.servlet.session.timeout", "4h"),
    ])


def _client_env(ctx: ConfigInput) -> str:
    return _properties([("partyId", ctx.party), ("FATE_FLOW_IP", "fateflow"), ("FATE_FLOW_PORT", 9380)])
