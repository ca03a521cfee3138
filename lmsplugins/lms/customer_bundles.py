"""Whole customers for the APIs that export a customer base (UserSide's ``get_user_list``, feeds).

An export of 100,000 customers must neither ask the database once per customer nor hold the base in
memory. Customers are read in chunks by id (keyset: ``id > last ORDER BY id LIMIT n``); for each chunk
one query per related table fetches the rows of the chunk's id range (``customerid BETWEEN first AND
last``), and the chunk's :class:`CustomerBundle` objects are handed out before the next chunk is read.
So the number of queries is a constant per chunk (eight) plus two per export (the building and
traffic indexes),
memory is one chunk, and no server-side cursor stays open while other queries run (MySQL's drivers
cannot interleave them). ``customerbalances`` has no index in LMS, so the balance is its own query
rather than a join that PostgreSQL would answer by hashing the whole table for every chunk.

On PostgreSQL, inside a REPEATABLE READ transaction, the chunks are read one ahead by a thread on a
second connection that imports the transaction's snapshot (``pg_export_snapshot``), so the server
answers the next chunk while the caller maps and encodes this one; the export still sees one state of
the database. The thread only waits for the server: the answers are turned into Python rows by the
caller's thread, so the two never compete for the GIL over rows. MariaDB and SQLite read in line (no
snapshot to share).

Deleted customers are never read. Rows of deleted customers inside an id range are dropped.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Select, func, or_, select
from sqlalchemy.engine import Connection

from lmsplugins.lms.addresses import BuildingIndex, address_columns
from lmsplugins.lms.tables import (
    addresses,
    assignments,
    customer_addresses,
    customerassignments,
    customerbalances,
    customercontacts,
    customers,
    documents,
    nodes,
    tariffs,
)
from lmsplugins.lms.tables_location import stats
from lmsplugins.lms.tables_network import macs

DOC_CONTRACT = -1
_make = tuple.__new__
"""``_make(NamedTupleClass, values)``: a named tuple made in C, without its class's Python ``__new__``
(one frame less for each of the export's customers and addresses)."""
CUSTOMER_FIELDS = ("ten", "ssn", "regon", "rbe", "icn", "info", "altname")
"""Customer columns an export may pass on as extra data (UserSide's additional data)."""


class AddressRow(NamedTuple):
    """A customer's address with the building it matches (see :class:`BuildingIndex`)."""

    customerid: int
    type: int
    address_id: int
    city_id: int | None
    city: str | None
    street_id: int | None
    street: str | None
    house: str | None
    flat: str | None
    zip: str | None
    building_id: int | None


class CustomerBundle(NamedTuple):
    """One customer and its related rows, as read for an export (a tuple: 100,000 of them are made
    per export, and a tuple is the cheapest object to make)."""

    customer: Any
    balance: Any = 0
    addresses: Sequence[Any] = ()
    contacts: Sequence[Any] = ()
    nodes: Sequence[Any] = ()
    assignments: Sequence[Any] = ()
    contracts: Sequence[Any] = ()
    groups: Sequence[int] = ()
    traffic: tuple[int, int] = (0, 0)


def _customers_query(after: int, limit: int, only: int | None, fields: Sequence[str]) -> Select:
    c = customers
    query = (
        select(
            c.c.id,
            c.c.lastname,
            c.c.name,
            c.c.type,
            c.c.status,
            c.c.notes,
            c.c.creationdate,
            *(c.c[name] for name in fields),
        )
        .where(c.c.deleted == 0, c.c.id > after)
        .order_by(c.c.id)
        .limit(limit)
    )
    if only is not None:
        query = query.where(c.c.id == only)
    return query


class TrafficIndex:
    """Customer id -> (upload, download) of its nodes since *month_start*, from one grouped query.

    ``stats`` is LMS's biggest table and is indexed by (node, time) and time only: summing it per
    chunk made PostgreSQL scan the month's rows once per chunk. One pass for the export, kept as three
    integer arrays (24 bytes per customer with traffic), costs one scan.
    """

    def __init__(self, rows: Iterable[tuple[int, int, int]] = ()):
        self._ids, self._up, self._down = array("q"), array("q"), array("q")
        for customer_id, up, down in rows:
            self._ids.append(customer_id)
            self._up.append(up)
            self._down.append(down)

    @classmethod
    def load(cls, conn: Connection, month_start: int, customer_id: int | None = None) -> TrafficIndex:
        n = nodes
        query = (
            select(
                n.c.ownerid,
                func.coalesce(func.sum(stats.c.upload), 0).label("up"),
                func.coalesce(func.sum(stats.c.download), 0).label("down"),
            )
            .select_from(stats.join(n, n.c.id == stats.c.nodeid))
            .where(stats.c.dt >= month_start)
            .where(n.c.ownerid == customer_id if customer_id is not None else n.c.ownerid.is_not(None))
            .group_by(n.c.ownerid)
            .order_by(n.c.ownerid)
        )
        return cls((int(r[0]), int(r[1]), int(r[2])) for r in _stream(conn, query))

    def get(self, customer_id: int) -> tuple[int, int]:
        i = bisect_left(self._ids, customer_id)
        if i < len(self._ids) and self._ids[i] == customer_id:
            return int(self._up[i]), int(self._down[i])
        return 0, 0


@lru_cache(maxsize=64)
def _row_type(names: tuple[str, ...]) -> Any:
    return namedtuple("Row", names, rename=True)


def _rows(conn: Connection, query: Select) -> list[Any]:
    """The query's rows as named tuples, straight from the driver's ``fetchall``.

    An export reads about ten rows per customer; wrapping each in SQLAlchemy's result machinery cost
    as much as the rest of the read. The statement is compiled with its parameters inlined (they are
    integers: ids, types and times) and run on the connection's own driver cursor, inside the same
    transaction. Values are the driver's own (``Decimal`` for money on PostgreSQL and MySQL, a number
    on SQLite).
    """
    row_type = _row_type(tuple(c.key for c in query.selected_columns))
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        return list(map(partial(tuple.__new__, row_type), cursor.fetchall()))
    finally:
        cursor.close()


def _stream(conn: Connection, query: Select, batch: int = 10000) -> Iterator[tuple[Any, ...]]:
    """The query's rows as plain tuples, *batch* at a time (an export-wide index is built from 100,000
    rows: as one list of tuples they would outweigh the index many times over)."""
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def _grouped(conn: Connection, query: Select) -> dict[int, Any]:
    """Rows by their first column (the customer id; every query is ordered by it)."""
    return _by_customer(query, _fetch(conn, query))


_SINGLE_VALUE = frozenset({"balance", "customergroupid"})
"""Queries of (customer id, one value): grouped as the bare value (a balance) or a list of values
(group ids), without a row object per row."""


def _by_customer(query: Select, rows: list[tuple[Any, ...]]) -> dict[int, Any]:
    """*rows* (plain tuples, ordered by customer id) -> customer id -> a balance, a list of group ids,
    or a list of named rows."""
    names = tuple(c.key for c in query.selected_columns)
    if len(names) == 2 and names[1] in _SINGLE_VALUE:
        if names[1] == "balance":
            return dict(rows)
        return {key: [row[1] for row in group] for key, group in groupby(rows, itemgetter(0))}
    made = map(partial(tuple.__new__, _row_type(names)), rows)
    return {key: list(group) for key, group in groupby(made, itemgetter(0))}


def _fetch(conn: Connection, query: Select) -> list[tuple[Any, ...]]:
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _queries(lo: int, hi: int, address_types: Sequence[int], now: int, passwords: bool) -> dict[str, Select]:
    a, ca = addresses, customer_addresses
    n, m, s, t, d, g, cc = nodes, macs, assignments, tariffs, documents, customerassignments, customercontacts
    return {
        "balances": select(customerbalances.c.customerid, customerbalances.c.balance)
        .where(customerbalances.c.customerid.between(lo, hi))
        .order_by(customerbalances.c.customerid),
        "addresses": select(ca.c.customer_id.label("customerid"), ca.c.type, *address_columns())
        .select_from(ca.join(a, a.c.id == ca.c.address_id))
        .where(ca.c.customer_id.between(lo, hi), ca.c.type.in_(list(address_types)))
        .order_by(ca.c.customer_id, ca.c.type.desc(), a.c.id),
        "contacts": select(cc.c.customerid, cc.c.name, cc.c.contact, cc.c.type)
        .where(cc.c.customerid.between(lo, hi))
        .order_by(cc.c.customerid, cc.c.id),
        "nodes": select(
            n.c.ownerid.label("customerid"),
            n.c.id,
            n.c.name,
            n.c.login,
            *([n.c.passwd] if passwords else []),
            n.c.ipaddr,
            n.c.access,
            n.c.warning,
            n.c.lastonline,
            m.c.mac,
        )
        .select_from(n.outerjoin(m, m.c.nodeid == n.c.id))
        .where(n.c.ownerid.between(lo, hi))
        .order_by(n.c.ownerid, n.c.id, m.c.id),
        "assignments": select(
            s.c.customerid,
            s.c.id,
            s.c.tariffid,
            s.c.liabilityid,
            s.c.datefrom,
            s.c.dateto,
            s.c.suspended,
            s.c.pdiscount,
            t.c.type.label("tariff_type"),
            t.c.value.label("tariff_value"),
            t.c.name.label("tariff_name"),
        )
        .select_from(s.outerjoin(t, t.c.id == s.c.tariffid))
        .where(s.c.customerid.between(lo, hi), s.c.commited == 1)
        .order_by(s.c.customerid, s.c.datefrom, s.c.id),
        "contracts": select(d.c.customerid, d.c.id, d.c.number, d.c.fullnumber, d.c.cdate)
        .where(d.c.customerid.between(lo, hi), d.c.type == DOC_CONTRACT)
        .order_by(d.c.customerid, d.c.cdate, d.c.id),
        "groups": select(g.c.customerid, g.c.customergroupid)
        .where(g.c.customerid.between(lo, hi), or_(g.c.enddate == 0, g.c.enddate > now), g.c.startdate <= now)
        .order_by(g.c.customerid, g.c.customergroupid),
    }


Related = Callable[[], dict[str, dict[int, Any]]]
"""A chunk's related rows by query name and customer id, made when called (see :func:`_pipelined`)."""


def _read_chunk(conn: Connection, after: int, plan: _Plan) -> tuple[list[Any], Related]:
    chunk = _rows(conn, _customers_query(after, plan.chunk_size, plan.customer_id, plan.customer_fields))
    if not chunk:
        return chunk, dict
    lo, hi = chunk[0].id, chunk[-1].id
    queries = _queries(lo, hi, plan.types, plan.now, plan.passwords)
    if conn.dialect.name == "postgresql":
        return chunk, _pipelined(conn, queries)
    related = {name: _grouped(conn, q) for name, q in queries.items()}
    return chunk, lambda: related


def _pipelined(conn: Connection, queries: dict[str, Select]) -> Related:
    """The chunk's related queries sent to PostgreSQL in one pipeline (psycopg's pipeline mode): one
    round trip instead of seven. The answers stay in the driver's result buffers until the returned
    function turns them into rows (:func:`_grouped`'s shape): the read-ahead thread only waits for
    PostgreSQL (without the GIL), and the rows are made by the thread that uses them, instead of two
    threads taking the GIL from each other for every chunk."""
    raw = conn.connection.dbapi_connection
    cursors = []
    try:
        with raw.pipeline():
            for query in queries.values():
                cursor = raw.cursor()
                cursors.append(cursor)
                cursor.execute(str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})))
    except BaseException:
        for cursor in cursors:
            cursor.close()
        raise

    def rows() -> dict[str, dict[int, Any]]:
        try:
            result = {}
            for (name, query), cursor in zip(queries.items(), cursors, strict=True):
                result[name] = _by_customer(query, cursor.fetchall())
            return result
        finally:
            for cursor in cursors:
                cursor.close()

    return rows


