"""FATE's own checks: every router a party dials from another cluster has an endpoint; with mutual
TLS every member names its CA, without it an exposed router is warned about."""

from __future__ import annotations

from collections.abc import Iterator

from ...diagnostics import FieldPath, Finding, warning
from ...runtime import Runtime
from ...spec.members import Member, members
from ...spec.model import Spec
from .topology import links


def check_reachability(spec: Spec, runtime: Runtime) -> Iterator[tuple[FieldPath, str]]:
    unreachable: dict[str, tuple[Member, list[Member]]] = {}
    for source, target in links(members(spec)):
        if source.cluster != target.cluster and target.endpoint is None:
            unreachable.setdefault(target.name, (target, []))[1].append(source)
    for target, sources in unreachable.values():
        yield target.path + ("endpoint",), (
            f"required: party {target.id} (cluster {target.cluster}) is reached from other clusters by "
            f"{', '.join(source.label() for source in sources)}")


def check_trust(spec: Spec, runtime: Runtime) -> Iterator[tuple[FieldPath, str] | Finding]:
    for member in members(spec):
        tls = member.spec.tls
        if spec.mutual_tls and (tls is None or tls.ca is None):
            yield member.path + ("tls", "ca"), "required with spec.tls.mode mutual: this member's CA certificate " \
                                               "(PEM), the one its peers trust for its router"
        elif not spec.mutual_tls and member.exposed:
            yield warning(member.path + ("expose",), f"{member.label()}: its router is exposed outside its cluster "
                                                     f"without TLS, so anyone who reaches it can send to it and "
                                                     f"read its traffic; set spec.tls.mode: mutual")
