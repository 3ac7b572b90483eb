"""The built FATE objects against upstream's own files at each release (pinned in
../shared/upstream): config keys that exist upstream, config files where the software
reads them, the files eggroll loads beside its properties. What only running the
software can show is in tests/app."""

from __future__ import annotations

import configparser
import os
import re
import tarfile
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from objects import find, generated

pytestmark = pytest.mark.tools

UPSTREAM = REPO.parent / "shared" / "upstream"
PARTIES = {"2.2.0": ("fate-2.2", "overlays/9999"), "2.0.0": ("two-party", "overlays/9999"),
           "1.11.2": ("exchange-star", "overlays/9999")}
EGGROLL = {"2.2.0": "eggroll-fate-v2.2.0", "2.0.0": "eggroll-fate-v2.0.0", "1.11.2": "eggroll-fate-v1.11.2"}
SERVICE_CONF = {"2.2.0": "fate-flow-v2.2.0/conf/service_conf.yaml", "2.0.0": "fate-flow-v2.0.0/conf/service_conf.yaml",
                "1.11.2": "fate-v1.11.2/conf/service_conf.yaml"}
# fateboard's own application.properties; for 2.2.0 (FATE-Board v2.1.0, whose src/main/resources equal v2.0.0's)
# the one FATE's own docker-compose deployment of 2.2.0 mounts
COMPOSE_2_2 = "fate-docker-compose-2.2.0/deploy/docker-compose/docker-deploy/training_template"
BOARD = {"2.2.0": f"{COMPOSE_2_2}/public/fate_board/conf", "2.0.0": "fate-board-v2.0.0/src/main/resources",
         "1.11.2": "fate-board-v1.11.1/src/main/resources"}
# where the fateboard image has it (FATE-Builder@develop-1.1.3, @develop-2.0.0, @feature-2.2.0:
# docker-build/modules/fateboard/Dockerfile WORKDIR)
BOARD_HOME = {"2.2.0": "/data/projects/fate/fate_board", "2.0.0": "/data/projects/fate/fateboard",
              "1.11.2": "/data/projects/fate/fateboard"}
# osx's own broker.properties (osx-broker's resources) at each release that runs osx
OSX = {"2.2.0": "fate-v2.2.0", "2.0.0": "fate-v2.0.0"}
BROKER = "java/osx/osx-broker/src/main/resources/broker/broker.properties"
FATE_2 = sorted(OSX)  # FATE-Flow 2, eggroll 3 and osx
EGGROLL_HOME = "/data/projects/fate/eggroll"


@pytest.fixture(scope="session")
def upstream(tmp_path_factory) -> Path:
    if not UPSTREAM.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{UPSTREAM} is missing")
        pytest.skip(f"{UPSTREAM} is missing")
    root = tmp_path_factory.mktemp("upstream")
    for archive in UPSTREAM.glob("*.tar.gz"):
        if archive.name.startswith(("eggroll-", "fate-")):
            with tarfile.open(archive) as tar:
                tar.extractall(root, filter="data")
    return root


def party(built, version: str) -> list[dict]:
    return built[PARTIES[version]]


def script(objects: list[dict], kind: str, name: str) -> str:
    container = find(objects, kind, name)["spec"]["template"]["spec"]["containers"][0]
    return " ".join(container["command"] + container.get("args", []))


def leaf_paths(tree, prefix=()) -> set[tuple]:
    if isinstance(tree, dict) and tree:
        return {p for key, value in tree.items() for p in leaf_paths(value, (*prefix, key))}
    return {prefix}


