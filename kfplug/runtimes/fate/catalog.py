"""FATE on eggroll: the catalog for 2.0.0 (osx router) and 1.11.2 (rollsite router).
Where each fact comes from: bases/fate/README.md."""

from __future__ import annotations

import re

from ...catalog import Module, Release, SecretKind, SecretMount, SecretUse

ROUTER_PORT = 9370
MYSQL_PASSWORD = SecretMount("mysql", "mysql-password")  # a file: /run/secrets/mysql/password
WAIT_FOR_MYSQL = {"wait-for-mysql": "mysql"}

MODULES = {
    m.name: m
    for m in (
        Module("mysql", "StatefulSet", "mysql", {"mysql": 3306}, stateful=True, default_size="10Gi",
               secret_mounts=(MYSQL_PASSWORD,), clients={"mysql": ("clustermanager", "fateflow")}),
        Module("osx", "Deployment", "federatedai/osx", {"grpc": ROUTER_PORT}, router_port="grpc", scalable=True),
        Module("rollsite", "Deployment", "federatedai/eggroll", {"grpc": ROUTER_PORT}, router_port="grpc",
               scalable=True),
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


