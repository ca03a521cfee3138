"""Take-over of LMSMetroportPlugin's tables: what our migrations build is, on PostgreSQL, exactly the PHP
plugin's final schema (pg_dump of both compared line for line), a database at any PHP version is
completed or used as it is, and the MariaDB and SQLite variants hold the same columns and keys."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import UniqueConstraint, inspect, select, text

from lmsplugins.lms.settings import get_dbinfo
from lmsplugins.migrate import MigrationSource, split_sql, upgrade
from lmsplugins.testing import databases as dbs
from plugins.metroport_mms import tables as mt

KEY = "dbversion_LMSMetroportPlugin"


def _psql_file(host, path: Path) -> None:
    p = dbs.pg_params()
    db = host.ini_config.database_params()["database"]
    subprocess.run(
        ["psql", "-h", p["host"], "-p", p["port"], "-U", p["user"], "-v", "ON_ERROR_STOP=1", "-q", db, "-f", str(path)],
        check=True,
        capture_output=True,
        env={**os.environ, "PGOPTIONS": "--client-min-messages=warning"},
    )


def _schema_lines(text_: str) -> list[str]:
    """Statements of a pg_dump, without its comments, SET lines and psql meta-commands."""
    skip = ("--", "SET ", "SELECT pg_catalog", "\\")
    return [line for line in text_.splitlines() if line and not line.startswith(skip)]


def _dump(host) -> list[str]:
    p = dbs.pg_params()
    db = host.ini_config.database_params()["database"]
    out = subprocess.run(
        ["pg_dump", "-h", p["host"], "-p", p["port"], "-U", p["user"], "-s", "-t", "metroport_*", db],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return _schema_lines(out)


def _source(host) -> MigrationSource:
    plugin = host.plugin("metroport_mms")
    return MigrationSource(plugin.title, plugin.dbinfo_key, plugin.sql_dir, plugin.db_version)


def _uiconfig(host) -> dict[str, tuple[str, int]]:
    with host.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT var, value, disabled FROM uiconfig WHERE section = 'metroport' ORDER BY id")
        ).all()
    result: dict[str, tuple[str, int]] = {}
    for var, value, disabled in rows:
        assert var not in result, f"uiconfig metroport.{var} seeded twice"
        result[var] = (value, disabled)
    return result


@pytest.fixture
def final() -> list[str]:
    """The PHP plugin's final schema, read when a test needs it: a checkout without it leaves these
    tests out with one line saying where to put it (fails the run under CI=true)."""
    path = dbs.schema_file("plugins/LMSMetroportPlugin/final-schema.pgsql")
    return _schema_lines(path.read_text(encoding="utf-8"))


@pytest.mark.postgres
def test_fresh_install_is_the_php_final_schema(pg_host, final):
    assert upgrade(pg_host.engine, _source(pg_host)) == [
        "2025090303",
        "2025122300",
        "2025122900",
        "2026032301",
        "2026032302",
    ]
    assert _dump(pg_host) == final
    with pg_host.engine.connect() as conn:
        assert get_dbinfo(conn, KEY) == "2026032302"
    seeded = _uiconfig(pg_host)
    assert seeded["serwer_url"] == ("https://api.mmsc.metroport.pl", 0)
    assert seeded["api_login"] == ("", 1) and seeded["api_pass"] == ("", 1)
    assert {"metrotv_suspend_billing", "list_pagelimit", "show_metrotv_in_customer_tab"} <= set(seeded)


@pytest.mark.postgres
def test_php_base_install_is_completed_and_its_rows_kept(pg_host, final):
    dbs.load_php_plugin_schema(pg_host, "LMSMetroportPlugin")
    with pg_host.engine.begin() as conn:
        conn.execute(text("INSERT INTO metroport_customers (metroport_user_id, lms_user_id) VALUES (501, 7)"))
    assert upgrade(pg_host.engine, _source(pg_host))[0] == "2025122300"
    assert _dump(pg_host) == final
    seeded = _uiconfig(pg_host)
    assert seeded["api_login"] == ("loginki ", 0)  # the PHP install's row is the operator's, left alone
    with pg_host.engine.connect() as conn:
        row = conn.execute(select(mt.metroport_customers)).one()
    assert (row.metroport_user_id, row.lms_user_id, row.metrotv_suspend) == (501, 7, 0)


@pytest.mark.postgres
def test_php_final_schema_is_used_as_it_is(pg_host, final, tmp_path):
    clean = tmp_path / "final.pgsql"
    clean.write_text("\n".join(final) + "\n", encoding="utf-8")
    _psql_file(pg_host, clean)
    with pg_host.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO dbinfo (keytype, keyvalue) VALUES ('{KEY}', '2026032302')"))
        conn.execute(mt.metroport_settings.insert().values(name="token", value="abc"))
    assert upgrade(pg_host.engine, _source(pg_host)) == []
    for version, path in _source(pg_host).steps("postgresql"):  # every step is harmless when re-run
        with pg_host.engine.begin() as conn:
            for statement in split_sql(path.read_text(encoding="utf-8")):
                conn.exec_driver_sql(statement)
        assert version
    assert _dump(pg_host) == final


def _keys(insp, table: str) -> tuple[list[str], set[tuple[str, ...]]]:
    columns = [c["name"] for c in insp.get_columns(table)]
    uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints(table)}
    uniques |= {tuple(i["column_names"]) for i in insp.get_indexes(table) if i.get("unique")}
    return columns, uniques


@pytest.fixture(params=["sqlite_host", "mysql_host"])
def other_host(request):
    return request.getfixturevalue(request.param)


def test_same_tables_on_sqlite_and_mariadb(other_host):
    upgrade(other_host.engine, _source(other_host))
    assert upgrade(other_host.engine, _source(other_host)) == []
    insp = inspect(other_host.engine)
    for table in mt.TABLES:
        columns, uniques = _keys(insp, table.name)
        assert columns == [c.name for c in table.columns], table.name
        assert insp.get_pk_constraint(table.name)["constrained_columns"] == ["id"]
        wanted = {tuple(c.name for c in u.columns) for u in table.constraints if isinstance(u, UniqueConstraint)}
        wanted |= {(c.name,) for c in table.columns if c.unique}
        assert wanted <= uniques, table.name
    with other_host.engine.connect() as conn:
        assert get_dbinfo(conn, KEY) == "2026032302"
    assert _uiconfig(other_host)["api_token_expiration_time"] == ("1200", 0)
    with other_host.engine.begin() as conn:
        conn.execute(mt.metroport_customers.insert().values(metroport_user_id=1, lms_user_id=2))
        conn.execute(mt.metroport_settings.insert().values(name="token", value="x"))
        assert conn.execute(select(mt.metroport_settings.c.updated)).scalar() is not None
        with pytest.raises(Exception, match=r"(?i)unique|duplicate"), conn.begin_nested():
            conn.execute(mt.metroport_customers.insert().values(metroport_user_id=1, lms_user_id=2))


@pytest.mark.postgres
def test_db_check_flags_the_php_placeholders(pg_host):
    from lmsplugins.checks import check_database

    dbs.load_php_plugin_schema(pg_host, "LMSMetroportPlugin")
    upgrade(pg_host.engine, _source(pg_host))
    pg_host.refresh_settings()
    warnings = [w for w in check_database(pg_host).warnings if "metroport." in w]
    assert any("metroport.api_login to the PHP install's placeholder 'loginki'" in w for w in warnings)
    assert any("metroport.api_pass" in w for w in warnings)
    assert any("serwer_url = 'api.mmsc.metroport.pl' has no scheme" in w for w in warnings)
