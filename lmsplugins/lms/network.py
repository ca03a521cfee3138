"""Read-only gateway to LMS's network side: which switch port, MAC addresses and customer-owned devices
(ONUs) each customer has.

LMS conventions this module encodes, so that no plugin has to know them:

- a customer's node (``nodes.ownerid`` set) is plugged into network device ``nodes.netdev`` at port
  ``nodes.port`` (0 = unknown);
- a network device's management address is one of its own nodes, the rows with ``ownerid IS NULL`` and
  ``netdev`` = the device (LMS's "device IP addresses" tab); the lowest node id is taken as the main one;
- a customer's MAC addresses are the ``macs`` rows of their nodes;
- devices a customer owns (``netdevices.ownerid``) are the CPEs and ONUs at their premises; their
  ``serialnumber`` is the ONU serial (or MAC) an OLT reports.

:func:`customer_network` walks the whole base with a fixed number of queries (four, whatever the size),
each streamed in customer order and merged here, so memory stays flat; :func:`customer_points` answers
the same for one customer (the customer card).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, text
from sqlalchemy.engine import Connection

from lmsplugins.lms.tables import addresses, customer_addresses, customers, documents, nodes
from lmsplugins.lms.tables_network import macs, netdevices

DOC_CONTRACT = -1
LOCATION_ADDRESS, DEFAULT_LOCATION_ADDRESS, BILLING_ADDRESS = 2, 3, 1
STREAM_ROWS = 2000
SORT_MEMORY = "64MB"


@dataclass(slots=True)
class NodePoint:
    """A customer's node: where it is plugged in and which MAC addresses it uses."""

    node_id: int
    name: str
    login: str
    netdev_id: int | None
    switch_ip: str
    port: int
    macs: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OwnedDevice:
    """A network device the customer owns (an ONU or CPE), with its serial number."""

    netdev_id: int
    name: str
    serialnumber: str
    model: str


@dataclass(slots=True)
class CustomerNetwork:
    """One customer with their address, contract number, nodes and devices."""

    id: int
    lastname: str
    name: str
    status: int
    contract: str
    city: str
    street: str
    house: str
    flat: str
    nodes: list[NodePoint] = field(default_factory=list)
    devices: list[OwnedDevice] = field(default_factory=list)


@functools.lru_cache(maxsize=8192)
def ip_text(value: int | None) -> str:
    """``nodes.ipaddr`` (inet_aton) as dotted text; "" for 0, nothing or out of range.

    Cached: the same few switch addresses come back for every customer of a large base."""
    if not value:
        return ""
    v = int(value)
    if not 0 < v <= 0xFFFFFFFF:
        return ""
    return f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}"


def _streamed(conn: Connection, statement: Select[Any], stream: bool = True) -> Iterator[Any]:
    options = {"stream_results": True, "yield_per": STREAM_ROWS} if stream else {}
    result = conn.execution_options(**options).execute(statement)
    try:
        for part in result.partitions(STREAM_ROWS):
            yield from part
    finally:
        result.close()


def _customer_statement(only: Sequence[int] | None) -> Select[Any]:
    loc = customer_addresses.alias("ca_loc")
    bill = customer_addresses.alias("ca_bill")
    a_loc, a_bill = addresses.alias("a_loc"), addresses.alias("a_bill")
    stmt = (
        select(
            customers.c.id,
            customers.c.lastname,
            customers.c.name,
            customers.c.status,
            func.coalesce(a_loc.c.city, a_bill.c.city, "").label("city"),
            func.coalesce(a_loc.c.street, a_bill.c.street, "").label("street"),
            func.coalesce(a_loc.c.house, a_bill.c.house, "").label("house"),
            func.coalesce(a_loc.c.flat, a_bill.c.flat, "").label("flat"),
        )
        .select_from(customers)
        .outerjoin(loc, and_(loc.c.customer_id == customers.c.id, loc.c.type == DEFAULT_LOCATION_ADDRESS))
        .outerjoin(a_loc, a_loc.c.id == loc.c.address_id)
        .outerjoin(bill, and_(bill.c.customer_id == customers.c.id, bill.c.type == BILLING_ADDRESS))
        .outerjoin(a_bill, a_bill.c.id == bill.c.address_id)
        .where(customers.c.deleted == 0)
        .order_by(customers.c.id)
    )
    return stmt.where(customers.c.id.in_(only)) if only is not None else stmt


def _contract_statement(only: Sequence[int] | None) -> Select[Any]:
    """Each customer's newest contract (DOC_CONTRACT) number, customer order."""
    stmt = (
        select(documents.c.customerid, documents.c.fullnumber, documents.c.number)
        .where(documents.c.type == DOC_CONTRACT, documents.c.customerid.is_not(None))
        .order_by(documents.c.customerid, documents.c.cdate.desc(), documents.c.id.desc())
    )
    return stmt.where(documents.c.customerid.in_(only)) if only is not None else stmt


