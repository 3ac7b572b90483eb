"""Secrets kept in Git (spec.gitops.sops): whose age keys can read each member's, and the checks on it.

Each member's SOPS files are encrypted for its own recipients (its `sops.age`, settable in
`spec.defaults` for parties) and those of `spec.gitops.sops.age`, which every member's files add."""

from __future__ import annotations

from collections.abc import Iterator

from ..diagnostics import FieldPath
from ..runtime import Runtime
from .members import PARTY, Member, members
from .model import Spec


def recipients(spec: Spec, member: Member) -> tuple[str, ...]:
    """The age recipients of a member's Secrets kept in Git: its own, then every member's, each once; none
    unless the spec keeps Secrets in Git."""
    sops = spec.gitops.sops if spec.gitops else None
    if sops is None:
        return ()
    own = member.spec.sops.age if member.spec.sops else ()
    return tuple(dict.fromkeys((*own, *sops.age)))


def generated_secrets(spec: Spec, runtime: Runtime, member: Member) -> tuple[str, ...]:
    """The Secrets a member's overlay generates: those its modules read that its spec does not name by
    `secrets.<name>.secretName` (the compile step generates exactly these)."""
    named = (member.party.secrets if member.party else None) or {}
    used = dict.fromkeys(use.secret for module in runtime.modules_of(member, runtime.releases[spec.version])
                         for use in module.secrets + module.secret_mounts)
    return tuple(name for name in used if name not in named)


def check_sops(spec: Spec, runtime: Runtime) -> Iterator[tuple[FieldPath, str]]:
    """A member's `sops` needs spec.gitops.sops; with it, a member whose overlay generates Secrets needs
    someone to encrypt them for."""
    kept = spec.gitops is not None and spec.gitops.sops is not None
    inherited = spec.defaults.sops if spec.defaults is not None else None
    if inherited is not None and not kept:
        yield ("spec", "defaults", "sops"), _WITHOUT_GITOPS
    for member in members(spec):
        own = member.spec.sops
        if own is not None and not kept and not (member.kind == PARTY and own is inherited):
            yield member.path + ("sops",), _WITHOUT_GITOPS
        if kept and not recipients(spec, member):
            generated = generated_secrets(spec, runtime, member)
            if generated:
                yield member.path + ("sops",), (
                    f"{member.label()} generates the Secrets {', '.join(generated)}, kept in Git encrypted "
                    f"(spec.gitops.sops), but names no age recipient to encrypt them for (add its own public keys "
                    f"under sops.age, or keys for every member under spec.gitops.sops.age, or name existing "
                    f"Secrets with secrets.<name>.secretName)")


_WITHOUT_GITOPS = ("age recipients of Secrets kept in Git, but spec.gitops.sops is not set, so no Secret is kept in "
                   "Git (set spec.gitops.sops, or remove this)")
