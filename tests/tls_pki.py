"""Test PKI: CAs and router key pairs made here (the cryptography library), and an example rendered
with a CA of the test's own for each member, so a test holds every CA key (no pytest here)."""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kfplug import api
from objects import parse

NOW = datetime.datetime.now(datetime.UTC)


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def pkcs8(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(name: str, *, is_ca: bool = True, not_after: datetime.datetime | None = None):
    """(key, certificate): a self-signed CA, or with is_ca=False a self-signed leaf."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(NOW - datetime.timedelta(days=30))
                   .not_valid_after(not_after or NOW + datetime.timedelta(days=365))
                   .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    return key, certificate


def issue(ca_key, ca_certificate: x509.Certificate, names: list[str], *,
          not_after: datetime.datetime | None = None) -> tuple[str, str]:
    """(certificate, PKCS#8 key), both PEM: a router key pair as cert-manager's CA issuer makes it
    from a Certificate (RSA 2048, server and client auth, the SANs given: IPs as IP addresses)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sans: list[x509.GeneralName] = []
    for name in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    not_before = NOW - datetime.timedelta(days=10)
    certificate = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(ca_certificate.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(not_before)
                   .not_valid_after(not_after or NOW + datetime.timedelta(days=90))
                   .add_extension(x509.SubjectAlternativeName(sans), critical=True)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                         ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                   .sign(ca_key, hashes.SHA256()))
    return pem(certificate), pkcs8(key)


@dataclass
class Rendered:
    root: Path  # the rendered tree
    overlays: dict[str, list[dict]]  # overlay name -> its objects, built by kustomize
    cas: dict[str, str]  # overlay name -> its member's CA certificate (PEM)
    ca_keys: dict[str, object]  # overlay name -> its member's CA key


def render_with_test_pki(spec_file: Path, directory: Path, kustomize: str, spec: dict | None = None) -> Rendered:
    """The spec (or `spec`, its edited document) copied into `directory`/spec, its CA files made by
    `kfplug tls init` where missing, rendered into `directory`/out and each overlay built."""
    spec_dir = directory / "spec"
    spec_dir.mkdir(parents=True, exist_ok=True)
    target = spec_dir / "federation.yaml"
    if spec is None:
        shutil.copy(spec_file, target)
    else:
        target.write_text(yaml.safe_dump(spec, sort_keys=False))
    api.init_pki(target)
    document = yaml.safe_load(target.read_text())["spec"]
    holders = [(str(p["id"]), p) for p in document["parties"]]
    if document.get("exchange"):
        holders.append(("exchange", document["exchange"]))
    cas, keys = {}, {}
    for name, holder in holders:
        ca_file = spec_dir / holder["tls"]["ca"]
        cas[name] = ca_file.read_text()
        secret = yaml.safe_load(ca_file.with_name(ca_file.stem + ".secret.yaml").read_text())
        keys[name] = serialization.load_pem_private_key(secret["stringData"]["tls.key"].encode(), None)
    out = directory / "out"
    api.render(target, out)
    api.init_secrets(out)
    overlays = {}
    for overlay in sorted((out / "overlays").iterdir()):
        result = subprocess.run([kustomize, "build", str(overlay)], capture_output=True, text=True, timeout=120,
                                check=True)
        overlays[overlay.name] = parse(result.stdout)
    return Rendered(out, overlays, cas, keys)
