"""MariaDB test databases that cost a reset, not a load: one template per session, reused copies.

MariaDB has no ``CREATE DATABASE ... TEMPLATE``. Loading LMS's ``lms.mysql`` (160 tables, triggers,
views, functions) plus the host's migrations takes about a second, and re-creating the tables from
their ``SHOW CREATE`` text is not much faster (each InnoDB table is a file). What is fast is finding
what a test changed and undoing only that, because a test touches a handful of tables.

So a session loads one template database; each test gets a database from a free list; at teardown
the database is compared with the template and put back: tables a test added are dropped, tables whose
columns, indexes or foreign keys differ are re-created from the template's DDL, tables whose rows
(``CHECKSUM TABLE``) or ``AUTO_INCREMENT`` differ are emptied and refilled from the template, and
triggers, views and routines are compared by definition and re-created where they differ. A new
database is the same reset applied to an empty one. When anything in a reset fails, the database is
dropped instead of reused.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import pymysql

_counter = itertools.count(1)


def connect(params: dict[str, str], database: str | None = None) -> pymysql.Connection:
    return pymysql.connect(
        host=params["host"],
        port=int(params["port"]),
        user=params["user"],
        password=params.get("password", ""),
        database=database,
        autocommit=True,
        charset="utf8mb4",
    )


@dataclass
class Shape:
    """What a database holds, as comparable fingerprints (object name -> digest)."""

    tables: dict[str, str] = field(default_factory=dict)
    auto_increment: dict[str, int | None] = field(default_factory=dict)
    checksums: dict[str, int | None] = field(default_factory=dict)
    views: dict[str, str] = field(default_factory=dict)
    triggers: dict[str, str] = field(default_factory=dict)
    routines: dict[tuple[str, str], str] = field(default_factory=dict)


_COLUMNS = """
SELECT table_name, MD5(GROUP_CONCAT(CONCAT_WS('|', column_name, column_type, is_nullable,
       IFNULL(column_default, '~'), extra, IFNULL(collation_name, '')) ORDER BY ordinal_position SEPARATOR ';'))
FROM information_schema.columns WHERE table_schema = %s GROUP BY table_name"""
_INDEXES = """
SELECT table_name, MD5(GROUP_CONCAT(CONCAT_WS('|', index_name, seq_in_index, column_name, non_unique)
       ORDER BY index_name, seq_in_index SEPARATOR ';'))
FROM information_schema.statistics WHERE table_schema = %s GROUP BY table_name"""
_FOREIGN_KEYS = """
SELECT k.table_name, MD5(GROUP_CONCAT(CONCAT_WS('|', k.constraint_name, k.column_name, k.referenced_table_name,
       k.referenced_column_name, r.update_rule, r.delete_rule) ORDER BY k.constraint_name, k.ordinal_position
       SEPARATOR ';'))
FROM information_schema.key_column_usage k
JOIN information_schema.referential_constraints r
  ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name
 AND r.table_name = k.table_name
