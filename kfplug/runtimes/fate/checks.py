"""FATE's own checks: every router a party dials from another cluster has an endpoint."""

from __future__ import annotations

from collections.abc import Iterator

from ...diagnostics import FieldPath
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
