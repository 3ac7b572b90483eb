"""Secrets: a reference to an existing Secret is patched into every consumer;
otherwise the overlay generates the Secret from a git-ignored env file."""

from __future__ import annotations

from collections.abc import Iterator

from ..plan import Part, SecretGen
from .context import PartyContext, workload_patch


def secrets(ctx: PartyContext) -> Iterator[Part]:
    references = getattr(ctx.party, "secrets", None) or {}
    used = dict.fromkeys(use.secret for module in ctx.modules for use in module.secrets)
    for name in used:
        if name not in references:
            kind = ctx.runtime.secrets[name]
            yield SecretGen(name, kind.component, kind.keys)
    for module in ctx.modules:
        env = [{"name": use.env, "valueFrom": {"secretKeyRef": {"name": references[use.secret].secret_name,
                                                                 "key": use.key}}}
               for use in module.secrets if use.secret in references]
        if env:
            yield workload_patch(f"secrets-{module.name}.yaml", module, container={"env": env})
