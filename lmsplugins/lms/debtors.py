"""Debtors as ``lms-notify -t debtors`` finds them: the balance of what is already due.

A customer's overdue balance counts payments made so far and only those charges whose deadline has
passed (specs/lms_core.md 6): a charge without a document is due ``time + (paytime + days)`` after it
was booked, a document ``cdate + (paytime + days)`` after it was issued. ``paytime`` of a loose
charge is the customer's, else (-1) the division's invoice paytime, else the global deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import BigInteger, and_, case, func, literal, or_, select
from sqlalchemy.engine import Connection

from lmsplugins.lms.tables import cash, customers, divisions, documents

_DAY = literal(86400, BigInteger)  # smallint paytime * 86400 overflows smallint on PostgreSQL
DOC_INVOICE, DOC_RECEIPT, DOC_CNOTE, DOC_DNOTE, DOC_PROFORMA = 1, 2, 3, 5, 6


@dataclass(frozen=True)
class DebtorQuery:
    now: int
    limit: Decimal = Decimal(0)
    days: int = 0
    deadline: int = 14
    include_deleted: bool = False
    customer_ids: Sequence[int] | None = None
    division_id: int | None = None
    statuses: Sequence[int] | None = None


def _overdue(conn: Connection, q: DebtorQuery) -> list[tuple[int, int, Decimal]]:
    """(customer id, cutoffstop, overdue balance) for every customer matching the filters."""
    c, d, dv, k = customers, documents, divisions, cash
    paytime = case(
        (c.c.paytime != -1, c.c.paytime),
        else_=func.coalesce(dv.c.inv_paytime, literal(q.deadline)),
    )
    due = or_(
        k.c.type == 1,
        and_(k.c.docid.is_(None), k.c.time + (paytime + q.days) * _DAY < q.now),
        and_(d.c.type == DOC_RECEIPT),
        and_(d.c.type == DOC_CNOTE, k.c.value >= 0),
        and_(
            d.c.type.in_([DOC_INVOICE, DOC_PROFORMA, DOC_DNOTE, DOC_CNOTE]),
            d.c.cdate + (d.c.paytime + q.days) * _DAY < q.now,
        ),
    )
    amount = k.c.value * func.coalesce(k.c.currencyvalue, 1)
    query = (
        select(c.c.id, c.c.cutoffstop, func.coalesce(func.sum(case((and_(due, k.c.time < q.now), amount), else_=0)), 0))
        .select_from(c)
        .outerjoin(k, k.c.customerid == c.c.id)
        .outerjoin(d, d.c.id == k.c.docid)
        .outerjoin(dv, dv.c.id == c.c.divisionid)
        .group_by(c.c.id, c.c.cutoffstop)
    )
    if not q.include_deleted:
        query = query.where(c.c.deleted == 0)
    if q.customer_ids is not None:
        query = query.where(c.c.id.in_(list(q.customer_ids)))
    if q.division_id is not None:
        query = query.where(c.c.divisionid == q.division_id)
    if q.statuses:
        query = query.where(c.c.status.in_(list(q.statuses)))
    return [(row[0], row[1], Decimal(row[2]).quantize(Decimal("0.01"))) for row in conn.execute(query)]


def overdue_balances(conn: Connection, q: DebtorQuery) -> dict[int, Decimal]:
    """customer id -> overdue balance, for every customer matching the filters (debtor or not)."""
    return {cid: balance for cid, _cutoff, balance in _overdue(conn, q)}


def split_debtors(conn: Connection, q: DebtorQuery) -> tuple[dict[int, Decimal], list[int]]:
    """(debtors with their overdue balance, the other customers) as lms-notify sees them.

    A debtor's balance is below the limit (as coded in LMS, above it when the limit is positive) and
    their ``cutoffstop`` has passed.
    """
    debtors: dict[int, Decimal] = {}
    others: list[int] = []
    for cid, cutoffstop, balance in _overdue(conn, q):
        owes = balance > q.limit if q.limit > 0 else balance < q.limit
        if owes and (cutoffstop or 0) < q.now:
            debtors[cid] = balance
        else:
            others.append(cid)
    return debtors, sorted(others)
