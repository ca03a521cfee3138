"""Tariff assignments (``assignments``): what a customer pays for, and what lms-payments bills.

Plugins that bill through LMS (MVNO numbers linked to a tagged phone tariff, for instance) need a
customer's assignment of a tariff to exist; this is the one place that creates one.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from lmsplugins.lms import syslog
from lmsplugins.lms.syslog import OPER_ADD, RES_ASSIGN, RES_CUST, RES_LIAB, RES_TARIFF
from lmsplugins.lms.tables import assignments, tariffassignments, tarifftags

PERIOD_MONTHLY = 3


def tariffs_tagged(conn: Connection, tag: str) -> list[int]:
    """Ids of the tariffs carrying the tariff tag *tag* (case-insensitive, as LMS compares tags)."""
    query = (
        select(tariffassignments.c.tariffid)
        .join(tarifftags, tarifftags.c.id == tariffassignments.c.tarifftagid)
        .where(tarifftags.c.name.ilike(tag))
        .order_by(tariffassignments.c.tariffid)
    )
    return [int(r[0]) for r in conn.execute(query)]


def assign_tariff(
    conn: Connection,
    customerid: int,
    tariffid: int,
    datefrom: int,
    *,
    period: int = PERIOD_MONTHLY,
    at: int = 1,
    invoice: int = 1,
) -> int:
    """Assign *tariffid* to the customer from *datefrom* (monthly on day *at*, invoiced); returns its id."""
    values = {
        "customerid": customerid,
        "tariffid": tariffid,
        "datefrom": datefrom,
        "period": period,
        "at": at,
        "invoice": invoice,
        "commited": 1,
    }
    aid = int(conn.execute(assignments.insert().values(**values)).inserted_primary_key[0])
    fields = [
        (RES_TARIFF, tariffid),
        (RES_CUST, customerid),
        ("period", period),
        ("at", at),
        ("invoice", invoice),
        ("datefrom", datefrom),
        ("dateto", 0),
        (RES_LIAB, None),
        (RES_ASSIGN, aid),
    ]
    syslog.record(conn, RES_ASSIGN, OPER_ADD, fields)
    return aid
