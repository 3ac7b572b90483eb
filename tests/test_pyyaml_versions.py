"""kfplug with every PyYAML release that pyproject.toml allows, up to the one requirements.lock pins.

Since 6.0.4 PyYAML's libyaml stops at 1000 levels itself ("exceeded maximum nesting depth", raised
while it scans ahead, before kfplug has counted 65); kfplug maps that to its own "nesting deeper than
N levels", which older releases get from kfplug's own count. Each release is installed once with
`pip install --no-deps --target .tools/pyyaml/<version>` (from PyPI; kept for later runs) and put
ahead of the venv on PYTHONPATH for `python -m kfplug validate`; the process checks that it runs
that very release, with its libyaml, before kfplug starts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from conftest import REPO, require_tool

pytestmark = pytest.mark.versions

# Every release from pyproject.toml's lower bound to requirements.lock's pin (pip index versions pyyaml);
# test_the_releases_span_the_range_and_the_lock fails when either end moves.
RELEASES = ["6.0.1", "6.0.2", "6.0.3", "6.0.4"]
CACHE = REPO / ".tools/pyyaml"
EXAMPLE = REPO / "examples/two-party/federation.yaml"
HEAD = "apiVersion: kfplug.dev/v1alpha1\nkind: Federation\nmetadata: {name: deep}\nspec:\n  runtime: fate\n  parties: "

# Runs as `python -m kfplug ...` does, after checking which PyYAML this process imports.
RUN_KFPLUG = """\
import runpy, sys
import yaml
version, target = sys.argv[1], sys.argv[2]
assert yaml.__version__ == version, f"imported PyYAML {yaml.__version__} from {yaml.__file__}, not {version}"
assert yaml.__file__.startswith(target + "/"), f"imported PyYAML from {yaml.__file__}, not {target}"
assert yaml.__with_libyaml__, f"PyYAML {version} in {target} has no libyaml"
sys.argv = ["kfplug", *sys.argv[3:]]
runpy.run_module("kfplug", run_name="__main__", alter_sys=True)
"""


def test_the_releases_span_the_range_and_the_lock():
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    (lower,) = [m.group(1) for d in dependencies if (m := re.fullmatch(r"(?i)pyyaml\s*>=\s*([\w.]+)", d))]
    (locked,) = re.findall(r"(?im)^pyyaml==([\w.]+)", (REPO / "requirements.lock").read_text())
    assert (RELEASES[0], RELEASES[-1]) == (lower, locked), \
        "update RELEASES to every PyYAML release from pyproject.toml's lower bound to requirements.lock's pin"


def installed(version: str) -> Path:
    """PyYAML `version` alone in a directory of its own, installed on first use."""
    target = CACHE / version
    if (target / "yaml/__init__.py").is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = tempfile.mkdtemp(dir=CACHE, prefix=f".{version}-")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--only-binary", ":all:", "--target", scratch, f"pyyaml=={version}"],
            capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            require_tool(None, f"PyYAML {version} (pip install from PyPI failed: {result.stderr.strip()[-500:]})")
        try:
            os.rename(scratch, target)  # whole or not at all; another run may have got there first
        except OSError:
            if not (target / "yaml/__init__.py").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def kfplug(version: str, *args: str) -> subprocess.CompletedProcess:
    target = str(installed(version))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [target, os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-c", RUN_KFPLUG, version, target, *args],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def nested(path: Path, depth: int) -> Path:
    """A spec nested `depth` levels deep: the top mapping, `spec`, then flow sequences on line 6."""
    path.write_text(HEAD + "[" * (depth - 2) + "]" * (depth - 2) + "\n")
    return path


@pytest.mark.parametrize("version", RELEASES)
@pytest.mark.parametrize("depth", [2000, 70])
def test_deep_nesting_is_one_error_with_each_release(tmp_path, version, depth):
    spec = nested(tmp_path / f"deep-{depth}.yaml", depth)
    result = kfplug(version, "validate", str(spec))
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.fullmatch(rf"{re.escape(str(spec))}:6: error: nesting deeper than \d+ levels\n1 error\n",
                        result.stderr), result.stderr


@pytest.mark.parametrize("version", RELEASES)
def test_an_example_validates_with_each_release(version):
    result = kfplug(version, "validate", str(EXAMPLE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == f"{EXAMPLE}: ok\n"
