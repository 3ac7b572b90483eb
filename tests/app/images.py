"""The FATE 2.0.0 images the built objects name, as far as the tests need them, from packages CI can install.

What each image is (FATE-Builder develop-2.0.0, docker-build/):
- base/basic/Dockerfile: Python 3.8 in a venv at /data/projects/python/venv, first on PATH, as root.
- modules/fateflow/Dockerfile + modules/fateflow-eggroll/Dockerfile (federatedai/fateflow):
  the release packages unpacked under /data/projects/fate (fate/, fate_flow/, eggroll/, ...),
  WORKDIR /data/projects/fate, FATE_PROJECT_BASE=/data/projects/fate, EGGROLL_HOME,
  PYTHONPATH=/data/projects/fate/fate/python:/data/projects/fate/fate_flow/python:/data/projects/fate/eggroll/python.
- modules/eggroll/Dockerfile (federatedai/eggroll): the same packages, Java 8, WORKDIR
  /data/projects/fate/eggroll/, EGGROLL_HOME=/data/projects/fate/eggroll/,
  PYTHONPATH=/data/projects/fate/fate/python:/data/projects/fate/eggroll/python:/data/projects/fate/fate_flow/python.

The release package's fate_flow/ is FATE-Flow's repository layout: python/fate_flow (the
package), conf/ (FATE-Flow v2.0.0 conf/), fateflow.env. Here python/fate_flow is the
fate-flow 2.0.0 wheel's package (the wheel leaves out a few data files: adapter/bfia/{conf,
examples,utils} and components/define/*.yaml, which the server does not need to start), and
conf/ and fateflow.env come from the pinned upstream copy in shared/upstream. The eggroll
3.0.0 wheel's `eggroll` package is eggroll's python/eggroll at 5b8de69 (the commit FATE
2.0.0 ships), byte for byte. FATE's own algorithm package (fate/python) is not installed:
it needs torch; FATE-Flow then logs that it cannot register the `fate` provider and goes on.
"""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from pathlib import Path

from .sandbox import Image

