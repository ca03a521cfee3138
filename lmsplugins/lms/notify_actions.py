"""lms-notify's core block/unblock actions and prechecks, as ``bin/lms-notify.php`` codes them.

Each action changes LMS core tables (nodes, assignments, customers, group memberships), so it lives
among the gateways. What an action touches, the row it picks, the value it writes and the
transaction-log message it leaves are LMS's (specs/lms_core.md 6), including the odd parts:

- ``assignment-invoice`` works on *active* assignments only (a tariff or liability, started, not
  ended by the real clock); unblock sets every such non-invoiced one back to invoiced, whatever the
  parameter;
- ``customer-status`` blocks only status != 5 and unblocks only status 5; the log records 5 and 3
  whatever the target, as coded;
- ``all-assignment-suspension`` adds a tariff-less, liability-less assignment; unblock removes it and,
  when the suspension began in an earlier month (and ``<section>.assignment_update`` is on), re-dates
  the customer's active assignments to now with ``settlement = 1``.

A *precheck* narrows the customers (and nodes) a channel processes before any action runs; lms-notify
uses the action list as prechecks unless told otherwise, which is what keeps unblock from touching a
customer who was never blocked.

Every action selects the rows it will change, prints one line per row as lms-notify does, and (unless
``debug``) changes them with a statement per chunk of ids instead of one per row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, delete, exists, func, insert, not_, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from lmsplugins.lms.customers import STATUS_ALIASES, STATUS_CONNECTED, STATUS_DEBT_COLLECTION
from lmsplugins.lms.debtors import DOC_DNOTE, DOC_INVOICE, DOC_PROFORMA, active_group_assignments
from lmsplugins.lms.syslog import (
    OPER_ADD,
    OPER_DELETE,
    OPER_UPDATE,
    RES_ASSIGN,
    RES_CUST,
    RES_CUSTASSIGN,
    RES_CUSTGROUP,
    RES_LIAB,
    RES_NODE,
    RES_NODEGROUP,
    RES_NODEGROUPASSIGN,
    RES_TARIFF,
    Syslog,
)
from lmsplugins.lms.tables import (
    assignments,
    customerassignments,
    customergroups,
    customers,
    nodegroupassignments,
    nodegroups,
    nodes,
)

CHUNK = 5000
INVOICE_TYPES = {"invoice": DOC_INVOICE, "proforma": DOC_PROFORMA, "note": DOC_DNOTE}


def chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


@dataclass
class Apply:
    """One channel's run over chosen customers: what every action needs and where it reports."""

    conn: Connection
    channel: str
    customers: list[int]
    names: dict[int, str]
    nodes: list[int]
    syslog: Syslog
    debug: bool = False
    echo: Callable[[str], None] = print
    assignment_update: bool = True
    now: int = field(default_factory=lambda: int(time.time()))

    def say(self, action: str, text: str) -> None:
        self.echo(f"[{self.channel}/{action}] {text}")

    def who(self, customer_id: int) -> str:
        return f"Customer: {self.names.get(customer_id, '')} (#{customer_id})"


def _select_in(query, column, ids: Sequence[int], conn: Connection) -> list:
    rows: list = []
    for part in chunks(ids):
        rows.extend(conn.execute(query.where(column.in_(part))).all())
    return sorted(rows, key=lambda r: tuple(r))


def _active_assignment(a=assignments, now: int | None = None) -> ColumnElement[bool]:
    t = now if now is not None else int(time.time())
    return and_(
        or_(a.c.tariffid.is_not(None), a.c.liabilityid.is_not(None)),
        a.c.datefrom <= t,
        or_(a.c.dateto == 0, a.c.dateto >= t),
    )


def _suspension(a=assignments) -> ColumnElement[bool]:
    return and_(a.c.tariffid.is_(None), a.c.liabilityid.is_(None))


# --- node flags ----------------------------------------------------------------------------------


