"""pytest fixtures: LMS databases on SQLite, PostgreSQL and MariaDB, each a :class:`Host`.

Load with ``pytest_plugins = ["lmsplugins.testing.fixtures"]``. A test that asks for ``pg_host`` or
``mysql_host`` is skipped with the reason when the server is missing on a developer's machine, and
fails when ``CI=true``: in CI a missing service is an error, never a silent skip.

- ``sqlite_host``: embedded LMS with the demo seed and the host tables.
- ``pg_host`` / ``mysql_host``: a fresh database per test, real LMS core schema, host tables, no data.
- ``lms_host``: parametrised over the three (empty, host tables installed); gateway tests use it.

Each costs well under a second: SQLite is copied from a file made once per process, PostgreSQL is a
clone of a template that already has the host's tables (dropped in the background afterwards), and
MariaDB is a database reused from :mod:`lmsplugins.testing.mysql_pool`, reset to the template after
each test. When no real LMS schema can be found, the real-schema tests stop with one line saying what
to set (skipped on a developer's machine, the run ended with a failure under CI=true).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmsplugins.host import Host
from lmsplugins.testing import databases as dbs
from lmsplugins.testing.mysql_pool import Pool
from lmsplugins.testing.schema_source import SchemaMissing, resolve


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(reason: str | None) -> None:
    """Skip (developer machine) or fail (CI) when *reason* says a service is missing."""
    if reason:
        if in_ci():
            pytest.fail(f"CI=true and a required service is missing: {reason}")
        pytest.skip(reason)


def require_schema(reason: str) -> None:
    """No real LMS schema: one line saying what to set. Under CI the whole run ends, failed."""
    if in_ci():
        pytest.exit(f"CI=true and {reason}", returncode=3)
    pytest.skip(reason)


_SCHEMA_NOTE = pytest.StashKey[str]()


_NEEDS = {
    "core/lms.pgsql": frozenset({"pg_host", "pg_template", "postgres"}),
    "core/lms.mysql": frozenset({"mysql_host", "mysql_pool", "mysql"}),
}
"""A real schema file, and the fixture names, parameter values and markers of the tests that need it
(a parameter naming the host fixture a test asks for at run time counts as the fixture)."""


def _schema_files_needed(item: pytest.Item) -> set[str]:
    callspec = getattr(item, "callspec", None)
    values = {v for v in (callspec.params.values() if callspec else ()) if isinstance(v, str)}
    uses = set(getattr(item, "fixturenames", ())) | values | {m.name for m in item.iter_markers()}
    return {relpath for relpath, names in _NEEDS.items() if uses & names}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a real LMS schema the real-schema tests are left out with ONE line saying what to set
    (and under CI the run ends there, failed), instead of one error per test."""
    missing: dict[str, str] = {}
    for relpath in ("core/lms.pgsql", "core/lms.mysql"):
        try:
            resolve(relpath)
        except SchemaMissing as exc:
            missing[relpath] = str(exc)
    if not missing:
        return
    left_out = [item for item in items if _schema_files_needed(item) & missing.keys()]
    if not left_out:
        return
    note = f"{len(left_out)} real-schema tests not run: {next(iter(missing.values()))}"
    if in_ci():
        pytest.exit(f"CI=true and {note}", returncode=3)
    config.hook.pytest_deselected(items=left_out)
    items[:] = [item for item in items if item not in left_out]
    config.stash[_SCHEMA_NOTE] = note


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    note = config.stash.get(_SCHEMA_NOTE, None)
    if note:
        terminalreporter.write_line(f"lms-schema: {note}", yellow=True)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """The core schema with the host's tables, so a test's clone needs no migration."""
    require(dbs.pg_unavailable())
    name = f"lmsplugins_tpl_{os.getpid()}"
    try:
        dbs.create_pg_template(name, host_tables=True)
    except SchemaMissing as exc:
        require_schema(str(exc))
    yield name
    dbs.wait_for_drops()
    dbs.drop_pg_database(name)


@pytest.fixture(scope="session")
def mysql_ready() -> bool:
    require(dbs.mysql_unavailable())
    return True


@pytest.fixture(scope="session")
def mysql_pool(mysql_ready: bool) -> Iterator[Pool]:
    """The core schema with the host's tables loaded once; tests get reset copies of it."""
    try:
        template = dbs.create_mysql_database(prefix="lmsplugins_tpl", host_tables=True)
    except SchemaMissing as exc:
        require_schema(str(exc))
        raise
    pool = Pool(dbs.mysql_params(), template)
    yield pool
    pool.close()
    dbs.drop_mysql_database(template)


@pytest.fixture
def sqlite_host(tmp_path: Path) -> Iterator[Host]:
    host = dbs.sqlite_host(tmp_path, seeded=True)
    yield host
    host.dispose()


def _pg(tmp_path: Path, template: str) -> Iterator[Host]:
    name = dbs.create_pg_database(template)
    host = Host(dbs.write_ini(tmp_path, "postgres", name))
    try:
        yield host
    finally:
        host.dispose()
        dbs.drop_pg_database_later(name)


def _my(tmp_path: Path, pool: Pool) -> Iterator[Host]:
    name = pool.acquire()
    host = Host(dbs.write_ini(tmp_path, "mysql", name))
    try:
        yield host
    finally:
        host.dispose()
        pool.release(name)


@pytest.fixture
def pg_host(tmp_path: Path, pg_template: str) -> Iterator[Host]:
    yield from _pg(tmp_path, pg_template)


@pytest.fixture
def mysql_host(tmp_path: Path, mysql_pool: Pool) -> Iterator[Host]:
    yield from _my(tmp_path, mysql_pool)


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
        yield from _my(tmp_path, request.getfixturevalue("mysql_pool"))
