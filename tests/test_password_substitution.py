"""Secrets reach the config files intact: the mysql password eggroll.properties and
service_conf.yaml, the fateboard login application.properties.

Config files carry placeholders (@MYSQL_PASSWORD@, @FATEBOARD_*@, and @POD_IP@);
each start script reads the secret from its mounted Secret and puts it in the
placeholder's place. These
tests run that script, as built by kustomize, under `sh` against the built
ConfigMaps and a Secret volume, and read the results with the file formats' own
rules: a password from an existing Secret may hold any character the formats or
sed treat specially.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from objects import WORKLOADS, pod_spec

PLACEHOLDER = "@MYSQL_PASSWORD@"
LOGIN = ("@FATEBOARD_USERNAME@", "@FATEBOARD_PASSWORD@")  # fateboard's, from its own Secret
SECRET_PLACEHOLDERS = (PLACEHOLDER, *LOGIN)
POD_IP = "10.244.1.7"  # what the downward API gives the pod
FILLED = re.compile(r"@(MYSQL_PASSWORD|FATEBOARD_USERNAME|FATEBOARD_PASSWORD|POD_IP)@")  # any placeholder
UNESCAPE = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
PASSWORDS = [
    "plain",
    "p|a&s\\s/w%o#r:d=",
    "it's ''quoted''",
    'double"quote',
    " leading and trailing ",
    "\\\\n back\\slashes\\",
    "$HOME `id` $(id) ${x}",
    "ünïcödé ✓",
    "&",
]


def secret_users(objects: list[dict]) -> list[tuple[dict, dict]]:
    """(pod spec, container) for every container, init containers included, whose start script
    fills in a secret."""
    return [(pod_spec(obj), container) for obj in objects if obj["kind"] in WORKLOADS
            for container in (*pod_spec(obj).get("initContainers", []), *pod_spec(obj)["containers"])
            if any(p in " ".join(container.get("command", [])) for p in SECRET_PLACEHOLDERS)]


def preparation(script: str) -> str:
    """The script up to its last line that writes a config file: what runs before the server starts."""
    lines = script.splitlines()
    last = max(i for i, line in enumerate(lines) if FILLED.search(line))
    return "\n".join(lines[:last + 1]) + "\n"


def lay_out_mounts(root: Path, pod: dict, container: dict, objects: list[dict],
                   secret: str | None) -> dict[str, Path]:
    """Each of the container's mounts as a directory under `root`: ConfigMaps with their files, Secrets
    with `secret` in every key (or empty, for None)."""
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {}
    for mount in container["volumeMounts"]:
        directory = root / mount["mountPath"].lstrip("/")
        if "subPath" in mount:
            continue  # a file placed into the image's tree; the server reads it, not the preparation
        directory.mkdir(parents=True, exist_ok=True)
        config = volumes.get(mount["name"], {}).get("configMap")  # claims are not pod volumes
        if config:
            data = next(o for o in objects if o["kind"] == "ConfigMap"
                        and o["metadata"]["name"] == config["name"])["data"]
            for name, text in data.items():
                (directory / name).write_text(text)
        volume_secret = volumes.get(mount["name"], {}).get("secret")
        if volume_secret and secret is not None:
            for item in volume_secret["items"]:
                (directory / item["path"]).write_text(secret)
        mounts[mount["mountPath"]] = directory
    return mounts


def run_preparation(tmp_path: Path, objects: list[dict], pod: dict, container: dict,
                    secret: str | None) -> tuple[subprocess.CompletedProcess, list[tuple[Path, Path]]]:
    """Run the preparation with paths moved under tmp_path; (result, [(template, written file)])."""
    mounts = lay_out_mounts(tmp_path, pod, container, objects, secret)
    image_tree = tmp_path / "data/projects/fate"  # files the script writes into the image's own tree
    places = {**mounts, "/data/projects/fate": image_tree}
    script = preparation(container["command"][-1])
    paths = "|".join(re.escape(path) for path in sorted(places, key=len, reverse=True))
    script = re.sub(rf"(?<![\w/])({paths})(?=/)", lambda found: str(places[found[1]]), script)
    written = [(Path(source), Path(target)) for source, target in
               re.findall(r'sed "s\|@[A-Z_]+@\|[^"]*" (\S+) > (\S+)', script)]
    assert written, f"{container['name']}: no config file is filled in"
    for _, target in written:
        target.parent.mkdir(parents=True, exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", **({"POD_IP": POD_IP} if pod_ip_of(container) == POD_IP else {})}
    result = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    return result, written


def read_properties(text: str) -> dict[str, str]:
    """java.util.Properties rules, for the lines kfplug writes: key=value, backslash escapes;
    a line without a separator (eggroll's "[eggroll]") is a key with an empty value."""
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip()[0] in "#!":
            continue
        parts = re.split(r"(?<!\\)[=:]", line, maxsplit=1)
        key, value = parts if len(parts) == 2 else (line, "")
        out[key.strip()] = re.sub(r"\\(.)", lambda escape: UNESCAPE.get(escape[1], escape[1]),
                                  value.lstrip(" \t\f"))
    return out


def parse(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) if path.suffix == ".yaml" else read_properties(path.read_text())


def with_password(value, password: str, pod_ip: str = "@POD_IP@"):
    """The parsed template with each placeholder (a whole value) replaced: secrets by the password,
    @POD_IP@ by the pod's address where the container has it."""
    if isinstance(value, dict):
        return {key: with_password(item, password, pod_ip) for key, item in value.items()}
    if isinstance(value, list):
        return [with_password(item, password, pod_ip) for item in value]
    return password if value in SECRET_PLACEHOLDERS else pod_ip if value == "@POD_IP@" else value


def pod_ip_of(container: dict) -> str:
    return POD_IP if any(e["name"] == "POD_IP" for e in container.get("env", [])) else "@POD_IP@"


PARTIES = [("fate-2.2", "overlays/9999"), ("two-party", "overlays/9999"),
           ("exchange-star", "overlays/9999")]  # 2.2.0, 2.0.0 and 1.11.2


@pytest.fixture(scope="module", params=PARTIES, ids=["2.2.0", "2.0.0", "1.11.2"])
def party(built, request) -> list[dict]:
    return built[request.param]


def test_every_config_with_a_secret_placeholder_is_filled_in_by_a_container(party):
    templates = {name for obj in party if obj["kind"] == "ConfigMap"
                 for name, text in obj.get("data", {}).items() if any(p in text for p in SECRET_PLACEHOLDERS)}
    assert templates == {"eggroll.properties", "service_conf.yaml", "application.properties"}
    filled = {Path(source).name for _, container in secret_users(party)
              for source in re.findall(r'@[A-Z_]+@\|[^"]*" (\S+) >', container["command"][-1])}
    assert filled == templates
    assert {c["name"] for _, c in secret_users(party)} == {"clustermanager", "fateflow", "config"}


@pytest.mark.parametrize("password", ["100%sure", "%(x)s", "plain"])
def test_the_file_egg_pair_reads_holds_no_password(party, tmp_path, password):
    """egg_pair reads the node manager's eggroll.properties with configparser, which refuses a '%' it
    cannot interpolate: the node manager never opens the database, so its file carries no password."""
    import configparser

    pod, container = next((pod_spec(o), c) for o in party if o["kind"] in WORKLOADS
                          for c in pod_spec(o)["containers"] if c["name"] == "nodemanager")
    assert not [v for v in pod["volumes"] if "secret" in v], "the node manager mounts a Secret"
    mounts = lay_out_mounts(tmp_path, pod, container, party, password)
    places = {**mounts, "/data/projects/fate": tmp_path / "data/projects/fate"}
    paths = "|".join(re.escape(path) for path in sorted(places, key=len, reverse=True))
    script = re.sub(rf"(?<![\w/])({paths})(?=/)", lambda found: str(places[found[1]]),
                    container["command"][-1].split("exec ")[0])
    result = subprocess.run(["sh", "-c", script], env={"PATH": "/usr/bin:/bin", "POD_IP": POD_IP},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    (written,) = [p for p in places["/run/fate"].iterdir() if p.name == "eggroll.properties"]
    parser = configparser.ConfigParser()
    parser.read_string(written.read_text())
    values = dict(parser["eggroll"])  # interpolates every value, as eggroll's Config does
    assert not any(key.endswith("jdbc.password") for key in values)


@pytest.mark.parametrize("password", PASSWORDS)
def test_the_secrets_arrive_intact(party, tmp_path, password):
    for number, (pod, container) in enumerate(secret_users(party)):
        result, written = run_preparation(tmp_path / str(number), party, pod, container, password)
        assert result.returncode == 0, f"{container['name']}: {result.stderr}"
        for template, target in written:
            expected = with_password(parse(template), password, pod_ip_of(container))
            assert parse(target) == expected, f"{container['name']}: {target.name}"
            assert not any(p in target.read_text() for p in SECRET_PLACEHOLDERS)


@pytest.mark.parametrize("password", ["two\nlines", "trailing newline inside\n\nend"])
def test_a_secret_with_a_line_break_stops_the_container_with_a_reason(party, tmp_path, password):
    for number, (pod, container) in enumerate(secret_users(party)):
        result, written = run_preparation(tmp_path / str(number), party, pod, container, password)
        assert result.returncode != 0, container["name"]
        assert "line break" in result.stderr
        assert not any(target.exists() for _, target in written)


def test_a_missing_secret_stops_the_container(party, tmp_path):
    for number, (pod, container) in enumerate(secret_users(party)):
        result, written = run_preparation(tmp_path / str(number), party, pod, container, None)
        assert result.returncode != 0, container["name"]
        assert "/run/secrets/" in result.stderr
        assert not any(target.exists() for _, target in written)


def test_an_empty_fateboard_login_stops_the_container(party, tmp_path):
    (pod, container), = [(p, c) for p, c in secret_users(party) if c["name"] == "config"]
    result, written = run_preparation(tmp_path, party, pod, container, "")
    assert result.returncode != 0 and "needs a username and a password" in result.stderr
    assert not any(target.exists() for _, target in written)


def test_secrets_are_read_from_files_never_from_the_environment(party):
    for _pod, container in secret_users(party):
        assert not [e for e in container.get("env", []) if "PASSWORD" in e["name"]], container["name"]
        assert "/run/secrets/" in container["command"][-1]
    for pod, _container in secret_users(party):
        for volume in (v for v in pod["volumes"] if "secret" in v):
            assert volume["secret"]["defaultMode"] == 0o440