def node_flag(column: str, blocked: int) -> Callable[[Apply, str | None], int]:
    """``node-access`` (access 1 -> 0) and ``node-warning`` (warning 0 -> 1), and their reverse."""
    col = nodes.c[column]
    label = f"node-{column}"

    def run(ap: Apply, _param: str | None) -> int:
        target = blocked if ap.channel == "block" else 1 - blocked
        rows = _select_in(select(nodes.c.id, nodes.c.ownerid).where(col == 1 - target), nodes.c.id, ap.nodes, ap.conn)
        for node_id, owner in rows:
            ap.say(label, f"{ap.who(owner)}, Node: #{node_id}")
        if ap.debug:
            return len(rows)
        ids = [r[0] for r in rows]
        for part in chunks(ids):
            ap.conn.execute(update(nodes).where(nodes.c.id.in_(part)).values({column: target}))
        for node_id, owner in rows:
            ap.syslog.new_transaction()
            ap.syslog.add(RES_NODE, OPER_UPDATE, [(RES_NODE, node_id), (RES_CUST, owner), (column, target)])
        return len(rows)

    return run


# --- assignments ---------------------------------------------------------------------------------


def assignment_invoice(ap: Apply, param: str | None) -> int:
    a = assignments
    if ap.channel == "block":
        target, pick = INVOICE_TYPES.get(param or "", 0), a.c.invoice == DOC_INVOICE
    else:
        target, pick = DOC_INVOICE, a.c.invoice != DOC_INVOICE
    query = select(a.c.id, a.c.customerid).where(pick, _active_assignment(now=ap.now))
    rows = _select_in(query, a.c.customerid, ap.customers, ap.conn)
    sep = "" if ap.channel == "block" else "#"
    for aid, cid in rows:
        ap.say("assignment-invoice", f"{ap.who(cid)}, Assignment: {sep}{aid}")
    if ap.debug:
        return len(rows)
    for part in chunks([r[0] for r in rows]):
        ap.conn.execute(update(a).where(a.c.id.in_(part)).values(invoice=target))
    for aid, cid in rows:
        ap.syslog.new_transaction()
        ap.syslog.add(RES_ASSIGN, OPER_UPDATE, [(RES_ASSIGN, aid), (RES_CUST, cid), ("invoice", target)])
    return len(rows)


def all_assignment_suspension(ap: Apply, _param: str | None) -> int:
    a = assignments
    suspended = {
        r[0] for r in _select_in(select(a.c.customerid).where(_suspension()), a.c.customerid, ap.customers, ap.conn)
    }
    if ap.channel == "block":
        todo = [cid for cid in ap.customers if cid not in suspended]
        for cid in todo:
            ap.say("all-assignment-suspension", ap.who(cid))
            if ap.debug:
                continue
            aid = ap.conn.execute(
                insert(a).values(customerid=cid, datefrom=ap.now, tariffid=None, liabilityid=None)
            ).inserted_primary_key[0]
            ap.syslog.new_transaction()
            ap.syslog.add(
                RES_ASSIGN,
                OPER_ADD,
                [(RES_ASSIGN, aid), (RES_CUST, cid), ("datefrom", ap.now), (RES_TARIFF, None), (RES_LIAB, None)],
            )
        return len(todo)
    return _lift_suspension(ap, [cid for cid in ap.customers if cid in suspended])


def _lift_suspension(ap: Apply, customer_ids: list[int]) -> int:
    a = assignments
    here = time.localtime(ap.now)
    changed = 0
    for cid in customer_ids:
        ap.syslog.new_transaction()
        susp = ap.conn.execute(
            select(a.c.id, a.c.datefrom).where(a.c.customerid == cid, _suspension()).order_by(a.c.id)
        ).all()
        if ap.assignment_update and susp and susp[0][1]:
            began = time.localtime(susp[0][1])
            if (began.tm_year, began.tm_mon) < (here.tm_year, here.tm_mon):
                active = and_(
                    or_(a.c.tariffid.is_not(None), a.c.liabilityid.is_not(None)),
                    a.c.datefrom < ap.now,
                    or_(a.c.dateto == 0, a.c.dateto > ap.now),
                )
                aids = [
                    r[0] for r in ap.conn.execute(select(a.c.id).where(a.c.customerid == cid, active).order_by(a.c.id))
                ]
                for aid in aids:
                    ap.say("all-assignment-suspension", f"assignment update: {ap.who(cid)}, Assignment: #{aid}")
                    if not ap.debug:
                        ap.conn.execute(update(a).where(a.c.id == aid).values(settlement=1, datefrom=ap.now))
                        ap.syslog.add(
                            RES_ASSIGN,
                            OPER_UPDATE,
                            [(RES_ASSIGN, aid), (RES_CUST, cid), ("settlement", 1), ("datefrom", ap.now)],
                        )
        for aid, _datefrom in susp:
            ap.say("all-assignment-suspension", f"assignment deletion: {ap.who(cid)}, Assignment: #{aid}")
            changed += 1
            if not ap.debug:
                ap.conn.execute(delete(a).where(a.c.id == aid))
                ap.syslog.add(RES_ASSIGN, OPER_DELETE, [(RES_ASSIGN, aid), (RES_CUST, cid)])
    return changed


