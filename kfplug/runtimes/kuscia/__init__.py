"""SecretFlow Kuscia in centralized mode: a master domain (embedded k3s, controllers, gateway)
and lite domains, each one workload; Domains and routes are applied inside the master."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import attrs

from ...catalog import Module, Release
from ...runtime import Check, Runtime, Step
from ...spec.members import MASTER as MASTER_MEMBER
from ...spec.members import Member
from ...spec.model import Protocol, Spec
from . import catalog, checks

if TYPE_CHECKING:
    from ...compile.context import PartyContext
    from ...plan import Image

MASTER_NAMESPACE = "kuscia-master"
MASTER_ID = "kuscia-system"
DEFAULT_PROTOCOL: Final = "NOTLS"  # as upstream's Kubernetes manifests; see docs (Kuscia)
DEFAULT_LITE_RUNTIME: Final = "runk"
MUTUAL_PROTOCOL: Final = "MTLS"


class Kuscia(Runtime):
    name = "kuscia"
    namespace_prefix = "lite-"
    releases = catalog.RELEASES
    modules = catalog.MODULES
    spec_fields = frozenset({"master", "routes"})
    party_fields = frozenset({"protocol", "key_secret", "deploy_token_secret", "runtime", "capacity",
                              "data_sources"})

    def party_id(self, value: str) -> str:
        return catalog.party_id(value)

    def resolve(self, spec: Spec) -> Spec:
        """Lites speak NOTLS (MTLS with spec.tls.mode mutual) and run runk unless they say otherwise; the
        master takes the protocol of `defaults` and has its own namespace."""
        protocol: Protocol = MUTUAL_PROTOCOL if spec.mutual_tls else DEFAULT_PROTOCOL
        parties = tuple(attrs.evolve(p, protocol=p.protocol or protocol,
                                     runtime=p.runtime or DEFAULT_LITE_RUNTIME) for p in spec.parties)
        master = spec.master
        if master is not None:
            default_protocol = spec.defaults.protocol if spec.defaults else None
            master = attrs.evolve(master, id=master.id or MASTER_ID, namespace=master.namespace or MASTER_NAMESPACE,
                                  protocol=master.protocol or default_protocol or protocol)
        return attrs.evolve(spec, parties=parties, master=master)

    def modules_of(self, member: Member, release: Release) -> tuple[Module, ...]:
        return (self.modules[catalog.MASTER if member.kind == MASTER_MEMBER else catalog.LITE],)

    def checks(self) -> Sequence[Check]:
        return checks.CHECKS

    def depends_on(self, member: Member, everyone: Sequence[Member]) -> tuple[Member, ...]:
        """A lite registers with the master, whose bootstrap Job creates the lite's Domain."""
        if member.kind == MASTER_MEMBER:
            return ()
        return tuple(m for m in everyone if m.kind == MASTER_MEMBER)

    def steps(self, ctx: PartyContext) -> Sequence[Step]:
        from .steps import LITE_STEPS, MASTER_STEPS  # the compiler loads only to compile

        return MASTER_STEPS if ctx.member.kind == MASTER_MEMBER else LITE_STEPS

    def bases(self, ctx: PartyContext) -> tuple[str, ...]:
        """The master; a lite, with the runk Role and RoleBinding only where runk starts task pods."""
        if ctx.party is None:
            return ("kuscia/master",)
        return ("kuscia/lite", "kuscia/runk") if ctx.party.runtime == "runk" else ("kuscia/lite",)

    def images(self, ctx: PartyContext) -> tuple[Image, ...]:
        """The Kuscia image (kuscia-secretflow for a runp lite; the bootstrap Job runs the plain one)."""
        from ...compile import frame

        runp = ctx.party is not None and ctx.party.runtime == "runp"
        return (frame.image(ctx, catalog.KUSCIA_IMAGE, catalog.RUNP_IMAGE if runp else None),)


RUNTIME = Kuscia()