@pytest.mark.parametrize("version", sorted(PARTIES))
def test_service_conf_uses_only_keys_fate_flow_has(built, upstream, version):
    """A key FATE-Flow does not know is a key it runs without (2.0.0 reads computing.eggroll.host,
    not cluster_manager_host)."""
    ours = yaml.safe_load(generated(party(built, version), "ConfigMap", "fateflow-config")["data"]["service_conf.yaml"])
    theirs = yaml.safe_load((upstream / SERVICE_CONF[version]).read_text())
    unknown = {".".join(path) for path in leaf_paths(ours)
               if not any(path[:len(known)] == known for known in leaf_paths(theirs))}
    assert not unknown, f"keys FATE-Flow {version} does not read: {sorted(unknown)}"


@pytest.mark.parametrize("version", FATE_2)
def test_fate_flow_2_gets_every_section_it_reads_without_a_default(built, version):
    ours = yaml.safe_load(generated(party(built, version), "ConfigMap", "fateflow-config")["data"]["service_conf.yaml"])
    # FATE-Flow@v2.0.0 and v2.2.0 (the same service_conf.yaml): model_store (model_manager.py), storage,
    # default_engines, database, computing.eggroll
    # host/port (controller/parser.py), fateflow ports, federation.osx
    assert {"model_store", "storage", "default_engines", "database", "fateflow", "federation"} <= set(ours)
    assert ours["model_store"]["engine"] == "file" and "file" in ours["model_store"]
    assert {"host", "port"} <= set(ours["computing"]["eggroll"])
    assert ours["database"]["engine"] == "mysql"
    assert ours["fateflow"]["host"] == "@POD_IP@", "FATE-Flow binds and calls back on fateflow.host"


@pytest.mark.parametrize("version, conf_dir", [("2.2.0", "/data/projects/fate/fate_flow/conf"),
                                               ("2.0.0", "/data/projects/fate/fate_flow/conf"),
                                               ("1.11.2", "/data/projects/fate/conf")])
def test_fateflow_writes_service_conf_where_its_release_reads_it(built, version, conf_dir):
    # 2.x: <fate_flow dir>/conf (FATE-Flow@v2.0.0 utils/file_utils.py; v2.2.0 utils/conf_utils.py, whose
    # settings.DEFAULT_SERVER_CONF_PATH is empty unless `fate_flow init --home` rewrites it);
    # 1.11: $FATE_PROJECT_BASE/conf
    assert re.search(rf"> {re.escape(conf_dir)}/service_conf\.yaml\b",
                     script(party(built, version), "StatefulSet", "fateflow"))


@pytest.mark.parametrize("version", sorted(PARTIES))
def test_eggroll_properties_is_readable_by_eggrolls_python(built, version):
    """egg_pair reads it with configparser and takes section [eggroll]."""
    text = generated(party(built, version), "ConfigMap", "eggroll-config")["data"]["eggroll.properties"]
    parser = configparser.ConfigParser()
    parser.read_string(text)
    section = parser["eggroll"]
    assert os.path.isabs(section["eggroll.data.dir"])
    assert section["eggroll.resourcemanager.clustermanager.host"] == "clustermanager"
    assert int(section["eggroll.session.start.timeout.ms"]) >= 180000


@pytest.mark.parametrize("version", sorted(PARTIES))
def test_egg_pair_path_is_the_one_the_release_ships(built, upstream, version):
    text = generated(party(built, version), "ConfigMap", "eggroll-config")["data"]["eggroll.properties"]
    upstream_conf = configparser.ConfigParser()
    upstream_conf.read_string((upstream / EGGROLL[version] / "conf/eggroll.properties").read_text())
    ours = configparser.ConfigParser()
    ours.read_string(text)
    key = "eggroll.resourcemanager.bootstrap.egg_pair.filepath"
    assert ours["eggroll"][key] == upstream_conf["eggroll"][key]


@pytest.mark.parametrize("version, module, kind", [(v, m, k) for v in PARTIES for m, k in
                                                   (("clustermanager", "Deployment"), ("nodemanager", "StatefulSet"))])
