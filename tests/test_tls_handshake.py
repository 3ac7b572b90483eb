"""Mutual TLS between routers, with the files the built pods mount: a peer in the spec gets through;
an outsider, no certificate, an expired certificate and a server without the dialled name do not.

For each example that uses mutual TLS, rendered with a CA of the test's own per member (tls_pki):
- the server is the router pod of one member: its volumes laid out from the built objects as the
  kubelet presents them (tests/podlayout.py), the Secret holding a key pair issued here exactly as
  its Certificate asks (standing in for cert-manager); the Secret's files root:fsGroup, mode as
  the volume says, and the container's own command run as the pod's user, in a private mount
  namespace with the layout at /etc/fate. Only the program changes: its command runs
  `openssl s_server` with the certificate, key and client-CA files the router's configuration
  names, requiring a client certificate where the router's configuration does;
- each client is a peer's pod, laid out the same way, dialling with the files its route names
  (osx: per route; rollsite: its client keys) and checking the name its route dials;
- renewal: a new certificate in the Secret fails the router's liveness probe; the restarted
  container (same emptyDir) serves the new one.

What the routers themselves do with these files was run by hand (docs/security.md).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from conftest import SPECS, require_tool
from objects import generated, pod_spec
from podlayout import container, lay_out
from tls_pki import NOW, issue, make_ca, pem, render_with_test_pki

pytestmark = pytest.mark.tools

ROOT = "/etc/fate"
NETNS = f"kfplug-tls-{os.getpid()}"
# a private mount namespace: /etc overlaid on a tmpfs (the host's /etc is untouched), the pod's
# layout bound at /etc/fate, then the command
POD = """
set -eu
layout=$1 scratch=$2
shift 2
mount -t tmpfs kfplug-etc "$scratch"
mkdir "$scratch/upper" "$scratch/work"
mount -t overlay kfplug-etc -o "lowerdir=/etc,upperdir=$scratch/upper,workdir=$scratch/work" /etc
mkdir -p /etc/fate
mount --bind "$layout" /etc/fate
exec "$@"
"""
SPEC = {e: yaml.safe_load(p.read_text())["spec"] for e, p in SPECS.items()}
# example -> (the server member, the peers that dial it)
CASES = {"mutual-tls": ("9999", ["10000", "10001"]), "multi-cluster": ("exchange", ["9999", "10000"])}


@pytest.fixture(scope="module")
def netns():
    if os.geteuid() != 0:
        require_tool(None, "root (mount and network namespaces)")
    for tool in ("unshare", "setpriv", "ip", "openssl"):
        require_tool(shutil.which(tool), tool)
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    subprocess.run(["ip", "netns", "exec", NETNS, "ip", "link", "set", "lo", "up"], check=True)
    yield NETNS
    subprocess.run(["ip", "netns", "delete", NETNS], check=False)


def test_cases_are_the_mutual_examples():
    assert sorted(CASES) == sorted(e for e, s in SPEC.items() if (s.get("tls") or {}).get("mode") == "mutual")


class Pod:
    """One member's router pod: its built objects, the key pair in its Secret, its layout."""

    def __init__(self, rendered, name: str, directory: Path, names: list[str] | None = None,
                 ca: tuple | None = None, not_after: datetime.datetime | None = None):
        self.objects = list(rendered.overlays[name])
        self.router = next(o for o in self.objects if o["kind"] == "Deployment"
                           and o["metadata"]["name"] in ("osx", "rollsite"))
        self.name = self.router["metadata"]["name"]
        self.namespace = self.router["metadata"]["namespace"]
        self.container = container(self.router, self.name)
        self.directory = directory
        ca_key, ca_pem = ca or (rendered.ca_keys[name], rendered.cas[name])
        from cryptography import x509
        certificate = x509.load_pem_x509_certificate(ca_pem.encode())
        sans = names if names is not None else self.sans()
        self.cert, self.key = issue(ca_key, certificate, sans, not_after=not_after)
        self.lay_out()

    def sans(self) -> list[str]:
        found = [o for o in self.objects if o["kind"] == "Certificate"]
        spec = found[0]["spec"]
        return [*spec["dnsNames"], *spec.get("ipAddresses", [])]

    def secret_volume(self) -> dict:
        return next(v for v in pod_spec(self.router)["volumes"] if "secret" in v)

    def lay_out(self) -> None:
        volume = self.secret_volume()
        secret = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                  "metadata": {"name": volume["secret"]["secretName"], "namespace": self.namespace},
                  "data": {"tls.crt": base64.b64encode(self.cert.encode()).decode(),
                           "tls.key": base64.b64encode(self.key.encode()).decode()}}
        shutil.rmtree(self.directory, ignore_errors=True)
        self.root = self.directory / "root"
        lay_out([*self.objects, secret], self.router, self.name, ROOT, self.root)
        self._own()

    def _own(self) -> None:
        """Owners and modes as the kubelet sets them: the Secret's files root:fsGroup with its
        defaultMode, emptyDirs writable by all."""
        security = pod_spec(self.router).get("securityContext", {})
        group = security.get("fsGroup", 0)
        for mount in self.container["volumeMounts"]:
            if not mount["mountPath"].startswith(ROOT):
                continue
            path = self.root / os.path.relpath(mount["mountPath"], ROOT)
            volume = next(v for v in pod_spec(self.router)["volumes"] if v["name"] == mount["name"])
            if "emptyDir" in volume:
                path.chmod(0o777)
            elif "secret" in volume:
                for file in path.rglob("*"):
                    if file.is_file() and not file.is_symlink():
                        os.chown(file, 0, group)
                        file.chmod(volume["secret"].get("defaultMode", 0o644))

    def renew(self, names: list[str], ca_key, ca_pem: str) -> None:
        """The kubelet's update of the Secret volume: new files in place, the emptyDir kept."""
        from cryptography import x509
        self.cert, self.key = issue(ca_key, x509.load_pem_x509_certificate(ca_pem.encode()), names)
        issued = self.root / os.path.relpath(self.mount_of("secret"), ROOT)
        data = next(p for p in issued.iterdir() if p.name.startswith("..2"))
        (data / "tls.crt").write_text(self.cert)
        (data / "tls.key").write_text(self.key)
        self._own()

    def mount_of(self, kind: str) -> str:
        names = {v["name"] for v in pod_spec(self.router)["volumes"] if kind in v}
        return next(m["mountPath"] for m in self.container["volumeMounts"] if m["name"] in names)

    def properties(self) -> dict[str, str]:
        name, file = ("osx-config", "broker.properties") if self.name == "osx" else \
            ("eggroll-config", "eggroll.properties")
        text = generated(self.objects, "ConfigMap", name)["data"][file]
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))

    def routes(self) -> dict:
        return json.loads(generated(self.objects, "ConfigMap", f"{self.name}-config")["data"]["route_table.json"])

    def run(self, command: list[str], *, as_pod_user: bool, **kwargs) -> subprocess.Popen:
        prefix = []
        if as_pod_user:
            security = pod_spec(self.router)["securityContext"]
            prefix = ["setpriv", f"--reuid={security['runAsUser']}", f"--regid={security['runAsGroup']}",
                      "--clear-groups", "--"]
        scratch = self.directory / "scratch"
        scratch.mkdir(exist_ok=True)
        return subprocess.Popen(["ip", "netns", "exec", NETNS, "unshare", "-m", "--propagation", "private",
                                 "sh", "-c", POD, "sh", str(self.root), str(scratch), *prefix, *command],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)

    # --- as a server: the container's own command, with openssl in place of the router's JVM ---

    def server_files(self) -> tuple[int, str, str, str, bool]:
        p = self.properties()
        if self.name == "osx":
            return (int(p["grpc.tls.port"]), p["grpc.server.cert.chain.file"], p["grpc.server.private.key.file"],
                    p["grpc.server.ca.file"], p["grpc.ssl.open.client.validate"] == "true")
        return (int(p["eggroll.rollsite.secure.port"]), p["eggroll.core.security.crt.path"],
                p["eggroll.core.security.key.path"], p["eggroll.core.security.ca.crt.path"],
                p["eggroll.core.security.secure.client.auth.enabled"] == "true")

    def serve(self) -> subprocess.Popen:
        port, cert, key, ca, require = self.server_files()
        command = self.container["command"]
        assert command[-1] == "java", command  # the wrapper runs "$0" "$@": the base's program and args
        server = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert, "-key", key,
                  "-CAfile", ca, "-verify_return_error", "-rev", *(["-Verify", "1"] if require else [])]
        process = self.run([*command[:-1], *server], as_pod_user=True, stdin=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the router's command exited: {process.stdout.read()}")
            if _listening(port):
                return process
            time.sleep(0.2)
        pytest.fail("the TLS port never listened")

    def probe(self) -> int:
        """The container's liveness probe, run in its pod."""
        command = self.container["livenessProbe"]["exec"]["command"]
        process = self.run(command, as_pod_user=True)
        process.wait(timeout=20)
        return process.returncode

    # --- as a client: the files its route to `server` names ---

    def dial(self, server: Pod, peer_key: str, port: int, *, certificate: bool = True) -> str:
        routes = self.routes()["route_table"]
        route = (routes.get(peer_key) or routes["default"])["default"][0]
        if self.name == "osx":
            assert route["useSSL"] is True
            cert, key, ca = route["certChainFile"], route["privateKeyFile"], route["caFile"]
        else:
            assert route["is_secure"] is True
            p = self.properties()
            cert, key, ca = (p["eggroll.core.security.client.crt.path"], p["eggroll.core.security.client.key.path"],
                             p["eggroll.core.security.client.ca.crt.path"])
        host = route["ip"]
        try:
            ipaddress.ip_address(host)
            name = ["-verify_ip", host]
        except ValueError:
            name = ["-verify_hostname", host]
        client = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", ca, "-verify_return_error",
                  *name, "-quiet", *(["-cert", cert, "-key", key] if certificate else [])]
        # the key pair a started router reads is its copy; a client pod has one once it has started
        start = self.container["command"]
        copy = [*start[:-1], "true"]
        self.run(copy, as_pod_user=True).wait(timeout=20)
        process = self.run(["sh", "-c", '(echo hello; sleep 1) | timeout 10 "$@"', "sh", *client], as_pod_user=False)
        out, _ = process.communicate(timeout=30)
        return out


