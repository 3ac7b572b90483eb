"""The mysql password reaches eggroll.properties and service_conf.yaml intact.

Config files carry @MYSQL_PASSWORD@; each container's start script reads the
password from its mounted Secret and puts it in the placeholder's place. These
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

from objects import WORKLOADS, generated, pod_spec

PLACEHOLDER = "@MYSQL_PASSWORD@"
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


def password_users(objects: list[dict]) -> list[tuple[dict, dict]]:
    """(pod spec, container) for every container whose start script fills in the password."""
    return [(pod_spec(obj), container) for obj in objects if obj["kind"] in WORKLOADS
            for container in pod_spec(obj)["containers"] if PLACEHOLDER in " ".join(container.get("command", []))]


def preparation(script: str) -> str:
    """The script up to its last line that writes a config file: what runs before the server starts."""
    lines = script.splitlines()
    last = max(i for i, line in enumerate(lines) if PLACEHOLDER in line)
    return "\n".join(lines[:last + 1]) + "\n"


def lay_out_mounts(root: Path, pod: dict, container: dict, objects: list[dict],
                   password: str | None) -> dict[str, Path]:
    """Each of the container's mounts as a directory under `root`: ConfigMaps with their files, the
    mysql Secret with the password (or without it, for None)."""
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {}
    for mount in container["volumeMounts"]:
        directory = root / mount["mountPath"].lstrip("/")
        directory.mkdir(parents=True, exist_ok=True)
        config = volumes.get(mount["name"], {}).get("configMap")  # claims are not pod volumes
        if config:
            data = next(o for o in objects if o["kind"] == "ConfigMap"
                        and o["metadata"]["name"] == config["name"])["data"]
            for name, text in data.items():
                (directory / name).write_text(text)
        secret = volumes.get(mount["name"], {}).get("secret")
        if secret and password is not None:
            (item,) = secret["items"]
            (directory / item["path"]).write_text(password)
        mounts[mount["mountPath"]] = directory
    return mounts


def run_preparation(tmp_path: Path, objects: list[dict], pod: dict, container: dict,
                    password: str | None) -> tuple[subprocess.CompletedProcess, list[tuple[Path, Path]]]:
    """Run the preparation with paths moved under tmp_path; (result, [(template, written file)])."""
    mounts = lay_out_mounts(tmp_path, pod, container, objects, password)
    script = preparation(container["command"][-1])
    paths = "|".join(re.escape(path) for path in sorted(mounts, key=len, reverse=True))
    script = re.sub(rf"(?<![\w/])({paths})(?=/)", lambda found: str(mounts[found[1]]), script)
    written = [(Path(source), Path(target)) for source, target in
               re.findall(rf'sed "s\|{PLACEHOLDER}\|[^"]*" (\S+) > (\S+)', script)]
    assert written, f"{container['name']}: no config file is filled in"
    result = subprocess.run(["sh", "-c", script], env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                            timeout=30)
    return result, written


def read_properties(text: str) -> dict[str, str]:
    """java.util.Properties rules, for the lines kfplug writes: key=value, backslash escapes."""
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip()[0] in "#!":
            continue
        key, value = re.split(r"(?<!\\)[=:]", line, maxsplit=1)
        out[key.strip()] = re.sub(r"\\(.)", lambda escape: UNESCAPE.get(escape[1], escape[1]),
                                  value.lstrip(" \t\f"))
    return out


def parse(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) if path.suffix == ".yaml" else read_properties(path.read_text())


def with_password(value, password: str):
    """The parsed template with the placeholder (a whole value) replaced by the password."""
    if isinstance(value, dict):
        return {key: with_password(item, password) for key, item in value.items()}
    if isinstance(value, list):
        return [with_password(item, password) for item in value]
    return password if value == PLACEHOLDER else value


@pytest.fixture(scope="module")
def party(built) -> list[dict]:
    return built[("two-party", "overlays/9999")]


def test_every_config_with_the_placeholder_is_filled_in_by_a_container(party):
    templates = {name for obj in party if obj["kind"] == "ConfigMap"
                 for name, text in obj.get("data", {}).items() if PLACEHOLDER in text}
    assert templates == {"eggroll.properties", "service_conf.yaml"}
    filled = {Path(source).name for _, container in password_users(party)
              for source in re.findall(rf"{PLACEHOLDER}\|[^\"]*\" (\S+) >", container["command"][-1])}
    assert filled == templates
    assert {c["name"] for _, c in password_users(party)} == {"clustermanager", "nodemanager", "fateflow"}


@pytest.mark.parametrize("password", PASSWORDS)
def test_the_password_arrives_intact(party, tmp_path, password):
    for number, (pod, container) in enumerate(password_users(party)):
        result, written = run_preparation(tmp_path / str(number), party, pod, container, password)
        assert result.returncode == 0, f"{container['name']}: {result.stderr}"
        for template, target in written:
            assert parse(target) == with_password(parse(template), password), f"{container['name']}: {target.name}"
            assert PLACEHOLDER not in target.read_text()


@pytest.mark.parametrize("password", ["two\nlines", "trailing newline inside\n\nend"])
def test_a_password_with_a_line_break_stops_the_container_with_a_reason(party, tmp_path, password):
    for number, (pod, container) in enumerate(password_users(party)):
        result, written = run_preparation(tmp_path / str(number), party, pod, container, password)
        assert result.returncode != 0, container["name"]
        assert "line break" in result.stderr
        assert not any(target.exists() for _, target in written)


def test_a_missing_password_stops_the_container(party, tmp_path):
    for number, (pod, container) in enumerate(password_users(party)):
        result, written = run_preparation(tmp_path / str(number), party, pod, container, None)
        assert result.returncode != 0, container["name"]
        assert "mysql/password" in result.stderr
        assert not any(target.exists() for _, target in written)


def test_the_password_is_read_from_a_file_never_from_the_environment(party):
    for pod, container in password_users(party):
        assert not [e for e in container.get("env", []) if "PASSWORD" in e["name"]], container["name"]
        assert "/run/secrets/mysql/password" in container["command"][-1]
        volume = next(v for v in pod["volumes"] if v["name"] == "mysql-password")
        assert volume["secret"]["items"] == [{"key": "password", "path": "password"}]