def test_eggroll_daemons_name_a_log_configuration_the_release_ships(built, upstream, version, module, kind):
    command = script(party(built, version), kind, module)
    (config,) = re.findall(rf"-Dlog4j\.configurationFile={EGGROLL_HOME}/conf/([^\s,]+)", command)
    assert (upstream / EGGROLL[version] / "conf" / config).is_file(), f"eggroll at {version} ships no conf/{config}"


@pytest.mark.parametrize("version, module, kind", [(v, m, k) for v in FATE_2 for m, k in
                                                   (("clustermanager", "Deployment"), ("nodemanager", "StatefulSet"))])
def test_eggroll_3_daemons_keep_the_mysql_password_out_of_their_logs(built, version, module, kind):
    """eggroll 3 logs every configuration value at INFO from MetaInfo (MetaInfo.java, init, the same file at
    5b8de69 and ee886f0); a file laid over its log4j2.xml raises that logger to WARN."""
    import xml.etree.ElementTree as ElementTree

    objects = party(built, version)
    (files,) = re.findall(r"-Dlog4j\.configurationFile=(\S+)", script(objects, kind, module))
    first, *more = files.split(",")
    assert first == f"{EGGROLL_HOME}/conf/log4j2.xml" and len(more) == 1
    data = generated(objects, "ConfigMap", "eggroll-config")["data"]
    assert more[0] == f"/etc/fate/eggroll-config/{Path(more[0]).name}" and Path(more[0]).name in data
    loggers = ElementTree.fromstring(data[Path(more[0]).name].encode()).findall("./Loggers/Logger")
    assert [(x.get("name"), x.get("level")) for x in loggers] == [("org.fedai.eggroll.core.config.MetaInfo", "warn")]


@pytest.mark.parametrize("version", FATE_2)
def test_eggroll_3_daemons_start_their_own_main_classes(built, version):
    # eggroll@5b8de69 and @ee886f0: jvm/{cluster_manager,node_manager}/src/main/java/org/fedai/eggroll/*/Bootstrap.java
    objects = party(built, version)
    assert "org.fedai.eggroll.clustermanager.Bootstrap" in script(objects, "Deployment", "clustermanager")
    assert "org.fedai.eggroll.nodemanager.Bootstrap" in script(objects, "StatefulSet", "nodemanager")
    assert "com.webank" not in script(objects, "StatefulSet", "nodemanager")


@pytest.mark.parametrize("version", FATE_2)
def test_eggroll_3_node_manager_finds_node_extend_env_beside_its_properties(built, upstream, version):
    """eggroll 3 loads node-extend-env.properties from the directory of eggroll.properties and
    stops without it (nodemanager/Bootstrap.java); upstream ships the file in conf/."""
    assert (upstream / EGGROLL[version] / "conf/node-extend-env.properties").is_file()
    command = script(party(built, version), "StatefulSet", "nodemanager")
    (properties,) = re.findall(r" -c (\S+)/eggroll\.properties", command)
    assert re.search(rf"node-extend-env\.properties {re.escape(properties)}/", command)


@pytest.mark.parametrize("version", sorted(PARTIES))
def test_fateboard_properties_use_only_keys_fateboard_has(built, upstream, version):
    ours = generated(party(built, version), "ConfigMap", "fateboard-config")["data"]["application.properties"]
    theirs = (upstream / BOARD[version] / "application.properties").read_text()
    assert property_keys(ours) <= property_keys(theirs), sorted(property_keys(ours) - property_keys(theirs))
    assert {"server.board.login.username", "server.board.login.password"} <= property_keys(ours)


def property_keys(text: str) -> set[str]:
    return {line.split("=", 1)[0].strip() for line in text.splitlines()
            if "=" in line and not line.lstrip().startswith("#")}


