"""FATE on eggroll: parties (and an exchange at the centre of a star), each a set of modules
around a router (osx in 2.x, rollsite in 1.x)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from ...catalog import Module, Release
from ...runtime import Check, Runtime, Step
from ...spec.members import Member
from ...spec.model import Spec
from . import catalog, checks, topology

if TYPE_CHECKING:
    from ...compile.context import PartyContext
    from ...plan import Image

EXCHANGE_NAMESPACE = "fate-exchange"
EXCHANGE_ID = "1"


class Fate(Runtime):
    name = "fate"
    namespace_prefix = "fate-"
    releases = catalog.RELEASES
    modules = catalog.MODULES
    secrets = catalog.SECRETS
    spec_fields = frozenset({"exchange"})
    party_fields = frozenset({"modules", "replicas", "storage", "ingress", "secrets"})

    def party_id(self, value: str) -> str:
        return catalog.party_id(value)

    def resolve(self, spec: Spec) -> Spec:
        """Parties run the release's standard modules unless they list theirs; the exchange has its
        own namespace."""
        release = self.releases.get(spec.version)
        standard = release.modules if release else ()
        parties = tuple(p if p.modules is not None else attrs.evolve(p, modules=standard) for p in spec.parties)
        exchange = spec.exchange
        if exchange is not None:
            exchange = attrs.evolve(exchange, id=exchange.id or EXCHANGE_ID,
                                    namespace=exchange.namespace or EXCHANGE_NAMESPACE)
        return attrs.evolve(spec, parties=parties, exchange=exchange)

    def modules_of(self, member: Member, release: Release) -> tuple[Module, ...]:
        party = member.party
        wanted = party.modules or () if party is not None else (release.router,)
        return tuple(self.modules[name] for name in release.modules if name in wanted)

    def checks(self) -> Sequence[Check]:
        return (checks.check_reachability, checks.check_trust)

    def neighbours(self, member: Member, everyone: Sequence[Member]) -> tuple[Member, ...]:
        return topology.neighbours(member, everyone)

    def steps(self, ctx: PartyContext) -> Sequence[Step]:
        from .steps import STEPS  # the compiler loads only to compile: `kfplug validate` never does

        return STEPS

    def bases(self, ctx: PartyContext) -> tuple[str, ...]:
        return tuple(ctx.release.base(self.name, m.name) for m in ctx.modules)

    def images(self, ctx: PartyContext) -> tuple[Image, ...]:
        from ...compile import frame

        return frame.images(ctx)


RUNTIME = Fate()
