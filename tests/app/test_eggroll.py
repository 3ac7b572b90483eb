"""eggroll 3.0's own Python loads the rendered eggroll.properties the way egg_pair gets it.

The nodemanager container's own command runs in the party's sandbox as the pod runs it (the
eggroll image's tree, images.EGGROLL_200; the Secret, ConfigMaps and volumes at their mount
paths; the pod's user): its start script writes the file it hands to the NodeManager with -c
(its own address filled in, no database password). `java` is a stand-in (nodemanager_standin.py) that does with that
-c file what NodeManager does for egg_pair: eggroll's own config loading as egg_pair.main does
it, and egg_pair.py itself started the way egg_pair_bootstrap.sh starts it.
eggroll 3.0.0 on PyPI is eggroll's python/eggroll at 5b8de69, the commit FATE 2.0.0 ships.
"""

from __future__ import annotations

import os

import pytest

from .conftest import report
from .images import EGGROLL_200

pytestmark = [pytest.mark.app, pytest.mark.tools]

JAVA = "#!/bin/sh\nexec python /opt/kfplug-app/nodemanager_standin.py \"$@\"\n"


@pytest.fixture(scope="module")
def nodemanager(parties):
    """The stand-in's report from the two-party example's party 9999 nodemanager."""
    from pathlib import Path

    state = parties("two-party", "9999")
    pod = state.pod("StatefulSet", "nodemanager")
    here = Path(__file__).parent
    result = pod.run("nodemanager", EGGROLL_200, timeout=120, files={
        "/usr/bin/java": JAVA,
        "/opt/kfplug-app/nodemanager_standin.py": (here / "nodemanager_standin.py").read_text()})
    lines = [line for line in result.stdout.splitlines() if line.startswith("KFPLUG-REPORT ")]
    assert lines, f"the nodemanager container's command never reached `java` ({result.returncode}):\n" \
                  f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return state, pod, report(lines[-1])


def config_values(nodemanager) -> dict:
    _, _, result = nodemanager
    config = result["config"]
    assert "load_error" not in config, f"eggroll cannot load {config['file']}:\n{config['load_error']}"
    return config


def test_eggroll_loads_the_file_handed_to_nodemanager(nodemanager):
    config = config_values(nodemanager)
    assert not config["errors"], f"eggroll's config lacks keys egg_pair and its bootstrap use: {config['errors']}"


def test_egg_pair_keys_resolve(nodemanager):
    state, _pod, _result = nodemanager
    config = config_values(nodemanager)
    values = config["values"]
    assert os.path.isabs(str(values.get("eggroll.data.dir"))), \
        f"eggroll.data.dir is {values.get('eggroll.data.dir')!r}; egg_pair refuses a relative data dir"
    assert values.get("eggroll.resourcemanager.nodemanager.host"), \
        f"eggroll.resourcemanager.nodemanager.host: {config['errors'].get('eggroll.resourcemanager.nodemanager.host')}"
    assert values.get("eggroll.resourcemanager.clustermanager.host") == "clustermanager"
    assert str(values.get("eggroll.resourcemanager.clustermanager.port")) == "4670"
    assert "eggroll.resourcemanager.clustermanager.jdbc.password" not in values, \
        "the node manager never opens the database; its file (which egg_pair reads) holds no password"
    assert values.get("eggroll.resourcemanager.process.tag") == state.party


def test_egg_pair_starts_from_the_file(nodemanager):
    """egg_pair.py, found at eggroll.resourcemanager.bootstrap.egg_pair.filepath from the image's
    EGGROLL_HOME, passes its own startup checks (absolute data dir, logs dir, config) and serves."""
    _, _, result = nodemanager
    config_values(nodemanager)
    egg_pair = result.get("egg_pair")
    assert egg_pair, f"egg_pair was not started: {result}"
    assert egg_pair["filepath_exists"], \
        f"egg_pair filepath {egg_pair['command'][1]!r} does not exist under {egg_pair['cwd']} in the eggroll image"
    assert egg_pair["served"], (f"egg_pair did not start serving (exit {egg_pair['returncode']}):\n"
                                f"{egg_pair['output']}\n{egg_pair['log'] or ''}")