@dataclass(frozen=True)
class _Plan:
    types: list[int]
    now: int
    month_start: int
    chunk_size: int
    customer_id: int | None
    customer_fields: tuple[str, ...]
    passwords: bool


def _chunks(conn: Connection, plan: _Plan) -> Iterator[tuple[list[Any], Related]]:
    after = 0
    while True:
        chunk, related = _read_chunk(conn, after, plan)
        if not chunk:
            return
        yield chunk, related
        if len(chunk) < plan.chunk_size or plan.customer_id is not None:
            return
        after = chunk[-1].id


_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")


@contextmanager
def _snapshot_connection(conn: Connection) -> Iterator[Connection]:
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


def _prefetched_chunks(
    conn: Connection, plan: _Plan, meanwhile: Callable[[], None]
) -> Iterator[tuple[list[Any], Related]]:
    """Chunks read one ahead in a thread, on a second connection in the same snapshot: while the
    caller maps and encodes a chunk, PostgreSQL answers the next one's queries (the driver waits for
    the server without the GIL). At most two chunks are in memory. *meanwhile* (the export-wide
    indexes) runs on *conn* while the first chunk is read."""
    with _snapshot_connection(conn) as other, ThreadPoolExecutor(1, thread_name_prefix="customer-chunks") as pool:
        future = pool.submit(_read_chunk, other, 0, plan)
        meanwhile()
        while True:
            chunk, related = future.result()
            if not chunk:
                return
            full = len(chunk) == plan.chunk_size
            if full:
                future = pool.submit(_read_chunk, other, chunk[-1].id, plan)
            yield chunk, related
            if not full:
                return


