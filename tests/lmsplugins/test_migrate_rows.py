"""The ``.rows`` part of a migration step: seed rows declared once (``SeedRows``), inserted after the
``.tables`` part and before the ``.sql`` part, each only when no row matches its key."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from lmsplugins.errors import SchemaError
from lmsplugins.lms.settings import get_dbinfo
from lmsplugins.migrate import MigrationSource, upgrade

TABLES_PY = """
from sqlalchemy import Column, Integer, MetaData, String, Table

from lmsplugins.migrate import SeedRows

metadata = MetaData()
knobs = Table(
    "knobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False),
    Column("owner", Integer, nullable=True),
    Column("value", String(20), nullable=False),
)
KNOBS = SeedRows(knobs, key=("name", "owner"), rows=({"name": "size", "value": "1"}, {"name": "tone", "value": "a"}))
NOT_ROWS = 3
"""


def _plugin(tmp_path: Path, rows: str, sql: str | None = None) -> MigrationSource:
    root = tmp_path / "knobplugin"
    (root / "sql" / "sqlite").mkdir(parents=True)
    (root / "tables.py").write_text(TABLES_PY, encoding="utf-8")
    (root / "sql" / "sqlite" / "2026120800.tables").write_text("tables.py\n", encoding="utf-8")
    (root / "sql" / "sqlite" / "2026120800.rows").write_text(rows, encoding="utf-8")
    if sql is not None:
        (root / "sql" / "sqlite" / "2026120800.sql").write_text(sql, encoding="utf-8")
    return MigrationSource("Knobs", "dbversion_Knobs", root / "sql")


def _knobs(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(text("SELECT name, owner, value FROM knobs ORDER BY name, owner"))]


def test_rows_come_between_tables_and_sql_and_only_when_missing(sqlite_host, tmp_path):
    source = _plugin(tmp_path, "-- the knobs\ntables.py\nKNOBS\n", "UPDATE knobs SET value = 'b' WHERE name = 'tone';")
    said: list[str] = []
    assert upgrade(sqlite_host.engine, source, echo=said.append) == ["2026120800"]
    assert said == ["Knobs: applied 2026120800 (2026120800.tables + 2026120800.rows + 2026120800.sql)"]
    with sqlite_host.engine.begin() as conn:
        assert _knobs(conn) == [("size", None, "1"), ("tone", None, "b")]
        conn.execute(text("DELETE FROM knobs WHERE name = 'size'"))
        conn.execute(text("INSERT INTO knobs (name, owner, value) VALUES ('size', 4, 'own')"))
        conn.execute(text("DELETE FROM dbinfo WHERE keytype = 'dbversion_Knobs'"))
    (tmp_path / "knobplugin" / "sql" / "sqlite" / "2026120800.sql").unlink()
    assert upgrade(sqlite_host.engine, source) == ["2026120800"]
    with sqlite_host.engine.connect() as conn:  # the owner's row does not count: size is missing for owner NULL
        assert _knobs(conn) == [("size", None, "1"), ("size", 4, "own"), ("tone", None, "b")]


@pytest.mark.parametrize(
    ("content", "message"),
    [("-- nothing\n", "names no rows module"), ("tables.py\nNOT_ROWS\nNOPE\n", "declares no SeedRows NOT_ROWS, NOPE")],
)
def test_a_broken_rows_step_is_refused_and_records_nothing(sqlite_host, tmp_path, content, message):
    with pytest.raises(SchemaError, match=message):
        upgrade(sqlite_host.engine, _plugin(tmp_path, content))
    with sqlite_host.engine.connect() as conn:
        assert get_dbinfo(conn, "dbversion_Knobs") is None
