"""Trust between parties (spec.tls): each member's CA certificate, read from its file and
checked, never echoed. A `ca` is public, but a wrong file may hold a private key, so no
message quotes what a file contains.

cryptography is imported only when a spec names a CA: `kfplug-fn` and `validate` of a
spec without TLS never load it."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import attrs

from ..diagnostics import FieldPath, Finding, Issue, warning
from .members import members
from .model import Exchange, Federation, Master, Party, Spec

if TYPE_CHECKING:
    from ..runtime import Runtime
    from .load import Locator

Holder = TypeVar("Holder", Party, Exchange, Master)
PEM_BEGIN = "-----BEGIN "
MAX_CA_BYTES = 64 * 1024


def read_cas(federation: Federation, base: Path | None, locator: Locator, issues: list[Issue]) -> Federation:
    """Each member's `tls.ca` as PEM text: a path is read relative to the spec's directory (`base`);
    without a directory (inside kustomize) only inline PEM is taken."""

    def read(holder: Holder, path: FieldPath) -> Holder:
        tls = holder.tls
        if tls is None or tls.ca is None or PEM_BEGIN in tls.ca:
            return holder
        text, problem = _read(tls.ca, base)
        if problem:
            issues.append(locator.issue(path + ("tls", "ca"), problem))
            return holder
        return attrs.evolve(holder, tls=attrs.evolve(tls, ca=text))

    spec = federation.spec
    spec = attrs.evolve(
        spec, parties=tuple(read(p, ("spec", "parties", i)) for i, p in enumerate(spec.parties)),
        exchange=read(spec.exchange, ("spec", "exchange")) if spec.exchange else None,
        master=read(spec.master, ("spec", "master")) if spec.master else None)
    return attrs.evolve(federation, spec=spec)


def _read(name: str, base: Path | None) -> tuple[str, str | None]:
    if base is None:
        return "", "a file name, but kfplug fn reads no files: give the PEM certificate itself"
    path = base / name
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CA_BYTES + 1)
    except OSError as err:
        return "", f"cannot read {name}: {err.strerror}"
    if len(data) > MAX_CA_BYTES:
        return "", f"{name} is larger than {MAX_CA_BYTES} bytes; a CA certificate is a few kilobytes"
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return "", f"{name} is not a PEM file (PEM is ASCII text)"
    if PEM_BEGIN not in text:
        return "", f"{name}: expected exactly one PEM CERTIFICATE, found no PEM block"
    return text, None


def ca_problem(pem: str, now: datetime.datetime | None = None) -> str | None:
    """Why `pem` is not one PEM CA certificate, currently valid; None when it is. Never quotes `pem`."""
    kinds = list(_pem_kinds(pem))
    if any("PRIVATE KEY" in kind for kind in kinds):
        return "holds a private key: the spec takes only the CA's certificate (the key stays in the party's " \
               "kfplug-ca Secret)"
    if kinds != ["CERTIFICATE"]:
        found = ", ".join(kinds) or "no PEM block"
        return f"expected exactly one PEM CERTIFICATE, found {found}"
    from cryptography import x509  # only specs with TLS need it

    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError:
        return "not a readable X.509 certificate"
    try:
        is_ca = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    except ValueError:
        return "its extensions cannot be read"
    if not is_ca:
        return "not a CA certificate (basicConstraints CA:TRUE): give the CA that signs the router's certificate"
    now = now or datetime.datetime.now(datetime.UTC)
    if certificate.not_valid_after_utc < now:
        return f"the CA certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d}"
    if certificate.not_valid_before_utc > now:
        return f"the CA certificate is not valid before {certificate.not_valid_before_utc:%Y-%m-%d}"
    return None


def _pem_kinds(text: str) -> Iterator[str]:
    """The label of each PEM block (`CERTIFICATE`, `PRIVATE KEY` ...)."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(PEM_BEGIN) and line.endswith("-----"):
            yield line[len(PEM_BEGIN):-5].strip()


def check_trust(spec: Spec, runtime: Runtime) -> Iterator[tuple[FieldPath, str] | Finding]:
    """Each CA named is one PEM CA certificate, currently valid; member TLS settings without
    spec.tls.mode: mutual do nothing, and say so."""
    for member in members(spec):
        tls = member.spec.tls
        if tls is None:
            continue
        if not spec.mutual_tls:
            yield warning(member.path + ("tls",), "has no effect: spec.tls.mode is off")
        if tls.ca is not None and PEM_BEGIN in tls.ca:  # a file that could not be read is reported already
            problem = ca_problem(tls.ca)
            if problem:
                yield member.path + ("tls", "ca"), problem
