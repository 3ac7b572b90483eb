"""MariaDB takes the rendered mysql init schema, and the result has the release's own eggroll schema.

For each party the session starts Debian's mariadbd in the party's network namespace and does
what the mysql:8.0 image's entrypoint does on first start (sandbox.initialise_like_mysql_image)
with the env of the built mysql StatefulSet (MYSQL_DATABASE, MYSQL_USER, the password read from
MYSQL_PASSWORD_FILE in the mounted Secret) and the files of the mysql-init ConfigMap it mounts at
/docker-entrypoint-initdb.d. Then eggroll's own create-eggroll-meta-tables.sql of the release is
loaded into a scratch database of the same server and information_schema is compared (2.0.0, 2.2.0 and 1.11.2).
(MariaDB 10.11 stands in for MySQL 8.0.28; the container's --default-authentication-plugin
argument, which MariaDB does not know, is not passed.)
"""

from __future__ import annotations

import pytest

from .conftest import release_example
from .images import unpack
from .releases import RELEASES

pytestmark = [pytest.mark.app, pytest.mark.tools]

# example, party, the release's eggroll schema: (upstream tarball, path inside it); the 2.x releases as
# releases.RELEASES has them, and 1.11.2 (no FATE software of its own runs here: MariaDB only)
CASES = {
    **{version: (release.example, release.parties[0], *release.eggroll_schema)
       for version, release in RELEASES.items()},
    "1.11.2": ("exchange-star", "9999", "eggroll-fate-v1.11.2",
               "jvm/core/main/resources/create-eggroll-meta-tables.sql"),
}
SCRATCH = "upstream_eggroll_meta"


def columns(db, database: str) -> dict[str, dict[str, str]]:
    rows = db.sql(f"SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS "
                  f"WHERE TABLE_SCHEMA = '{database}'")
    out: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        out.setdefault(table, {})[column] = data_type
    return out


def example_of(version: str) -> str:
    return release_example(version) if version in RELEASES else CASES[version][0]


@pytest.fixture(scope="module")
def upstream_schema(parties, tmp_path_factory):
    """version -> the release's eggroll tables and columns, as MariaDB makes them from upstream's file
    (on that release's party's server, once per module)."""
    made: dict[str, dict[str, dict[str, str]]] = {}

    def get(version: str) -> dict[str, dict[str, str]]:
        if version not in made:
            _, party, tarball, path = CASES[version]
            db = parties(example_of(version), party).db
            sql = (unpack(tarball, tmp_path_factory.mktemp("upstream")) / path).read_text()
            # upstream's 2.x file creates and USEs `eggroll_meta` itself; point it at the scratch database
            # (the 1.11.2 file has those two statements commented out and takes --database)
            sql = sql.replace("`eggroll_meta`", f"`{SCRATCH}`")
            db.sql(f"DROP DATABASE IF EXISTS `{SCRATCH}`; CREATE DATABASE `{SCRATCH}`;")
            db.sql(sql, database=SCRATCH)
            made[version] = columns(db, SCRATCH)
            assert made[version], f"upstream's {path} made no tables"
        return made[version]

    return get


def initialised(parties, version: str):
    """The party's MariaDB after the mysql container's first start."""
    _, party, _, _ = CASES[version]
    state = parties(example_of(version), party)
    assert state.init_error is None, f"the mysql container's first start fails on MariaDB:\n{state.init_error}"
    return state


@pytest.mark.parametrize("version", sorted(CASES))
def test_mysql_pod_initialises_with_the_rendered_schema(parties, version):
    """The entrypoint's steps and every init file succeed, and MYSQL_USER logs in with the Secret's password."""
    state = initialised(parties, version)
    env = state.mysql_env
    assert env.get("MYSQL_DATABASE") and env.get("MYSQL_USER") and env.get("MYSQL_PASSWORD"), \
        f"the mysql container's env names no database, user or password: {sorted(env)}"
    login = state.db.sql("SELECT DATABASE(), CURRENT_USER();", database=env["MYSQL_DATABASE"],
                         user=env["MYSQL_USER"], password=env["MYSQL_PASSWORD"], check=False)
    assert login.returncode == 0, f"{env['MYSQL_USER']} cannot log in with the Secret's password:\n{login.stderr}"


@pytest.mark.parametrize("version", sorted(CASES))
def test_rendered_schema_has_every_eggroll_table_and_column(parties, upstream_schema, version):
    _, _, tarball, path = CASES[version]
    state = initialised(parties, version)
    rendered = columns(state.db, state.mysql_env["MYSQL_DATABASE"])
    upstream = upstream_schema(version)
    missing_tables = sorted(set(upstream) - set(rendered))
    missing_columns = sorted(f"{table}.{column}" for table, cols in upstream.items()
                             if table in rendered for column in cols if column not in rendered[table])
    assert not missing_tables and not missing_columns, (
        f"eggroll {version} ({tarball}/{path}) needs tables {missing_tables} and columns {missing_columns}, "
        f"which the rendered mysql-init schema does not create")


@pytest.mark.parametrize("version", sorted(CASES))
def test_rendered_eggroll_columns_have_the_release_types(parties, upstream_schema, version):
    """Columns present in both have the data type the release's schema gives them (what eggroll's JDBC code writes)."""
    state = initialised(parties, version)
    rendered = columns(state.db, state.mysql_env["MYSQL_DATABASE"])
    different = sorted(f"{table}.{column}: {rendered[table][column]} (release: {data_type})"
                       for table, cols in upstream_schema(version).items() if table in rendered
                       for column, data_type in cols.items()
                       if column in rendered[table] and rendered[table][column] != data_type)
    assert not different, f"columns typed differently from eggroll {version}'s schema: {different}"
