"""Containers of built workloads, run the way the kubelet would run them, without a container runtime.

What stands in for what (everything is torn down by the fixture that made it):

- A party's pod network: one network namespace per party (`ip netns add`) with loopback only.
  Every Service of the party answers on its Service port at 127.0.0.1 there, so a party's
  pods reach each other by Service name and the parties cannot reach each other at all.
- Cluster DNS: the pod's /etc/hosts maps the party's Service names (`mysql`,
  `mysql.fate-9999`, `mysql.fate-9999.svc`, `mysql.fate-9999.svc.cluster.local`, ...) to
  127.0.0.1. Other names, a peer's among them, resolve to nothing.
- The image: an overlay of this machine's / (Debian as the base OS) in a private mount and
  PID namespace, with the image's own files (`Image.layout`) bind-mounted where the image
  has them, and the image's ENV and WORKDIR. The image's files are root's, as in the image.
- The kubelet: each volume of the pod spec is a directory (ConfigMap and Secret keys as
  files with their modes, group fsGroup; emptyDir and claims empty, setgid fsGroup),
  bind-mounted at each volumeMount's path (subPath and readOnly honoured); the container's
  command/args, env and envFrom are taken from the built object; runAsUser, runAsGroup,
  fsGroup (as a supplementary group), allowPrivilegeEscalation: false (no_new_privs),
  capabilities drop ALL and readOnlyRootFilesystem are applied with setpriv and mount.
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from objects import containers, pod_spec

SERVICE_DOMAIN = "svc.cluster.local"


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 60)
    return subprocess.run(command, **kwargs)


def checked(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = run(command, **kwargs)
    assert result.returncode == 0, \
        f"{shlex.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


class Netns:
    """A party's network: a network namespace with only loopback, up."""

    def __init__(self, name: str):
        self.name = name
        checked(["ip", "netns", "add", name])
        checked(["ip", "-n", name, "link", "set", "lo", "up"])

    @property
    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def close(self) -> None:
        run(["ip", "netns", "delete", self.name])


def hosts_file(namespace: str, services: list[str]) -> str:
    """The pod's /etc/hosts: every Service of its own party at 127.0.0.1, by every name cluster DNS gives it."""
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
    for service in sorted(services):
        names = [service, f"{service}.{namespace}", f"{service}.{namespace}.svc",
                 f"{service}.{namespace}.{SERVICE_DOMAIN}"]
        lines.append("127.0.0.1\t" + " ".join(names))
    return "\n".join(lines) + "\n"


