"""Federation -> Plan. Pure: no I/O, deterministic order (the spec's).

The runtime comes from the registry by the name the spec gives; it says which
modules each member runs and which steps build its overlay. Nothing here names
a runtime or a module.
"""

from __future__ import annotations

from ..plan import ConfigMapGen, Overlay, Patch, Plan, Resource, SecretGen
from ..runtime import find
from ..spec.members import members
from ..spec.model import Federation
from ..spec.sops import recipients
from . import frame, gitops
from .context import PartyContext, federation_labels, plan_of


def compile_plan(federation: Federation) -> Plan:
    spec = federation.spec
    runtime = find(spec.runtime)
    assert runtime is not None, "validated: the runtime exists"
    release = runtime.releases[spec.version]
    everyone = members(spec)
    overlays = [overlay(PartyContext(federation, runtime, release, member, runtime.modules_of(member, release),
                                     runtime.neighbours(member, everyone)))
                for member in everyone]
    return plan_of(federation, runtime, overlays, gitops.reconcilers(federation, runtime, everyone))


def overlay(ctx: PartyContext) -> Overlay:
    """One member's overlay: the parts its runtime's steps yield, in step order."""
    parts = [part for step in ctx.runtime.steps(ctx) for part in step(ctx)]
    return Overlay(
        name=ctx.member.name,
        namespace=ctx.member.namespace,
        cluster=ctx.member.cluster,
        bases=ctx.runtime.bases(ctx),
        labels=federation_labels(ctx.federation, ctx.member),
        images=ctx.runtime.images(ctx),
        replicas=frame.replicas(ctx),
        config_maps=tuple(p for p in parts if isinstance(p, ConfigMapGen)),
        secrets=tuple(p for p in parts if isinstance(p, SecretGen)),
        patches=tuple(p for p in parts if isinstance(p, Patch)),
        resources=tuple(p for p in parts if isinstance(p, Resource)),
        sops_age=recipients(ctx.spec, ctx.member),
    )
