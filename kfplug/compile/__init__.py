"""Federation -> Plan. Pure: no I/O, deterministic order (the spec's)."""

from __future__ import annotations

from ..plan import MANAGED_BY, PART_OF, PARTY, ConfigMapGen, Overlay, Patch, Plan, Resource, SecretGen
from ..runtimes import RUNTIMES
from ..spec.model import Federation
from ..spec.topology import EXCHANGE, links, members, reach
from . import config, exposure, ingress, network, party, placement, secrets, storage
from .context import PartyContext, plan_of

# Each step yields the parts it adds to an overlay; a step never reads another's output.
STEPS = (
    party.namespace,
    config.config_maps,
    secrets.secrets,
    party.pull_settings,
    party.resource_overrides,
    placement.placement,
    storage.storage,
    ingress.ingresses,
    exposure.exposure,
    network.network_policies,
)


def compile_plan(federation: Federation) -> Plan:
    spec = federation.spec
    if spec.runtime == "kuscia":
        from .kuscia import compile_kuscia

        return compile_kuscia(federation)
    runtime = RUNTIMES[spec.runtime]
    release = runtime.releases[spec.version]
    router = runtime.modules[release.router]
    everyone = members(spec, release.router, router.ports["grpc"])
    routes = links(everyone)
    overlays = []
    for member in everyone:
        targets = routes[member.name]
        hub = [t for t in targets if t.name == EXCHANGE]
        ctx = PartyContext(
            federation=federation,
            runtime=runtime,
            release=release,
            member=member,
            party=spec.exchange if member.name == EXCHANGE else spec.parties[member.path[2]],
            modules=_modules(member, spec, runtime, release),
            peers=tuple(reach(member, t) for t in targets if not hub),
            default_route=reach(member, hub[0]) if hub else None,
            neighbours=tuple(targets),
        )
        overlays.append(_overlay(ctx))
    return plan_of(federation, runtime, overlays)


def _modules(member, spec, runtime, release):
    names = (release.router,) if member.name == EXCHANGE else spec.parties[member.path[2]].modules
    return tuple(runtime.modules[name] for name in release.modules if name in names)


def _overlay(ctx: PartyContext) -> Overlay:
    parts = [part for step in STEPS for part in step(ctx)]
    labels = {MANAGED_BY: "kfplug", PART_OF: ctx.federation.metadata.name, PARTY: ctx.member.name}
    return Overlay(
        name=ctx.member.name,
        namespace=ctx.member.namespace,
        cluster=ctx.member.cluster,
        bases=tuple(ctx.release.base(ctx.runtime.name, m.name) for m in ctx.modules),
        labels=labels,
        images=party.images(ctx),
        replicas=party.replicas(ctx),
        config_maps=tuple(p for p in parts if isinstance(p, ConfigMapGen)),
        secrets=tuple(p for p in parts if isinstance(p, SecretGen)),
        patches=tuple(p for p in parts if isinstance(p, Patch)),
        resources=tuple(p for p in parts if isinstance(p, Resource)),
    )
