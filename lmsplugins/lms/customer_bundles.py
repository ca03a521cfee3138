"""Whole customers for the APIs that export a customer base (UserSide's ``get_user_list``, feeds).

An export of 100,000 customers must neither ask the database once per customer nor hold the base in
memory. Customers are read in chunks by id (keyset: ``id > last ORDER BY id LIMIT n``), each with its
related rows (:mod:`lmsplugins.lms.customer_queries`), and the chunk's :class:`CustomerBundle` tuples
are handed out before the next chunk is read. Memory is one chunk (two while reading ahead), and the
number of queries a constant per chunk plus two per export (the building and traffic indexes).

How a chunk's related rows are read depends on the engine:

- On PostgreSQL, inside a REPEATABLE READ transaction, each related query is one server-side cursor
  for the whole export, read one chunk ahead by a thread on a second connection in the same snapshot
  (:mod:`lmsplugins.lms.customer_readahead`).
- Elsewhere (MariaDB, SQLite, one customer) one query per related table takes the chunk's id range
  (``customerid BETWEEN first AND last``) in line: no server-side cursor stays open while other
  queries run (MySQL's drivers cannot interleave them).

Deleted customers are never read. Rows of deleted customers among the related rows are dropped.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from lmsplugins.lms.addresses import BuildingIndex
from lmsplugins.lms.customer_queries import (
    CUSTOMER_FIELDS,
    Plan,
    Related,
    by_customer,
    customers_query,
    fetch,
    named_rows,
    related_queries,
    stream,
)
from lmsplugins.lms.customer_readahead import can_read_ahead, read_ahead
from lmsplugins.lms.tables import nodes
from lmsplugins.lms.tables_location import stats

__all__ = ["CUSTOMER_FIELDS", "AddressRow", "CustomerBundle", "TrafficIndex", "iter_customers"]

_make = tuple.__new__
"""``_make(NamedTupleClass, values)``: a named tuple made in C, without its class's Python ``__new__``
(one frame less for each of the export's customers and addresses)."""


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
        return cls((int(r[0]), int(r[1]), int(r[2])) for r in stream(conn, query))

    def get(self, customer_id: int) -> tuple[int, int]:
        i = bisect_left(self._ids, customer_id)
        if i < len(self._ids) and self._ids[i] == customer_id:
            return int(self._up[i]), int(self._down[i])
        return 0, 0


def _read_chunk(conn: Connection, after: int, plan: Plan) -> tuple[list[Any], Related]:
    chunk = named_rows(conn, customers_query(after, plan.chunk_size, plan.customer_id, plan.customer_fields))
    if not chunk:
        return chunk, dict
    queries = related_queries(chunk[0].id, chunk[-1].id, plan)
    related = {name: by_customer(query, fetch(conn, query)) for name, query in queries.items()}
    return chunk, lambda: related


def _chunks(conn: Connection, plan: Plan) -> Iterator[tuple[list[Any], Related]]:
    after = 0
    while True:
        chunk, related = _read_chunk(conn, after, plan)
        if not chunk:
            return
        yield chunk, related
        if len(chunk) < plan.chunk_size or plan.customer_id is not None:
            return
        after = chunk[-1].id


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
    that shares the transaction's snapshot (:func:`read_ahead`); elsewhere in line.
    Only the *customer_fields* (of :data:`CUSTOMER_FIELDS`) are read, and the nodes' passwords only
    with *passwords*: each column costs on every row of an export."""
    fields = tuple(f for f in CUSTOMER_FIELDS if f in set(customer_fields))
    types = list(address_types)
    plan = Plan(types, now, month_start, chunk_size, customer_id, fields, passwords)
    indexes: list[Any] = []

    def load_indexes() -> None:
        indexes[:] = BuildingIndex.load(conn, types, customer_id), TrafficIndex.load(conn, month_start, customer_id)

    if can_read_ahead(conn, customer_id):
        chunks = read_ahead(conn, plan, load_indexes)
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