def _listening(port: int) -> bool:
    result = subprocess.run(["ip", "netns", "exec", NETNS, "ss", "-Hltn", f"sport = :{port}"],
                            capture_output=True, text=True)
    return bool(result.stdout.strip())


@pytest.fixture(scope="module")
def pods(tmp_path_factory, kustomize, netns) -> dict:
    out = {}
    for example in CASES:
        directory = tmp_path_factory.mktemp(f"tls-{example}")
        out[example] = render_with_test_pki(SPECS[example], directory, kustomize)
    return out


@pytest.mark.parametrize("example", sorted(CASES))
def test_peers_get_through_and_no_one_else(pods, tmp_path, example):
    rendered = pods[example]
    server_name, peers = CASES[example]
    server = Pod(rendered, server_name, tmp_path / "server")
    port = server.server_files()[0]
    exchange_id = str((SPEC[example].get("exchange") or {}).get("id", 1))
    key = exchange_id if server_name == "exchange" else server_name
    process = server.serve()
    try:
        for peer in peers:
            client = Pod(rendered, peer, tmp_path / f"peer-{peer}", names=_peer_names(rendered, peer))
            assert "olleh" in client.dial(server, key, port), f"{peer} refused"
            # an outsider: a CA no member names, signing a certificate with the peer's own names
            outsider_key, outsider_ca = make_ca("outsider")
            outsider = Pod(rendered, peer, tmp_path / f"outsider-{peer}", names=_peer_names(rendered, peer),
                           ca=(outsider_key, pem(outsider_ca)))
            assert "olleh" not in outsider.dial(server, key, port), "a certificate from an unknown CA got in"
            assert "olleh" not in client.dial(server, key, port, certificate=False), "no certificate got in"
            expired = Pod(rendered, peer, tmp_path / f"expired-{peer}", names=_peer_names(rendered, peer),
                          not_after=NOW - datetime.timedelta(days=1))
            assert "olleh" not in expired.dial(server, key, port), "an expired certificate got in"
    finally:
        process.kill()
        process.wait()


