"""FATE on eggroll: the catalog for 2.0.0 (osx router) and 1.11.2 (rollsite router),
and the per-party configuration files (route tables, properties, service_conf).

Secret values never appear here: files carry the placeholder @MYSQL_PASSWORD@,
which the container substitutes from a Secret-backed env var at start.
"""

from __future__ import annotations

import json
import re

from ..yamlio import dump
from .catalog import ConfigInput, ConfigMap, Module, Peer, Release, Runtime, SecretKind, SecretMount, SecretUse

ROUTER_PORT = 9370
MYSQL_PASSWORD = SecretMount("mysql", "mysql-password")  # a file: /run/secrets/mysql/password
PASSWORD_PLACEHOLDER = "@MYSQL_PASSWORD@"
WAIT_FOR_MYSQL = {"wait-for-mysql": "mysql"}

MODULES = {
    m.name: m
    for m in (
        Module("mysql", "StatefulSet", "mysql", {"mysql": 3306}, stateful=True,
               secret_mounts=(MYSQL_PASSWORD,), clients=("clustermanager", "nodemanager", "fateflow")),
        Module("osx", "Deployment", "federatedai/osx", {"grpc": ROUTER_PORT}, router=True, scalable=True),
        Module("rollsite", "Deployment", "federatedai/eggroll", {"grpc": ROUTER_PORT}, router=True,
               scalable=True),
        Module("clustermanager", "Deployment", "federatedai/eggroll", {"grpc": 4670},
               init_containers=WAIT_FOR_MYSQL, requires=("mysql",), secret_mounts=(MYSQL_PASSWORD,)),
        Module("nodemanager", "StatefulSet", "federatedai/eggroll", {"grpc": 4671}, stateful=True, scalable=True, replicas=2,
               init_containers=WAIT_FOR_MYSQL, requires=("clustermanager",), secret_mounts=(MYSQL_PASSWORD,)),
        Module("fateflow", "StatefulSet", "federatedai/fateflow", {"grpc": 9360, "http": 9380},
               stateful=True, scalable=True, init_containers=WAIT_FOR_MYSQL,
               requires=("mysql", "clustermanager"),
               secret_mounts=(MYSQL_PASSWORD,)),
        Module("fateboard", "Deployment", "federatedai/fateboard", {"http": 8080}, web_port=8080, scalable=True,
               requires=("fateflow",),
               secrets=(SecretUse("fateboard", "SERVER_BOARD_LOGIN_USERNAME", "username"),
                        SecretUse("fateboard", "SERVER_BOARD_LOGIN_PASSWORD", "password"))),
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


def _images(tag: str, fateflow_repository: str) -> dict[str, tuple[str, str]]:
    return {
        "mysql": ("mysql", "8.0.28"),
        "federatedai/osx": ("federatedai/osx", tag),
        "federatedai/eggroll": ("federatedai/eggroll", tag),
        "federatedai/fateflow": (fateflow_repository, tag),
        "federatedai/fateboard": ("federatedai/fateboard", tag),
        "federatedai/client": ("federatedai/client", tag),
    }


RELEASES = {
    "2.0.0": Release("2.0.0", ("mysql", "osx", "clustermanager", "nodemanager", "fateflow",
                               "fateboard", "client"),
                     router="osx", images=_images("2.0.0-release", "federatedai/fateflow")),
    "1.11.2": Release("1.11.2", ("mysql", "rollsite", "clustermanager", "nodemanager", "fateflow",
                                 "fateboard", "client"),
                      router="rollsite", images=_images("1.11.2-release", "federatedai/python")),
}


def party_id(value: str) -> str:
    if not re.fullmatch(r"0|[1-9][0-9]{0,9}", value) or int(value) > 2**31 - 1:
        raise ValueError(f"{value!r} is not a FATE party id (a decimal integer without leading zeros)")
    return value


def configure(ctx: ConfigInput) -> list[ConfigMap]:
    """The generated ConfigMaps of one party (or of the exchange)."""
    has = set(ctx.modules)
    maps = []
    if "osx" in has:
        maps.append(ConfigMap("osx-config", "osx", {
            "broker.properties": _broker_properties(ctx),
            "route_table.json": _route_table(ctx, osx=True),
        }))
    if "rollsite" in has:
        maps.append(ConfigMap("rollsite-config", "rollsite", {"route_table.json": _route_table(ctx, osx=False)}))
    if has & {"rollsite", "clustermanager", "nodemanager"}:
        maps.append(ConfigMap("eggroll-config", "eggroll", {"eggroll.properties": _eggroll_properties(ctx)}))
    if "fateflow" in has:
        maps.append(ConfigMap("fateflow-config", "fateflow", {"service_conf.yaml": _service_conf(ctx)}))
    if "fateboard" in has:
        maps.append(ConfigMap("fateboard-config", "fateboard", {"application.properties": _fateboard_properties()}))
    if "client" in has:
        maps.append(ConfigMap("client-env", "client", {"client.env": _client_env(ctx)}, env=True))
    return maps


def _entry(peer: Peer) -> list[dict]:
    return [{"ip": peer.host, "port": peer.port}]


def _route_table(ctx: ConfigInput, osx: bool) -> str:
    """route_table.json: self -> local services, peers -> their routers, default -> the exchange."""
    table: dict = {}
    if not ctx.exchange:
        local = {"fateflow": [{"ip": "fateflow", "port": 9360}]}
        if not osx:
            local = {"default": [{"ip": "rollsite", "port": ROUTER_PORT}], **local}
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


def _properties(pairs: list[tuple[str, object]]) -> str:
    return GENERATED + "".join(f"{key}={value}\n" for key, value in pairs)


def _broker_properties(ctx: ConfigInput) -> str:
    pairs = [
        ("grpc.port", ROUTER_PORT),
        ("self.party", ctx.party),
        ("open.grpc.tls.server", "false"),
        ("grpc.tls.port", 9883),
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
    pairs: list[tuple[str, object]] = []
    if not ctx.exchange:
        pairs += [
            ("eggroll.resourcemanager.clustermanager.jdbc.driver.class.name", "com.mysql.cj.jdbc.Driver"),
            ("eggroll.resourcemanager.clustermanager.jdbc.url",
             "jdbc:mysql://mysql:3306/eggroll_meta?useSSL=false&serverTimezone=UTC"
             "&characterEncoding=utf8&allowPublicKeyRetrieval=true"),
            ("eggroll.resourcemanager.clustermanager.jdbc.username", "fate"),
            ("eggroll.resourcemanager.clustermanager.jdbc.password", PASSWORD_PLACEHOLDER),
            ("eggroll.data.dir", "data/"),
            ("eggroll.logs.dir", "logs/"),
            ("eggroll.resourcemanager.clustermanager.host", "clustermanager"),
            ("eggroll.resourcemanager.clustermanager.port", 4670),
            ("eggroll.resourcemanager.nodemanager.port", 4671),
            ("eggroll.resourcemanager.process.tag", ctx.party),
            ("eggroll.session.processors.per.node", 4),
            ("eggroll.bootstrap.root.script", "bin/eggroll_boot.sh"),
            ("eggroll.resourcemanager.bootstrap.egg_pair.exepath", "bin/roll_pair/egg_pair_bootstrap.sh"),
            ("eggroll.resourcemanager.bootstrap.egg_pair.pythonpath", "python"),
            ("eggroll.resourcemanager.bootstrap.egg_pair.filepath", "python/eggroll/roll_pair/egg_pair.py"),
        ]
    if "rollsite" in ctx.modules:
        pairs += [
            ("eggroll.rollsite.coordinator", "fate"),
            ("eggroll.rollsite.host", "0.0.0.0"),
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
    return _properties(pairs)


def _service_conf(ctx: ConfigInput) -> str:
    """fate_flow's service_conf.yaml."""
    router = ctx.release.router
    database = {"name": "eggroll_meta", "user": "fate", "passwd": PASSWORD_PLACEHOLDER,
                "host": "mysql", "port": 3306, "max_connections": 100, "stale_timeout": 30}
    if router == "osx":
        conf = {
            "party_id": ctx.party,
            "use_registry": False,
            "fateflow": {"host": "0.0.0.0", "http_port": 9380, "grpc_port": 9360, "proxy_name": "osx"},
            "database": {"engine": "mysql", "decrypt_key": None, "mysql": database},
            "default_engines": {"computing": "eggroll", "federation": "osx", "storage": "eggroll"},
            "federation": {"osx": {"host": "osx", "port": ROUTER_PORT, "mode": "stream"}},
            "computing": {"eggroll": {"cluster_manager_host": "clustermanager", "cluster_manager_port": 4670}},
        }
    else:
        conf = {
            "party_id": int(ctx.party),
            "use_registry": False,
            "fateflow": {"host": "0.0.0.0", "http_port": 9380, "grpc_port": 9360, "proxy": "rollsite",
                         "protocol": "default"},
            "database": database,
            "default_engines": {"computing": "eggroll", "federation": "eggroll", "storage": "eggroll"},
            "fate_on_eggroll": {
                "clustermanager": {"cores_per_node": 16, "nodes": 1},
                "rollsite": {"host": "rollsite", "port": ROUTER_PORT},
            },
            "fateboard": {"host": "fateboard", "port": 8080},
        }
    return GENERATED + dump(conf)


def _fateboard_properties() -> str:
    # Login credentials come from the fateboard Secret through env vars, which Spring ranks higher.
    return _properties([
        ("server.port", 8080),
        ("fateflow.url", "http://fateflow:9380"),
        ("spring.servlet.encoding.charset", "UTF-8"),
        ("spring.servlet.encoding.enabled", "true"),
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
