"""FATE's own software run against the built objects: one sandboxed party per (example, party id).

Needs what tests/app/install.sh installs (Debian's MariaDB; per release a venv with its FATE-Flow,
fate-client and eggroll: releases.RELEASES), root, and the kernel's network, mount and PID namespaces
and overlayfs. A missing piece skips here and fails in CI, like every tool (conftest.require_tool).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import SPECS, require_tool
from objects import find

from .releases import RELEASES, Release
from .sandbox import MariaDB, Netns, Pod, Running, initialise_like_mysql_image, run

HERE = Path(__file__).parent
PROGRAMS = ("mariadbd", "mariadb-install-db", "mariadb", "mariadb-admin", "ip", "unshare", "setpriv", "chroot")


def _missing_sandbox() -> str | None:
    if os.geteuid() != 0:
        return "root (network, mount and PID namespaces)"
    for program in PROGRAMS:
        if shutil.which(program) is None:
            return f"{program} (tests/app/install.sh)"
    return None


def _missing_venv(release: Release) -> str | None:
    mark = release.venv / ".kfplug-app-installed"
    if not mark.is_file() or mark.read_text() != release.constraints.read_text():
        return (f"the FATE {release.version} Python {release.python} environment {release.venv} as pinned in "
                f"tests/app/{release.constraints.name} (tests/app/install.sh)")
    return None


@pytest.fixture(scope="session")
def sandbox_ready() -> None:
    missing = _missing_sandbox()
    require_tool(None if missing else "ready", missing or "")


@pytest.fixture(scope="session")
def fate_installed(sandbox_ready):
    """version -> that release's row, once its venv is installed as pinned (a missing one skips, in CI fails)."""
    def get(version: str) -> Release:
        release = RELEASES[version]
        missing = _missing_venv(release)
        require_tool(None if missing else str(release.venv), missing or "")
        return release
    return get


def release_example(version: str) -> str:
    """The example a release's tests build, checked against what its spec says it renders."""
    import yaml

    example = RELEASES[version].example
    assert example in SPECS, f"FATE {version}: the example {example} is not there (examples/{example}/federation.yaml)"
    spec = yaml.safe_load(SPECS[example].read_text())["spec"]
    assert (spec.get("runtime"), str(spec.get("version"))) == ("fate", version), \
        f"examples/{example} renders {spec.get('runtime')} {spec.get('version')}, not FATE {version}"
    return example


def services(objects: list[dict]) -> list[str]:
    return [o["metadata"]["name"] for o in objects if o["kind"] == "Service"]


@dataclass
class Party:
    """A party of a built example in its own network namespace, its MariaDB initialised as its mysql pod would be."""

    example: str
    party: str
    objects: list[dict]
    directory: Path
    netns: Netns
    db: MariaDB | None = None
    mysql_env: dict[str, str] = field(default_factory=dict)
    init_error: str | None = None
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    running: list[Running] = field(default_factory=list)

    def pod(self, kind: str, name: str) -> Pod:
        directory = self.directory / f"{name}-{len(list(self.directory.glob(name + '-*')))}"
        directory.mkdir()
        return Pod(find(self.objects, kind, name), self.objects, directory, self.netns, services(self.objects),
                   secrets=self.secrets)

    def http(self, path: str, port: int = 9380, method: str = "GET", timeout: float = 10) -> tuple[int, str]:
        """An HTTP request from inside the party's network, to a Service port at 127.0.0.1."""
        code = ("import sys, urllib.request, urllib.error\n"
                "r = urllib.request.Request(sys.argv[1], method=sys.argv[2])\n"
                "try:\n    resp = urllib.request.urlopen(r, timeout=float(sys.argv[3]));"
                " print(resp.status); print(resp.read().decode())\n"
                "except urllib.error.HTTPError as e:\n    print(e.code); print(e.read().decode())\n")
        result = run([*self.netns.prefix, sys.executable, "-c", code, f"http://127.0.0.1:{port}{path}", method,
                      str(timeout)], timeout=timeout + 10)
        if result.returncode != 0:
            return 0, result.stderr
        status, _, body = result.stdout.partition("\n")
        return int(status), body

    def close(self) -> None:
        for process in self.running:
            process.stop()
        if self.db is not None:
            self.db.close()
        self.netns.close()


