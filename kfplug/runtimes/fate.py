"""FATE on eggroll: the catalog for 2.0.0 (osx router) and 1.11.2 (rollsite router),
and the per-party configuration files (route tables, properties, service_conf).

Secret values never appear here: files carry placeholders (@MYSQL_PASSWORD@, the
fateboard login), which the container fills in from a mounted Secret at start;
@POD_IP@ becomes the pod's address.
"""

from __future__ import annotations

import json
import re

from ..yamlio import dump
from .catalog import ConfigInput, ConfigMap, Module, Peer, Release, Runtime, SecretKind, SecretMount, SecretUse

ROUTER_PORT = 9370
MYSQL_PASSWORD = SecretMount("mysql", "mysql-password")  # a file: /run/secrets/mysql/password
PASSWORD_PLACEHOLDER = "@MYSQL_PASSWORD@"
POD_IP_PLACEHOLDER = "@POD_IP@"  # filled in at start from the downward API (status.podIP)
FATEBOARD_USERNAME_PLACEHOLDER = "@FATEBOARD_USERNAME@"
FATEBOARD_PASSWORD_PLACEHOLDER = "@FATEBOARD_PASSWORD@"
EGGROLL_HOME = "/data/projects/fate/eggroll"  # in the eggroll and fateflow images (FATE-Builder)
ROLLSITE_SELF = "rollsite"  # rollsite's identity: its own route-table entries use this ip
EGGROLL_3_RELEASES = {"2.0.0"}
EGG_PAIR = {True: "python/eggroll/computing/egg_pair/egg_pair.py", False: "python/eggroll/roll_pair/egg_pair.py"}
EGGROLL_CORES = 16  # cores FATE-Flow hands out on eggroll, over all nodes (KubeFATE's figure)
WAIT_FOR_MYSQL = {"wait-for-mysql": "mysql"}

MODULES = {
    m.name: m
    for m in (
        Module("mysql", "StatefulSet", "mysql", {"mysql": 3306}, stateful=True,
               secret_mounts=(MYSQL_PASSWORD,), clients={"mysql": ("clustermanager", "fateflow")}),
        Module("osx", "Deployment", "federatedai/osx", {"grpc": ROUTER_PORT}, router=True, scalable=True),
        Module("rollsite", "Deployment", "federatedai/eggroll", {"grpc": ROUTER_PORT}, router=True,
               scalable=True),
        Module("clustermanager", "Deployment", "federatedai/eggroll", {"grpc": 4670},
               init_containers=WAIT_FOR_MYSQL, requires=("mysql",), secret_mounts=(MYSQL_PASSWORD,)),
        # the node manager and its egg_pair workers never open the database, so they get no password
        Module("nodemanager", "StatefulSet", "federatedai/eggroll", {"grpc": 4671}, stateful=True, scalable=True,
               replicas=2, requires=("clustermanager",)),
        Module("fateflow", "StatefulSet", "federatedai/fateflow", {"grpc": 9360, "http": 9380},
               stateful=True, scalable=True, init_containers=WAIT_FOR_MYSQL,
               requires=("mysql", "clustermanager"),
               secret_mounts=(MYSQL_PASSWORD,),
               # its HTTP API serves the merged configuration, mysql password included, without authentication
               clients={"http": ("fateflow", "fateboard", "client")}),
        Module("fateboard", "Deployment", "federatedai/fateboard", {"http": 8080}, web_port=8080, scalable=True,
               init_containers={"config": "federatedai/fateboard"}, requires=("fateflow",),
               secret_mounts=(SecretMount("fateboard", "fateboard-login"),)),
        Module("client", "StatefulSet", "federatedai/client", {"http": 20000}, stateful=True,
               web_port=20000, requires=("fateflow",),
               secrets=(SecretUse("client", "NOTEBOOK_HASHED_PASSWORD", "notebook-hashed-password"),)),
    )
}

SECRETS = {
    s.name: s
    for s in (
        SecretKind("mysql", ("password",), "mysql"),
        SecretKind("fateboard", ("username", "password"), "fateboard"),
        SecretKind("client", ("notebook-hashed-password",), "client"),
    )
}


def _images(tag: str) -> dict[str, tuple[str, str]]:
    return {
        "mysql": ("mysql", "8.0.28"),
        "federatedai/osx": ("federatedai/osx", tag),
        "federatedai/eggroll": ("federatedai/eggroll", tag),
        "federatedai/fateflow": ("federatedai/fateflow", tag),
        "federatedai/fateboard": ("federatedai/fateboard", tag),
        "federatedai/client": ("federatedai/client", tag),
    }