WHERE k.table_schema = %s AND k.referenced_table_name IS NOT NULL GROUP BY k.table_name"""


def shape(cur: pymysql.cursors.Cursor, db: str, with_data: bool = True) -> Shape:
    out = Shape()
    cur.execute(
        "SELECT table_name, table_type, auto_increment FROM information_schema.tables WHERE table_schema = %s", (db,)
    )
    base: list[str] = []
    for name, kind, auto in cur.fetchall():
        if kind == "VIEW":
            continue
        base.append(name)
        out.auto_increment[name] = auto
        out.tables[name] = ""
    for query in (_COLUMNS, _INDEXES, _FOREIGN_KEYS):
        cur.execute(query, (db,))
        for name, digest in cur.fetchall():
            if name in out.tables:
                out.tables[name] += f"{digest};"
    cur.execute("SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = %s", (db,))
    out.views = {name: _unqualify(definition, db) for name, definition in cur.fetchall()}
    cur.execute(
        "SELECT trigger_name, CONCAT_WS('|', event_manipulation, event_object_table, action_timing, action_statement) "
        "FROM information_schema.triggers WHERE trigger_schema = %s",
        (db,),
    )
    out.triggers = {name: _unqualify(body, db) for name, body in cur.fetchall()}
    cur.execute(
        "SELECT routine_name, routine_type, routine_definition FROM information_schema.routines "
        "WHERE routine_schema = %s",
        (db,),
    )
    out.routines = {(name, kind): _unqualify(body or "", db) for name, kind, body in cur.fetchall()}
    if with_data and base:
        cur.execute("CHECKSUM TABLE " + ", ".join(f"`{db}`.`{t}`" for t in base))
        out.checksums = {row[0].split(".", 1)[1]: row[1] for row in cur.fetchall()}
    return out


def _unqualify(text: str, db: str) -> str:
    return text.replace(f"`{db}`.", "")


@dataclass
class Template:
    """The session's template database and the DDL to rebuild any of its objects elsewhere."""

    name: str
    shape: Shape
    table_ddl: dict[str, str]
    tables_with_rows: set[str]
    view_ddl: dict[str, str]
    trigger_ddl: dict[str, str]
    routine_ddl: dict[tuple[str, str], str]

    @classmethod
    def read(cls, cur: pymysql.cursors.Cursor, name: str) -> Template:
        tpl_shape = shape(cur, name)
        table_ddl: dict[str, str] = {}
        for table in tpl_shape.tables:
            cur.execute(f"SHOW CREATE TABLE `{name}`.`{table}`")
            table_ddl[table] = cur.fetchone()[1]
        view_ddl: dict[str, str] = {}
        for view in tpl_shape.views:
            cur.execute(f"SHOW CREATE VIEW `{name}`.`{view}`")
            view_ddl[view] = _unqualify(cur.fetchone()[1], name)
        cur.execute(f"USE `{name}`")
        trigger_ddl: dict[str, str] = {}
        for trigger in tpl_shape.triggers:
            cur.execute(f"SHOW CREATE TRIGGER `{trigger}`")
            trigger_ddl[trigger] = _unqualify(cur.fetchone()[2], name)
        routine_ddl: dict[tuple[str, str], str] = {}
        for routine, kind in tpl_shape.routines:
            cur.execute(f"SHOW CREATE {kind} `{routine}`")
            routine_ddl[(routine, kind)] = _unqualify(cur.fetchone()[2], name)
        with_rows = {t for t, checksum in tpl_shape.checksums.items() if checksum not in (None, 0)}
        return cls(name, tpl_shape, table_ddl, with_rows, view_ddl, trigger_ddl, routine_ddl)


def reset(cur: pymysql.cursors.Cursor, db: str, tpl: Template) -> None:
    """Make *db* hold what the template holds, touching only what differs."""
    _kill_others(cur, db)
    now = shape(cur, db)
    want = tpl.shape
    cur.execute(f"USE `{db}`")
    cur.execute("SET SESSION foreign_key_checks = 0, SESSION unique_checks = 0")
    try:
        for view in now.views:
            if want.views.get(view) != now.views[view]:
                cur.execute(f"DROP VIEW `{view}`")
        for routine, kind in now.routines:
            if want.routines.get((routine, kind)) != now.routines[(routine, kind)]:
                cur.execute(f"DROP {kind} `{routine}`")
        refill: set[str] = set()
        for table in now.tables:
            if table not in want.tables:
                cur.execute(f"DROP TABLE `{table}`")
            elif now.tables[table] != want.tables[table]:
                cur.execute(f"DROP TABLE `{table}`")
                cur.execute(tpl.table_ddl[table])
                refill.add(table)
            elif now.checksums.get(table) != want.checksums.get(table) or now.auto_increment.get(
                table
            ) != want.auto_increment.get(table):
                cur.execute(f"DELETE FROM `{table}`")
                if now.auto_increment.get(table) != want.auto_increment.get(table):
                    cur.execute(f"ALTER TABLE `{table}` AUTO_INCREMENT = {want.auto_increment[table] or 1}")
                refill.add(table)
        for table in want.tables:
            if table not in now.tables:
                cur.execute(tpl.table_ddl[table])
                refill.add(table)
        for table in sorted(refill & tpl.tables_with_rows):
            cur.execute(f"INSERT INTO `{table}` SELECT * FROM `{tpl.name}`.`{table}`")
        cur.execute(
            "SELECT trigger_name, CONCAT_WS('|', event_manipulation, event_object_table, action_timing, "
            "action_statement) FROM information_schema.triggers WHERE trigger_schema = %s",
            (db,),
        )
        triggers = {name: _unqualify(body, db) for name, body in cur.fetchall()}
        for trigger, body in triggers.items():
            if want.triggers.get(trigger) != body:
                cur.execute(f"DROP TRIGGER `{trigger}`")
                triggers[trigger] = ""
        for trigger, body in want.triggers.items():
            if triggers.get(trigger) != body:
                cur.execute(tpl.trigger_ddl[trigger])
        for key, body in want.routines.items():
            if now.routines.get(key) != body:
                cur.execute(tpl.routine_ddl[key])
        _create_views(cur, [v for v, body in want.views.items() if now.views.get(v) != body], tpl)
    finally:
        cur.execute("SET SESSION foreign_key_checks = 1, SESSION unique_checks = 1")