def _can_prefetch(conn: Connection, customer_id: int | None) -> bool:
    """Only a whole export on PostgreSQL inside a REPEATABLE READ (or SERIALIZABLE) transaction:
    there a snapshot can be exported, and a second connection is worth opening."""
    level = conn.get_execution_options().get("isolation_level")
    return conn.dialect.name == "postgresql" and customer_id is None and level in ("REPEATABLE READ", "SERIALIZABLE")


def iter_customers(
    conn: Connection,
    *,
    address_types: Iterable[int],
    now: int,
    month_start: int,
    chunk_size: int = 5000,
    customer_id: int | None = None,
    customer_fields: Iterable[str] = CUSTOMER_FIELDS,
    passwords: bool = True,
) -> Iterator[CustomerBundle]:
    """Non-deleted customers in id order (or the one *customer_id*), each with its related rows.

    On PostgreSQL in a REPEATABLE READ transaction the chunks are read ahead on a second connection
    that shares the transaction's snapshot (:func:`_prefetched_chunks`); elsewhere in line.
    Only the *customer_fields* (of :data:`CUSTOMER_FIELDS`) are read, and the nodes' passwords only
    with *passwords*: each column costs on every row of an export."""
    fields = tuple(f for f in CUSTOMER_FIELDS if f in set(customer_fields))
    types = list(address_types)
    plan = _Plan(types, now, month_start, chunk_size, customer_id, fields, passwords)
    indexes: list[Any] = []

    def load_indexes() -> None:
        indexes[:] = BuildingIndex.load(conn, types, customer_id), TrafficIndex.load(conn, month_start, customer_id)

    if _can_prefetch(conn, customer_id):
        chunks = _prefetched_chunks(conn, plan, load_indexes)
    else:
        load_indexes()
        chunks = _chunks(conn, plan)
    for chunk, related in chunks:
        rows = related()
        buildings, traffic = indexes
        balances, addresses_, contacts = rows["balances"], rows["addresses"], rows["contacts"]
        nodes_, assignments_, contracts, groups = rows["nodes"], rows["assignments"], rows["contracts"], rows["groups"]
        none: tuple[()] = ()
        for row in chunk:
            cid = row.id
            address_rows = addresses_.get(cid, none)
            yield _make(
                CustomerBundle,
                (
                    row,
                    balances.get(cid, 0),
                    [_make(AddressRow, (*r, buildings.get(r.address_id))) for r in address_rows]
                    if address_rows
                    else none,
                    contacts.get(cid, none),
                    nodes_.get(cid, none),
                    assignments_.get(cid, none),
                    contracts.get(cid, none),
                    groups.get(cid, none),
                    traffic.get(cid),
                ),
            )
