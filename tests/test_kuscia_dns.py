"""Kuscia's embedded CoreDNS starts with the files the built pods give it.

Kuscia 1.1.0b0 starts CoreDNS v1.12.2 on `etc/conf/corefile` (from the image), whose
`forward . /home/kuscia/var/tmp/resolv.conf` must name a resolv.conf with a nameserver; running
as uid 1000 Kuscia does not write that file, and without it CoreDNS, and with it Kuscia, stops.
For every Kuscia Deployment of every Kuscia example and every build target, the main container's
view of /home/kuscia is laid out from the built objects (tests/podlayout.py: ConfigMap keys,
emptyDirs, subPaths, the upstream corefile where the image has it), bound over /home/kuscia in a
private mount namespace, and read by .tools/bin/corednscheck (tools/corednscheck: CoreDNS's own
Corefile parser and forward-target resolution at the pinned versions). The upstreams must be
exactly the `dns` the example declares for the domain's cluster.

Needs corednscheck (make tools), root and `unshare`; a missing one skips here and fails in CI.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from conftest import REPO, SPECS, require_tool
from objects import pod_spec
from podlayout import lay_out

pytestmark = pytest.mark.tools

UPSTREAM = REPO.parent / "shared" / "upstream" / "kuscia-v1.1.0b0.tar.gz"
COREFILE_MEMBER = "kuscia-v1.1.0b0/etc/conf/corefile"
HOME = "/home/kuscia"
COREFILE = f"{HOME}/etc/conf/corefile"  # <rootDir>/etc/conf/corefile, as Kuscia reads it
RESOLV_CONF = f"{HOME}/var/tmp/resolv.conf"
MAIN_CONTAINERS = ("kuscia-master", "kuscia-lite")
DEFAULT_CLUSTER = "default"  # README: spec.clusters defaults to one cluster named `default`

SPEC = {example: yaml.safe_load(path.read_text())["spec"] for example, path in SPECS.items()}
KUSCIA_EXAMPLES = sorted(example for example, spec in SPEC.items() if spec.get("runtime") == "kuscia")

# In a private mount namespace: /home/kuscia is made if missing (an overlay on /home whose upper
# layer is a tmpfs, so nothing is written to this machine and /home keeps its contents), the
# layout is bound over it, and the command runs there. Everything goes with the namespace.
NAMESPACE_SCRIPT = """
set -eu
layout=$1 scratch=$2
shift 2
if [ ! -d /home/kuscia ]; then
    mount -t tmpfs kfplug-scratch "$scratch"
    mkdir "$scratch/upper" "$scratch/work"
    mount -t overlay kfplug-home -o "lowerdir=/home,upperdir=$scratch/upper,workdir=$scratch/work" /home
    mkdir /home/kuscia
fi
mount --bind "$layout" /home/kuscia
exec "$@"
"""


@pytest.fixture(scope="module")
def corednscheck() -> str:
    path = REPO / ".tools/bin/corednscheck"
    return require_tool(str(path) if path.is_file() else None, "corednscheck (make tools)")


def in_home(layout: Path, scratch: Path, *command: str) -> subprocess.CompletedProcess:
    """Run `command` with `layout` bound over /home/kuscia in a private mount namespace."""
    scratch.mkdir()
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", NAMESPACE_SCRIPT, "sh",
                           str(layout), str(scratch), *command], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def mount_namespace(tmp_path_factory) -> None:
    """Root, unshare and a /home to overlay, checked by binding a probe over /home/kuscia."""
    missing = None
    if os.geteuid() != 0:
        missing = "root (a private mount namespace with unshare -m and mount --bind)"
    elif shutil.which("unshare") is None:
        missing = "unshare (util-linux)"
    elif not Path("/home").is_dir():
        missing = "a /home directory to hold /home/kuscia"
    else:
        probe = tmp_path_factory.mktemp("probe")
        (probe / "layout").mkdir()
        (probe / "layout/probe").write_text("kfplug\n")
        result = in_home(probe / "layout", probe / "scratch", "cat", f"{HOME}/probe")
        if result.returncode != 0 or result.stdout != "kfplug\n":
            missing = f"a private mount namespace (unshare -m, mount --bind as root): {result.stderr.strip()}"
    require_tool(None if missing else "ok", missing or "")


@pytest.fixture(scope="module")
def corefile() -> bytes:
    """Upstream's etc/conf/corefile at v1.1.0b0 (the image ships it; kfplug does not mount one)."""
    if not UPSTREAM.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{UPSTREAM} is missing")
        pytest.skip(f"{UPSTREAM} is missing")
    with tarfile.open(UPSTREAM) as tar:
        member = tar.extractfile(COREFILE_MEMBER)
        assert member is not None, f"{UPSTREAM} has no file {COREFILE_MEMBER}"
        text = member.read()
    assert f"forward . {RESOLV_CONF}".encode() in text, "upstream's corefile no longer forwards to resolv.conf"
    return text