def _create_views(cur: pymysql.cursors.Cursor, views: list[str], tpl: Template) -> None:
    """Views may read other views: retry the ones whose base is not there yet."""
    pending = list(views)
    while pending:
        failed: list[str] = []
        error: Exception | None = None
        for view in pending:
            try:
                cur.execute(tpl.view_ddl[view])
            except pymysql.MySQLError as exc:
                failed.append(view)
                error = exc
        if len(failed) == len(pending):
            raise RuntimeError(f"cannot re-create views {failed}: {error}")
        pending = failed


def _kill_others(cur: pymysql.cursors.Cursor, db: str) -> None:
    """Connections a test left open (a second Host, a server thread) would block the DDL."""
    cur.execute("SELECT id FROM information_schema.processlist WHERE db = %s AND id <> CONNECTION_ID()", (db,))
    for (conn_id,) in cur.fetchall():
        with suppress(pymysql.MySQLError):
            cur.execute(f"KILL {int(conn_id)}")


class Pool:
    """Databases cloned from one template, handed out one per test and put back by a reset."""

    def __init__(self, params: dict[str, str], template: str, prefix: str = "lmsplugins_t"):
        self.params = params
        self.prefix = prefix
        self._admin = connect(params)
        self.template = Template.read(self._admin.cursor(), template)
        self._free: list[str] = []
        self._all: set[str] = set()

    def acquire(self) -> str:
        if self._free:
            return self._free.pop()
        name = f"{self.prefix}_{os.getpid()}_{next(_counter)}"
        self._reconnect_if_gone()  # a test that kills server connections may have taken ours too
        cur = self._admin.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        self._all.add(name)
        try:
            reset(cur, name, self.template)
        except Exception:
            self.discard(name)
            raise
        return name

    def release(self, name: str) -> None:
        """Reset *name* for the next test, or drop it when the reset fails."""
        try:
            self._reconnect_if_gone()
            reset(self._admin.cursor(), name, self.template)
        except Exception:
            self.discard(name)
        else:
            self._free.append(name)

    def _reconnect_if_gone(self) -> None:
        try:
            self._admin.ping()
        except (pymysql.MySQLError, OSError):
            self._admin = connect(self.params)

    def discard(self, name: str) -> None:
        self._all.discard(name)
        try:
            cur = self._admin.cursor()
            _kill_others(cur, name)
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        except pymysql.MySQLError:
            pass

    def differences(self, name: str) -> list[str]:
        """What differs between *name* and the template (empty when equal); for the pool's own tests."""
        now = shape(self._admin.cursor(), name)
        want = self.template.shape
        out: list[str] = []
        for label in ("tables", "auto_increment", "checksums", "views", "triggers", "routines"):
            a, b = getattr(now, label), getattr(want, label)
            out += [f"{label}: {key}" for key in sorted(set(a) | set(b), key=str) if a.get(key) != b.get(key)]
        return out

    def close(self) -> None:
        for name in list(self._all):
            self.discard(name)
        self._admin.close()


@contextmanager
def pooled(pool: Pool) -> Iterator[str]:
    name = pool.acquire()
    try:
        yield name
    finally:
        pool.release(name)
