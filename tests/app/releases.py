"""The FATE releases the app tests run, one row each: which example, which venv and images, which upstream files.

Each release's tests run its own FATE software (tests/app/install.sh installs one venv per release, pinned
in versions.env and the release's constraints file) against the built objects of the example that renders
that release: two parties, 9999 and 10000, each with its osx, eggroll and FATE-Flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .images import EGGROLL_220_DIFFERS, IMAGES_200, IMAGES_220, PACKAGES_200, PACKAGES_220, Images, Packages

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Release:
    version: str
    example: str  # examples/<example>/federation.yaml renders this release
    parties: tuple[str, ...]
    packages: Packages
    constraints: Path  # what tests/app/install.sh pinned the venv to (its mark holds a copy)
    images: Images
    eggroll_schema: tuple[str, str]  # eggroll's own create-eggroll-meta-tables.sql: (shared/upstream tarball, path)
    dag_schema_version: str  # the schema_version of a DAG FATE-Flow takes at this release
    # where the venv's eggroll differs from the release's own: module -> functions (images.EGGROLL_220_DIFFERS)
    eggroll_differs: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def venv(self) -> Path:
        return self.packages.venv

    @property
    def python(self) -> str:
        return self.packages.python.removeprefix("python")


RELEASES = {r.version: r for r in (
    Release(
        version="2.0.0",
        example="two-party",
        parties=("9999", "10000"),
        packages=PACKAGES_200,
        constraints=HERE / "constraints-py38.txt",
        images=IMAGES_200,
        eggroll_schema=("eggroll-fate-v2.0.0", "conf/create-eggroll-meta-tables.sql"),
        dag_schema_version="2.0.0",
    ),
    Release(
        version="2.2.0",
        example="fate-2.2",
        parties=("9999", "10000"),
        packages=PACKAGES_220,
        constraints=HERE / "constraints-py310.txt",
        images=IMAGES_220,
        # eggroll@ee886f0 (FATE v2.2.0's submodule): the same file as at 5b8de69
        eggroll_schema=("eggroll-fate-v2.2.0", "conf/create-eggroll-meta-tables.sql"),
        # FATE@v2.2.0:doc/2.0/fate/dag.md writes DAGs with schema_version 2.2.0
        dag_schema_version="2.2.0",
        eggroll_differs=EGGROLL_220_DIFFERS,
    ),
)}

# (release, party) for every party of every release, for parametrize
RELEASE_PARTIES = [(version, party) for version, release in RELEASES.items() for party in release.parties]