# The example parties whose mysql pod's Secret is only referenced by the build: a test Secret stands in.
TEST_SECRETS = {"fate-mysql": {"password": "kfplug-app-test-password"}}


@pytest.fixture(scope="session")
def parties(sandbox_ready, built, tmp_path_factory):
    """(example, party id) -> Party, made on first use, torn down at the end of the session."""
    made: dict[tuple[str, str], Party] = {}

    def get(example: str, party: str) -> Party:
        if (example, party) in made:
            return made[(example, party)]
        objects = built[(example, f"overlays/{party}")]
        directory = tmp_path_factory.mktemp(f"party-{example}-{party}")
        netns = Netns(f"kfpapp{os.getpid()}-{example}-{party}")
        state = Party(example, party, objects, directory, netns, secrets=dict(TEST_SECRETS))
        made[(example, party)] = state
        (directory / "mysql-server").mkdir()
        state.db = MariaDB(directory / "mysql-server", netns)
        mysql = state.pod("StatefulSet", "mysql")
        container = mysql.container("mysql")
        env = {v["name"]: v["value"] for v in container.get("env", []) if "value" in v}
        env = {**env, **{k: v for k, v in mysql.environment(container, _NO_IMAGE).items() if k.startswith("MYSQL_")}}
        if "MYSQL_PASSWORD_FILE" in env and "MYSQL_PASSWORD" not in env:
            env["MYSQL_PASSWORD"] = mysql.host_path("mysql", env["MYSQL_PASSWORD_FILE"]).read_text()
        state.mysql_env = env
        init = mysql.host_path("mysql", "/docker-entrypoint-initdb.d")
        try:
            initialise_like_mysql_image(state.db, env, sorted(init.iterdir()))
        except AssertionError as error:
            state.init_error = str(error)
        return state

    yield get
    for state in made.values():
        state.close()


class _NoImage:
    env: ClassVar[dict] = {}


_NO_IMAGE = _NoImage()


def wait_for_port(party: Party, process: Running, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    probe = "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=1).close()"
    while time.monotonic() < deadline:
        if run([*party.netns.prefix, sys.executable, "-c", probe, str(port)]).returncode == 0:
            return True
        if not process.alive():
            return False
        time.sleep(0.5)
    return False


@dataclass
class FateFlow:
    party: Party
    pod: Pod
    process: Running
    up: bool
    osx: Running | None = None

    def explain(self) -> str:
        return f"FATE-Flow's output:\n{self.process.output()[-6000:]}"


def start_fateflow(party: Party, release: Release) -> FateFlow:
    osx_pod = party.pod("Deployment", "osx")
    osx = osx_pod.start("osx", release.images.osx_standin,
                        command=["python", "/opt/kfplug-app/osx_standin.py", OSX_CONF],
                        files={"/opt/kfplug-app/osx_standin.py": (HERE / "osx_standin.py").read_text()})
    party.running.append(osx)
    pod = party.pod("StatefulSet", "fateflow")
    process = pod.start("fateflow", release.images.fateflow)
    party.running.append(process)
    up = wait_for_port(party, process, 9380, timeout=120)
    return FateFlow(party, pod, process, up, osx)


# where the osx Deployment mounts its rendered broker.properties and route_table.json
# (FATE-Builder modules/osx: osx reads conf/broker/ under its home /data/projects/fate/osx)
OSX_CONF = "/data/projects/fate/osx/conf/broker"


@pytest.fixture(scope="session")
def fateflows(parties, fate_installed):
    """(release, party id) -> that release's FATE-Flow in its example's party, started once as its pod runs it."""
    started: dict[tuple[str, str], FateFlow] = {}

    def get(version: str, party: str) -> FateFlow:
        if (version, party) not in started:
            release = fate_installed(version)
            state = parties(release_example(version), party)
            assert state.init_error is None, f"the mysql pod's init failed:\n{state.init_error}"
            started[(version, party)] = start_fateflow(state, release)
        return started[(version, party)]

    return get


def report(line: str) -> dict:
    return json.loads(line.split(" ", 1)[1])
