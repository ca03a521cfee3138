"""The queries an export of whole customers runs, and how their rows are made (see
:mod:`lmsplugins.lms.customer_bundles`).

Every related query is ordered by the customer id first, so one reading strategy can take a chunk's
rows by id range (in line, every engine) and another can stream each query once for the whole export
(PostgreSQL's read-ahead, :mod:`lmsplugins.lms.customer_readahead`).

Rows skip SQLAlchemy's result machinery: an export reads about ten rows per customer, and wrapping
each cost as much as the rest of the read. Statements are compiled with their parameters inlined
(integers only: ids, types and times) and run on the connection's own driver cursor, inside its
transaction. Values are the driver's own (``Decimal`` for money on PostgreSQL and MySQL, a number on
SQLite).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.engine import Connection

from lmsplugins.lms.addresses import address_columns
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
from lmsplugins.lms.tables_network import macs

DOC_CONTRACT = -1
CUSTOMER_FIELDS = ("ten", "ssn", "regon", "rbe", "icn", "info", "altname")
"""Customer columns an export may pass on as extra data (UserSide's additional data)."""

Related = Callable[[], dict[str, dict[int, Any]]]
"""A chunk's related rows by query name and customer id, made when called: by the thread that uses
them, not by the one that read them (see :mod:`lmsplugins.lms.customer_readahead`)."""


@dataclass(frozen=True)
class Plan:
    """What one export reads."""

    types: list[int]
    now: int
    month_start: int
    chunk_size: int
    customer_id: int | None
    customer_fields: tuple[str, ...]
    passwords: bool


def sql_text(conn: Connection, query: Select) -> str:
    return str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def customers_query(after: int, limit: int, only: int | None, fields: Sequence[str]) -> Select:
    """The next *limit* non-deleted customers after id *after* (keyset), or the one *only*."""
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


def related_queries(lo: int, hi: int | None, plan: Plan) -> dict[str, Select]:
    """The related rows of customers *lo*..*hi* (*hi* None: every customer from *lo* on), each query
    ordered by customer id first."""
    a, ca = addresses, customer_addresses
    n, m, s, t, d, g, cc = nodes, macs, assignments, tariffs, documents, customerassignments, customercontacts

    def ids(column: Any) -> ColumnElement[bool]:
        return column >= lo if hi is None else column.between(lo, hi)

    return {
        "balances": select(customerbalances.c.customerid, customerbalances.c.balance)
        .where(ids(customerbalances.c.customerid))
        .order_by(customerbalances.c.customerid),
        "addresses": select(ca.c.customer_id.label("customerid"), ca.c.type, *address_columns())
        .select_from(ca.join(a, a.c.id == ca.c.address_id))
        .where(ids(ca.c.customer_id), ca.c.type.in_(list(plan.types)))
        .order_by(ca.c.customer_id, ca.c.type.desc(), a.c.id),
        "contacts": select(cc.c.customerid, cc.c.name, cc.c.contact, cc.c.type)
        .where(ids(cc.c.customerid))
        .order_by(cc.c.customerid, cc.c.id),
        "nodes": select(
            n.c.ownerid.label("customerid"),
            n.c.id,
            n.c.name,
            n.c.login,
            *([n.c.passwd] if plan.passwords else []),
            n.c.ipaddr,
            n.c.access,
            n.c.warning,
            n.c.lastonline,
            m.c.mac,
        )
        .select_from(n.outerjoin(m, m.c.nodeid == n.c.id))
        .where(ids(n.c.ownerid))
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
        .where(ids(s.c.customerid), s.c.commited == 1)
        .order_by(s.c.customerid, s.c.datefrom, s.c.id),
        "contracts": select(d.c.customerid, d.c.id, d.c.number, d.c.fullnumber, d.c.cdate)
        .where(ids(d.c.customerid), d.c.type == DOC_CONTRACT)
        .order_by(d.c.customerid, d.c.cdate, d.c.id),
        "groups": select(g.c.customerid, g.c.customergroupid)
        .where(ids(g.c.customerid), or_(g.c.enddate == 0, g.c.enddate > plan.now), g.c.startdate <= plan.now)
        .order_by(g.c.customerid, g.c.customergroupid),
    }


@lru_cache(maxsize=64)
def row_type(names: tuple[str, ...]) -> Any:
    return namedtuple("Row", names, rename=True)


def fetch(conn: Connection, query: Select) -> list[tuple[Any, ...]]:
    """The query's rows as the driver's plain tuples."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql_text(conn, query))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def named_rows(conn: Connection, query: Select) -> list[Any]:
    """The query's rows as named tuples (made in C from the driver's tuples)."""
    made = partial(tuple.__new__, row_type(tuple(c.key for c in query.selected_columns)))
    return list(map(made, fetch(conn, query)))


def stream(conn: Connection, query: Select, batch: int = 10000) -> Iterator[tuple[Any, ...]]:
    """The query's rows as plain tuples, *batch* at a time (an export-wide index is built from 100,000
    rows: as one list of tuples they would outweigh the index many times over)."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql_text(conn, query))
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


_SINGLE_VALUE = frozenset({"balance", "customergroupid"})
"""Queries of (customer id, one value): grouped as the bare value (a balance) or a list of values
(group ids), without a row object per row."""


def by_customer(query: Select, rows: Sequence[tuple[Any, ...]]) -> dict[int, Any]:
    """*rows* of *query* (plain tuples, ordered by customer id) -> customer id -> a balance, a list of
    group ids, or a list of named rows."""
    names = tuple(c.key for c in query.selected_columns)
    if len(names) == 2 and names[1] in _SINGLE_VALUE:
        if names[1] == "balance":
            return dict(rows)
        return {key: [row[1] for row in group] for key, group in groupby(rows, itemgetter(0))}
    made = map(partial(tuple.__new__, row_type(names)), rows)
    return {key: list(group) for key, group in groupby(made, itemgetter(0))}