def _peer_names(rendered, member: str) -> list[str]:
    """A peer's own SANs: its Certificate's, or (bringing its own key pair) its endpoint host."""
    objects = rendered.overlays[member]
    found = [o for o in objects if o["kind"] == "Certificate"]
    if found:
        spec = found[0]["spec"]
        return [*spec["dnsNames"], *spec.get("ipAddresses", [])]
    return ["peer.example"]


def test_renewal_restarts_the_router_onto_the_new_certificate(pods, tmp_path):
    """A renewed certificate without the name a peer dials: the probe fails, the restarted container
    serves the new certificate (over the copies its last start left), and the peer refuses it."""
    rendered = pods["mutual-tls"]
    server = Pod(rendered, "9999", tmp_path / "server")
    port = server.server_files()[0]
    client = Pod(rendered, "10000", tmp_path / "client", names=_peer_names(rendered, "10000"))
    process = server.serve()
    try:
        assert "olleh" in client.dial(server, "9999", port)
        assert server.probe() == 0
        server.renew([n for n in server.sans() if not n[0].isdigit()], rendered.ca_keys["9999"],
                     rendered.cas["9999"])
        assert server.probe() != 0, "the probe did not see the renewed certificate"
    finally:
        process.kill()
        process.wait()
    process = server.serve()  # the container restarted by the failed probe: the same emptyDir
    try:
        assert server.probe() == 0
        refused = client.dial(server, "9999", port)
        assert "olleh" not in refused and "verify" in refused.lower(), refused
    finally:
        process.kill()
        process.wait()


def test_the_router_pods_mount_what_their_files_name(pods):
    """Every file a router's TLS settings name is inside one of its mounts (else it reads nothing)."""
    for example, rendered in pods.items():
        for name in rendered.overlays:
            router = next(o for o in rendered.overlays[name] if o["kind"] == "Deployment"
                          and o["metadata"]["name"] in ("osx", "rollsite"))
            mounts = [m["mountPath"] for m in container(router, router["metadata"]["name"])["volumeMounts"]]
            text = generated(rendered.overlays[name], "ConfigMap",
                             "osx-config" if router["metadata"]["name"] == "osx" else "eggroll-config")
            files = [v for content in text["data"].values() for v in content.replace('"', "=").split("=")
                     if v.strip().startswith(ROOT)]
            assert files, (example, name)
            for file in files:
                assert any(file.strip().startswith(m + "/") for m in mounts), (example, name, file)
