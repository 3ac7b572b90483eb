"""Trust between parties (spec.tls.mode: mutual), on the spec and on built objects.

- the spec: a CA that is not one current PEM CA certificate is refused, and its content never
  appears in a message; TLS settings without the mode, and plaintext routers exposed, are warned;
- the built objects of every example that uses mutual TLS: only TLS ports leave the cluster, the
  router admits peers on its TLS port alone, each router trusts exactly the CAs of the members it
  has routes to, each Certificate names what peers dial, the routers' TLS keys are keys they read
  (tests/router_tls_keys.yaml, cited upstream), and no rendered tree holds a private key;
- membership: a new party's CA reaches exactly the bundles of the routers that route to it.

The handshake itself is in test_tls_handshake.py.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conftest import SPECS
from kfplug import api
from kfplug.diagnostics import SpecError
from objects import find, generated
from tls_pki import make_ca, pem, render_with_test_pki

KEYS = yaml.safe_load(Path(__file__).with_name("router_tls_keys.yaml").read_text())
SPEC = {example: yaml.safe_load(path.read_text())["spec"] for example, path in SPECS.items()}
MUTUAL = sorted(e for e, s in SPEC.items() if (s.get("tls") or {}).get("mode") == "mutual")
ROUTERS = ("osx", "rollsite")


def test_examples_cover_both_routers():
    assert {SPEC[e]["version"] for e in MUTUAL} >= {"2.2.0", "1.11.2"}, MUTUAL


# --- the spec ----------------------------------------------------------------------------------------------

SPEC_TEXT = """\
apiVersion: kfplug.dev/v1alpha1
kind: Federation
metadata: {{name: t}}
spec:
  runtime: fate
  version: "2.2.0"
  clusters: [{{name: a}}, {{name: b}}]
  tls: {{mode: {mode}}}
  parties:
    - {{id: 9999, cluster: a, expose: {{type: NodePort, nodePort: 30091}}, endpoint: 10.0.0.1:30091,
       tls: {{ca: {ca}}}}}
    - {{id: 10000, cluster: b, expose: {{type: NodePort, nodePort: 30092}}, endpoint: 10.0.0.2:30092,
       tls: {{ca: b.crt}}}}