# --- customer status -----------------------------------------------------------------------------


def status_param(param: str | None) -> int | None:
    return STATUS_ALIASES[param] if param else None


def customer_status(ap: Apply, param: str | None) -> int:
    c = customers
    if ap.channel == "block":
        pick, target, logged = c.c.status != STATUS_DEBT_COLLECTION, status_param(param) or STATUS_DEBT_COLLECTION, 5
    else:
        pick, target, logged = c.c.status == STATUS_DEBT_COLLECTION, status_param(param) or STATUS_CONNECTED, 3
    ids = [r[0] for r in _select_in(select(c.c.id).where(pick), c.c.id, ap.customers, ap.conn)]
    for cid in ids:
        ap.say("customer-status", ap.who(cid))
    if ap.debug:
        return len(ids)
    for part in chunks(ids):
        ap.conn.execute(update(c).where(c.c.id.in_(part)).values(status=target))
    for cid in ids:
        ap.syslog.new_transaction()
        ap.syslog.add(RES_CUST, OPER_UPDATE, [(RES_CUST, cid), ("status", logged)])
    return len(ids)


# --- groups --------------------------------------------------------------------------------------


def customer_group(ap: Apply, param: str | None) -> int:
    ca = customerassignments
    gid = ap.conn.execute(select(customergroups.c.id).where(customergroups.c.name == param)).scalar()
    if gid is None:
        ap.echo(f"warning: customer group {param!r} does not exist; customer-group({param}) changed nothing")
        return 0
    open_rows = _select_in(
        select(ca.c.customerid, ca.c.id).where(ca.c.customergroupid == gid, ca.c.enddate == 0),
        ca.c.customerid,
        ap.customers,
        ap.conn,
    )
    member = {cid: aid for cid, aid in open_rows}
    changed = 0
    for cid in ap.customers:
        ap.say("customer-group", f"{ap.who(cid)}, CustomerGroup: #{gid}")
        if ap.debug:
            continue
        ap.syslog.new_transaction()
        if ap.channel == "block":
            if cid in member:
                continue
            aid = ap.conn.execute(
                insert(ca).values(customergroupid=gid, customerid=cid, startdate=int(time.time()))
            ).inserted_primary_key[0]
            ap.syslog.add(RES_CUSTASSIGN, OPER_ADD, [(RES_CUSTASSIGN, aid), (RES_CUST, cid), (RES_CUSTGROUP, gid)])
            changed += 1
        else:
            end = int(time.time())
            active = ap.conn.execute(
                select(ca.c.id).where(
                    ca.c.customergroupid == gid, ca.c.customerid == cid, active_group_assignments(end)
                )
            ).all()
            for (aid,) in active:
                ap.syslog.add(
                    RES_CUSTASSIGN,
                    OPER_UPDATE,
                    [(RES_CUSTASSIGN, aid), (RES_CUST, cid), (RES_CUSTGROUP, gid), ("enddate", end)],
                )
            changed += (
                ap.conn.execute(
                    update(ca)
                    .where(ca.c.customergroupid == gid, ca.c.customerid == cid, ca.c.enddate == 0)
                    .values(enddate=end)
                ).rowcount
                or 0
            )
    return len(ap.customers) if ap.debug else changed


