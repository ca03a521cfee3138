"""Migration steps generated from a plugin's ``tables.py`` (``<version>.tables``), beside hand-written
``.sql`` parts, and the host step that indexes two core tables for the panels."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from lmsplugins.errors import SchemaError
from lmsplugins.lms.settings import get_dbinfo
from lmsplugins.migrate import HOST_SQL_DIR, MigrationSource, declared_tables, run_step, upgrade
from plugins.wildcore import tables as wildcore_tables

TABLES_PY = """
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, text

metadata = MetaData()
gadgets = Table(
    "gadgets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("label", String(40), nullable=False, server_default=text("''")),
)
Index("gadgets_label_idx", gadgets.c.label)
spares = Table("spares", metadata, Column("id", Integer, primary_key=True))
"""


def _plugin(tmp_path: Path, tables: str, sql: str | None = None, body: str = TABLES_PY) -> MigrationSource:
    root = tmp_path / "gadgetplugin"
    (root / "sql" / "sqlite").mkdir(parents=True)
    (root / "tables.py").write_text(body, encoding="utf-8")
    (root / "sql" / "sqlite" / "2026120100.tables").write_text(tables, encoding="utf-8")
    if sql is not None:
        (root / "sql" / "sqlite" / "2026120100.sql").write_text(sql, encoding="utf-8")
    return MigrationSource("Gadgets", "dbversion_Gadgets", root / "sql")


def _indexes(conn, table: str) -> set[str]:
    return {i["name"] for i in inspect(conn).get_indexes(table)}


def test_tables_then_sql_in_one_step(sqlite_host, tmp_path):
    source = _plugin(
        tmp_path,
        "-- the gadget tables\ntables.py\ngadgets\n",
        "INSERT INTO gadgets (id, label) SELECT 1, 'first' WHERE NOT EXISTS (SELECT 1 FROM gadgets WHERE id = 1);",
    )
    said: list[str] = []
    assert upgrade(sqlite_host.engine, source, echo=said.append) == ["2026120100"]
    assert said == ["Gadgets: applied 2026120100 (2026120100.tables + 2026120100.sql)"]
    with sqlite_host.engine.connect() as conn:
        assert conn.execute(text("SELECT label FROM gadgets")).scalar_one() == "first"
        assert _indexes(conn, "gadgets") == {"gadgets_label_idx"}
        assert not inspect(conn).has_table("spares")  # only the tables the step names
        assert get_dbinfo(conn, "dbversion_Gadgets") == "2026120100"
    assert upgrade(sqlite_host.engine, source) == []


def test_a_rerun_keeps_the_table_and_adds_a_missing_index(sqlite_host, tmp_path):
    source = _plugin(tmp_path, "tables.py\n")
    step = source.steps("sqlite")[0][1]
    with sqlite_host.engine.begin() as conn:
        run_step(conn, step)
        conn.execute(text("INSERT INTO gadgets (id, label) VALUES (7, 'kept')"))
        conn.execute(text("DROP INDEX gadgets_label_idx"))  # as if MySQL had stopped between two statements
        run_step(conn, step)
        assert conn.execute(text("SELECT label FROM gadgets WHERE id = 7")).scalar_one() == "kept"
        assert _indexes(conn, "gadgets") == {"gadgets_label_idx"}
        assert inspect(conn).has_table("spares")  # no names: every table of the module


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("-- nothing\n", "names no tables module"),
        ("nosuch.py\n", "no tables module"),
        ("tables.py\nwidgets\n", "no table widgets"),
    ],
)
def test_a_broken_tables_step_is_refused_and_records_nothing(sqlite_host, tmp_path, content, message):
    source = _plugin(tmp_path, content)
    with pytest.raises(SchemaError, match=message):
        upgrade(sqlite_host.engine, source)
    with sqlite_host.engine.connect() as conn:
        assert get_dbinfo(conn, "dbversion_Gadgets") is None
        assert not inspect(conn).has_table("gadgets")


def test_the_module_is_the_one_the_plugin_queries_with():
    step = Path(wildcore_tables.__file__).parent / "sql" / "sqlite" / "2026120700.tables"
    assert declared_tables(step) == list(wildcore_tables.TABLES)


def _nodeid_indexes(conn) -> list[str]:
    return sorted(i["name"] for i in inspect(conn).get_indexes("macs") if i["column_names"][:1] == ["nodeid"])


@pytest.mark.postgres
def test_host_step_renames_the_core_indexes_wildcore_created(pg_host):
    step = HOST_SQL_DIR / "postgresql" / "2026120701.sql"
    with pg_host.engine.begin() as conn:
        assert _nodeid_indexes(conn) == ["lmsplugins_macs_nodeid_idx"]  # the template ran the host's steps
        conn.execute(text("ALTER INDEX lmsplugins_macs_nodeid_idx RENAME TO wildcore_macs_nodeid_idx"))
        run_step(conn, step)
        run_step(conn, step)
        assert _nodeid_indexes(conn) == ["lmsplugins_macs_nodeid_idx"]
        owners = [i["name"] for i in inspect(conn).get_indexes("netdevices") if i["column_names"] == ["ownerid"]]
        assert owners == ["lmsplugins_netdevices_ownerid_idx"]


@pytest.mark.mysql
def test_host_step_adds_no_duplicate_of_the_foreign_key_index_on_mysql(mysql_host):
    step = HOST_SQL_DIR / "mysql" / "2026120701.sql"
    with mysql_host.engine.begin() as conn:
        before = _nodeid_indexes(conn)
        assert len(before) == 1 and not before[0].startswith("lmsplugins_")  # InnoDB's, from the foreign key
        conn.exec_driver_sql(f"ALTER TABLE macs DROP FOREIGN KEY {_fk_name(conn)}")
        conn.exec_driver_sql(f"DROP INDEX {before[0]} ON macs")
        assert _nodeid_indexes(conn) == []  # a table from before the foreign keys
        run_step(conn, step)
        run_step(conn, step)
        assert _nodeid_indexes(conn) == ["lmsplugins_macs_nodeid_idx"]


def _fk_name(conn) -> str:
    return next(fk["name"] for fk in inspect(conn).get_foreign_keys("macs") if fk["constrained_columns"] == ["nodeid"])


def test_the_sqlite_core_schema_already_indexes_both(sqlite_host):
    with sqlite_host.engine.connect() as conn:
        assert _nodeid_indexes(conn)
        assert any(i["column_names"] == ["ownerid"] for i in inspect(conn).get_indexes("netdevices"))