"""


def _spec(tmp_path: Path, ca_text: str, mode: str = "mutual") -> Path:
    (tmp_path / "a.crt").write_text(ca_text)
    _, certificate = make_ca("b")
    (tmp_path / "b.crt").write_text(pem(certificate))
    path = tmp_path / "federation.yaml"
    path.write_text(SPEC_TEXT.format(mode=mode, ca="a.crt"))
    return path


def _errors(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        api.read(path)
    return [str(issue) for issue in caught.value.issues]


def _bad_cas() -> dict[str, tuple[str, str]]:
    """name -> (file content, the message it gets)."""
    key, ca = make_ca("a")
    _, old = make_ca("old", not_after=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1))
    _, leaf = make_ca("leaf", is_ca=False)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return {
        "private key": (key_pem, "holds a private key"),
        "key and certificate": (pem(ca) + key_pem, "holds a private key"),
        "leaf": (pem(leaf), "not a CA certificate"),
        "expired": (pem(old), "expired on"),
        "garbage": ("not a certificate at all\n", "found no PEM block"),
        "two certificates": (pem(ca) + pem(leaf), "exactly one PEM CERTIFICATE"),
        "broken base64": ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a readable"),
    }


@pytest.mark.parametrize("case", sorted(_bad_cas()))
def test_a_bad_ca_is_refused_without_echoing_it(tmp_path, case):
    content, message = _bad_cas()[case]
    errors = _errors(_spec(tmp_path, content))
    assert any("spec.parties[0].tls.ca" in e and message in e for e in errors), errors
    body = [line for line in content.splitlines() if line and not line.startswith("-----")]
    assert not [line for line in body if any(line in e for e in errors)], "a message quotes the file"


def test_a_ca_is_required_with_mutual_tls_and_a_missing_file_is_named(tmp_path):
    path = _spec(tmp_path, "")
    path.write_text(path.read_text().replace(",\n       tls: {ca: a.crt}", ""))
    assert any("spec.parties[0].tls.ca: required with spec.tls.mode mutual" in e for e in _errors(path))
    path.write_text(SPEC_TEXT.format(mode="mutual", ca="nowhere.crt"))
    assert any("cannot read nowhere.crt" in e for e in _errors(path))


def test_inside_kustomize_a_ca_must_be_inline(tmp_path):
    path = _spec(tmp_path, pem(make_ca("a")[1]))
    document = yaml.safe_load(path.read_text())
    names = ("mysql", "fateboard", "client")
    document["spec"]["defaults"] = {"secrets": {name: {"secretName": name} for name in names}}
    with pytest.raises(SpecError) as caught:
        api.generate(document, "federation.yaml")
    assert any("reads no files" in str(i) for i in caught.value.issues)
    for party, name in zip(document["spec"]["parties"], ("a.crt", "b.crt"), strict=True):
        party["tls"]["ca"] = (tmp_path / name).read_text()
    objects = api.generate(document, "federation.yaml")
    assert any(o["kind"] == "Certificate" for o in objects)


def test_tls_without_mutual_mode_and_plaintext_exposure_are_warned(tmp_path):
    path = _spec(tmp_path, pem(make_ca("a")[1]), mode='"off"')  # unquoted, YAML 1.1 would read a boolean
    _, warnings = api.read(path)
    text = [str(w) for w in warnings]
    assert any("spec.parties[0].tls: has no effect" in w for w in text), text
    assert any("spec.parties[1].expose: party 10000 (cluster b): its router is exposed outside its cluster "
               "without TLS" in w for w in text), text
    _, warnings = api.read(_spec(tmp_path, pem(make_ca("a")[1])))
    assert not warnings


def test_kuscia_takes_mtls_on_every_domain(tmp_path):
    spec = yaml.safe_load(SPECS["kuscia-multi-cluster"].read_text())
    spec["spec"]["tls"] = {"mode": "mutual"}
    del spec["spec"]["defaults"]["protocol"]
    path = tmp_path / "federation.yaml"
    path.write_text(yaml.safe_dump(spec))
    federation, _ = api.read(path)
    assert {p.protocol for p in federation.spec.parties} | {federation.spec.master.protocol} == {"MTLS"}
    spec["spec"]["parties"][0]["protocol"] = "TLS"
    spec["spec"]["parties"][1]["tls"] = {"ca": "x.crt"}
    path.write_text(yaml.safe_dump(spec))
    errors = _errors(path)
    assert any("spec.parties[0].protocol: TLS, but spec.tls.mode mutual takes MTLS" in e for e in errors)
    assert any("spec.parties[1].tls: Kuscia makes each domain's certificates" in e for e in errors)


# --- built objects -----------------------------------------------------------------------------------------

def _overlays(built, example: str) -> dict[str, list[dict]]:
    return {target.split("/")[1]: objects for (ex, target), objects in built.items()
            if ex == example and target.startswith("overlays/")}


def _router(objects: list[dict]) -> str:
    return next(o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"
                and o["metadata"]["name"] in ROUTERS)


def _route_table(objects: list[dict], router: str) -> dict:
    return json.loads(generated(objects, "ConfigMap", f"{router}-config")["data"]["route_table.json"])


def _properties(objects: list[dict], router: str) -> dict[str, str]:
    name, file = ("osx-config", "broker.properties") if router == "osx" else ("eggroll-config", "eggroll.properties")
    text = generated(objects, "ConfigMap", name)["data"][file]
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def _fingerprints(text: str) -> set[bytes]:
    return {c.fingerprint(c.signature_hash_algorithm) for c in x509.load_pem_x509_certificates(text.encode())}


def _cas(example: str) -> dict[str, str]:
    """Member name (party id, or exchange) -> its CA certificate, as the spec names it."""
    spec, base = SPEC[example], SPECS[example].parent
    holders = [(str(p["id"]), p) for p in spec["parties"]]
    if spec.get("exchange"):
        holders.append(("exchange", spec["exchange"]))
    return {name: (base / holder["tls"]["ca"]).read_text() for name, holder in holders}


def _routed_peers(table: dict, self_party: str, exchange_id: str | None) -> set[str]:
    """Member names a route table sends to: every party entry but its own, and the exchange as default."""
    names = {key for key in table["route_table"] if key not in (self_party, "default")}
    if "default" in table["route_table"]:
        names.add("exchange")
    return {"exchange" if name == exchange_id else name for name in names}


@pytest.mark.tools
@pytest.mark.parametrize("example", MUTUAL)
def test_only_tls_ports_leave_the_cluster_and_peers_reach_only_them(built, example):
    checked = 0
    for name, objects in _overlays(built, example).items():
        router = _router(objects)
        tls_port = int(_properties(objects, router)["grpc.tls.port" if router == "osx" else
                                                    "eggroll.rollsite.secure.port"])
        for service in (o for o in objects if o["kind"] == "Service"):
            if service["spec"].get("type") in ("NodePort", "LoadBalancer"):
                assert [p["port"] for p in service["spec"]["ports"]] == [tls_port], (name, service)
                checked += 1
        assert find(objects, "Service", router)["spec"].get("type", "ClusterIP") == "ClusterIP"
        policy = find(objects, "NetworkPolicy", router)["spec"]
        assert {p["port"] for rule in policy["ingress"] for p in rule["ports"]} == {tls_port}, name
    assert checked


@pytest.mark.tools
@pytest.mark.parametrize("example", MUTUAL)
def test_each_router_trusts_exactly_the_members_it_routes_to(built, example):
    cas = _cas(example)
    exchange_id = str((SPEC[example].get("exchange") or {}).get("id", 1))
    for name, objects in _overlays(built, example).items():
        router = _router(objects)
        table = _route_table(objects, router)
        self_party = None if name == "exchange" else name
        peers = _routed_peers(table, self_party, exchange_id)
        trust = generated(objects, "ConfigMap", f"{router}-trust")["data"]
        expected = set().union(*(_fingerprints(cas[peer]) for peer in peers))
        assert _fingerprints(trust["peers.crt"]) == expected, name
        properties = _properties(objects, router)
        server_ca = properties.get("grpc.server.ca.file") or properties["eggroll.core.security.ca.crt.path"]
        assert server_ca.endswith("/peers.crt")
        for party, services in table["route_table"].items():
            for route in services.get("default", []):
                if party == self_party or route.get("ip") == "rollsite":
                    continue
                peer = "exchange" if party in ("default", exchange_id) else party
                if router == "osx":  # osx trusts one CA per route: that peer's
                    ca_file = route["caFile"].rsplit("/", 1)[1]
                    assert _fingerprints(trust[ca_file]) == _fingerprints(cas[peer]), (name, party)
                else:
                    assert route["is_secure"] is True, (name, party)


@pytest.mark.tools
@pytest.mark.parametrize("example", MUTUAL)
def test_each_certificate_names_what_peers_dial(built, example):
    """Every address any peer's route dials a router at is a SAN of that router's Certificate; the SANs
    are only its TLS Service's cluster name and its endpoint host."""
    overlays = _overlays(built, example)
    exchange_id = str((SPEC[example].get("exchange") or {}).get("id", 1))
    dialled: dict[str, set[str]] = {name: set() for name in overlays}
    for name, objects in overlays.items():
        table = _route_table(objects, _router(objects))
        for party, services in table["route_table"].items():
            if party == name:
                continue
            target = "exchange" if party in ("default", exchange_id) else party
            dialled[target] |= {route["ip"] for route in services.get("default", [])}
    checked = 0
    for name, objects in overlays.items():
        certificates = [o for o in objects if o["kind"] == "Certificate"]
        member = SPEC[example]["exchange"] if name == "exchange" else \
            next(p for p in SPEC[example]["parties"] if str(p["id"]) == name)
        if member.get("tls", {}).get("secretName"):  # the party brings its key pair: nothing to issue
            assert not certificates and not [o for o in objects if o["kind"] == "Issuer"]
            continue
        spec = certificates[0]["spec"]
        sans = set(spec["dnsNames"]) | set(spec.get("ipAddresses", []))
        namespace = certificates[0]["metadata"]["namespace"]
        allowed = {f"{_router(objects)}-tls.{namespace}.svc.cluster.local", member["endpoint"].rsplit(":", 1)[0]}
        assert dialled[name] <= sans <= allowed, name
        assert spec["privateKey"]["encoding"] == "PKCS8"  # the only key format Java's gRPC reads
        assert {"server auth", "client auth"} <= set(spec["usages"])
        issuer = find(objects, "Issuer", spec["issuerRef"]["name"])
        assert issuer["spec"]["ca"]["secretName"] == "kfplug-ca"
        checked += 1
    assert checked


