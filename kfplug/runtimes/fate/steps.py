"""The compile steps of a FATE member's overlay, in order; each yields the parts it adds."""

from __future__ import annotations

from ...compile import exposure, frame, ingress, placement, secrets, storage
from ...runtime import Step
from . import config, network, tls

STEPS: tuple[Step, ...] = (
    frame.namespace,
    config.config_maps,
    secrets.secrets,
    frame.pull_settings,
    frame.resource_overrides,
    placement.placement,
    storage.storage,
    ingress.ingresses,
    tls.router_tls,
    exposure.exposure,
    network.network_policies,
)
