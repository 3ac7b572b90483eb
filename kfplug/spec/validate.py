"""Semantic checks on a resolved Federation: the runtime and its release, the fields it
takes, then the checks every runtime shares and the runtime's own. A check yields
(path, message) for an error, or a `Finding` (e.g. a warning)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs

from ..diagnostics import FieldPath, Finding, Issue
from ..runtime import Runtime, every, find, names
from . import checks
from .model import SHARED_PARTY_FIELDS, Federation, Party, Spec
from .placement import check_placement
from .structure import camel, did_you_mean
from .trust import check_trust

if TYPE_CHECKING:
    from .load import Locator

SHARED_CHECKS = (checks.check_ids, checks.check_clusters, checks.check_modules, checks.check_module_keys,
                 checks.check_exposure, check_placement, checks.check_storage, checks.check_ingress,
                 checks.check_gitops, checks.check_resources, check_trust)
OPTIONAL_SPEC_FIELDS = ("exchange", "master", "routes")  # each taken by the runtimes that name it


def validate(federation: Federation, locator: Locator) -> list[Issue]:
    spec: Spec = federation.spec
    runtime = find(spec.runtime)
    found: list[Finding | tuple[FieldPath, str]] = list(_check_runtime(spec, runtime))
    if not found and runtime is not None:
        found += _check_fields(spec, runtime)
    if not found and runtime is not None:  # the checks read only the fields the runtime takes
        for check in (*SHARED_CHECKS, *runtime.checks()):
            found += check(spec, runtime)
    return [locator.issue(*_finding(item)) for item in found]


def _finding(item: Finding | tuple[FieldPath, str]) -> Finding:
    return item if isinstance(item, Finding) else Finding(*item)


def _check_runtime(spec: Spec, runtime: Runtime | None) -> Iterator[tuple[FieldPath, str]]:
    if runtime is None:
        yield ("spec", "runtime"), f"runtime {spec.runtime!r} is not implemented yet (available: " \
                                   f"{', '.join(names())})" + did_you_mean(spec.runtime, list(names()))
        return
    if spec.version not in runtime.releases:
        yield ("spec", "version"), f"{runtime.name} {spec.version!r} is not in the catalog (known: " \
                                   f"{', '.join(runtime.releases)})"
    if not spec.parties:
        yield ("spec", "parties"), "at least one party is required"


def _check_fields(spec: Spec, runtime: Runtime) -> Iterator[tuple[FieldPath, str]]:
    """Fields of another runtime: spec-level (exchange, master, routes) and a party's."""
    for field in OPTIONAL_SPEC_FIELDS:
        if getattr(spec, field) is not None and field not in runtime.spec_fields:
            owners = [r.name for r in every() if field in r.spec_fields]
            yield ("spec", field), f"the {runtime.name} runtime does not take {field}" \
                                   + (f" (only {' and '.join(owners)} does)" if owners else "")
    holders: list[tuple[FieldPath, Party]] = [(("spec", "parties", i), p) for i, p in enumerate(spec.parties)]
    if spec.defaults is not None:
        holders.insert(0, (("spec", "defaults"), spec.defaults))
    taken = SHARED_PARTY_FIELDS | runtime.party_fields
    for path, party in holders:
        for attribute in attrs.fields(Party):
            if attribute.name not in taken and getattr(party, attribute.name) is not None:
                owners = [r.name for r in every() if attribute.name in r.party_fields]
                yield path + (camel(attribute.name),), f"a {' and '.join(owners)} field; the {runtime.name} " \
                                                       f"runtime does not take it"