@pytest.mark.tools
@pytest.mark.parametrize("example", MUTUAL)
def test_routers_write_only_tls_keys_they_read(built, example):
    checked = 0
    for name, objects in _overlays(built, example).items():
        router = _router(objects)
        table = KEYS[router]
        tls_keys = {k for k in _properties(objects, router) if re.match(table["shape"], k)}
        assert tls_keys <= set(table["keys"]), (name, tls_keys - set(table["keys"]))
        assert set(table["mutual"]) <= tls_keys, name
        document = _route_table(objects, router)
        # rollsite reads permission.default_allow (an error every minute without it); osx reads none
        assert document.get("permission") == ({"default_allow": True} if router == "rollsite" else None), name
        for services in document["route_table"].values():
            for route in services.get("default", []):
                if route.get("ip") == "rollsite":
                    continue
                assert set(route) <= set(table["route"]["keys"]), route
                assert set(table["route"]["mutual"]) <= set(route), route
                checked += 1
    assert checked


def test_no_rendered_tree_holds_a_private_key(rendered):
    for root in rendered.values():
        for path in root.rglob("*"):
            if path.is_file() and not path.name.endswith((".env", ".password")):
                assert "PRIVATE KEY" not in path.read_text(errors="replace"), path


# --- membership --------------------------------------------------------------------------------------------

