"""The compile steps of a Kuscia domain's overlay (the master's adds the bootstrap), in order."""

from __future__ import annotations

from ...compile import frame, placement
from ...runtime import Step
from . import config, domain, network
from .bootstrap import bootstrap

DOMAIN_STEPS: tuple[Step, ...] = (frame.namespace, config.kuscia_config, domain.secret_volumes, frame.pull_settings,
                                  frame.resource_overrides, placement.placement, domain.gateway_service,
                                  network.network_policies)
MASTER_STEPS = (*DOMAIN_STEPS, bootstrap)
LITE_STEPS = (*DOMAIN_STEPS, domain.runp_token)
