"""Every plugin table exists four times (``tables.py`` and a migration per dialect) and the copies must not
drift: what our migrations create in each dialect is compared with (b) the ``tables.py`` declaration
the code queries with and (a) the PHP plugin's own schema where one exists for that dialect (the
schema a take-over finds). Compared: columns, type family and size, nullability, defaults, primary
key, unique keys, indexes (by columns; names differ between the PHP files and dialects) and foreign
keys. One reflection per database, so the whole matrix costs a few seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
import warnings
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from sqlalchemy import Column, Index, Table, UniqueConstraint, inspect, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Connection

from lmsplugins.migrate import MigrationSource, upgrade
from lmsplugins.testing import databases as dbs
from plugins.example import tables as example_tables
from plugins.hiperus_c5 import tables as hiperus_tables
from plugins.metroport_mms import tables as mms_tables
from plugins.wildcore import tables as wildcore_tables

PLUGIN_TABLES: dict[str, tuple[Table, ...]] = {
    "hiperus_c5": tuple(hiperus_tables.ALL_TABLES),
    "metroport_mms": tuple(mms_tables.TABLES),
    "wildcore": tuple(wildcore_tables.TABLES),
    "example": tuple(example_tables.TABLES),
}
NO_TABLES = ("metroport_mvno", "userside")  # seed rows only / no schema of their own
DIALECT_DIFFERENCES = {
    # (dialect, "table.column"): why the dialect's hand-written step must differ from the declaration.
    ("postgresql", "hv_pstnusage.id"): "NOT NULL, numbered by a sequence outside the key, as in lms.pgsql",
    ("mysql", "hv_pstnusage.id"): "NOT NULL AUTO_INCREMENT outside the key, as in lms.mysql",
}


def _source(host, name: str) -> MigrationSource:
    plugin = host.plugin(name)
    assert plugin is not None, f"plugin {name} not found"
    return MigrationSource(plugin.title, plugin.dbinfo_key, plugin.sql_dir, plugin.db_version)


# --- one normal form for reflected and declared tables -------------------------------------------------


def _type(t: sqltypes.TypeEngine, dialect: str) -> tuple:
    if isinstance(t, sqltypes.Enum) and not (dialect == "sqlite" or not t.native_enum):
        return ("enum", tuple(t.enums))
    if isinstance(t, sqltypes.Enum):
        return ("varchar", t.length)
    if isinstance(t, sqltypes.BigInteger):
        return ("bigint",)
    if isinstance(t, sqltypes.SmallInteger):
        return ("smallint",)
    if isinstance(t, sqltypes.Integer):
        return ("integer",)
    if isinstance(t, sqltypes.Text):
        return ("text",)
    if isinstance(t, sqltypes.CHAR):
        return ("char", t.length)
    if isinstance(t, sqltypes.String):
        return ("varchar", t.length)
    if isinstance(t, sqltypes.Numeric):
        return ("numeric", t.precision, t.scale)
    if isinstance(t, sqltypes.DateTime):
        return ("datetime",)
    if isinstance(t, sqltypes.Date):
        return ("date",)
    return (type(t).__name__.lower(),)


_CAST = re.compile(r"::[\w ]+(\(\d+(,\s*\d+)?\))?", re.IGNORECASE)


def _default(value: object) -> str | None:
    """A server default as text, without casts, quotes and the spellings a dialect adds."""
    if value is None:
        return None
    raw = str(getattr(value, "text", value)).strip()
    if "nextval(" in raw:
        return None  # a serial column: its sequence, not a value
    raw = _CAST.sub("", raw)
    while raw.startswith("(") and raw.endswith(")"):
        raw = raw[1:-1].strip()
    if raw.upper() == "NULL":
        return None
    if raw.lower() in ("current_timestamp", "current_timestamp()", "now()"):
        return "CURRENT_TIMESTAMP"
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        raw = raw[1:-1]
    try:
        return str(Decimal(raw).normalize()) if raw else raw
    except InvalidOperation:
        return raw


def _declared(table: Table, dialect: str) -> dict:
    def applies(item: Index | UniqueConstraint) -> bool:
        cond = getattr(item, "_ddl_if", None)
        if cond is None or cond.dialect is None:
            return True
        return dialect in ((cond.dialect,) if isinstance(cond.dialect, str) else cond.dialect)

    def col(c: Column) -> tuple:
        return (_type(c.type, dialect), bool(c.nullable), _default(c.server_default and c.server_default.arg))

    uniques = {tuple(c.name for c in u.columns) for u in table.constraints if isinstance(u, UniqueConstraint)}
    uniques |= {(c.name,) for c in table.columns if c.unique}
    indexes: set[tuple] = set()
    for ix in table.indexes:
        if not applies(ix):
            continue
        cols = tuple(e.name if isinstance(e, Column) else None for e in ix.expressions)
        key = ("expr", ix.name) if None in cols else cols
        (uniques if ix.unique else indexes).add(key)
    return {
        "columns": {c.name: col(c) for c in table.columns},
        "pk": tuple(c.name for c in table.primary_key.columns),
        "unique": uniques,
        "indexes": indexes,
        "fks": {
            (tuple(fk.column_keys), fk.elements[0].column.table.name, fk.ondelete and fk.ondelete.upper())
            for fk in table.foreign_key_constraints
        },
    }


def _reflected(conn: Connection, name: str) -> dict:
    dialect = conn.dialect.name
    insp = inspect(conn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLite: "skipped unsupported reflection of expression-based index"
        raw_indexes = insp.get_indexes(name)
        uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints(name)}
    fk_names = {fk["name"] for fk in insp.get_foreign_keys(name)}
    indexes: set[tuple] = set()
    for ix in raw_indexes:
        if dialect == "mysql" and ix["name"] in fk_names:
            continue  # the index InnoDB adds by itself for a foreign key
        cols = tuple(ix["column_names"])
        key = ("expr", ix["name"]) if None in cols else cols
        (uniques if ix["unique"] else indexes).add(key)
    if dialect == "sqlite":
        listed = conn.exec_driver_sql(f"PRAGMA index_list('{name}')").all()
        known = {ix["name"] for ix in raw_indexes}
        for row in listed:
            if row[3] == "c" and row[1] not in known:  # created by CREATE INDEX, not reflected: an expression
                indexes.add(("expr", row[1]))
    pk = tuple(insp.get_pk_constraint(name)["constrained_columns"])
    if pk in uniques:
        uniques.discard(pk)
    return {
        "columns": {
            c["name"]: (_type(c["type"], dialect), bool(c["nullable"]) and c["name"] not in pk, _default(c["default"]))
            for c in insp.get_columns(name)
        },
        "pk": pk,
        "unique": uniques,
        "indexes": indexes,
        "fks": {
            (tuple(fk["constrained_columns"]), fk["referred_table"], _ondelete(fk["options"].get("ondelete")))
            for fk in insp.get_foreign_keys(name)
        },
    }


def _known(dialect: str, problem: str) -> bool:
    return (dialect, problem.split(":", 1)[0]) in DIALECT_DIFFERENCES


def _ondelete(value: str | None) -> str | None:
    return None if value is None or value.upper() in ("NO ACTION", "RESTRICT") else value.upper()


def _schema(conn: Connection, tables: tuple[Table, ...]) -> dict[str, dict]:
    return {t.name: _reflected(conn, t.name) for t in tables}


def _diff(left: dict[str, dict], right: dict[str, dict]) -> list[str]:
    """Readable differences (table, aspect, column), empty when equal."""
    out: list[str] = []
    for table in sorted(set(left) | set(right)):
        a, b = left.get(table), right.get(table)
        if a is None or b is None:
            out.append(f"{table}: only on the {'right' if a is None else 'left'}")
            continue
        for aspect in ("pk", "unique", "indexes", "fks"):
            if a[aspect] != b[aspect]:
                out.append(f"{table}.{aspect}: {a[aspect]} != {b[aspect]}")
        for column in sorted(set(a["columns"]) | set(b["columns"])):
            if a["columns"].get(column) != b["columns"].get(column):
                out.append(f"{table}.{column}: {a['columns'].get(column)} != {b['columns'].get(column)}")
    return out


# --- (b) our migrations == tables.py, every plugin and dialect ------------------------------------------


def test_migrations_create_what_tables_py_declares(lms_host):
    """All plugins in one database per dialect: one migration run and one reflection per dialect."""
    dialect = lms_host.engine.dialect.name
    for name in PLUGIN_TABLES:
        upgrade(lms_host.engine, _source(lms_host, name))
    with lms_host.engine.connect() as conn:
        problems = []
        for name, tables in PLUGIN_TABLES.items():
            declared = {t.name: _declared(t, dialect) for t in tables}
            found = _diff(_schema(conn, tables), declared)
            problems += [f"{name} ({dialect}) {p}" for p in found if not _known(dialect, p)]
    assert problems == [], "\n".join(problems)


def test_plugins_without_tables_declare_none(sqlite_host):
    for name in NO_TABLES:
        plugin = sqlite_host.plugin(name)
        assert plugin is not None and plugin.tables is None


def test_the_comparison_sees_a_drift(sqlite_host):
    """The comparison is not blind: a column our migration lacks, or a changed default, is reported."""
    upgrade(sqlite_host.engine, _source(sqlite_host, "wildcore"))
    table = wildcore_tables.wildcore_misses
    declared = {table.name: _declared(table, "sqlite")}
    with sqlite_host.engine.begin() as conn:
        assert _diff(_schema(conn, (table,)), declared) == []
        conn.execute(text("ALTER TABLE wildcore_misses ADD COLUMN extra integer"))
        assert _diff(_schema(conn, (table,)), declared) == ["wildcore_misses.extra: (('integer',), True, None) != None"]
    declared[table.name]["columns"]["reason"] = (("varchar", 255), False, "x")
    with sqlite_host.engine.connect() as conn:
        assert any(p.startswith("wildcore_misses.reason:") for p in _diff(_schema(conn, (table,)), declared))


# --- (a) our migrations == the PHP plugin's schema, where the PHP plugin has one for the dialect ---------


def _psql_file(host, path: Path) -> None:
    p = dbs.pg_params()
    db = host.ini_config.database_params()["database"]
    subprocess.run(
        ["psql", "-h", p["host"], "-p", p["port"], "-U", p["user"], "-v", "ON_ERROR_STOP=1", "-q", db, "-f", str(path)],
        check=True,
        capture_output=True,
        env={**os.environ, "PGOPTIONS": "--client-min-messages=warning"},
    )


def _load_php(host, name: str, tmp_path: Path) -> None:
    if name == "metroport_mms":  # the PHP plugin's schema after all its upgrade steps (pg_dump)
        path = dbs.schema_file("plugins/LMSMetroportPlugin/final-schema.pgsql")
        lines = path.read_text(encoding="utf-8").splitlines()
        clean = tmp_path / "final.pgsql"
        clean.write_text("\n".join(ln for ln in lines if not ln.startswith("\\")) + "\n", encoding="utf-8")
        _psql_file(host, clean)
    else:
        dbs.load_php_plugin_schema(host, "LMSHiperusPlugin")


def _drop(host, name: str) -> None:
    tables = [t.name for t in PLUGIN_TABLES[name]]
    with host.engine.begin() as conn:
        if conn.dialect.name == "mysql":
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
            conn.exec_driver_sql(f"DROP TABLE {', '.join(tables)}")
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
        else:
            conn.exec_driver_sql(f"DROP TABLE {', '.join(tables)} CASCADE")
            conn.exec_driver_sql("DROP TYPE IF EXISTS hv_bool, hv_payment_type CASCADE")
        conn.execute(text("DELETE FROM dbinfo WHERE keytype = :k"), {"k": host.plugin(name).dbinfo_key})


@pytest.mark.parametrize(
    ("name", "kind"),
    [("hiperus_c5", "pg_host"), ("hiperus_c5", "mysql_host"), ("metroport_mms", "pg_host")],
)
def test_migrations_create_the_php_plugins_schema(name, kind, request, tmp_path):
    """The PHP plugin's tables loaded from its own file, reflected, dropped; then ours, reflected."""
    host = request.getfixturevalue(kind)
    tables = PLUGIN_TABLES[name]
    _load_php(host, name, tmp_path)
    with host.engine.connect() as conn:
        php = _schema(conn, tables)
    _drop(host, name)
    assert upgrade(host.engine, _source(host, name))
    with host.engine.connect() as conn:
        ours = _schema(conn, tables)
    problems = _diff(ours, php)
    assert problems == [], "\n".join(problems)
