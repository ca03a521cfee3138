"""The plugin's own rows: the shared session token, job markers and the pairing (``metroport_settings``,
``metroport_customers``). Plugin tables only; LMS core tables go through :mod:`lmsplugins.lms`.

The token row is the PHP plugin's (``name = 'token'``, ``updated`` set by the database clock), so the
PHP panels and these jobs can share one MMS session during a migration. Its age is measured against the
same database clock, never Python's, so time zones cannot make a stale session look young.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import DateTime, func, select, type_coerce
from sqlalchemy.engine import Connection, Engine

from .tables import metroport_customers, metroport_settings

TOKEN = "token"


def _as_datetime(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def read_setting(conn: Connection, name: str) -> tuple[str, float] | None:
    """A row's value and its age in seconds by the database clock."""
    s = metroport_settings
    now = type_coerce(func.current_timestamp(), DateTime)
    row = conn.execute(select(s.c.value, s.c.updated, now).where(s.c.name == name)).first()
    if row is None:
        return None
    updated, current = _as_datetime(row[1]), _as_datetime(row[2])
    if current is not None and current.tzinfo is not None:
        # PostgreSQL's CURRENT_TIMESTAMP is aware, in the session's zone, the zone ``updated`` was
        # written in (timestamp without time zone): compare wall clocks.
        current = current.replace(tzinfo=None)
    age = (current - updated).total_seconds() if updated and current else float("inf")
    return row[0], age


def write_setting(conn: Connection, name: str, value: str) -> None:
    s = metroport_settings
    done = conn.execute(
        s.update().where(s.c.name == name).values(value=value, updated=func.current_timestamp())
    ).rowcount
    if not done:
        conn.execute(s.insert().values(name=name, value=value, updated=func.current_timestamp()))


class DbTokenStore:
    """The client's :class:`~plugins.metroport_mms.client.TokenStore` on ``metroport_settings``; each
    write is its own short transaction (a session is not data a ``--test`` run should roll back)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def load(self) -> tuple[str, float] | None:
        with self.engine.connect() as conn:
            return read_setting(conn, TOKEN)

    def save(self, token: str) -> None:
        with self.engine.begin() as conn:
            write_setting(conn, TOKEN, token)


class ConnTokenStore:
    """A token store on a connection that is already inside a transaction (a notify run): on SQLite a
    second connection could not write while the run holds its write lock."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def load(self) -> tuple[str, float] | None:
        return read_setting(self.conn, TOKEN)

    def save(self, token: str) -> None:
        write_setting(self.conn, TOKEN, token)


def pairs(conn: Connection) -> list[tuple[int, int]]:
    """Every (MMS user id, LMS customer id) pair."""
    m = metroport_customers
    return [(r[0], r[1]) for r in conn.execute(select(m.c.metroport_user_id, m.c.lms_user_id))]


def users_by_customer(conn: Connection, customer_ids: list[int] | None = None) -> dict[int, list[int]]:
    m = metroport_customers
    query = select(m.c.lms_user_id, m.c.metroport_user_id).order_by(m.c.id)
    if customer_ids is not None:
        query = query.where(m.c.lms_user_id.in_(customer_ids))
    result: dict[int, list[int]] = defaultdict(list)
    for cid, uid in conn.execute(query):
        result[cid].append(uid)
    return dict(result)


def mms_user_of(conn: Connection, customer_id: int) -> int | None:
    """The customer's MMS user id (the first pair, as the PHP plugin read it)."""
    m = metroport_customers
    return conn.execute(
        select(m.c.metroport_user_id).where(m.c.lms_user_id == customer_id).order_by(m.c.id).limit(1)
    ).scalar()


def pair(conn: Connection, userid: int, customer_id: int) -> None:
    conn.execute(metroport_customers.insert().values(metroport_user_id=userid, lms_user_id=customer_id))