@pytest.mark.tools
def test_a_new_party_reaches_exactly_the_bundles_of_its_peers(tmp_path, kustomize):
    """Mesh: adding party 10002 puts its CA into every other party's bundle and nothing else changes there
    but the router's files; removing it takes it out again."""
    before = render_with_test_pki(SPECS["mutual-tls"], tmp_path / "before", kustomize)
    spec = yaml.safe_load(SPECS["mutual-tls"].read_text())
    spec["spec"]["parties"].append({"id": 10002, "cluster": "org-b", "expose": {"type": "NodePort", "nodePort": 30094},
                                    "endpoint": "192.168.12.3:30094", "tls": {"ca": "pki/10002-ca.crt"}})
    after_dir = tmp_path / "after"
    shutil.copytree(tmp_path / "before" / "spec" / "pki", after_dir / "spec" / "pki")
    after = render_with_test_pki(SPECS["mutual-tls"], after_dir, kustomize, spec=spec)
    new_ca = _fingerprints((after_dir / "spec" / "pki" / "10002-ca.crt").read_text())
    for name in before.overlays:
        old = generated(before.overlays[name], "ConfigMap", "osx-trust")["data"]["peers.crt"]
        new = generated(after.overlays[name], "ConfigMap", "osx-trust")["data"]["peers.crt"]
        assert _fingerprints(new) == _fingerprints(old) | new_ca, name
    trust = generated(after.overlays["10002"], "ConfigMap", "osx-trust")["data"]
    assert _fingerprints(trust["peers.crt"]) == set().union(
        *(_fingerprints(before.cas[name]) for name in before.overlays))