def _node_statement(only: Sequence[int] | None) -> Select[Any]:
    """Customer nodes with the management address of their device and their MACs, one row per MAC."""
    mgmt_where = [nodes.c.ownerid.is_(None), nodes.c.netdev.is_not(None)]
    if only is not None:
        theirs = select(nodes.c.netdev).where(nodes.c.ownerid.in_(only), nodes.c.netdev.is_not(None))
        mgmt_where.append(nodes.c.netdev.in_(theirs.scalar_subquery()))
    mgmt_ids = (
        select(nodes.c.netdev, func.min(nodes.c.id).label("node_id"))
        .where(*mgmt_where)
        .group_by(nodes.c.netdev)
        .subquery("mgmt_ids")
    )
    mgmt = nodes.alias("mgmt")
    stmt = (
        select(
            nodes.c.ownerid,
            nodes.c.id,
            nodes.c.name,
            nodes.c.login,
            nodes.c.netdev,
            nodes.c.port,
            mgmt.c.ipaddr.label("switch_ip"),
            macs.c.mac,
        )
        .select_from(nodes)
        .outerjoin(mgmt_ids, mgmt_ids.c.netdev == nodes.c.netdev)
        .outerjoin(mgmt, mgmt.c.id == mgmt_ids.c.node_id)
        .outerjoin(macs, macs.c.nodeid == nodes.c.id)
        .where(nodes.c.ownerid.is_not(None))
        .order_by(nodes.c.ownerid, nodes.c.id, macs.c.id)
    )
    return stmt.where(nodes.c.ownerid.in_(only)) if only is not None else stmt


def _device_statement(only: Sequence[int] | None) -> Select[Any]:
    stmt = (
        select(
            netdevices.c.ownerid,
            netdevices.c.id,
            netdevices.c.name,
            netdevices.c.serialnumber,
            netdevices.c.model,
        )
        .where(netdevices.c.ownerid.is_not(None))
        .order_by(netdevices.c.ownerid, netdevices.c.id)
    )
    return stmt.where(netdevices.c.ownerid.in_(only)) if only is not None else stmt


class ByCustomer:
    """A stream of rows ordered by their first column (the customer id), read ahead by one row."""

    def __init__(self, rows: Iterable[Any]):
        self._rows = iter(rows)
        self._next = next(self._rows, None)

    def take(self, customer_id: int) -> list[Any]:
        """The rows of *customer_id* (rows of lower ids, i.e. deleted customers, are skipped)."""
        row = self._next
        if row is None or row[0] > customer_id:
            return []
        out = []
        rows = self._rows
        while row is not None and row[0] <= customer_id:
            if row[0] == customer_id:
                out.append(row)
            row = next(rows, None)
        self._next = row
        return out


def _nodes_of(rows: list[Any]) -> list[NodePoint]:
    points: list[NodePoint] = []
    last = None
    for _owner, node_id, name, login, netdev, port, switch_ip, mac in rows:
        if last is None or last.node_id != node_id:
            last = NodePoint(node_id, name or "", login or "", netdev, ip_text(switch_ip), int(port or 0), [])
            points.append(last)
        if mac:
            last.macs.append(mac)
    return points


def _contract_of(rows: list[Any]) -> str:
    for row in rows:
        number = (row.fullnumber or "").strip() or (str(row.number) if row.number else "")
        if number:
            return number
    return ""


def customer_network(conn: Connection, only: Sequence[int] | None = None) -> Iterator[CustomerNetwork]:
    """Every customer (not deleted) in id order with nodes, MACs, switch ports and owned devices.

    Four streamed queries, merged by customer id: memory holds one customer at a time. With *only*, the
    same for those customers (the customer card, the search by ONU or MAC), on *conn* alone.

    For the whole base the three side queries run on connections of their own, each started in a
    thread up to its first rows: every query ends in a sort by customer, and so the database sorts
    all four at once instead of one after the other while Python waits (MySQL drivers also read only
    one unbuffered result per connection). Each query sees its own snapshot; a row added meanwhile
    without its customer is skipped by the merge.
    """
    if only is not None:
        yield from _merged(
            _streamed(conn, _customer_statement(only), False),
            ByCustomer(_streamed(conn, _contract_statement(only), False)),
            ByCustomer(_streamed(conn, _node_statement(only), False)),
            ByCustomer(_streamed(conn, _device_statement(only), False)),
        )
        return
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=3, thread_name_prefix="network-side") as pool:
        sides = []
        for statement in (_contract_statement(None), _node_statement(None), _device_statement(None)):
            side = stack.enter_context(conn.engine.connect())
            _sort_in_memory(side)
            sides.append(pool.submit(_started, side, statement))
        _sort_in_memory(conn)
        customer_rows = _streamed(conn, _customer_statement(None))
        contracts, node_rows, device_rows = (ByCustomer(f.result()) for f in sides)
        yield from _merged(customer_rows, contracts, node_rows, device_rows)


