"""The host's own tables: job run records (with their output) and a small key/value state shared by processes.

Created by the host's migration (``lmsplugins/sql``, dbinfo key ``dbversion_LMSPluginsHost``). The
state table holds things that must outlive a process and be shared by cron and web, such as a
provider's session id, instead of files in the code tree.
"""

from __future__ import annotations

import time

from sqlalchemy import BigInteger, Column, Integer, MetaData, SmallInteger, String, Table, Text, select
from sqlalchemy.engine import Connection, Engine

from lmsplugins.db import upsert

metadata = MetaData()

job_runs = Table(
    "lmsplugins_job_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job", String(100), nullable=False),
    Column("status", String(16), nullable=False),
    Column("test", SmallInteger, nullable=False),
    Column("started", BigInteger, nullable=False),
    Column("finished", BigInteger),
    Column("counters", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("argv", Text, nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
)

state = Table(
    "lmsplugins_state",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    Column("mtime", BigInteger, nullable=False),
)

job_output = Table(
    "lmsplugins_job_output",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=False),
    Column("exit_code", SmallInteger),
    Column("truncated", SmallInteger, nullable=False),
    Column("output", Text, nullable=False),
)
"""What a run printed (its last part) and its exit code, one row per run, read only by the detail page."""

HOST_TABLES = (job_runs, state, job_output)


def get_value(conn: Connection, name: str) -> str | None:
    """A state value read on the caller's connection (inside its transaction)."""
    value = conn.execute(select(state.c.value).where(state.c.name == name)).scalar()
    return value or None


def put_value(conn: Connection, name: str, value: str | None) -> None:
    """Write a state value on the caller's connection: it commits or rolls back with the caller's
    work, which makes it a re-run guard for jobs (e.g. "these lines were already appended")."""
    upsert(conn, state, [{"name": name, "value": value or "", "mtime": int(time.time())}], ["name"])


class DbState:
    """A named value in ``lmsplugins_state``, committed at once (e.g. a provider session id)."""

    def __init__(self, engine: Engine, name: str):
        self.engine = engine
        self.name = name

    def get(self) -> str | None:
        with self.engine.connect() as conn:
            return get_value(conn, self.name)

    def set(self, value: str | None) -> None:
        with self.engine.begin() as conn:
            put_value(conn, self.name, value)