RELEASES = {
    "2.0.0": Release("2.0.0", ("mysql", "osx", "clustermanager", "nodemanager", "fateflow",
                               "fateboard", "client"),
                     router="osx", images=_images("2.0.0-release")),
    "1.11.2": Release("1.11.2", ("mysql", "rollsite", "clustermanager", "nodemanager", "fateflow",
                                 "fateboard", "client"),
                      router="rollsite", images=_images("1.11.2-release")),
}


def party_id(value: str) -> str:
    if not re.fullmatch(r"0|[1-9][0-9]{0,9}", value) or int(value) > 2**31 - 1:
        raise ValueError(f"{value!r} is not a FATE party id (a decimal integer without leading zeros)")
    return value


def configure(ctx: ConfigInput) -> list[ConfigMap]:
    """The generated ConfigMaps of one party (or of the exchange)."""
    has = set(ctx.modules)
    eggroll_3 = _eggroll_3(ctx)
    maps = []
    if "osx" in has:
        maps.append(ConfigMap("osx-config", "osx", {
            "broker.properties": _broker_properties(ctx),
            "route_table.json": _route_table(ctx, osx=True),
        }))
    if "rollsite" in has:
        maps.append(ConfigMap("rollsite-config", "rollsite", {"route_table.json": _route_table(ctx, osx=False)}))
    if has & {"rollsite", "clustermanager", "nodemanager"}:
        files = {"eggroll.properties": _eggroll_properties(ctx)}
        if eggroll_3 and "nodemanager" in has:  # read beside eggroll.properties; upstream ships it empty
            files["node-extend-env.properties"] = GENERATED
        if eggroll_3 and has & {"clustermanager", "nodemanager"}:
            files[QUIET_LOG] = QUIET_LOG_CONFIG
        maps.append(ConfigMap("eggroll-config", "eggroll", files))
    if "fateflow" in has:
        service_conf = _service_conf_2(ctx) if eggroll_3 else _service_conf_1(ctx)
        maps.append(ConfigMap("fateflow-config", "fateflow", {"service_conf.yaml": service_conf}))
    if "fateboard" in has:
        maps.append(ConfigMap("fateboard-config", "fateboard", {"application.properties": _fateboard_properties()}))
    if "client" in has:
        maps.append(ConfigMap("client-env", "client", {"client.env": _client_env(ctx)}, env=True))
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


def _eggroll_3(ctx: ConfigInput) -> bool:
    """FATE 2.x runs eggroll 3 (new main classes, keys and paths); 1.x runs eggroll 2.5."""
    return ctx.release.version in EGGROLL_3_RELEASES


def _entry(peer: Peer) -> list[dict]:
    return [{"ip": peer.host, "port": peer.port}]


def _route_table(ctx: ConfigInput, osx: bool) -> str:
    """route_table.json: self -> local services, peers -> their routers, default -> the exchange.

    rollsite handles a call itself only when the entry's ip equals its `eggroll.rollsite.host`
    (ROLLSITE_SELF); osx learns its own party from `self_party`."""
    table: dict = {}
    if not ctx.exchange:
        local = {"fateflow": [{"ip": "fateflow", "port": 9360}]}
        if not osx:
            local = {"default": [{"ip": ROLLSITE_SELF, "port": ROUTER_PORT}], **local}
        table[ctx.party] = local
    for peer in ctx.peers:
        table[peer.party] = {"default": _entry(peer)}
    if ctx.default_route:
        table["default"] = {"default": _entry(ctx.default_route)}
    document: dict = {"route_table": table}
    if osx:
        document["self_party"] = [ctx.party]
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
        ("open.grpc.tls.server", "false"),
        ("grpc.tls.port", 9883),
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
    return _properties(pairs)


def _eggroll_properties(ctx: ConfigInput) -> str:
    """eggroll.properties: read by the JVMs (java.util.Properties) and by eggroll's Python
    (configparser), which needs the [eggroll] section."""
    eggroll_3 = _eggroll_3(ctx)
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
        ]
    return _properties(pairs, section="eggroll")


def _mysql_database() -> dict:
    return {"name": "eggroll_meta", "user": "fate", "passwd": PASSWORD_PLACEHOLDER,
            "host": "mysql", "port": 3306, "max_connections": 100, "stale_timeout": 30}


def _nodes(ctx: ConfigInput) -> int:
    """eggroll nodes: FATE-Flow splits a job's cores over them (task_cores_per_node = cores // nodes)."""
    return ctx.replicas.get("nodemanager", 1)


def _service_conf_2(ctx: ConfigInput) -> str:
    """FATE-Flow 2.0.0's service_conf.yaml, whole: it replaces the image's file, so every section
    FATE-Flow reads is here (model_store and storage have no default)."""
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


FATE = Runtime(
    name="fate",
    namespace_prefix="fate-",
    modules=MODULES,
    releases=RELEASES,
    secrets=SECRETS,
    configure=configure,
    party_id=party_id,
)
