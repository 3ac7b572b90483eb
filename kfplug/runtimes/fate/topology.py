"""Who talks to whom in FATE: with an exchange a star (each party <-> the exchange); without
one, a full mesh."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ...spec.members import EXCHANGE, Member


def neighbours(member: Member, everyone: Sequence[Member]) -> tuple[Member, ...]:
    """The members whose routers `member`'s router dials, and is dialled by."""
    hub = next((m for m in everyone if m.kind == EXCHANGE), None)
    if hub is None:
        return tuple(m for m in everyone if m is not member)
    return tuple(m for m in everyone if m is not hub) if member is hub else (hub,)


def links(everyone: Sequence[Member]) -> Iterator[tuple[Member, Member]]:
    """Every (source, target) pair of routers that dial each other."""
    for member in everyone:
        for target in neighbours(member, everyone):
            yield member, target
