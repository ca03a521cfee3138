"""Real LMS databases for tests and benchmarks: embedded SQLite, PostgreSQL and MariaDB.

PostgreSQL and MariaDB databases are loaded from the real LMS schemas in ``../shared/lms-schema``
(the same files a production LMS is installed from) with the servers' own command-line clients, which
understand everything in those files (``DELIMITER`` blocks in the MySQL one, for instance). On
PostgreSQL a template database is loaded once and each test gets a clone in about 0.1 s.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import text

from lmsplugins.host import Host
from lmsplugins.lms.embedded import create_core_schema
from lmsplugins.migrate import HOST_SOURCE, MigrationSource, upgrade

_counter = itertools.count(1)


def schema_dir() -> Path:
    """``$LMS_SCHEMA_DIR``, else ``../shared/lms-schema`` beside the repository."""
    env = os.environ.get("LMS_SCHEMA_DIR")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "lms-schema"


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


def ini_text(dbtype: str, database: str) -> str:
    if dbtype == "sqlite":
        return f"[database]\ntype = sqlite\ndatabase = {database}\n"
    p = pg_params() if dbtype == "postgres" else mysql_params()
    return (
        f"[database]\ntype = {dbtype}\nhost = {p['host']}:{p['port']}\nuser = {p['user']}\npassword =\n"
        f"database = {database}\n"
    )


def write_ini(directory: Path, dbtype: str, database: str, extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "lms.ini"
    path.write_text(ini_text(dbtype, database) + extra, encoding="utf-8")
    return path


def create_pg_template(name: str) -> None:
    """(Re)create database *name* loaded with the real core schema."""
    _psql("postgres", "-c", f'DROP DATABASE IF EXISTS "{name}"')
    _psql("postgres", "-c", f'CREATE DATABASE "{name}"')
    _psql(name, "-f", str(schema_dir() / "core" / "lms.pgsql"))


def create_pg_database(template: str, prefix: str = "lmsplugins_t") -> str:
    name = f"{prefix}_{os.getpid()}_{next(_counter)}"
    _psql("postgres", "-c", f'DROP DATABASE IF EXISTS "{name}"')
    _psql("postgres", "-c", f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def drop_pg_database(name: str) -> None:
    _psql("postgres", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_mysql_database(prefix: str = "lmsplugins_t") -> str:
    name = f"{prefix}_{os.getpid()}_{next(_counter)}"
    _mysql("-e", f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    _mysql(name, stdin=schema_dir() / "core" / "lms.mysql")
    return name


def drop_mysql_database(name: str) -> None:
    _mysql("-e", f"DROP DATABASE IF EXISTS `{name}`")


def load_php_plugin_schema(host: Host, lms_class: str) -> None:
    """Install an original PHP plugin's schema, as LMS does when the PHP plugin is enabled."""
    dialect = host.engine.dialect.name
    folder = schema_dir() / "plugins" / lms_class
    db = host.ini_config.database_params()["database"]
    if dialect == "postgresql":
        _psql(db, "-f", str(folder / "lms.pgsql"))
    elif dialect == "mysql":
        _mysql(db, stdin=folder / "lms.mysql")
    else:
        raise ValueError("the PHP plugins have no SQLite schema")


def install(host: Host, *plugin_names: str) -> None:
    """Apply the host's migrations and those of the named plugins (all enabled ones if none named)."""
    upgrade(host.engine, HOST_SOURCE)
    plugins = [host.plugin(n) for n in plugin_names] if plugin_names else host.registry.enabled
    for plugin in plugins:
        if plugin is None:
            raise LookupError(f"no such plugin among {[p.name for p in host.registry.found]}")
        if plugin.db_version and plugin.sql_dir is not None:
            upgrade(host.engine, MigrationSource(plugin.title, plugin.dbinfo_key, plugin.sql_dir, plugin.db_version))


def sqlite_host(directory: Path, seeded: bool = False) -> Host:
    """A fresh embedded LMS (generated schema) with the host tables; optionally the demo seed."""
    from lmsplugins.demo import seed

    db = directory / "lms.sqlite"
    host = Host(write_ini(directory, "sqlite", str(db)))
    create_core_schema(host.engine)
    upgrade(host.engine, HOST_SOURCE)
    if seeded:
        with host.engine.begin() as conn:
            seed(conn)
    return host


def table_count(host: Host, table: str) -> int:
    with host.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() or 0)
