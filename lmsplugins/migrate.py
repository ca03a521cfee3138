"""Per-plugin schema versions, kept where LMS keeps them (``dbinfo``), with SQL per dialect.

A migration source is a folder ``sql/<dialect>/<YYYYMMDDNN>.sql`` (dialect: postgresql, mysql,
sqlite) and a dbinfo key, ``dbversion_<LMS class name>`` for a plugin. Each pending step runs in its
own transaction together with its dbinfo update, so an interrupted upgrade resumes at the first step
not recorded. A database where the PHP plugin already installed version V has ``dbinfo`` at V and
nothing to do: it is taken over as it is (DESIGN rule 4). Steps are written to be re-runnable
(``IF NOT EXISTS``) because MySQL commits DDL on its own and cannot roll a half step back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from lmsplugins.lms.settings import get_dbinfo, set_dbinfo

HOST_DBINFO_KEY = "dbversion_LMSPluginsHost"
HOST_SQL_DIR = Path(__file__).parent / "sql"
_STEP_RE = re.compile(r"^(\d{10})\.sql$")


@dataclass(frozen=True)
class MigrationSource:
    """Something that owns tables: the host itself or one plugin."""

    title: str
    dbinfo_key: str
    sql_dir: Path
    target: str | None = None

    def steps(self, dialect: str) -> list[tuple[str, Path]]:
        folder = self.sql_dir / dialect
        if not folder.is_dir():
            return []
        found = sorted((m.group(1), p) for p in folder.iterdir() if (m := _STEP_RE.match(p.name)))
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
            for statement in split_sql(path.read_text(encoding="utf-8")):
                conn.exec_driver_sql(statement)
            set_dbinfo(conn, source.dbinfo_key, version)
        echo(f"{source.title}: applied {version} ({path.name})")
        applied.append(version)
    return applied
