"""pytest fixtures: LMS databases on SQLite, PostgreSQL and MariaDB, each a :class:`Host`.

Load with ``pytest_plugins = ["lmsplugins.testing.fixtures"]``. A test that asks for ``pg_host`` or
``mysql_host`` is skipped with the reason when the server is missing on a developer's machine, and
fails when ``CI=true``: in CI a missing service is an error, never a silent skip.

- ``sqlite_host``: embedded LMS with the demo seed and the host tables.
- ``pg_host`` / ``mysql_host``: a fresh database per test, real LMS core schema, host tables, no data.
- ``lms_host``: parametrised over the three (empty, host tables installed); gateway tests use it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmsplugins.host import Host
from lmsplugins.migrate import HOST_SOURCE, upgrade
from lmsplugins.testing import databases as dbs


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(reason: str | None) -> None:
    """Skip (developer machine) or fail (CI) when *reason* says a service is missing."""
    if reason:
        if in_ci():
            pytest.fail(f"CI=true and a required service is missing: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    require(dbs.pg_unavailable())
    name = f"lmsplugins_tpl_{os.getpid()}"
    dbs.create_pg_template(name)
    yield name
    dbs.drop_pg_database(name)


@pytest.fixture(scope="session")
def mysql_ready() -> bool:
    require(dbs.mysql_unavailable())
    return True


@pytest.fixture
def sqlite_host(tmp_path: Path) -> Iterator[Host]:
    host = dbs.sqlite_host(tmp_path, seeded=True)
    yield host
    host.dispose()


def _pg(tmp_path: Path, template: str) -> Iterator[Host]:
    name = dbs.create_pg_database(template)
    host = Host(dbs.write_ini(tmp_path, "postgres", name))
    upgrade(host.engine, HOST_SOURCE)
    try:
        yield host
    finally:
        host.dispose()
        dbs.drop_pg_database(name)


def _my(tmp_path: Path) -> Iterator[Host]:
    name = dbs.create_mysql_database()
    host = Host(dbs.write_ini(tmp_path, "mysql", name))
    upgrade(host.engine, HOST_SOURCE)
    try:
        yield host
    finally:
        host.dispose()
        dbs.drop_mysql_database(name)


@pytest.fixture
def pg_host(tmp_path: Path, pg_template: str) -> Iterator[Host]:
    yield from _pg(tmp_path, pg_template)


@pytest.fixture
def mysql_host(tmp_path: Path, mysql_ready: bool) -> Iterator[Host]:
    yield from _my(tmp_path)


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def lms_host(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Host]:
    """The same empty LMS on each database; the test runs once per kind."""
    kind = request.param
    if kind == "sqlite":
        host = dbs.sqlite_host(tmp_path, seeded=False)
        yield host
        host.dispose()
    elif kind == "postgres":
        yield from _pg(tmp_path, request.getfixturevalue("pg_template"))
    else:
        request.getfixturevalue("mysql_ready")
        yield from _my(tmp_path)