def node_group(ap: Apply, param: str | None) -> int:
    nga, n = nodegroupassignments, nodes
    if not ap.nodes:
        return 0
    gid = ap.conn.execute(select(nodegroups.c.id).where(nodegroups.c.name == param)).scalar()
    if gid is None:
        ap.echo(f"warning: node group {param!r} does not exist; node-group({param}) changed nothing")
        return 0
    in_group = exists().where(nga.c.nodeid == n.c.id, nga.c.nodegroupid == gid)
    pick = not_(in_group) if ap.channel == "block" else in_group
    rows = _select_in(select(n.c.id, n.c.ownerid).where(pick), n.c.id, ap.nodes, ap.conn)
    for node_id, owner in rows:
        ap.say("node-group", f"{ap.who(owner)}, Node: #{node_id}")
        if ap.debug:
            continue
        ap.syslog.new_transaction()
        fields: list = [(RES_NODEGROUP, gid), (RES_NODE, node_id)]
        if ap.channel == "block":
            nid = ap.conn.execute(insert(nga).values(nodegroupid=gid, nodeid=node_id)).inserted_primary_key[0]
            ap.syslog.add(RES_NODEGROUPASSIGN, OPER_ADD, [*fields, (RES_NODEGROUPASSIGN, nid), (RES_CUST, owner)])
        else:
            nid = ap.conn.execute(select(nga.c.id).where(nga.c.nodegroupid == gid, nga.c.nodeid == node_id)).scalar()
            ap.conn.execute(delete(nga).where(nga.c.nodegroupid == gid, nga.c.nodeid == node_id))
            ap.syslog.add(RES_NODEGROUPASSIGN, OPER_DELETE, [*fields, (RES_NODEGROUPASSIGN, nid), (RES_CUST, owner)])
    return len(rows)


# --- prechecks -----------------------------------------------------------------------------------

Precheck = tuple["ColumnElement[bool] | None", "ColumnElement[bool] | None"]


def precheck(name: str, param: str | None, channel: str) -> Precheck:
    """(condition on ``customers``, condition on ``nodes``) of one precheck, as lms-notify builds them."""
    c, n, a = customers, nodes, assignments
    n2 = nodes.alias("n2")
    block = channel == "block"
    if name in ("node-access", "node-warning"):
        column = "access" if name == "node-access" else "warning"
        wanted = (1 if block else 0) if column == "access" else (0 if block else 1)
        has = exists().where(n2.c.ownerid == c.c.id, n2.c[column] == wanted)
        if column == "access":
            return or_(has, not_(exists().where(n2.c.ownerid == c.c.id))), n.c.access == wanted
        return has, n.c.warning == wanted
    if name == "assignment-invoice":
        target = INVOICE_TYPES.get(param or "", 0)
        pick = a.c.invoice != target if block else a.c.invoice == target
        return exists().where(a.c.customerid == c.c.id, pick, _active_assignment()), None
    if name == "customer-status":
        target = status_param(param) or (STATUS_DEBT_COLLECTION if block else STATUS_CONNECTED)
        return c.c.status != target, None
    if name == "all-assignment-suspension":
        has = exists().where(a.c.customerid == c.c.id, _suspension())
        return (not_(has) if block else has), None
    if name == "customer-group":
        ca, g = customerassignments, customergroups
        has = exists().where(
            ca.c.customerid == c.c.id,
            ca.c.customergroupid == g.c.id,
            active_group_assignments(),
            func.lower(g.c.name) == func.lower(param or ""),
        )
        return (not_(has) if block else has), None
    if name == "node-group":
        nga, g = nodegroupassignments, nodegroups
        named = and_(nga.c.nodegroupid == g.c.id, func.lower(g.c.name) == func.lower(param or ""))
        owner_has = exists().where(named, n2.c.id == nga.c.nodeid, n2.c.ownerid == c.c.id)
        node_has = exists().where(named, nga.c.nodeid == n.c.id)
        return (not_(owner_has), not_(node_has)) if block else (owner_has, node_has)
    return None, None


@dataclass(frozen=True)
class CoreAction:
    """A core action's parameter rule (LMS's ``params``) and its runner."""

    name: str
    params: int
    run: Callable[[Apply, str | None], int]
    choices: tuple[str, ...] = ()


CORE_ACTIONS: dict[str, CoreAction] = {
    "node-access": CoreAction("node-access", 0, node_flag("access", 0)),
    "node-warning": CoreAction("node-warning", 0, node_flag("warning", 1)),
    "customer-status": CoreAction("customer-status", -1, customer_status, tuple(STATUS_ALIASES)),
    "assignment-invoice": CoreAction("assignment-invoice", -1, assignment_invoice, tuple(INVOICE_TYPES)),
    "all-assignment-suspension": CoreAction("all-assignment-suspension", 0, all_assignment_suspension),
    "customer-group": CoreAction("customer-group", 1, customer_group),
    "node-group": CoreAction("node-group", 1, node_group),
}
