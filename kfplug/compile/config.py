"""The runtime's generated configuration (route tables, properties) for one party."""

from __future__ import annotations

from collections.abc import Iterator

from ..plan import ConfigMapGen, Part
from ..runtimes.catalog import ConfigInput
from . import party
from .context import PartyContext


def config_maps(ctx: PartyContext) -> Iterator[Part]:
    wanted = dict(party.replicas(ctx))
    generated = ctx.runtime.configure(ConfigInput(
        party=ctx.member.id,
        release=ctx.release,
        modules=tuple(m.name for m in ctx.modules),
        peers=ctx.peers,
        default_route=ctx.default_route,
        exchange=ctx.is_exchange,
        replicas={m.name: wanted.get(m.name, m.replicas) for m in ctx.modules},
    ))
    for config in generated:
        yield ConfigMapGen(config.name, config.component, config.files, config.env)
