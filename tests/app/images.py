"""The FATE images the built objects name, as far as the tests need them, from packages CI can install.

What each image is, at 2.0.0 (FATE-Builder develop-2.0.0, docker-build/):
- base/basic/Dockerfile: Python 3.8 in a venv at /data/projects/python/venv, first on PATH, as root.
- modules/fateflow/Dockerfile + modules/fateflow-eggroll/Dockerfile (federatedai/fateflow):
  the release packages unpacked under /data/projects/fate (fate/, fate_flow/, eggroll/, ...),
  WORKDIR /data/projects/fate, FATE_PROJECT_BASE=/data/projects/fate, EGGROLL_HOME,
  PYTHONPATH=/data/projects/fate/fate/python:/data/projects/fate/fate_flow/python:/data/projects/fate/eggroll/python.
- modules/eggroll/Dockerfile (federatedai/eggroll): the same packages, Java 8, WORKDIR
  /data/projects/fate/eggroll/, EGGROLL_HOME=/data/projects/fate/eggroll/,
  PYTHONPATH=/data/projects/fate/fate/python:/data/projects/fate/eggroll/python:/data/projects/fate/fate_flow/python.

At 2.2.0 the recipes are FATE-Builder feature-2.2.0 (f2cc54a) docker-build/ (its dev-2.2.0 branch deleted
docker-build/modules/ in 8d41e80 while its build.sh still builds from them): the same layout, paths, ENV
and WORKDIRs, with these differences:
- base/basic/Dockerfile: Python 3.10 (3.10.14 built from source) in the venv at /data/projects/python/venv.
- modules/fateflow/Dockerfile: also ENV FATE_FLOW_IP=fateflow, FATE_FLOW_PORT=9380, and
  `pip install -e fate_client/python/` (fate_client's tree first on sys.path), PYTHONPATH as fateflow-eggroll's.
- modules/client/Dockerfile: built FROM the fateflow image (build.sh BASE_IMAGE=fateflow), installs
  fate_client editable again; ENV and CMD as at 2.0.0.

The release package's fate_flow/ is FATE-Flow's repository layout: python/fate_flow (the
package), conf/ (FATE-Flow's conf/ at the release), fateflow.env. Here python/fate_flow is the
fate-flow wheel's package (the wheel leaves out a few data files: adapter/bfia/{conf,
examples,utils}, components/define/*.yaml and, at 2.2.0, manager/container/k8s_*template.yaml,
which the server does not need to start; every other file is FATE-Flow's at the release:
v2.0.0, and v2.2.0 = 0f8daa3, whose tree FATE v2.2.0's fate_flow submodule e7083f7 has too),
and conf/ and fateflow.env come from the pinned upstream copy in shared/upstream. fate_client is
the fate-client wheel's package, FATE-Client at the release (2.2.0: f64eeb3 = v2.2.0, FATE
v2.2.0's submodule). FATE's own algorithm package (fate/python) is pyfate's `fate` package
(2.2.0: FATE v2.2.0's python/fate without its tests), unpacked without its dependencies: it needs
torch, so FATE-Flow cannot load it and goes on.

eggroll's Python: at 2.0.0 the eggroll 3.0.0 wheel's `eggroll` package is eggroll's python/eggroll at
5b8de69 (the commit FATE 2.0.0 ships), byte for byte. FATE v2.2.0 ships eggroll ee886f0, whose
python/setup.py says 3.1.0; PyPI has no eggroll but 0.0.0a0 and 3.0.0, so eggroll 3.0.0 stands in for it.
python/eggroll at ee886f0 differs from 3.0.0 only where EGGROLL_220_DIFFERS says (git diff 5b8de69
ee886f0 -- python/eggroll): the version string and a backport switch (EGGROLL_2X_BACKPORT) in
eggroll/__init__.py, a new eggroll.backport package, RollPair pickling, map_reduce_partitions_with_index's
output store, and a GPU counter. test_eggroll checks that egg_pair, started from the rendered file and
serving, loads neither new module and calls none of the functions that differ, and that the pod does not
turn the backport switch on.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .sandbox import Image

REPO = Path(__file__).resolve().parents[2]
UPSTREAM = REPO.parent / "shared" / "upstream"
PYTHON_VENV = "/data/projects/python/venv"
BASE_ENV = {"VIRTUAL_ENV": PYTHON_VENV,
            "PATH": f"{PYTHON_VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
FATE = "/data/projects/fate"

# Where the eggroll 3.0.0 wheel differs from eggroll@ee886f0's python/eggroll, the eggroll FATE v2.2.0 ships
# (git diff 5b8de69 ee886f0 -- python/eggroll): module -> the functions whose code differs; () for a module
# that is new at ee886f0. eggroll/__init__.py differs at module level (__version__ = "3.1.0", and
# `if os.environ.get("EGGROLL_2X_BACKPORT"): backport_patch()`).
EGGROLL_220_DIFFERS: dict[str, tuple[str, ...]] = {
    "eggroll.backport": (),  # new, with every module under it (each of which imports it first)
    "eggroll.deepspeed.utils.gpu_count": (),  # new
    "eggroll.computing.roll_pair": ("runtime_init",),  # allow_rp_serialize
    "eggroll.computing.roll_pair._roll_pair": ("__getstate__",),  # RollPair pickling
    "eggroll.computing.roll_pair._roll_pair_context": ("__init__",),  # RollPairContext(allow_rp_serialize)
    "eggroll.computing.tasks.impl._map_partitions_with_index": ("submit",),  # the output store's id
}


def module_file(module: str, packages: tuple[str, ...] = ("eggroll.computing.roll_pair",)) -> str:
    """The file of an eggroll module relative to site-packages (a package's is its __init__.py)."""
    path = module.replace(".", "/")
    return f"{path}/__init__.py" if module in packages else f"{path}.py"


def unpack(name: str, directory: Path) -> Path:
    """An upstream data tarball from shared/upstream, unpacked into directory; its folder."""
    archive = UPSTREAM / f"{name}.tar.gz"
    assert archive.is_file(), f"{archive} is missing (shared/upstream/README.md lists the pinned copies)"
    with tarfile.open(archive) as tar:
        tar.extractall(directory, filter="data")
    return directory / name


def _wheel_package(wheel: Path, package: str, target: Path) -> None:
    """One top-level package of a downloaded wheel, unpacked as a source tree (what the release package has)."""
    assert wheel.is_file(), f"{wheel} is missing (tests/app/install.sh downloads it)"
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith(f"{package}/"):
                archive.extract(member, target)


@dataclass(frozen=True)
class Packages:
    """Where a release's image trees come from: its venv (tests/app/install.sh) and its upstream data files."""

    venv: Path
    python: str  # the venv's lib/<python>/site-packages
    fate_flow: str  # FATE-Flow's conf/ and fateflow.env: a tarball of shared/upstream
    eggroll: str  # eggroll's conf/: a tarball of shared/upstream
    pyfate: str  # the pyfate wheel's file name in <venv>/wheels

    @property
    def site_packages(self) -> Path:
        return self.venv / "lib" / self.python / "site-packages"

    def package(self, name: str, target: Path) -> None:
        shutil.copytree(self.site_packages / name, target, ignore=shutil.ignore_patterns("__pycache__"))

    def fate_tree(self, root: Path) -> Path:
        """/data/projects/fate as the release package lays it out: fate/, fate_flow/, eggroll/."""
        scratch = root.parent / "upstream"
        scratch.mkdir(exist_ok=True)
        fate = root / FATE.lstrip("/")
        flow = fate / "fate_flow"
        self.package("fate_flow", flow / "python" / "fate_flow")
        upstream = unpack(self.fate_flow, scratch)
        shutil.copytree(upstream / "conf", flow / "conf")
        shutil.copy(upstream / "fateflow.env", flow / "fateflow.env")
        self.package("eggroll", fate / "eggroll" / "python" / "eggroll")
        _wheel_package(self.venv / "wheels" / self.pyfate, "fate", fate / "fate" / "python")
        eggroll = unpack(self.eggroll, scratch)
        shutil.copytree(eggroll / "conf", fate / "eggroll" / "conf")
        (root / PYTHON_VENV.lstrip("/")).mkdir(parents=True)
        return fate


def _layout(packages: Packages, *, eggroll_dirs: bool = False, client: bool = False) -> Callable[[Path], None]:
    def layout(root: Path) -> None:
        fate = packages.fate_tree(root)
        if eggroll_dirs:
            (fate / "eggroll" / "logs").mkdir()
            (fate / "eggroll" / "data").mkdir()
        if client:
            # `pip install -e fate_client/python/`: the package stays in the tree, first on sys.path
            packages.package("fate_client", fate / "fate_client" / "python" / "fate_client")
    return layout


FLOW_PYTHONPATH = f"{FATE}/fate/python:{FATE}/fate_flow/python:{FATE}/eggroll/python"
EGGROLL_PYTHONPATH = f"{FATE}/fate/python:{FATE}/eggroll/python:{FATE}/fate_flow/python"
CLIENT_PYTHONPATH = f"{FATE}/fate_client/python:{FLOW_PYTHONPATH}"
# the image's ENTRYPOINT ["/tini", "--"]: tini runs its arguments as its child and reaps zombies
TINI = {"/tini": '#!/bin/sh\n[ "$1" = "--" ] && shift\nexec "$@"\n'}


@dataclass(frozen=True)
class Images:
    """The images of one release that the tests run, and the stand-in for osx."""

    fateflow: Image
    eggroll: Image
    client: Image
    osx_standin: Image


def _osx_standin(packages: Packages) -> Image:
    # Not osx: a Python stand-in for its routing (osx_standin.py), in an image with only the venv.
    return Image(name="osx routing stand-in", env=dict(BASE_ENV), workdir="/",
                 layout=lambda root: (root / PYTHON_VENV.lstrip("/")).mkdir(parents=True),
                 binds={PYTHON_VENV: packages.venv}, standin=True)


# --- FATE 2.0.0 ----------------------------------------------------------------------------------
PACKAGES_200 = Packages(venv=Path(os.environ.get("KFPLUG_FATE_VENV", REPO / ".venv-fate200")), python="python3.8",
                        fate_flow="fate-flow-v2.0.0", eggroll="eggroll-fate-v2.0.0",
                        pyfate="pyfate-2.0.0-py3-none-any.whl")
VENV = PACKAGES_200.venv

FATEFLOW_200 = Image(
    name="federatedai/fateflow:2.0.0-release",
    env={**BASE_ENV, "FATE_PROJECT_BASE": FATE, "EGGROLL_HOME": f"{FATE}/eggroll", "PYTHONPATH": FLOW_PYTHONPATH},
    workdir=FATE,
    layout=_layout(PACKAGES_200),
    binds={PYTHON_VENV: PACKAGES_200.venv},
)

EGGROLL_200 = Image(
    name="federatedai/eggroll:2.0.0-release",
    env={**BASE_ENV, "EGGROLL_HOME": f"{FATE}/eggroll/", "PYTHONPATH": EGGROLL_PYTHONPATH},
    workdir=f"{FATE}/eggroll/",
    layout=_layout(PACKAGES_200, eggroll_dirs=True),
    binds={PYTHON_VENV: PACKAGES_200.venv},
    files=TINI,
)

# The client image (modules/client/Dockerfile) is the fateflow image with fate_client installed
# in editable mode from /data/projects/fate/fate_client/python (so `flow init` writes its
# settings.yaml there); ENV FATE_FLOW_IP=fateflow, FATE_FLOW_PORT=9380; its CMD runs
# `pipeline init --ip ${FATE_FLOW_IP} --port ${FATE_FLOW_PORT} && flow init --ip ${FATE_FLOW_IP}
# --port ${FATE_FLOW_PORT} && jupyter notebook ...`.
CLIENT_200 = Image(
    name="federatedai/client:2.0.0-release",
    env={**FATEFLOW_200.env, "FATE_FLOW_IP": "fateflow", "FATE_FLOW_PORT": "9380", "PYTHONPATH": CLIENT_PYTHONPATH},
    workdir=f"{FATE}/",
    layout=_layout(PACKAGES_200, client=True),
    binds={PYTHON_VENV: PACKAGES_200.venv},
)
CLIENT_INIT = ("pipeline init --ip ${FATE_FLOW_IP} --port ${FATE_FLOW_PORT}"
               " && flow init --ip ${FATE_FLOW_IP} --port ${FATE_FLOW_PORT}")

OSX_STANDIN = _osx_standin(PACKAGES_200)

IMAGES_200 = Images(FATEFLOW_200, EGGROLL_200, CLIENT_200, OSX_STANDIN)

# --- FATE 2.2.0 ----------------------------------------------------------------------------------
PACKAGES_220 = Packages(venv=Path(os.environ.get("KFPLUG_FATE220_VENV", REPO / ".venv-fate220")), python="python3.10",
                        fate_flow="fate-flow-v2.2.0", eggroll="eggroll-fate-v2.2.0",
                        pyfate="pyfate-2.2.0-py3-none-any.whl")

FATEFLOW_220 = Image(
    name="federatedai/fateflow:2.2.0-release",
    env={**BASE_ENV, "FATE_PROJECT_BASE": FATE, "EGGROLL_HOME": f"{FATE}/eggroll", "FATE_FLOW_IP": "fateflow",
         "FATE_FLOW_PORT": "9380", "PYTHONPATH": FLOW_PYTHONPATH},
    workdir=FATE,
    layout=_layout(PACKAGES_220, client=True),
    binds={PYTHON_VENV: PACKAGES_220.venv},
)

# The eggroll image of FATE 2.2.0 carries eggroll's version in its tag (bases/fate/README.md: FATE's docker-compose
# names eggroll:3.2.0-release; Builder's build.sh tags it EGGROLL_TAG). Its recipe packages FATE's eggroll
# submodule, ee886f0; eggroll v3.2.0's python/eggroll differs from ee886f0's only in __version__, so
# EGGROLL_220_DIFFERS holds for either.
EGGROLL_220 = Image(
    name="federatedai/eggroll:3.2.0-release",
    env={**BASE_ENV, "EGGROLL_HOME": f"{FATE}/eggroll/", "PYTHONPATH": EGGROLL_PYTHONPATH},
    workdir=f"{FATE}/eggroll/",
    layout=_layout(PACKAGES_220, eggroll_dirs=True),
    binds={PYTHON_VENV: PACKAGES_220.venv},
    files=TINI,
)

CLIENT_220 = Image(
    name="federatedai/client:2.2.0-release",
    env={**FATEFLOW_220.env, "PYTHONPATH": CLIENT_PYTHONPATH},
    workdir=f"{FATE}/",
    layout=_layout(PACKAGES_220, client=True),
    binds={PYTHON_VENV: PACKAGES_220.venv},
)

IMAGES_220 = Images(FATEFLOW_220, EGGROLL_220, CLIENT_220, _osx_standin(PACKAGES_220))

IMAGES = {image.name: image for images in (IMAGES_200, IMAGES_220)
          for image in (images.fateflow, images.eggroll, images.client, images.osx_standin)}
