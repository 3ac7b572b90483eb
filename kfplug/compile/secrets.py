"""Secrets: a reference to an existing Secret is patched into every consumer;
otherwise the overlay generates the Secret from a git-ignored env file."""

from __future__ import annotations

from collections.abc import Iterator

from ..plan import Part, SecretGen
from ..spec.sops import generated_secrets
from .context import PartyContext, workload_patch


def secrets(ctx: PartyContext) -> Iterator[Part]:
    references = (ctx.party.secrets if ctx.party else None) or {}
    for name in generated_secrets(ctx.spec, ctx.runtime, ctx.member):
        kind = ctx.runtime.secrets[name]
        yield SecretGen(name, kind.component, kind.keys)
    for module in ctx.modules:
        env = [{"name": use.env, "valueFrom": {"secretKeyRef": {"name": references[use.secret].secret_name,
                                                                 "key": use.key}}}
               for use in module.secrets if use.secret in references]
        volumes = [{"name": mount.volume, "secret": {"secretName": references[mount.secret].secret_name}}
                   for mount in module.secret_mounts if mount.secret in references]
        if env or volumes:
            yield workload_patch(f"secrets-{module.name}.yaml", module, pod={"volumes": volumes} if volumes else None,
                                 container={"env": env} if env else None)