def test_fateflow_1_11_image_is_fateflow(built):
    """KubeFATE v1.11.2 runs federatedai/fateflow:1.11.2-release (core/python-spark.yaml)."""
    container = find(party(built, "1.11.2"), "StatefulSet", "fateflow")["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "federatedai/fateflow:1.11.2-release"
    assert "fateflow/python/fate_flow/fate_flow_server.py" in " ".join(container["command"])


def test_fateflow_1_11_has_eggroll_properties_and_its_own_directories(built):
    """eggroll's client in FATE 1.11's task processes reads $EGGROLL_HOME/conf/eggroll.properties
    (eggroll@28cda38 python/eggroll/core/session.py); FATE-Flow 1.11 writes under fateflow/, not fate_flow/."""
    spec = find(party(built, "1.11.2"), "StatefulSet", "fateflow")["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m for m in spec["containers"][0]["volumeMounts"]}
    eggroll = mounts[f"{EGGROLL_HOME}/conf/eggroll.properties"]
    assert eggroll["subPath"] == "eggroll.properties"
    volume = next(v for v in spec["volumes"] if v["name"] == eggroll["name"])
    assert volume["configMap"]["name"].startswith("eggroll-config-")
    on_claim = {path for path, m in mounts.items() if m["name"] == "data"}
    assert on_claim == {f"/data/projects/fate/fateflow/{d}" for d in ("jobs", "logs", "model_local_cache")}


@pytest.mark.parametrize("version", FATE_2)
def test_osx_starts_its_2_0_bootstrap_with_the_conf_directory(built, version):
    """The image's CMD starts a class osx 2.x no longer has; KubeFATE v2.0.0 and FATE's own 2.2.0
    docker-compose run org.fedai.osx.broker.Bootstrap -c <conf dir>."""
    container = find(party(built, version), "Deployment", "osx")["spec"]["template"]["spec"]["containers"][0]
    command = container["command"] + container.get("args", [])
    assert "org.fedai.osx.broker.Bootstrap" in command
    conf = command[command.index("-c") + 1]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert f"{conf}/broker" in mounts, "broker.properties and route_table.json sit in <conf>/broker"


@pytest.mark.parametrize("version", FATE_2)
def test_osx_speaks_the_eggroll_its_classpath_carries(built, upstream, version):
    """osx 1.1.0 (FATE v2.2.0) keeps its protobuf classes, its own transport's included, in pb_lib/v2 and
    pb_lib/v3 and picks eggroll 2's or 3's protocol by broker.properties' eggroll.version (java/osx/bin/service.sh,
    deploy/auto-package.sh, osx-core config/MetaInfo.java). The broker file names eggroll.version exactly when
    the release's own does, with its value, and the classpath holds the matching pb_lib; osx 1.0.0 has neither."""
    objects = party(built, version)
    ours = properties(generated(objects, "ConfigMap", "osx-config")["data"]["broker.properties"])
    theirs = properties((upstream / OSX[version] / BROKER).read_text())
    assert ours.get("eggroll.version") == theirs.get("eggroll.version")
    container = find(objects, "Deployment", "osx")["spec"]["template"]["spec"]["containers"][0]
    command = container["command"] + container.get("args", [])
    classpath = command[command.index("-cp") + 1].split(":")
    libraries = [entry for entry in classpath if entry.startswith("pb_lib/")]
    if "eggroll.version" in theirs:
        assert libraries == [f"pb_lib/v{theirs['eggroll.version'][0]}/*"]
    else:
        assert not libraries


def properties(text: str) -> dict[str, str]:
    """key=value lines as java.util.Properties reads the simple ones (spaces around '=' dropped)."""
    pairs = (line.partition("=") for line in text.splitlines() if not line.lstrip().startswith(("#", "!")))
    return {key.strip(): value.strip() for key, equals, value in pairs if equals}


@pytest.mark.parametrize("version", sorted(PARTIES))
def test_fateboard_reads_its_properties_where_the_login_is_written(built, version):
    """fateboard reads conf/application.properties relative to its working directory at every login
    (UserService.java) and at start where -Dspring.config.location says: both must be the filled-in file,
    in the release's own tree (FATE-Builder: fateboard/ up to 2.0.0, fate_board/ for FATE 2.2.0)."""
    container = find(party(built, version), "Deployment", "fateboard")["spec"]["template"]["spec"]["containers"][0]
    (location,) = [a.split("=", 1)[1] for a in container["command"] if a.startswith("-Dspring.config.location=")]
    assert location == f"{container['workingDir']}/conf/application.properties"
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts[location]["subPath"] == "application.properties"
    assert container["workingDir"] == BOARD_HOME[version]


def test_rollsite_recognises_its_own_route_entries(built):
    """rollsite handles a call itself only when the route entry's ip equals eggroll.rollsite.host
    (eggroll@28cda38 EggSiteServicer.scala)."""
    import json

    objects = party(built, "1.11.2")
    parser = configparser.ConfigParser()
    parser.read_string(generated(objects, "ConfigMap", "eggroll-config")["data"]["eggroll.properties"])
    host = parser["eggroll"]["eggroll.rollsite.host"]
    table = json.loads(generated(objects, "ConfigMap", "rollsite-config")["data"]["route_table.json"])["route_table"]
    assert table["9999"]["default"] == [{"ip": host, "port": int(parser["eggroll"]["eggroll.rollsite.port"])}]
    pod = find(objects, "Deployment", "rollsite")["spec"]["template"]["spec"]
    assert {"ip": "127.0.0.1", "hostnames": [host]} in pod["hostAliases"]


@pytest.mark.parametrize("version", FATE_2)
def test_client_never_starts_jupyter_without_a_password(built, tmp_path, version):
    import subprocess

    container = find(party(built, version), "StatefulSet", "client")["spec"]["template"]["spec"]["containers"][0]
    result = subprocess.run(["sh", "-c", container["command"][-1]], capture_output=True, text=True, timeout=30,
                            env={"PATH": "/usr/bin:/bin", "NOTEBOOK_HASHED_PASSWORD": "", "FATE_FLOW_IP": "fateflow",
                                 "FATE_FLOW_PORT": "9380"})
    assert result.returncode == 1 and "notebook-hashed-password" in result.stderr


SCHEMA = {"2.2.0": "conf/create-eggroll-meta-tables.sql", "2.0.0": "conf/create-eggroll-meta-tables.sql",
          "1.11.2": "jvm/core/main/resources/create-eggroll-meta-tables.sql"}


def schema(text: str) -> tuple[dict[str, list[str]], set[str]]:
    """Tables with their column definitions, and the indexes, of a MySQL DDL file; spacing, comments and the
    case of keywords aside (names in backquotes keep theirs)."""
    text = re.sub(r"--[^\n]*", "", text)
    text = "".join(part if part.startswith("`") else part.upper() for part in re.split(r"(`[^`]*`)", text))
    tables = {name: [" ".join(line.split()).rstrip(",") for line in body.splitlines() if line.strip()]
              for name, body in re.findall(r"CREATE TABLE IF NOT EXISTS `(\w+)`\s*\((.*?)\n\)", text, re.S)}
    indexes = {re.sub(r",\s*", ", ", " ".join(index.split()))
               for index in re.findall(r"CREATE\s+(?:UNIQUE\s+)?INDEX[^;]*", text)}
    return tables, indexes


@pytest.mark.parametrize("version", sorted(SCHEMA))
def test_mysql_init_holds_the_eggroll_schema_of_its_release(upstream, version):
    """bases/fate/<release>/mysql/eggroll-meta.sql is kfplug's own DDL with every table, column (type, nullability,
    default) and index of the eggroll the release pins (tests/app loads it into MariaDB as well)."""
    ours = schema((REPO / "bases/fate" / version / "mysql/eggroll-meta.sql").read_text())
    theirs = schema((upstream / EGGROLL[version] / SCHEMA[version]).read_text())
    assert ours[0] and ours[1] and ours == theirs
