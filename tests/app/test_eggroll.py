"""eggroll's own Python loads the rendered eggroll.properties the way egg_pair gets it (FATE 2.0.0 and 2.2.0).

For each release of releases.RELEASES, the nodemanager container's own command of that release's
example runs in the party's sandbox as the pod runs it (the release's eggroll image tree,
images.EGGROLL_200, EGGROLL_220; the Secret, ConfigMaps and volumes at their mount paths; the pod's
user): its start script writes the file it hands to the NodeManager with -c (its own address filled
in, no database password). `java` is a stand-in (nodemanager_standin.py) that does with that -c file
what NodeManager does for egg_pair: eggroll's own config loading as egg_pair.main does it, and
egg_pair.py itself started the way egg_pair_bootstrap.sh starts it.
eggroll 3.0.0 on PyPI is eggroll's python/eggroll at 5b8de69, the commit FATE 2.0.0 ships. FATE 2.2.0
ships ee886f0 (3.1.0), which is not on PyPI: 3.0.0 stands in for it, and
test_egg_pair_runs_only_what_the_release_shares checks that egg_pair runs none of the code in which
they differ (images.py).
"""

from __future__ import annotations

import json
import os

import pytest

from .conftest import release_example, report
from .images import module_file
from .releases import RELEASES

pytestmark = [pytest.mark.app, pytest.mark.tools]

JAVA = "#!/bin/sh\nexec python /opt/kfplug-app/nodemanager_standin.py \"$@\"\n"
# a function egg_pair calls whenever it serves: the watch watches (egg_pair.py is its __main__)
WATCH_CONTROL = ("eggroll/computing/egg_pair/egg_pair.py", "serve")


@pytest.fixture(scope="module", params=sorted(RELEASES))
def nodemanager(request, parties, fate_installed):
    """The stand-in's report from the nodemanager of party 9999 of each release's example."""
    from pathlib import Path

    release = fate_installed(request.param)
    state = parties(release_example(release.version), "9999")
    pod = state.pod("StatefulSet", "nodemanager")
    here = Path(__file__).parent
    files = {"/usr/bin/java": JAVA,
             "/opt/kfplug-app/nodemanager_standin.py": (here / "nodemanager_standin.py").read_text()}
    watch = [[module_file(module), function] for module, functions in release.eggroll_differs.items()
             for function in functions]
    if watch:
        watch.append(list(WATCH_CONTROL))
        files |= {"/opt/kfplug-app/watch/sitecustomize.py": (here / "call_watch.py").read_text(),
                  "/opt/kfplug-app/watch/watch.json": json.dumps(watch)}
    result = pod.run("nodemanager", release.images.eggroll, timeout=120, files=files)
    lines = [line for line in result.stdout.splitlines() if line.startswith("KFPLUG-REPORT ")]
    assert lines, f"the nodemanager container's command never reached `java` ({result.returncode}):\n" \
                  f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return release, state, pod, report(lines[-1])


def config_values(nodemanager) -> dict:
    _, _, _, result = nodemanager
    config = result["config"]
    assert "load_error" not in config, f"eggroll cannot load {config['file']}:\n{config['load_error']}"
    return config


def test_eggroll_loads_the_file_handed_to_nodemanager(nodemanager):
    config = config_values(nodemanager)
    assert not config["errors"], f"eggroll's config lacks keys egg_pair and its bootstrap use: {config['errors']}"


def test_egg_pair_keys_resolve(nodemanager):
    _, state, _pod, _result = nodemanager
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
    _, _, _, result = nodemanager
    config_values(nodemanager)
    egg_pair = result.get("egg_pair")
    assert egg_pair, f"egg_pair was not started: {result}"
    assert egg_pair["filepath_exists"], \
        f"egg_pair filepath {egg_pair['command'][1]!r} does not exist under {egg_pair['cwd']} in the eggroll image"
    assert egg_pair["served"], (f"egg_pair did not start serving (exit {egg_pair['returncode']}):\n"
                                f"{egg_pair['output']}\n{egg_pair['log'] or ''}")


# only where the venv's eggroll is not the release's own (2.0.0's is: eggroll 3.0.0 is 5b8de69, byte for byte)
@pytest.mark.parametrize("nodemanager", [v for v, r in sorted(RELEASES.items()) if r.eggroll_differs], indirect=True)
def test_egg_pair_runs_only_what_the_release_shares(nodemanager):
    """Where PyPI's eggroll stands in for the release's own (2.2.0: eggroll 3.0.0 for ee886f0), egg_pair,
    started from the rendered file and serving, imports neither module that is new in the release's eggroll,
    calls none of the functions in which the two differ, and runs with the backport switch of the
    release's eggroll/__init__.py (EGGROLL_2X_BACKPORT) off in the pod."""
    release, _, pod, result = nodemanager
    config_values(nodemanager)
    egg_pair = result.get("egg_pair")
    assert egg_pair and egg_pair["served"], f"egg_pair did not serve: {result}"
    loaded = egg_pair["eggroll_modules"]
    assert "eggroll.config" in loaded, f"the import report names no eggroll module egg_pair loads: {loaded}"
    new = sorted(name for name in loaded if release.eggroll_differs.get(name) == ())
    assert not new, f"egg_pair of FATE {release.version} imports modules the release's eggroll has, PyPI's not: {new}"
    control = ":".join(WATCH_CONTROL)
    calls = egg_pair.get("watched_calls", [])
    assert control in calls, f"the call watch saw not even {control}: {egg_pair}"
    differing = sorted(set(calls) - {control})
    assert not differing, \
        f"egg_pair of FATE {release.version} calls functions that differ from its own eggroll's: {differing}"
    environment = pod.environment(pod.container("nodemanager"), release.images.eggroll)
    assert not environment.get("EGGROLL_2X_BACKPORT"), "the nodemanager pod turns eggroll's 2.x backport on"
