"""PostgreSQL's read-ahead for a whole export of customers (see :mod:`lmsplugins.lms.customer_bundles`).

Inside the export's REPEATABLE READ transaction a second connection imports its snapshot
(``pg_export_snapshot``), so both see one state of the database. On that connection each related
query runs once for the whole export, as a server-side cursor ordered by customer id; for each chunk
of customers a thread fetches from every cursor, in one pipelined round trip, the rows up to the
chunk's last customer id, and reads the next chunk while the caller encodes this one.

Why cursors, not a query per chunk and id range: for a chunk of thousands of customers PostgreSQL
prefers hashing all of ``macs`` and ``addresses`` to thousands of index probes, and
``customerbalances`` has no index at all. Per chunk, each of those read its whole table again, so the
export's cost grew with the square of the customer base (at 100,000 customers, 50 of every 70 ms a
chunk cost). A cursor reads each table once.

The thread only waits for PostgreSQL: what it fetched stays in the driver's result buffers, and the
caller's thread turns it into rows when it takes the chunk, so the two threads never compete for the
GIL over rows. The thread reads only the last customer id of each answer (one value) to know whether
it has fetched far enough.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection

from lmsplugins.lms.customer_queries import (
    Plan,
    Related,
    by_customer,
    customers_query,
    named_rows,
    related_queries,
    sql_text,
)

_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")
_customer_id = itemgetter(0)


def can_read_ahead(conn: Connection, customer_id: int | None) -> bool:
    """Only a whole export on PostgreSQL inside a REPEATABLE READ (or SERIALIZABLE) transaction:
    there a snapshot can be exported, and a second connection is worth opening."""
    level = conn.get_execution_options().get("isolation_level")
    return conn.dialect.name == "postgresql" and customer_id is None and level in ("REPEATABLE READ", "SERIALIZABLE")


@contextmanager
def snapshot_connection(conn: Connection) -> Iterator[Connection]:
    """A second connection that sees exactly what *conn* sees (PostgreSQL's exported snapshot)."""
    snapshot = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar())
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError(f"unexpected snapshot id {snapshot[:40]!r}")
    with conn.engine.connect() as other:
        other.execution_options(isolation_level="REPEATABLE READ")
        other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        try:
            yield other
        finally:
            other.rollback()


@dataclass
class _Feed:
    """One related query as a server-side cursor. ``last_id``, ``done`` and ``fetched`` belong to the
    reading thread; ``carry`` (rows fetched beyond the last chunk handed out) to the caller's."""

    name: str
    query: Select
    cursor: str
    last_id: int = 0
    done: bool = False
    fetched: int = 0
    carry: list[tuple[Any, ...]] = field(default_factory=list)

    def wanted(self, hi: int) -> bool:
        return not self.done and self.last_id <= hi

    def size(self, customers: int, seen: int) -> int:
        """Rows to fetch for the next *customers*: as many as this feed had per customer so far, and
        a tenth more, so that a chunk usually takes one round trip and little is carried over."""
        per_customer = self.fetched / seen if seen else 1.0
        return max(64, int(customers * per_customer * 1.1) + 16)


def _declare(conn: Connection, plan: Plan) -> list[_Feed]:
    raw = conn.connection.dbapi_connection
    feeds = [_Feed(name, query, f"lmsplugins_export_{name}") for name, query in related_queries(1, None, plan).items()]
    with raw.cursor() as cursor:
        for feed in feeds:
            cursor.execute(f"DECLARE {feed.cursor} NO SCROLL CURSOR FOR {sql_text(conn, feed.query)}")
    return feeds


def _fetch_up_to(conn: Connection, feeds: list[_Feed], hi: int, customers: int, seen: int) -> dict[str, list[Any]]:
    """Driver cursors holding every feed's unfetched rows up to customer *hi* (and a few beyond), for
    a chunk of *customers* after *seen* customers."""
    raw = conn.connection.dbapi_connection
    pending: dict[str, list[Any]] = {feed.name: [] for feed in feeds}
    wanted = [feed for feed in feeds if feed.wanted(hi)]
    sizes = {feed.name: feed.size(customers, seen) for feed in wanted}
    try:
        while wanted:
            answers = []
            with raw.pipeline():
                for feed in wanted:
                    cursor = raw.cursor()
                    pending[feed.name].append(cursor)
                    answers.append(cursor)
                    cursor.execute(f"FETCH FORWARD {sizes[feed.name]} FROM {feed.cursor}")
            for feed, cursor in zip(wanted, answers, strict=True):
                result = cursor.pgresult
                count = result.ntuples if result is not None else 0
                feed.fetched += count
                if count:
                    feed.last_id = int(result.get_value(count - 1, 0))
                if count < sizes[feed.name]:
                    feed.done = True
                sizes[feed.name] *= 2
            wanted = [feed for feed in wanted if feed.wanted(hi)]
    except BaseException:
        for cursors in pending.values():
            for cursor in cursors:
                cursor.close()
        raise
    return pending


def _related(feeds: list[_Feed], pending: dict[str, list[Any]], hi: int) -> Related:
    def rows() -> dict[str, dict[int, Any]]:
        result = {}
        for feed in feeds:
            fetched = feed.carry
            for cursor in pending[feed.name]:
                fetched.extend(cursor.fetchall())
                cursor.close()
            cut = bisect_right(fetched, hi, key=_customer_id)
            feed.carry = fetched[cut:]
            result[feed.name] = by_customer(feed.query, fetched[:cut])
        return result

    return rows


def _read_chunk(conn: Connection, feeds: list[_Feed], after: int, seen: int, plan: Plan) -> tuple[list[Any], Related]:
    chunk = named_rows(conn, customers_query(after, plan.chunk_size, None, plan.customer_fields))
    if not chunk:
        return chunk, dict
    hi = chunk[-1].id
    return chunk, _related(feeds, _fetch_up_to(conn, feeds, hi, len(chunk), seen), hi)


def read_ahead(conn: Connection, plan: Plan, meanwhile: Callable[[], None]) -> Iterator[tuple[list[Any], Related]]:
    """The export's chunks, each read while the caller encodes the one before. At most two chunks
    (and each feed's rows fetched beyond the last) are in memory. *meanwhile* (the export-wide
    indexes) runs on *conn* while the first chunk is read."""
    with snapshot_connection(conn) as other, ThreadPoolExecutor(1, thread_name_prefix="customer-chunks") as pool:
        feeds = _declare(other, plan)
        future = pool.submit(_read_chunk, other, feeds, 0, 0, plan)
        meanwhile()
        seen = 0
        while True:
            chunk, related = future.result()
            if not chunk:
                return
            seen += len(chunk)
            full = len(chunk) == plan.chunk_size
            if full:
                future = pool.submit(_read_chunk, other, feeds, chunk[-1].id, seen, plan)
            yield chunk, related
            if not full:
                return
