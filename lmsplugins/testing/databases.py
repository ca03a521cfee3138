"""Real LMS databases for tests and benchmarks: embedded SQLite, PostgreSQL and MariaDB.

PostgreSQL and MariaDB databases are loaded from the real LMS schemas (the same files a production LMS
is installed from, found or fetched by :mod:`lmsplugins.testing.schema_source`) with the servers' own
command-line clients, which understand everything in those files (``DELIMITER`` blocks in the MySQL
one, for instance).

A test database must cost well under a second, because hundreds of tests ask for one:

- PostgreSQL: a template loaded once per session *after* the host's migrations, so a test's clone
  (``CREATE DATABASE ... TEMPLATE``) needs no migration; :func:`install` of plugins on a clone nobody
  has connected to yet swaps it for a clone of a template with those plugins installed (made once);
- MariaDB: no templates there, so :mod:`lmsplugins.testing.mysql_pool` resets a reused database to the
  session's template, touching only what the test changed;
- SQLite: the generated schema (and the demo seed) is built once per process and copied.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from sqlalchemy import text

from lmsplugins.host import Host
from lmsplugins.lms.embedded import create_core_schema
from lmsplugins.loader import discover
from lmsplugins.migrate import HOST_SOURCE, MigrationSource, upgrade
from lmsplugins.testing.schema_source import SchemaMissing, resolve, shared_dir

_counter = itertools.count(1)


def schema_dir() -> Path:
    """``$LMS_SCHEMA_DIR``, else ``../shared/lms-schema`` (kept for callers that build paths themselves;
    prefer :func:`schema_file`, which also looks in an LMS installation and the fetched cache)."""
    env = os.environ.get("LMS_SCHEMA_DIR")
    return Path(env) if env else shared_dir()


def schema_file(relpath: str) -> Path:
    """A real schema file (``core/lms.pgsql``, ``plugins/<class>/lms.mysql``, ...). Under pytest a missing
    one skips the test with one line saying what to set (fails the run under CI=true); elsewhere it
    raises :class:`SchemaMissing`."""
    try:
        return resolve(relpath)
    except SchemaMissing as exc:
        if "pytest" in sys.modules:
            from lmsplugins.testing.fixtures import require_schema

            require_schema(str(exc))
        raise


def pg_params() -> dict[str, str]:
    return {
        "host": os.environ.get("LMSPLUGINS_TEST_PGHOST", "127.0.0.1"),
        "port": os.environ.get("LMSPLUGINS_TEST_PGPORT", "5432"),
        "user": os.environ.get("LMSPLUGINS_TEST_PGUSER", "postgres"),
    }


def mysql_params() -> dict[str, str]:
    return {
        "host": os.environ.get("LMSPLUGINS_TEST_MYHOST", "127.0.0.1"),
        "port": os.environ.get("LMSPLUGINS_TEST_MYPORT", "3306"),
        "user": os.environ.get("LMSPLUGINS_TEST_MYUSER", "root"),
    }


def _run(cmd: list[str], stdin: Path | None = None, env: dict[str, str] | None = None) -> None:
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as fh:
        proc = subprocess.run(cmd, stdin=fh, capture_output=True, env=env, timeout=300, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}... failed: {proc.stderr.decode(errors='replace')[-2000:]}")


def _psql(database: str, *args: str, stdin: Path | None = None) -> None:
    p = pg_params()
    _run(
        ["psql", "-h", p["host"], "-p", p["port"], "-U", p["user"], "-v", "ON_ERROR_STOP=1", "-q", database, *args],
        stdin=stdin,
        env={**os.environ, "PGOPTIONS": "--client-min-messages=warning"},
    )


def _mysql(*args: str, stdin: Path | None = None) -> None:
    p = mysql_params()
    _run(["mysql", "-h", p["host"], "-P", p["port"], "-u", p["user"], *args], stdin=stdin)


def pg_unavailable() -> str | None:
    """None when PostgreSQL can be used, else the reason."""
    if not shutil.which("psql"):
        return "psql (postgresql-client) is not installed"
    try:
        _psql("postgres", "-c", "SELECT 1")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        return f"PostgreSQL at {pg_params()['host']}:{pg_params()['port']} is not reachable: {exc}"
    return None


def mysql_unavailable() -> str | None:
    if not shutil.which("mysql"):
        return "mysql (mariadb-client) is not installed"
    try:
        _mysql("-e", "SELECT 1")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        return f"MariaDB at {mysql_params()['host']}:{mysql_params()['port']} is not reachable: {exc}"
    return None


PluginList = Sequence[str] | Literal["all"] | None


@functools.cache
def installed_plugin_names() -> tuple[str, ...]:
    """Every plugin installed (in-tree and entry points), including any that fail to load, so a test
    host sees a broken plugin reported as named-but-failed rather than silently left out."""
    registry = discover()
    return tuple(sorted({p.name for p in registry.found} | {f.name for f in registry.failed}))


def ini_text(dbtype: str, database: str, plugins: PluginList = "all") -> str:
    """A test lms.ini. Plugins are opt-in (``lmsplugins.plugins``), so by default the file names every
    installed plugin, as most tests exercise plugins; pass names for a subset, or None for no list at
    all (a fresh installation, where no plugin is enabled)."""
    if dbtype == "sqlite":
        ini = f"[database]\ntype = sqlite\ndatabase = {database}\n"
    else:
        p = pg_params() if dbtype == "postgres" else mysql_params()
        ini = (
            f"[database]\ntype = {dbtype}\nhost = {p['host']}:{p['port']}\nuser = {p['user']}\npassword =\n"
            f"database = {database}\n"
        )
    if plugins is not None:
        names = installed_plugin_names() if plugins == "all" else tuple(plugins)
        ini += f"[lmsplugins]\nplugins = {' '.join(names)}\n"
    return ini


def write_ini(directory: Path, dbtype: str, database: str, extra: str = "", plugins: PluginList = "all") -> Path:
    """Write *directory*/lms.ini; *extra* is appended, so its ``[lmsplugins] plugins = ...`` wins."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "lms.ini"
    path.write_text(ini_text(dbtype, database, plugins) + extra, encoding="utf-8")
    return path


