"""Runtime catalogs, by name."""

from .catalog import Runtime
from .fate import FATE
from .kuscia import KUSCIA

RUNTIMES: dict[str, Runtime] = {FATE.name: FATE, KUSCIA.name: KUSCIA}