REPO = Path(__file__).resolve().parents[2]
VENV = Path(__import__("os").environ.get("KFPLUG_FATE_VENV", REPO / ".venv-fate200"))
UPSTREAM = REPO / ".." / "shared" / "upstream"
SITE_PACKAGES = VENV / "lib" / "python3.8" / "site-packages"
PYTHON_VENV = "/data/projects/python/venv"
# FATE itself (pyfate 2.0.0, the `fate` package of /data/projects/fate/fate/python), without its
# dependencies (torch among them): install.sh downloads the wheel, the layout unpacks its package.
PYFATE_WHEEL = VENV / "wheels" / "pyfate-2.0.0-py3-none-any.whl"
BASE_ENV = {"VIRTUAL_ENV": PYTHON_VENV,
            "PATH": f"{PYTHON_VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}


def unpack(name: str, directory: Path) -> Path:
    """An upstream data tarball from shared/upstream, unpacked into directory; its folder."""
    archive = UPSTREAM / f"{name}.tar.gz"
    assert archive.is_file(), f"{archive} is missing (shared/upstream/README.md lists the pinned copies)"
    with tarfile.open(archive) as tar:
        tar.extractall(directory, filter="data")
    return directory / name


def _package(name: str, target: Path) -> None:
    shutil.copytree(SITE_PACKAGES / name, target, ignore=shutil.ignore_patterns("__pycache__"))


def _wheel_package(wheel: Path, package: str, target: Path) -> None:
    """One top-level package of a downloaded wheel, unpacked as a source tree (what the release package has)."""
    assert wheel.is_file(), f"{wheel} is missing (tests/app/install.sh downloads it)"
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith(f"{package}/"):
                archive.extract(member, target)


def _fate_tree(root: Path, scratch: Path) -> Path:
    fate = root / "data/projects/fate"
    flow = fate / "fate_flow"
    _package("fate_flow", flow / "python" / "fate_flow")
    upstream = unpack("fate-flow-v2.0.0", scratch)
    shutil.copytree(upstream / "conf", flow / "conf")
    shutil.copy(upstream / "fateflow.env", flow / "fateflow.env")
    _package("eggroll", fate / "eggroll" / "python" / "eggroll")
    _wheel_package(PYFATE_WHEEL, "fate", fate / "fate" / "python")
    eggroll = unpack("eggroll-fate-v2.0.0", scratch)
    shutil.copytree(eggroll / "conf", fate / "eggroll" / "conf")
    (root / "data/projects/python/venv").mkdir(parents=True)
    return fate


def _fateflow_layout(root: Path) -> None:
    scratch = root.parent / "upstream"
    scratch.mkdir(exist_ok=True)
    _fate_tree(root, scratch)


def _eggroll_layout(root: Path) -> None:
    scratch = root.parent / "upstream"
    scratch.mkdir(exist_ok=True)
    fate = _fate_tree(root, scratch)
    (fate / "eggroll" / "logs").mkdir()
    (fate / "eggroll" / "data").mkdir()


FATEFLOW_200 = Image(
    name="federatedai/fateflow:2.0.0-release",
    env={**BASE_ENV, "FATE_PROJECT_BASE": "/data/projects/fate", "EGGROLL_HOME": "/data/projects/fate/eggroll",
         "PYTHONPATH": "/data/projects/fate/fate/python:/data/projects/fate/fate_flow/python:"
                       "/data/projects/fate/eggroll/python"},
    workdir="/data/projects/fate",
    layout=_fateflow_layout,
    binds={PYTHON_VENV: VENV},
)

EGGROLL_200 = Image(
    name="federatedai/eggroll:2.0.0-release",
    env={**BASE_ENV, "EGGROLL_HOME": "/data/projects/fate/eggroll/",
         "PYTHONPATH": "/data/projects/fate/fate/python:/data/projects/fate/eggroll/python:"
                       "/data/projects/fate/fate_flow/python"},
    workdir="/data/projects/fate/eggroll/",
    layout=_eggroll_layout,
    binds={PYTHON_VENV: VENV},
    # the image's ENTRYPOINT ["/tini", "--"]: tini runs its arguments as its child and reaps zombies
    files={"/tini": '#!/bin/sh\n[ "$1" = "--" ] && shift\nexec "$@"\n'},
)

def _client_layout(root: Path) -> None:
    _fateflow_layout(root)
    # `pip install -e fate_client/python/`: the package stays in the tree, first on sys.path
    _package("fate_client", root / "data/projects/fate/fate_client/python/fate_client")


# The client image (modules/client/Dockerfile) is the fateflow image with fate_client installed
# in editable mode from /data/projects/fate/fate_client/python (so `flow init` writes its
# settings.yaml there); ENV FATE_FLOW_IP=fateflow, FATE_FLOW_PORT=9380; its CMD runs
# `pipeline init --ip ${FATE_FLOW_IP} --port ${FATE_FLOW_PORT} && flow init --ip ${FATE_FLOW_IP}
# --port ${FATE_FLOW_PORT} && jupyter notebook ...`.
CLIENT_200 = Image(
    name="federatedai/client:2.0.0-release",
    env={**FATEFLOW_200.env, "FATE_FLOW_IP": "fateflow", "FATE_FLOW_PORT": "9380",
         "PYTHONPATH": "/data/projects/fate/fate_client/python:" + FATEFLOW_200.env["PYTHONPATH"]},
    workdir="/data/projects/fate/",
    layout=_client_layout,
    binds={PYTHON_VENV: VENV},
)
CLIENT_INIT = ("pipeline init --ip ${FATE_FLOW_IP} --port ${FATE_FLOW_PORT}"
               " && flow init --ip ${FATE_FLOW_IP} --port ${FATE_FLOW_PORT}")

# Not osx: a Python stand-in for its routing (osx_standin.py), in an image with only the venv.
OSX_STANDIN = Image(
    name="osx routing stand-in",
    env=dict(BASE_ENV),
    workdir="/",
    layout=lambda root: (root / "data/projects/python/venv").mkdir(parents=True),
    binds={PYTHON_VENV: VENV},
)

IMAGES = {image.name: image for image in (FATEFLOW_200, EGGROLL_200, CLIENT_200, OSX_STANDIN)}
