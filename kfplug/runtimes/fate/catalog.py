"""FATE on eggroll: the catalog for 2.2.0 and 2.0.0 (osx router) and 1.11.2 (rollsite router), and
what each release pins that its generated configuration depends on (STACKS).
Where each fact comes from: bases/fate/README.md."""

from __future__ import annotations

import re

import attrs

from ...catalog import Module, Release, SecretKind, SecretMount, SecretUse

ROUTER_PORT = 9370
OSX_TLS_PORT = 9883  # osx's grpc.tls.port, as its image exposes it
ROLLSITE_TLS_PORT = 9380  # rollsite's eggroll.rollsite.secure.port (eggroll's default)
MYSQL_PASSWORD = SecretMount("mysql", "mysql-password")  # a file: /run/secrets/mysql/password
WAIT_FOR_MYSQL = {"wait-for-mysql": "mysql"}

MODULES = {
    m.name: m
    for m in (
        Module("mysql", "StatefulSet", "mysql", {"mysql": 3306}, stateful=True, default_size="10Gi",
               secret_mounts=(MYSQL_PASSWORD,), clients={"mysql": ("clustermanager", "fateflow")}),
        Module("osx", "Deployment", "federatedai/osx", {"grpc": ROUTER_PORT}, router_port="grpc", scalable=True,
               tls_port=OSX_TLS_PORT),
        Module("rollsite", "Deployment", "federatedai/eggroll", {"grpc": ROUTER_PORT}, router_port="grpc",
               scalable=True, tls_port=ROLLSITE_TLS_PORT),
        Module("clustermanager", "Deployment", "federatedai/eggroll", {"grpc": 4670},
               init_containers=WAIT_FOR_MYSQL, requires=("mysql",), secret_mounts=(MYSQL_PASSWORD,)),
        # the node manager and its egg_pair workers never open the database, so they get no password
        Module("nodemanager", "StatefulSet", "federatedai/eggroll", {"grpc": 4671}, stateful=True,
               default_size="20Gi", scalable=True,
               replicas=2, requires=("clustermanager",)),
        Module("fateflow", "StatefulSet", "federatedai/fateflow", {"grpc": 9360, "http": 9380},
               stateful=True, default_size="10Gi", scalable=True, init_containers=WAIT_FOR_MYSQL,
               requires=("mysql", "clustermanager"),
               secret_mounts=(MYSQL_PASSWORD,),
               # its HTTP API serves the merged configuration, mysql password included, without authentication
               clients={"http": ("fateflow", "fateboard", "client")}),
        Module("fateboard", "Deployment", "federatedai/fateboard", {"http": 8080}, web_port=8080, scalable=True,
               init_containers={"config": "federatedai/fateboard"}, requires=("fateflow",),
               secret_mounts=(SecretMount("fateboard", "fateboard-login"),)),
        Module("client", "StatefulSet", "federatedai/client", {"http": 20000}, stateful=True, default_size="5Gi",
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


def _images(tag: str, eggroll: str | None = None, fateboard: str | None = None) -> dict[str, tuple[str, str]]:
    """The release's images: FATE's own tag, unless eggroll or fateboard ship under theirs."""
    return {
        "mysql": ("mysql", "8.0.28"),
        "federatedai/osx": ("federatedai/osx", tag),
        "federatedai/eggroll": ("federatedai/eggroll", eggroll or tag),
        "federatedai/fateflow": ("federatedai/fateflow", tag),
        "federatedai/fateboard": ("federatedai/fateboard", fateboard or tag),
        "federatedai/client": ("federatedai/client", tag),
    }


RELEASES = {
    # FATE's own 2.2.0 deployment pulls eggroll and fateboard under their own versions (FATE-Board 2.1.0 inside)
    "2.2.0": Release("2.2.0", ("mysql", "osx", "clustermanager", "nodemanager", "fateflow",
                               "fateboard", "client"),
                     router="osx", images=_images("2.2.0-release", eggroll="3.2.0-release",
                                                  fateboard="2.1.1-release")),
    "2.0.0": Release("2.0.0", ("mysql", "osx", "clustermanager", "nodemanager", "fateflow",
                               "fateboard", "client"),
                     router="osx", images=_images("2.0.0-release")),
    "1.11.2": Release("1.11.2", ("mysql", "rollsite", "clustermanager", "nodemanager", "fateflow",
                                 "fateboard", "client"),
                      router="rollsite", images=_images("1.11.2-release")),
}


@attrs.frozen
class Stack:
    """What a FATE release pins, as far as its generated files depend on it."""
    eggroll: str  # the version of the eggroll commit FATE pins
    fate_flow: str
    # osx reads broker.properties' eggroll.version to speak eggroll 2 or 3 (osx 1.1.0, FATE 2.2.0)
    osx_names_eggroll: bool = False

    @property
    def eggroll_3(self) -> bool:
        """eggroll 3 (FATE 2.x): its own main classes, keys and egg_pair path; else eggroll 2.5 (FATE 1.x)."""
        return self.eggroll.startswith("3.")

    @property
    def fate_flow_2(self) -> bool:
        """FATE-Flow 2.x: service_conf.yaml with computing/federation sections, under fate_flow/conf."""
        return self.fate_flow.startswith("2.")


STACKS = {
    "2.2.0": Stack(eggroll="3.1.0", fate_flow="2.2.0", osx_names_eggroll=True),  # eggroll ee886f0 = v3.1.0
    "2.0.0": Stack(eggroll="3.0.0", fate_flow="2.0.0"),  # eggroll 5b8de69
    "1.11.2": Stack(eggroll="2.5.1", fate_flow="1.11.1"),  # eggroll 28cda38
}
assert STACKS.keys() == RELEASES.keys(), "every release says what it pins"


MAX_PARTY_ID = 2**31 - 1  # FATE keeps party ids in a Java int


def party_id(value: str) -> str:
    if not re.fullmatch(r"0|[1-9][0-9]*", value):
        raise ValueError(f"{value!r} is not a FATE party id (a decimal integer without leading zeros)")
    if len(value) > 10 or int(value) > MAX_PARTY_ID:
        raise ValueError(f"{value} is too large for a FATE party id (at most {MAX_PARTY_ID})")
    return value


