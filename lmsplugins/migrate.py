"""Per-plugin schema versions, kept where LMS keeps them (``dbinfo``), with SQL per dialect.

A migration source is a folder ``sql/<dialect>/<YYYYMMDDNN>.{tables,rows,sql}`` (dialect: postgresql,
mysql, sqlite) and a dbinfo key, ``dbversion_<LMS class name>`` for a plugin. Each pending step runs in its
own transaction together with its dbinfo update, so an interrupted upgrade resumes at the first step
not recorded. A database where the PHP plugin already installed version V has ``dbinfo`` at V and
nothing to do: it is taken over as it is (DESIGN rule 4). Steps are written to be re-runnable
(``IF NOT EXISTS``) because MySQL commits DDL on its own and cannot roll a half step back.

A step is one version; it may have three parts, run in this order in one transaction:

- ``<version>.tables``: "create these tables of a ``tables.py`` if missing". The DDL is SQLAlchemy's
  for the connection's dialect, so a table is declared once (in ``tables.py``) and not again per
  dialect; four hand-written copies of one table drift. The file names the module's file, relative
  to the folder holding ``sql/`` (first line, e.g. ``tables.py``), then the tables (one a line; none:
  the module's ``TABLES``, else all of its ``metadata``). The module is the one the plugin imports
  (in-tree ``plugins.<name>`` or a drop-in's package), so its tables are the very objects queried. A table that
  exists is kept, and only its missing indexes are added, so the part is re-runnable.
- ``<version>.rows``: seed rows declared once, as :class:`SeedRows` in a module of the plugin. Same
  format: the module's file, then the names of its ``SeedRows`` (none: the module's ``ROWS``). Each row
  is inserted by an ``INSERT ... SELECT ... WHERE NOT EXISTS`` SQLAlchemy builds for the dialect, only
  when no row has its values in the key columns, so a re-run adds what is missing and keeps what an
  admin changed.
- ``<version>.sql``: hand-written SQL, only for what truly differs per dialect (a PostgreSQL schema
  reproduced byte for byte from a PHP plugin for a take-over, triggers, rows computed from other rows).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Table, exists, insert, inspect, literal, select, text
from sqlalchemy.engine import Connection, Engine

from lmsplugins.errors import SchemaError
from lmsplugins.lms.settings import get_dbinfo, set_dbinfo

HOST_DBINFO_KEY = "dbversion_LMSPluginsHost"
HOST_SQL_DIR = Path(__file__).parent / "sql"
_STEP_RE = re.compile(r"^(\d{10})\.(sql|tables|rows)$")
_PART_ORDER = {"tables": 0, "rows": 1, "sql": 2}


@dataclass(frozen=True)
class SeedRows:
    """Rows a ``.rows`` part inserts into *table*, each only when no row has the same values in the
    *key* columns; a key column a row leaves out must be NULL there (``userid IS NULL``)."""

    table: Table
    key: tuple[str, ...]
    rows: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class MigrationSource:
    """Something that owns tables: the host itself or one plugin."""

    title: str
    dbinfo_key: str
    sql_dir: Path
    target: str | None = None

    def steps(self, dialect: str) -> list[tuple[str, Path]]:
        """One ``(version, first part)`` per version; :func:`step_parts` lists all of its parts."""
        folder = self.sql_dir / dialect
        if not folder.is_dir():
            return []
        parts = sorted(
            (m.group(1), _PART_ORDER[m.group(2)], p) for p in folder.iterdir() if (m := _STEP_RE.match(p.name))
        )
        found: list[tuple[str, Path]] = []
        for version, _order, path in parts:
            if not found or found[-1][0] != version:
                found.append((version, path))
        if self.target is not None:
            found = [(v, p) for v, p in found if v <= self.target]
        return found

    @property
    def latest(self) -> str | None:
        versions = [v for d in ("postgresql", "mysql", "sqlite") for v, _ in self.steps(d)]
        return self.target or (max(versions) if versions else None)


HOST_SOURCE = MigrationSource("lmsplugins host", HOST_DBINFO_KEY, HOST_SQL_DIR)


def split_sql(script: str) -> Iterator[str]:
    """Split a script into statements on ``;`` outside quotes, comments, ``$$`` bodies and
    ``CREATE TRIGGER ... BEGIN ... END`` blocks."""
    buf: list[str] = []
    i, n = 0, len(script)
    depth = 0
    while i < n:
        ch = script[i]
        if script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end == -1 else end + 1
            buf.append("\n")
            continue
        if script.startswith("/*", i):
            end = script.find("*/", i + 2)
            i = n if end == -1 else end + 2
            continue
        if ch in "'\"`":
            j = i + 1
            while j < n:
                if script[j] == ch:
                    if j + 1 < n and script[j + 1] == ch:
                        j += 2
                        continue
                    break
                if script[j] == "\\" and ch != "'":
                    j += 1
                j += 1
            buf.append(script[i : j + 1])
            i = j + 1
            continue
        if script.startswith("$$", i):
            end = script.find("$$", i + 2)
            end = n if end == -1 else end + 2
            buf.append(script[i:end])
            i = end
            continue
        word = re.match(r"[A-Za-z_]+", script[i:])
        if word and (i == 0 or not (script[i - 1].isalnum() or script[i - 1] == "_")):
            upper = word.group(0).upper()
            if upper == "BEGIN" and re.search(r"CREATE\s+TRIGGER", "".join(buf), re.IGNORECASE):
                depth += 1
            elif upper == "END" and depth:
                depth -= 1
            buf.append(word.group(0))
            i += len(word.group(0))
            continue
        if ch == ";" and depth == 0:
            stmt = "".join(buf).strip()
            if stmt:
                yield stmt
            buf = []
            i += 1
            continue
        buf.append(ch)
        i += 1
    stmt = "".join(buf).strip()
    if stmt:
        yield stmt


def step_parts(path: Path) -> list[Path]:
    """The parts of the step *path* belongs to, in the order they run (``.tables`` first)."""
    version = path.name.split(".", 1)[0]
    return [p for ext in _PART_ORDER if (p := path.with_name(f"{version}.{ext}")).is_file()]


def _module_at(file: Path) -> ModuleType:
    """The module of *file*, imported through the package that holds its folder when one is loaded."""
    folder = file.parent.resolve()
    for name, module in list(sys.modules.items()):
        if any(Path(p).resolve() == folder for p in getattr(module, "__path__", None) or ()):
            return importlib.import_module(f"{name}.{file.stem}")
    spec = importlib.util.spec_from_file_location(f"lmsplugins_tables_{abs(hash(str(folder)))}", file)
    if spec is None or spec.loader is None:
        raise SchemaError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # once per process: its tables stay the same objects
    spec.loader.exec_module(module)
    return module


def _declaration(path: Path) -> tuple[ModuleType, list[str]]:
    """The module a ``.tables`` or ``.rows`` part names (first line) and the names after it."""
    kind = path.suffix[1:]
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(("#", "--"))]
    if not lines:
        raise SchemaError(f"migration step {path} names no {kind} module")
    file = path.parent.parent.parent / lines[0]
    if not file.is_file():
        raise SchemaError(f"migration step {path}: no {kind} module {file}")
    return _module_at(file), lines


def declared_tables(path: Path) -> list[Table]:
    """The tables a ``.tables`` part (``<root>/sql/<dialect>/<version>.tables``) names, in creation order."""
    module, lines = _declaration(path)
    metadata = module.metadata
    if len(lines) > 1:
        missing = [n for n in lines[1:] if n not in metadata.tables]
        if missing:
            raise SchemaError(f"migration step {path}: {lines[0]} declares no table {', '.join(missing)}")
        return [metadata.tables[n] for n in lines[1:]]
    return list(getattr(module, "TABLES", metadata.sorted_tables))


def declared_rows(path: Path) -> list[SeedRows]:
    """The :class:`SeedRows` a ``.rows`` part names, in its order."""
    module, lines = _declaration(path)
    missing = [n for n in lines[1:] if not isinstance(getattr(module, n, None), SeedRows)]
    if missing:
        raise SchemaError(f"migration step {path}: {lines[0]} declares no SeedRows {', '.join(missing)}")
    return [getattr(module, n) for n in lines[1:]] if len(lines) > 1 else list(module.ROWS)


def insert_missing(conn: Connection, seeds: list[SeedRows]) -> None:
    """Insert each seed row that no row matches on its key, in this dialect's SQL."""
    for seed in seeds:
        table, found = seed.table, seed.table.alias("found")
        for row in seed.rows:
            match = [found.c[k].is_(None) if row.get(k) is None else found.c[k] == row[k] for k in seed.key]
            values = select(*(literal(v, table.c[c].type) for c, v in row.items()))
            conn.execute(insert(table).from_select(list(row), values.where(~exists().where(*match))))


