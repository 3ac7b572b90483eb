"""The seam between the generic compiler and a runtime, and the registry that finds runtimes.

A runtime is a package `kfplug/runtimes/<name>/` exporting `RUNTIME`, an instance
of `Runtime`: its catalog, its defaults, its spec checks and its compile steps.
The registry imports a runtime by the name the spec gives, so no generic module
names one.
"""

from __future__ import annotations

import abc
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from .catalog import Module, Release, SecretKind

if TYPE_CHECKING:
    from .compile.context import PartyContext
    from .diagnostics import FieldPath, Finding
    from .plan import Image, Part
    from .spec.members import Member
    from .spec.model import Spec

Step = Callable[["PartyContext"], Iterable["Part"]]  # yields the parts it adds to a member's overlay
Check = Callable[["Spec", "Runtime"], Iterable["Finding | tuple[FieldPath, str]"]]  # yields (path, message)


class Runtime(abc.ABC):
    name: str
    namespace_prefix: str  # a party's default namespace is the prefix and its id
    releases: Mapping[str, Release]
    modules: Mapping[str, Module]
    secrets: Mapping[str, SecretKind] = {}
    spec_fields: frozenset[str] = frozenset()  # the optional spec fields it takes: exchange, master, routes
    party_fields: frozenset[str] = frozenset()  # the Party fields it takes beyond the shared ones

    @abc.abstractmethod
    def party_id(self, value: str) -> str:
        """`value` if this runtime can use it as an id; raises ValueError saying why not."""

    @abc.abstractmethod
    def resolve(self, spec: Spec) -> Spec:
        """The runtime's defaults filled in (namespaces of its own members, modules, protocols)."""

    @abc.abstractmethod
    def modules_of(self, member: Member, release: Release) -> tuple[Module, ...]:
        """The modules a member runs, in deployment order."""

    def checks(self) -> Sequence[Check]:
        """Its own checks of a resolved spec, run after the shared ones."""
        return ()

    def neighbours(self, member: Member, everyone: Sequence[Member]) -> tuple[Member, ...]:
        """The members whose routers this member's router dials (and is dialled by)."""
        return ()

    def depends_on(self, member: Member, everyone: Sequence[Member]) -> tuple[Member, ...]:
        """The members that must be up before this one is deployed (a reconciler's dependsOn)."""
        return ()

    @abc.abstractmethod
    def steps(self, ctx: PartyContext) -> Sequence[Step]:
        """The compile steps of one member's overlay; each yields the parts it adds."""

    @abc.abstractmethod
    def bases(self, ctx: PartyContext) -> tuple[str, ...]:
        """The component bases (under bases/) of one member's overlay."""

    @abc.abstractmethod
    def images(self, ctx: PartyContext) -> tuple[Image, ...]:
        """The overlay's `images:` entries."""


def names() -> tuple[str, ...]:
    """Every runtime kfplug has, by package name."""
    package = importlib.import_module(f"{__package__}.runtimes")
    return tuple(sorted(info.name for info in pkgutil.iter_modules(package.__path__) if info.ispkg))


def find(name: str) -> Runtime | None:
    """The runtime called `name`, or None."""
    if name not in names():
        return None
    runtime: Runtime = importlib.import_module(f"{__package__}.runtimes.{name}").RUNTIME
    return runtime


def every() -> Iterator[Runtime]:
    for name in names():
        runtime = find(name)
        if runtime is not None:
            yield runtime