def kuscia_deployments(objects: list[dict]) -> list[tuple[dict, str]]:
    """(Deployment, main container name) of every Kuscia Deployment of a build."""
    out = []
    for obj in objects:
        if obj["kind"] != "Deployment":
            continue
        names = [c["name"] for c in pod_spec(obj)["containers"] if c["name"] in MAIN_CONTAINERS]
        if names:
            out.append((obj, names[0]))
    return out


def cluster_of(spec: dict, target: str) -> str:
    """The cluster a build target's domains live in, from the example's own spec."""
    kind, name = target.split("/")
    if kind == "clusters":
        return name
    domain = spec["master"] if name == "master" else next(p for p in spec["parties"] if p["id"] == name)
    if domain.get("cluster"):
        return domain["cluster"]
    clusters = spec.get("clusters") or [{"name": DEFAULT_CLUSTER}]
    assert len(clusters) == 1, f"{target}: no cluster, and spec.clusters lists several"
    return clusters[0]["name"]


def expected_upstream(spec: dict, cluster: str) -> str | None:
    """`nameserver <dns>` as CoreDNS's forward turns it into an upstream (net.JoinHostPort with port 53);
    None when the example declares no dns for the cluster."""
    declared = [c for c in spec.get("clusters") or [] if c["name"] == cluster]
    if not declared or not declared[0].get("dns"):
        return None
    address = ipaddress.ip_address(declared[0]["dns"])
    return f"[{address}]:53" if address.version == 6 else f"{address}:53"


def check(corednscheck: str, objects: list[dict], deployment: dict, main: str, corefile: bytes,
          directory: Path) -> subprocess.CompletedProcess:
    layout = directory / "home-kuscia"
    lay_out(objects, deployment, main, HOME, layout, image_files={COREFILE: corefile})
    return in_home(layout, directory / "scratch", corednscheck, COREFILE)


def target_directory(tmp_path: Path, target: str, deployment: dict) -> Path:
    directory = tmp_path / target.replace("/", "-") / deployment["metadata"]["namespace"]
    directory.mkdir(parents=True)
    return directory


def test_the_check_covers_both_kuscia_examples():
    assert {"kuscia-centralized", "kuscia-multi-cluster"} <= set(KUSCIA_EXAMPLES)


@pytest.mark.parametrize("example", KUSCIA_EXAMPLES)
def test_kuscia_coredns_forwards_to_the_cluster_dns(corednscheck, mount_namespace, corefile, built, example,
                                                    tmp_path):
    spec = SPEC[example]
    targets = sorted(target for ex, target in built if ex == example)
    assert targets
    problems = []
    for target in targets:
        objects = built[(example, target)]
        deployments = kuscia_deployments(objects)
        assert deployments, f"{example}/{target}: no Kuscia Deployment"
        cluster = cluster_of(spec, target)
        upstream = expected_upstream(spec, cluster)
        if upstream is None:
            problems.append(f"{example}/{target}: the example declares no dns for cluster {cluster!r}")
        for deployment, main in deployments:
            where = f"{example}/{target} {deployment['metadata']['namespace']}/{deployment['metadata']['name']}"
            pod = pod_spec(deployment)
            if pod.get("dnsPolicy") != "None":
                problems.append(f"{where}: dnsPolicy is {pod.get('dnsPolicy')!r}, not 'None'")
            if (pod.get("dnsConfig") or {}).get("nameservers") != ["127.0.0.1"]:
                problems.append(f"{where}: dnsConfig is {pod.get('dnsConfig')!r}, not nameservers [127.0.0.1]")
            result = check(corednscheck, objects, deployment, main, corefile,
                           target_directory(tmp_path, target, deployment))
            if result.returncode != 0:
                problems.append(f"{where}: CoreDNS would not start: {result.stderr.strip()}")
                continue
            upstreams = json.loads(result.stdout)["upstreams"]
            if upstream is not None and upstreams != [upstream]:
                problems.append(f"{where}: CoreDNS forwards to {upstreams}, not [{upstream!r}]")
    assert not problems, "\n".join(problems)


def test_without_the_resolv_conf_mount_coredns_would_not_start(corednscheck, mount_namespace, corefile, built,
                                                               tmp_path):
    """The check can fail: the same pod without the mount at var/tmp/resolv.conf gets CoreDNS's own error."""
    example = "kuscia-centralized"
    for target in sorted(target for ex, target in built if ex == example):
        objects = built[(example, target)]
        for deployment, main in kuscia_deployments(objects):
            stripped = json.loads(json.dumps(deployment))
            for container in pod_spec(stripped)["containers"]:
                container["volumeMounts"] = [m for m in container.get("volumeMounts", [])
                                             if m["mountPath"].rstrip("/") != RESOLV_CONF]
            result = check(corednscheck, objects, stripped, main, corefile,
                           target_directory(tmp_path, target, deployment))
            where = f"{target} {deployment['metadata']['namespace']}/{deployment['metadata']['name']}"
            assert result.returncode == 1, f"{where}: {result.stdout}{result.stderr}"
            assert f'plugin/forward: not an IP address or file: "{RESOLV_CONF}"' in result.stderr, where