def _index_names(conn: Connection, table: str) -> set[str]:
    if conn.dialect.name == "sqlite":  # the inspector skips expression indexes on SQLite
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"), {"t": table})
        return {r[0] for r in rows}
    found = {i["name"] for i in inspect(conn).get_indexes(table)}
    return found | {u["name"] for u in inspect(conn).get_unique_constraints(table)}


def create_declared(conn: Connection, tables: list[Table]) -> None:
    """Create each table (with its indexes) in this dialect's DDL, or add the indexes it lacks."""
    for table in tables:
        if not inspect(conn).has_table(table.name):
            table.create(conn)
            continue
        have = _index_names(conn, table.name)
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            if index.name not in have:
                index.create(conn)


def run_step(conn: Connection, path: Path) -> None:
    """Run every part of the step *path* belongs to on *conn* (the caller owns the transaction)."""
    for part in step_parts(path):
        if part.suffix == ".tables":
            create_declared(conn, declared_tables(part))
        elif part.suffix == ".rows":
            insert_missing(conn, declared_rows(part))
        else:
            for statement in split_sql(part.read_text(encoding="utf-8")):
                conn.exec_driver_sql(statement)


def current_version(conn: Connection, source: MigrationSource) -> str | None:
    if not inspect(conn).has_table("dbinfo"):
        return None
    return get_dbinfo(conn, source.dbinfo_key)


def pending(conn: Connection, source: MigrationSource) -> list[tuple[str, Path]]:
    current = current_version(conn, source)
    return [(v, p) for v, p in source.steps(conn.dialect.name) if current is None or v > current]


def upgrade(engine: Engine, source: MigrationSource, echo: Callable[[str], None] = lambda _m: None) -> list[str]:
    """Apply the pending steps of *source*; returns the versions applied."""
    with engine.connect() as conn:
        steps = pending(conn, source)
    applied: list[str] = []
    for version, path in steps:
        with engine.begin() as conn:
            run_step(conn, path)
            set_dbinfo(conn, source.dbinfo_key, version)
        echo(f"{source.title}: applied {version} ({' + '.join(p.name for p in step_parts(path))})")
        applied.append(version)
    return applied
