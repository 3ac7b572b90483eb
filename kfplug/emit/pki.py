"""`kfplug tls init`: a test PKI to try mutual TLS with. For each member whose `tls.ca` names a
file that does not exist yet, one CA of its own: the certificate at that path (public, for the
spec), and beside it the CA's key pair as the `kfplug-ca` Secret manifest the party applies in its
namespace, mode 0600 and git-ignored. In production each organisation brings its own CA.

The keys are made by the cryptography library; nothing here is hand-written crypto."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import NamedTuple

from ..spec.members import Member
from ..spec.trust import PEM_BEGIN
from ..yamlwrite import dump
from .write import OutputError

CA_SECRET = "kfplug-ca"  # the Secret the party's cert-manager Issuer reads
SECRET_SUFFIX = ".secret.yaml"
CA_DAYS = 3 * 365  # default lifetime of a test CA
GITIGNORE = ".gitignore"


def secret_path(ca_file: Path) -> Path:
    """Where the CA's key pair goes: pki/9999-ca.crt -> pki/9999-ca.secret.yaml."""
    return ca_file.with_name(ca_file.stem + SECRET_SUFFIX)


class Made(NamedTuple):
    written: list[Path]  # the files written
    # (namespace, key file): where each member's party applies its CA for cert-manager's Issuer
    applies: list[tuple[str, Path]]


def init_pki(members: list[Member], federation: str, base: Path, days: int = CA_DAYS) -> Made:
    """Write a CA, valid for `days`, for each member whose CA file is missing."""
    made = Made([], [])
    for member in members:
        tls = member.spec.tls
        if tls is None or tls.ca is None or PEM_BEGIN in tls.ca:
            continue
        ca_file = base / tls.ca
        key_file = secret_path(ca_file)
        issued = tls.secret_name is None  # else the party brings its router's key pair, signed by this CA
        if key_file in made.written and issued:  # another member of the same organisation: the same CA
            made.applies.append((member.namespace, key_file))
        if ca_file.exists() or ca_file.is_symlink():
            continue
        if key_file.exists() or key_file.is_symlink():
            raise OutputError(f"{key_file} exists without {ca_file}: remove it or restore the certificate")
        certificate, key = _make_ca(f"{federation} {member.label()} CA", datetime.timedelta(days=days))
        ca_file.parent.mkdir(parents=True, exist_ok=True)
        _ignore(ca_file.parent, f"*{SECRET_SUFFIX}")
        _write(key_file, _secret(certificate, key), private=True)
        _write(ca_file, certificate, private=False)
        made.written.extend((ca_file, key_file))
        if issued:
            made.applies.append((member.namespace, key_file))
    return made


def _make_ca(name: str, lifetime: datetime.timedelta) -> tuple[str, str]:
    """A self-signed CA (ECDSA P-256): its certificate and its PKCS#8 key, both PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name[:64])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + lifetime)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
    return pem, key_pem


def _secret(certificate: str, key: str) -> str:
    """No namespace: the party applies it in each of its namespaces (kubectl -n)."""
    head = dump({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": CA_SECRET},
                 "type": "kubernetes.io/tls"})
    return head + "stringData:\n" + _literal("tls.crt", certificate) + _literal("tls.key", key)


def _literal(key: str, pem: str) -> str:
    """`key: |` and the PEM lines, as a literal block under stringData."""
    return f"  {key}: |\n" + "".join(f"    {line}\n" for line in pem.splitlines())


def _ignore(directory: Path, pattern: str) -> None:
    """Keep the key files out of Git: `pattern` in the directory's .gitignore."""
    ignore = directory / GITIGNORE
    lines = ignore.read_text().splitlines() if ignore.is_file() else []
    if pattern not in lines:
        with open(ignore, "a") as handle:
            handle.write(f"{pattern}\n")


def _write(path: Path, text: str, private: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600 if private else 0o644)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