def _sort_in_memory(conn: Connection) -> None:
    """Each whole-base query ends in a sort by customer; PostgreSQL's default 4 MB spills those to disk
    (an external merge of ~10 MB each at 100,000 customers). For this transaction only."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config('work_mem', :mem, true)"), {"mem": SORT_MEMORY})


def _started(conn: Connection, statement: Select[Any]) -> Iterator[Any]:
    """*statement*'s rows, the first one already fetched (run in a thread: the wait is the sort)."""
    rows = _streamed(conn, statement)
    first = next(rows, None)
    return rows if first is None else itertools.chain((first,), rows)


def _merged(
    rows: Iterable[Any], contracts: ByCustomer, node_rows: ByCustomer, device_rows: ByCustomer
) -> Iterator[CustomerNetwork]:
    for cid, lastname, name, status, city, street, house, flat in rows:
        yield CustomerNetwork(
            cid,
            lastname or "",
            name or "",
            int(status or 0),
            _contract_of(contracts.take(cid)),
            city or "",
            street or "",
            house or "",
            flat or "",
            _nodes_of(node_rows.take(cid)),
            [OwnedDevice(d[1], d[2] or "", (d[3] or "").strip(), d[4] or "") for d in device_rows.take(cid)],
        )


def customer_points(conn: Connection, customer_id: int) -> CustomerNetwork | None:
    """One customer's network side (see :func:`customer_network`); None when there is no such customer."""
    return next(customer_network(conn, [customer_id]), None)


def owners_of_serial(conn: Connection, serial: str) -> list[int]:
    """Customers owning a device whose serial number is *serial* (case-insensitive), lowest id first."""
    stmt = (
        select(netdevices.c.ownerid)
        .where(netdevices.c.ownerid.is_not(None), func.upper(netdevices.c.serialnumber) == serial.upper())
        .distinct()
        .order_by(netdevices.c.ownerid)
    )
    return [int(v) for v in conn.execute(stmt).scalars()]


def owners_of_mac(conn: Connection, spellings: Iterable[str]) -> list[int]:
    """Customers with a node using one of the MAC *spellings* (LMS stores what the operator typed, so
    the caller passes the usual spellings: colons, dashes, upper and lower case), lowest id first."""
    wanted = list(spellings)
    stmt = (
        select(nodes.c.ownerid)
        .join(macs, macs.c.nodeid == nodes.c.id)
        .where(
            nodes.c.ownerid.is_not(None),
            or_(macs.c.mac.in_(wanted), func.upper(macs.c.mac).in_([w.upper() for w in wanted])),
        )
        .distinct()
        .order_by(nodes.c.ownerid)
    )
    return [int(v) for v in conn.execute(stmt).scalars()]


@dataclass(frozen=True)
class SharedSerial:
    serialnumber: str
    customer_ids: tuple[int, ...]


@dataclass(frozen=True)
class SharedPort:
    netdev_id: int
    device_name: str
    port: int
    customer_ids: tuple[int, ...]


def shared_serials(conn: Connection) -> list[SharedSerial]:
    """Device serial numbers owned by more than one customer (Wildcore binds such an ONU to nobody)."""
    serial = func.upper(netdevices.c.serialnumber)
    dup = (
        select(serial.label("sn"))
        .where(netdevices.c.ownerid.is_not(None), netdevices.c.serialnumber != "")
        .group_by(serial)
        .having(func.count(func.distinct(netdevices.c.ownerid)) > 1)
        .subquery()
    )
    rows = conn.execute(
        select(dup.c.sn, netdevices.c.ownerid)
        .join(netdevices, func.upper(netdevices.c.serialnumber) == dup.c.sn)
        .where(netdevices.c.ownerid.is_not(None))
        .distinct()
        .order_by(dup.c.sn, netdevices.c.ownerid)
    )
    grouped: dict[str, list[int]] = {}
    for sn, owner in rows:
        grouped.setdefault(sn, []).append(int(owner))
    return [SharedSerial(sn, tuple(ids)) for sn, ids in grouped.items()]


def shared_ports(conn: Connection) -> list[SharedPort]:
    """Switch ports (device, port > 0) with nodes of more than one customer (Wildcore skips them)."""
    dup = (
        select(nodes.c.netdev, nodes.c.port)
        .where(nodes.c.ownerid.is_not(None), nodes.c.netdev.is_not(None), nodes.c.port > 0)
        .group_by(nodes.c.netdev, nodes.c.port)
        .having(func.count(func.distinct(nodes.c.ownerid)) > 1)
        .subquery()
    )
    rows = conn.execute(
        select(nodes.c.netdev, netdevices.c.name, nodes.c.port, nodes.c.ownerid)
        .join(dup, and_(dup.c.netdev == nodes.c.netdev, dup.c.port == nodes.c.port))
        .join(netdevices, netdevices.c.id == nodes.c.netdev)
        .where(nodes.c.ownerid.is_not(None))
        .distinct()
        .order_by(nodes.c.netdev, nodes.c.port, nodes.c.ownerid)
    )
    grouped: dict[tuple[int, str, int], list[int]] = {}
    for netdev, name, port, owner in rows:
        grouped.setdefault((int(netdev), name or "", int(port)), []).append(int(owner))
    return [SharedPort(k[0], k[1], k[2], tuple(ids)) for k, ids in grouped.items()]
