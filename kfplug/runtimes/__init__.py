"""Runtime catalogs, by name."""

from .catalog import Runtime
from .fate import FATE

RUNTIMES: dict[str, Runtime] = {FATE.name: FATE}