def create_pg_template(name: str, host_tables: bool = False) -> None:
    """(Re)create database *name* loaded with the real core schema (and the host's tables)."""
    schema = schema_file("core/lms.pgsql")
    _psql("postgres", "-c", f'DROP DATABASE IF EXISTS "{name}"')
    _psql("postgres", "-c", f'CREATE DATABASE "{name}"')
    _psql(name, "-f", str(schema))
    if host_tables:
        _migrate(name, "postgres", HOST_SOURCE)


def _migrate(database: str, dbtype: str, *sources: MigrationSource) -> None:
    with tempfile.TemporaryDirectory(prefix="lmsplugins_tpl_") as tmp:
        host = Host(write_ini(Path(tmp), dbtype, database))
        try:
            for source in sources:
                upgrade(host.engine, source)
        finally:
            host.dispose()


def create_pg_database(template: str, prefix: str = "lmsplugins_t") -> str:
    name = f"{prefix}_{os.getpid()}_{next(_counter)}"
    _psql("postgres", "-c", f'DROP DATABASE IF EXISTS "{name}"')
    _psql("postgres", "-c", f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def drop_pg_database(name: str) -> None:
    _psql("postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_pending_drops: list[subprocess.Popen[bytes]] = []


def drop_pg_database_later(name: str) -> None:
    """Drop *name* in a background ``psql`` so the next test does not wait for it (a drop costs as
    much as a clone); :func:`wait_for_drops` reaps them."""
    p = pg_params()
    _pending_drops[:] = [proc for proc in _pending_drops if proc.poll() is None]
    _pending_drops.append(
        subprocess.Popen(
            [
                "psql",
                "-h",
                p["host"],
                "-p",
                p["port"],
                "-U",
                p["user"],
                "-q",
                "postgres",
                "-c",
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PGOPTIONS": "--client-min-messages=warning"},
        )
    )


def wait_for_drops(timeout: float = 120) -> None:
    for proc in _pending_drops:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    _pending_drops.clear()


def create_mysql_database(prefix: str = "lmsplugins_t", host_tables: bool = False) -> str:
    schema = schema_file("core/lms.mysql")
    name = f"{prefix}_{os.getpid()}_{next(_counter)}"
    _mysql("-e", f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    _mysql(name, stdin=schema)
    if host_tables:
        _migrate(name, "mysql", HOST_SOURCE)
    return name


def drop_mysql_database(name: str) -> None:
    _mysql("-e", f"DROP DATABASE IF EXISTS `{name}`")


def load_php_plugin_schema(host: Host, lms_class: str) -> None:
    """Install an original PHP plugin's schema, as LMS does when the PHP plugin is enabled."""
    dialect = host.engine.dialect.name
    db = host.ini_config.database_params()["database"]
    if dialect == "postgresql":
        _psql(db, "-f", str(schema_file(f"plugins/{lms_class}/lms.pgsql")))
    elif dialect == "mysql":
        _mysql(db, stdin=schema_file(f"plugins/{lms_class}/lms.mysql"))
    else:
        raise ValueError("the PHP plugins have no SQLite schema")


def plugin_sources(host: Host, plugin_names: tuple[str, ...]) -> list[MigrationSource]:
    """The migration sources of the named plugins (all enabled ones if none named)."""
    plugins = [host.plugin(n) for n in plugin_names] if plugin_names else host.registry.enabled
    sources: list[MigrationSource] = []
    for plugin in plugins:
        if plugin is None:
            raise LookupError(f"no such plugin among {[p.name for p in host.registry.found]}")
        if plugin.db_version and plugin.sql_dir is not None:
            sources.append(MigrationSource(plugin.title, plugin.dbinfo_key, plugin.sql_dir, plugin.db_version))
    return sources


def install(host: Host, *plugin_names: str) -> None:
    """Apply the host's migrations and those of the named plugins (all enabled ones if none named)."""
    upgrade(host.engine, HOST_SOURCE)
    for source in plugin_sources(host, plugin_names):
        upgrade(host.engine, source)


_prepared_sqlite: dict[bool, Path] = {}


def _prepared_sqlite_file(seeded: bool) -> Path:
    """The generated schema with the host tables (and the seed), built once per process."""
    found = _prepared_sqlite.get(seeded)
    if found is not None and found.is_file():
        return found
    from lmsplugins.demo import seed

    folder = Path(tempfile.mkdtemp(prefix="lmsplugins_sqlite_"))
    atexit.register(shutil.rmtree, folder, True)
    db = folder / "lms.sqlite"
    host = Host(write_ini(folder, "sqlite", str(db)))
    try:
        create_core_schema(host.engine)
        upgrade(host.engine, HOST_SOURCE)
        if seeded:
            with host.engine.begin() as conn:
                seed(conn)
    finally:
        host.dispose()
    _prepared_sqlite[seeded] = db
    return db


def sqlite_host(directory: Path, seeded: bool = False, plugins: PluginList = "all") -> Host:
    """A fresh embedded LMS (generated schema) with the host tables; optionally the demo seed.
    Copied from a file prepared once per process. *plugins* as for :func:`ini_text`."""
    db = directory / "lms.sqlite"
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(_prepared_sqlite_file(seeded), db)
    return Host(write_ini(directory, "sqlite", str(db), plugins=plugins))


def table_count(host: Host, table: str) -> int:
    with host.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() or 0)
