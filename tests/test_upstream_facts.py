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
PARTIES = {"2.0.0": ("two-party", "overlays/9999"), "1.11.2": ("exchange-star", "overlays/9999")}
EGGROLL = {"2.0.0": "eggroll-fate-v2.0.0", "1.11.2": "eggroll-fate-v1.11.2"}
SERVICE_CONF = {"2.0.0": "fate-flow-v2.0.0/conf/service_conf.yaml", "1.11.2": "fate-v1.11.2/conf/service_conf.yaml"}
BOARD = {"2.0.0": "fate-board-v2.0.0", "1.11.2": "fate-board-v1.11.1"}
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
    return " ".join(container["command"])


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


def test_fate_flow_2_gets_every_section_it_reads_without_a_default(built):
    ours = yaml.safe_load(generated(party(built, "2.0.0"), "ConfigMap", "fateflow-config")["data"]["service_conf.yaml"])
    # FATE-Flow@v2.0.0: model_store (model_manager.py), storage, default_engines, database, computing.eggroll
    # host/port (controller/parser.py), fateflow ports, federation.osx
    assert {"model_store", "storage", "default_engines", "database", "fateflow", "federation"} <= set(ours)
    assert ours["model_store"]["engine"] == "file" and "file" in ours["model_store"]
    assert {"host", "port"} <= set(ours["computing"]["eggroll"])
    assert ours["database"]["engine"] == "mysql"
    assert ours["fateflow"]["host"] == "@POD_IP@", "FATE-Flow binds and calls back on fateflow.host"


@pytest.mark.parametrize("version, conf_dir", [("2.0.0", "/data/projects/fate/fate_flow/conf"),
                                               ("1.11.2", "/data/projects/fate/conf")])
def test_fateflow_writes_service_conf_where_its_release_reads_it(built, version, conf_dir):
    # 2.0.0: <fate_flow dir>/conf (FATE-Flow@v2.0.0 utils/file_utils.py); 1.11: $FATE_PROJECT_BASE/conf
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


@pytest.mark.parametrize("module, kind", [("clustermanager", "Deployment"), ("nodemanager", "StatefulSet")])
def test_eggroll_3_daemons_keep_the_mysql_password_out_of_their_logs(built, module, kind):
    """eggroll 3 logs every configuration value at INFO from MetaInfo (MetaInfo.java, init); a file laid
    over its log4j2.xml raises that logger to WARN."""
    import xml.etree.ElementTree as ElementTree

    objects = party(built, "2.0.0")
    (files,) = re.findall(r"-Dlog4j\.configurationFile=(\S+)", script(objects, kind, module))
    first, *more = files.split(",")
    assert first == f"{EGGROLL_HOME}/conf/log4j2.xml" and len(more) == 1
    data = generated(objects, "ConfigMap", "eggroll-config")["data"]
    assert more[0] == f"/etc/fate/eggroll-config/{Path(more[0]).name}" and Path(more[0]).name in data
    loggers = ElementTree.fromstring(data[Path(more[0]).name].encode()).findall("./Loggers/Logger")
    assert [(x.get("name"), x.get("level")) for x in loggers] == [("org.fedai.eggroll.core.config.MetaInfo", "warn")]


def test_eggroll_3_daemons_start_their_own_main_classes(built):
    # eggroll@5b8de69: jvm/{cluster_manager,node_manager}/src/main/java/org/fedai/eggroll/*/Bootstrap.java
    objects = party(built, "2.0.0")
    assert "org.fedai.eggroll.clustermanager.Bootstrap" in script(objects, "Deployment", "clustermanager")
    assert "org.fedai.eggroll.nodemanager.Bootstrap" in script(objects, "StatefulSet", "nodemanager")
    assert "com.webank" not in script(objects, "StatefulSet", "nodemanager")


def test_eggroll_3_node_manager_finds_node_extend_env_beside_its_properties(built, upstream):
    """eggroll 3.0 loads node-extend-env.properties from the directory of eggroll.properties and
    stops without it (nodemanager/Bootstrap.java); upstream ships the file in conf/."""
    assert (upstream / EGGROLL["2.0.0"] / "conf/node-extend-env.properties").is_file()
    command = script(party(built, "2.0.0"), "StatefulSet", "nodemanager")
    (properties,) = re.findall(r" -c (\S+)/eggroll\.properties", command)
    assert re.search(rf"node-extend-env\.properties {re.escape(properties)}/", command)


@pytest.mark.parametrize("version", sorted(PARTIES))
def test_fateboard_properties_use_only_keys_fateboard_has(built, upstream, version):
    ours = generated(party(built, version), "ConfigMap", "fateboard-config")["data"]["application.properties"]
    theirs = (upstream / BOARD[version] / "src/main/resources/application.properties").read_text()
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


def test_osx_starts_its_2_0_bootstrap_with_the_conf_directory(built):
    """The image's CMD starts a class osx 2.0.0 no longer has; KubeFATE v2.0.0 runs
    org.fedai.osx.broker.Bootstrap -c <conf dir> (core/osx/deployment.yaml)."""
    container = find(party(built, "2.0.0"), "Deployment", "osx")["spec"]["template"]["spec"]["containers"][0]
    command = container["command"]
    assert "org.fedai.osx.broker.Bootstrap" in command
    conf = command[command.index("-c") + 1]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert f"{conf}/broker" in mounts, "broker.properties and route_table.json sit in <conf>/broker"


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


def test_client_never_starts_jupyter_without_a_password(built, tmp_path):
    import subprocess

    container = find(party(built, "2.0.0"), "StatefulSet", "client")["spec"]["template"]["spec"]["containers"][0]
    result = subprocess.run(["sh", "-c", container["command"][-1]], capture_output=True, text=True, timeout=30,
                            env={"PATH": "/usr/bin:/bin", "NOTEBOOK_HASHED_PASSWORD": "", "FATE_FLOW_IP": "fateflow",
                                 "FATE_FLOW_PORT": "9380"})
    assert result.returncode == 1 and "notebook-hashed-password" in result.stderr
