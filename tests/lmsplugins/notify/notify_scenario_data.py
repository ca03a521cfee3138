"""Builds an LMS database from a table of customers, and reads back what notify may change.

One row of a scenario table says everything lms-notify looks at for one customer: status, type,
deleted flag, billing address, cutoffstop, what they owe (overdue or not yet due), their nodes
(access, warning), their assignments (invoice flag, active or ended), suspension, groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lmsplugins.lms.tables import (
    addresses,
    assignments,
    cash,
    customer_addresses,
    customerassignments,
    customergroups,
    customers,
    documents,
    nodegroupassignments,
    nodegroups,
    nodes,
    tariffs,
    taxes,
)

DAY = 86400


@dataclass(frozen=True)
class Row:
    key: str
    status: int = 3
    ctype: int = 0
    deleted: int = 0
    address: bool = True
    cutoff_days: int = 0
    owes: int = 0
    not_yet_due: int = 0
    nodes: tuple[tuple[int, int], ...] = ()
    assigns: tuple[tuple[int, bool], ...] = ()
    suspended_days_ago: int | None = None
    groups: tuple[str, ...] = ()
    node_groups: tuple[str, ...] = ()


def build(conn, now: int, rows: list[Row], cgroups=(), ngroups=()) -> dict[str, int]:
    tax = conn.execute(taxes.insert().values(value=23, taxed=1, label="23%")).inserted_primary_key[0]
    tariff = conn.execute(tariffs.insert().values(name="Net", value=50, taxid=tax, period=3)).inserted_primary_key[0]
    netid = 0
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(
            "INSERT INTO networks (name, address, mask, notes) VALUES ('LAN', 167772160, '255.255.0.0', '')"
        )
        netid = conn.exec_driver_sql("SELECT MAX(id) FROM networks").scalar()
    cg = {n: conn.execute(customergroups.insert().values(name=n)).inserted_primary_key[0] for n in cgroups}
    ng = {n: conn.execute(nodegroups.insert().values(name=n)).inserted_primary_key[0] for n in ngroups}
    ids: dict[str, int] = {}
    ip = 167772161
    for row in rows:
        cid = conn.execute(
            customers.insert().values(
                lastname=row.key.upper(),
                name="Jan",
                status=row.status,
                type=row.ctype,
                deleted=row.deleted,
                cutoffstop=now + row.cutoff_days * DAY if row.cutoff_days else 0,
            )
        ).inserted_primary_key[0]
        ids[row.key] = cid
        if row.address:
            aid = conn.execute(addresses.insert().values(city="Gdynia")).inserted_primary_key[0]
            conn.execute(customer_addresses.insert().values(customer_id=cid, address_id=aid, type=1))
        for n, (access, warning) in enumerate(row.nodes):
            node = conn.execute(
                nodes.insert().values(
                    name=f"{row.key[:28]}-{n}", ownerid=cid, access=access, warning=warning, netid=netid, ipaddr=ip
                )
            ).inserted_primary_key[0]
            ip += 1
            for g in row.node_groups:
                conn.execute(nodegroupassignments.insert().values(nodegroupid=ng[g], nodeid=node))
        for invoice, active in row.assigns:
            conn.execute(
                assignments.insert().values(
                    customerid=cid,
                    tariffid=tariff,
                    invoice=invoice,
                    period=3,
                    datefrom=now - 90 * DAY,
                    dateto=0 if active else now - DAY,
                )
            )
        if row.suspended_days_ago is not None:
            conn.execute(assignments.insert().values(customerid=cid, datefrom=now - row.suspended_days_ago * DAY))
        for g in row.groups:
            conn.execute(
                customerassignments.insert().values(customergroupid=cg[g], customerid=cid, startdate=now - DAY)
            )
        if row.owes:
            conn.execute(cash.insert().values(time=now - 60 * DAY, type=0, value=-row.owes, customerid=cid))
        if row.not_yet_due:
            doc = conn.execute(
                documents.insert().values(type=1, number=cid, cdate=now - 3 * DAY, paytime=14, customerid=cid)
            ).inserted_primary_key[0]
            conn.execute(
                cash.insert().values(time=now - 3 * DAY, type=0, value=-row.not_yet_due, customerid=cid, docid=doc)
            )
    return ids


def pay(conn, customer_id: int, amount: int, now: int) -> None:
    conn.execute(cash.insert().values(time=now - 60, type=1, value=amount, customerid=customer_id))


def snapshot(conn, ids: dict[str, int]) -> dict[str, tuple]:
    """key -> (node access, node warning, status, invoice flags of tariff assignments, suspensions,
    open customer groups, node groups) in id order."""
    out = {}
    for key, cid in ids.items():
        node_rows = conn.execute(
            select(nodes.c.id, nodes.c.access, nodes.c.warning).where(nodes.c.ownerid == cid).order_by(nodes.c.id)
        ).all()
        status = conn.execute(select(customers.c.status).where(customers.c.id == cid)).scalar()
        inv = (
            conn.execute(
                select(assignments.c.invoice)
                .where(assignments.c.customerid == cid, assignments.c.tariffid.is_not(None))
                .order_by(assignments.c.id)
            )
            .scalars()
            .all()
        )
        susp = conn.execute(
            select(assignments.c.id).where(assignments.c.customerid == cid, assignments.c.tariffid.is_(None))
        ).all()
        groups = (
            conn.execute(
                select(customergroups.c.name)
                .join(customerassignments, customerassignments.c.customergroupid == customergroups.c.id)
                .where(customerassignments.c.customerid == cid, customerassignments.c.enddate == 0)
            )
            .scalars()
            .all()
        )
        ngs = (
            conn.execute(
                select(nodegroups.c.name)
                .join(nodegroupassignments, nodegroupassignments.c.nodegroupid == nodegroups.c.id)
                .where(nodegroupassignments.c.nodeid.in_([r[0] for r in node_rows]))
            )
            .scalars()
            .all()
        )
        out[key] = (
            tuple(r[1] for r in node_rows),
            tuple(r[2] for r in node_rows),
            status,
            tuple(inv),
            len(susp),
            tuple(sorted(groups)),
            tuple(sorted(ngs)),
        )
    return out