class MariaDB:
    """Debian's mariadbd with a private data directory and socket, listening on 3306 in a party's netns."""

    def __init__(self, directory: Path, netns: Netns):
        self.directory = directory
        self.datadir = directory / "data"
        self.socket = directory / "mysqld.sock"
        self.log = directory / "error.log"
        installed = run(["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                         "--auth-root-authentication-method=socket", "--skip-test-db"], timeout=120)
        assert installed.returncode == 0, f"mariadb-install-db failed:\n{installed.stdout}\n{installed.stderr}"
        self.process = subprocess.Popen(
            [*netns.prefix, "mariadbd", "--no-defaults", "--user=root", f"--datadir={self.datadir}",
             f"--socket={self.socket}", "--port=3306", "--bind-address=127.0.0.1", "--skip-name-resolve",
             f"--pid-file={directory / 'mysqld.pid'}", f"--log-error={self.log}",
             "--innodb-buffer-pool-size=32M", "--max-connections=400"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while run(["mariadb-admin", "--no-defaults", f"--socket={self.socket}", "-uroot", "ping"]).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"mariadbd did not start:\n{self.log.read_text() if self.log.exists() else ''}")
            time.sleep(0.2)

    def sql(self, statements: str, database: str | None = None, user: str = "root",
            password: str | None = None, check: bool = True) -> list[list[str]] | subprocess.CompletedProcess:
        """Runs statements with the mariadb client over the socket; the rows, tab-split (or the result if
        check=False)."""
        command = ["mariadb", "--no-defaults", f"--socket={self.socket}", f"--user={user}", "--batch",
                   "--skip-column-names", "--raw", "--comments"]
        if password is not None:
            command.append(f"--password={password}")
        if database:
            command.append(f"--database={database}")
        result = run(command, input=statements)
        if not check:
            return result
        assert result.returncode == 0, f"mariadb failed:\n{result.stderr}"
        return [line.split("\t") for line in result.stdout.splitlines()]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def initialise_like_mysql_image(db: MariaDB, env: dict[str, str], init_files: list[Path]) -> None:
    """What the mysql:8.0 image's entrypoint does on an empty data directory, on this server.

    As docker-library/mysql 8.0/docker-entrypoint.sh does it (file_env, docker_setup_db,
    docker_process_init_files): MYSQL_PASSWORD may come from the file named by
    MYSQL_PASSWORD_FILE; it creates MYSQL_DATABASE, creates MYSQL_USER@'%' identified by
    the password (interpolated into the statement as is), grants it ALL on that database
    (underscores escaped), then runs every *.sql file of /docker-entrypoint-initdb.d in
    glob order as root, with --database=MYSQL_DATABASE.
    """
    database, user, password = env.get("MYSQL_DATABASE"), env.get("MYSQL_USER"), env.get("MYSQL_PASSWORD")
    if database:
        db.sql(f"CREATE DATABASE IF NOT EXISTS `{database}` ;", database="mysql")
    if user and password:
        db.sql(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}' ;", database="mysql")
        if database:
            escaped = database.replace("_", "\\_")
            db.sql(f"GRANT ALL ON `{escaped}`.* TO '{user}'@'%' ;", database="mysql")
    for path in sorted(init_files, key=lambda p: p.name):
        if path.name.endswith(".sql"):
            db.sql(path.read_text(), database=database)


@dataclass
class Image:
    """What a container image brings that the built object does not say: its files, ENV, WORKDIR and USER."""

    name: str
    env: dict[str, str]
    workdir: str
    layout: Callable[[Path], None]  # writes the image's own files into a directory that stands for its /
    binds: dict[str, Path] = field(default_factory=dict)  # big image directories shared read-only (its Python venv)
    files: dict[str, str] = field(default_factory=dict)  # single executables of the image, by path (stand-ins)
    user: int = 0
    standin: bool = False  # not an image of the release (name is no image reference): runs in any container

    def check_models(self, reference: str) -> None:
        """The container's image is the one this models (a registry the overlay puts in front may differ)."""
        assert self.standin or reference == self.name or reference.endswith("/" + self.name), \
            f"the container runs {reference}; the test models {self.name}"


@dataclass
class Mount:
    source: Path
    target: str
    read_only: bool


@dataclass
class Pod:
    """One replica of a built workload (index 0), its volumes materialised under `directory`."""

    workload: dict
    objects: list[dict]
    directory: Path
    netns: Netns
    services: list[str]
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)  # test Secrets the build only references

    def __post_init__(self):
        self.spec = pod_spec(self.workload)
        self.namespace = self.workload["metadata"]["namespace"]
        self.name = self.workload["metadata"]["name"]
        self.security = self.spec.get("securityContext", {})
        self.volumes = {v["name"]: self._materialise(v) for v in self.spec.get("volumes", [])}
        for claim in self.workload["spec"].get("volumeClaimTemplates", []):
            self.volumes[claim["metadata"]["name"]] = self._directory(f"claim-{claim['metadata']['name']}", 0o2775)

    # -- the kubelet's part ------------------------------------------------------------------

    def _object(self, kind: str, name: str) -> dict | None:
        matches = [o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name]
        return matches[0] if matches else None

    def _secret_data(self, name: str) -> dict[str, str]:
        secret = self._object("Secret", name)
        if secret is not None:
            data = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
            return {**data, **secret.get("stringData", {})}
        assert name in self.secrets, f"Secret {name} is neither built nor given to the test"
        return self.secrets[name]

    def _config_data(self, name: str) -> dict[str, str]:
        config_map = self._object("ConfigMap", name)
        assert config_map is not None, f"ConfigMap {name} is not in the build"
        return config_map.get("data", {})

    def _fs_group(self) -> int | None:
        return self.security.get("fsGroup")

    def _directory(self, name: str, mode: int) -> Path:
        path = self.directory / "volumes" / name
        path.mkdir(parents=True)
        group = self._fs_group()
        if group is not None:
            os.chown(path, 0, group)
        os.chmod(path, mode)
        return path

    def _materialise(self, volume: dict) -> Path:
        if "emptyDir" in volume:
            return self._directory(volume["name"], 0o2777 if self._fs_group() is not None else 0o777)
        if "configMap" in volume:
            source = self._config_data(volume["configMap"]["name"])
            default_mode = volume["configMap"].get("defaultMode", 0o644)
            items = volume["configMap"].get("items")
        elif "secret" in volume:
            source = self._secret_data(volume["secret"]["secretName"])
            default_mode = volume["secret"].get("defaultMode", 0o644)
            items = volume["secret"].get("items")
        else:
            raise AssertionError(f"volume {volume['name']}: no stand-in for {sorted(volume)}")
        path = self._directory(volume["name"], 0o755)
        os.chmod(path, 0o2755 if self._fs_group() is not None else 0o755)
        files = [(i["key"], i["path"], i.get("mode", default_mode)) for i in items] if items \
            else [(k, k, default_mode) for k in source]
        for key, relative, mode in files:
            target = path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source[key])
            group = self._fs_group()
            os.chown(target, 0, group if group is not None else 0)
            os.chmod(target, mode)
        return path

    def container(self, name: str) -> dict:
        matches = [c for c in containers(self.workload) if c["name"] == name]
        assert len(matches) == 1, f"{self.name} has no container {name}"
        return matches[0]

    def mounts(self, container: dict) -> list[Mount]:
        out = []
        for mount in container.get("volumeMounts", []):
            source = self.volumes[mount["name"]]
            if mount.get("subPath"):
                source = source / mount["subPath"]
                if not source.exists():
                    source.mkdir(parents=True)  # the kubelet creates a missing subPath as a directory
                    group = self._fs_group()
                    if group is not None:
                        os.chown(source, 0, group)
                        os.chmod(source, 0o2777)
            out.append(Mount(source, mount["mountPath"], bool(mount.get("readOnly"))))
        return out

    def host_path(self, container_name: str, path: str) -> Path:
        """Where a path of the container is on this machine, if it is on a volume."""
        best = None
        for mount in self.mounts(self.container(container_name)):
            target = mount.target.rstrip("/")
            on_it = path == target or path.startswith(target + "/")
            if on_it and (best is None or len(target) > len(best.target.rstrip("/"))):
                best = mount
        assert best is not None, f"{path} is on no volume of {container_name}"
        return best.source / os.path.relpath(path, best.target)

    def environment(self, container: dict, image: Image) -> dict[str, str]:
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", **image.env,
               "HOSTNAME": f"{self.name}-0"}
        for source in container.get("envFrom", []):
            prefix = source.get("prefix", "")
            if "configMapRef" in source:
                env.update({prefix + k: v for k, v in self._config_data(source["configMapRef"]["name"]).items()})
            if "secretRef" in source:
                env.update({prefix + k: v for k, v in self._secret_data(source["secretRef"]["name"]).items()})
        for var in container.get("env", []):
            if "value" in var:
                env[var["name"]] = var["value"]
            elif "secretKeyRef" in var.get("valueFrom", {}):
                ref = var["valueFrom"]["secretKeyRef"]
                env[var["name"]] = self._secret_data(ref["name"])[ref["key"]]
            elif "configMapKeyRef" in var.get("valueFrom", {}):
                ref = var["valueFrom"]["configMapKeyRef"]
                env[var["name"]] = self._config_data(ref["name"])[ref["key"]]
            elif "fieldRef" in var.get("valueFrom", {}):
                # the downward API; in a party's loopback-only network the pod's address is 127.0.0.1
                fields = {"status.podIP": "127.0.0.1", "status.hostIP": "127.0.0.1", "metadata.name": f"{self.name}-0",
                          "metadata.namespace": self.namespace, "spec.nodeName": "node"}
                env[var["name"]] = fields[var["valueFrom"]["fieldRef"]["fieldPath"]]
            else:
                raise AssertionError(f"env {var['name']}: no stand-in for {var.get('valueFrom')}")
        return env

    # -- the container runtime's part -----------------------------------------------------------

    def script(self, container_name: str, image: Image, command: list[str] | None = None,
               files: dict[str, str] | None = None, as_user: bool = True) -> tuple[Path, list[str]]:
        """A root shell script that builds the container's filesystem and execs its process; and that process."""
        container = self.container(container_name)
        image.check_models(container["image"])
        work = self.directory / f"run-{container_name}"
        if work.exists():
            shutil.rmtree(work)
        (work / "overlay").mkdir(parents=True)
        (work / "root").mkdir()
        image_root = work / "image"
        image_root.mkdir()
        image.layout(image_root)
        (work / "hosts").write_text(hosts_file(self.namespace, self.services))
        argv = command or [*container.get("command", []), *container.get("args", [])]
        assert argv, f"{container_name}: no command in the object and none given (the image's own is not modelled)"
        pod_context = {**self.security, **{k: v for k, v in container.get("securityContext", {}).items()}}
        uid = pod_context.get("runAsUser", image.user)
        gid = pod_context.get("runAsGroup", 0 if uid == 0 else uid)
        groups = sorted({g for g in [self._fs_group(), *pod_context.get("supplementalGroups", [])] if g is not None})
        env = self.environment(container, image)
        workdir = container.get("workingDir") or image.workdir
        root = work / "root"
        q = shlex.quote
        lines = ["set -eu",
                 f"mount -t tmpfs tmpfs {q(str(work / 'overlay'))}",
                 f"mkdir {q(str(work / 'overlay/upper'))} {q(str(work / 'overlay/work'))}",
                 f"mount -t overlay overlay -o lowerdir=/,upperdir={work / 'overlay/upper'},"
                 f"workdir={work / 'overlay/work'} {q(str(root))}",
                 f"mount -t proc proc {q(str(root / 'proc'))}",
                 f"mount --rbind /dev {q(str(root / 'dev'))}",
                 f"mount --rbind /sys {q(str(root / 'sys'))}",
                 # this machine's Python interpreters live under /root/.pyenv; let any user reach them
                 f"chmod 711 {q(str(root / 'root'))}",
                 f"cp {q(str(work / 'hosts'))} {q(str(root / 'etc/hosts'))}"]
        # the image's own files, where the image has them (each top-level directory of the layout)
        for top in sorted(image_root.iterdir()):
            for child in sorted(top.iterdir()):
                target = root / top.name / child.name
                lines += [f"mkdir -p {q(str(target))}", f"mount --bind {q(str(child))} {q(str(target))}"]
        for target, source in image.binds.items():
            path = root / target.lstrip("/")
            lines += [f"mkdir -p {q(str(path))}", f"mount --bind {q(str(source))} {q(str(path))}",
                      f"mount -o remount,bind,ro {q(str(path))}"]
        for path, content in {**image.files, **(files or {})}.items():
            staged = work / "files" / path.lstrip("/")
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_text(content)
            os.chmod(staged, 0o755)
            lines += [f"mkdir -p {q(str((root / path.lstrip('/')).parent))}",
                      f"rm -f {q(str(root / path.lstrip('/')))}",
                      f"cp {q(str(staged))} {q(str(root / path.lstrip('/')))}"]
        for mount in sorted(self.mounts(container), key=lambda m: m.target.count("/")):
            target = root / mount.target.lstrip("/")
            kind = "-d" if mount.source.is_dir() else "-f"
            make = f"mkdir -p {q(str(target))}" if kind == "-d" else \
                f"mkdir -p {q(str(target.parent))} && touch {q(str(target))}"
            lines += [f"[ -e {q(str(target))} ] || {{ {make}; }}",
                      f"mount --bind {q(str(mount.source))} {q(str(target))}"]
            if mount.read_only:
                lines.append(f"mount -o remount,bind,ro {q(str(target))}")
        if container.get("securityContext", {}).get("readOnlyRootFilesystem"):
            lines.append(f"mount -o remount,ro {q(str(root))}")
            for top in sorted(image_root.iterdir()):
                for child in sorted(top.iterdir()):
                    lines.append(f"mount -o remount,bind,ro {q(str(root / top.name / child.name))}")
        user = []
        if as_user:
            user = ["setpriv", f"--reuid={uid}", f"--regid={gid}",
                    f"--groups={','.join(map(str, groups))}" if groups else "--clear-groups"]
            if container.get("securityContext", {}).get("allowPrivilegeEscalation") is False:
                user.append("--no-new-privs")
            if "ALL" in container.get("securityContext", {}).get("capabilities", {}).get("drop", []):
                user += ["--inh-caps=-all", "--bounding-set=-all"]
            user.append("--")
        process = ["chroot", str(root), *user, "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items()),
                   "/bin/sh", "-c", 'cd "$0" || exit 1; exec "$@"', workdir, *argv]
        lines.append("exec " + shlex.join(process))
        script = work / "start.sh"
        script.write_text("\n".join(lines) + "\n")
        return script, argv

    def _wrap(self, script: Path) -> list[str]:
        # a private mount namespace, and a PID namespace whose processes all die with its first one
        return [*self.netns.prefix, "unshare", "--mount", "--propagation", "private", "--pid", "--fork",
                "--kill-child", "/bin/sh", str(script)]

    def run(self, container_name: str, image: Image, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
        script, _ = self.script(container_name, image, **kwargs)
        return run(self._wrap(script), timeout=timeout)

    def start(self, container_name: str, image: Image, **kwargs) -> Running:
        script, _ = self.script(container_name, image, **kwargs)
        log = script.parent / "output.log"
        handle = log.open("w")
        process = subprocess.Popen(self._wrap(script), stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        return Running(process, log)


@dataclass
class Running:
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            # The process group we started (ip netns exec → unshare). unshare ignores SIGTERM while it waits,
            # and the container's process is PID 1 of its namespace, which ignores it too; SIGKILL ends
            # unshare, whose --kill-child then ends the pod's PID namespace and everything in it.
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
