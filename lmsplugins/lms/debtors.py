"""Debtors as ``lms-notify -t debtors`` finds them: the balance of what is already due.

The rules are LMS's query, as coded (specs/lms_core.md 6, ``bin/lms-notify.php``). A customer's
overdue balance sums ``cash.value * currencyvalue`` over the rows already due at the run's time:

- loose rows (no document): payments and other non-charges, and positive charges, dated before now;
  charges once ``time + (paytime + days) * 86400`` has passed, ``paytime`` being the customer's, or
  (-1) the division's invoice paytime, or the global deadline;
- receipts dated before now, and credit notes whose whole document is not negative;
- invoices, pro-formas, debit notes and negative credit notes once ``cdate + (paytime + days)``
  days have passed.

A debtor's balance is below the limit (above it when the limit is positive, as coded), their
``cutoffstop`` has passed, and they pass the run's filters. LMS reads debtors from
``customeraddressview``, so a customer without a billing address, or a contractor (type 2), is never
a debtor; we join the same way.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import BigInteger, and_, case, func, literal, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from lmsplugins.lms.tables import (
    cash,
    customer_addresses,
    customerassignments,
    customergroups,
    customers,
    divisions,
    documents,
)

_DAY = literal(86400, BigInteger)  # smallint paytime * 86400 overflows smallint on PostgreSQL
DOC_INVOICE, DOC_RECEIPT, DOC_CNOTE, DOC_DNOTE, DOC_PROFORMA = 1, 2, 3, 5, 6
BILLING_ADDRESS = 1

GroupTerm = tuple[tuple[str, ...], tuple[str, ...]]


def parse_groups(text: str) -> list[GroupTerm]:
    """``-g`` as LMS reads it: ``a,b`` any of, ``a+b`` all of, ``!a`` not in; names compared upper-case."""
    terms: list[GroupTerm] = []
    for term in re.split(r"\s+|\s*,\s*", text.upper()):
        if not term:
            continue
        names = [n for n in re.split(r"\s*\+\s*", term) if n]
        terms.append((tuple(n for n in names if "!" not in n), tuple(n[1:] for n in names if "!" in n)))
    return terms


def active_group_assignments(now: int | None = None) -> ColumnElement[bool]:
    """LMS's ``vcustomerassignments``: started, not ended (the view reads the real clock)."""
    ca = customerassignments
    return and_(ca.c.startdate <= (now if now is not None else int(time.time())), ca.c.enddate == 0)


def group_filter(terms: Sequence[GroupTerm], customer_id: ColumnElement) -> ColumnElement[bool]:
    """The ``-g`` condition on *customer_id*: OR of terms, each all its groups and none of its ``!`` ones."""
    ca, g = customerassignments, customergroups

    def count(names: Sequence[str]) -> ColumnElement:
        return (
            select(func.count())
            .select_from(g.join(ca, ca.c.customergroupid == g.c.id))
            .where(ca.c.customerid == customer_id, active_group_assignments(), func.upper(g.c.name).in_(list(names)))
            .scalar_subquery()
        )

    ors = []
    for regular, negated in terms:
        parts: list[ColumnElement[bool]] = []
        if regular:
            parts.append(count(regular) == len(regular))
        if negated:
            parts.append(count(negated) == 0)
        ors.append(and_(*parts) if parts else literal(True))
    return or_(*ors)


@dataclass(frozen=True)
class DebtorQuery:
    """One run's debtor rules and filters (``None`` / empty: no filter)."""

    now: int
    limit: int = 0
    days: int = 0
    deadline: int = 0
    include_deleted: bool = True
    customer_ids: Sequence[int] | None = None
    division_id: int | None = None
    statuses: Sequence[int] | None = None
    types: Sequence[int] | None = None
    groups: Sequence[GroupTerm] = ()


def due_balance(q: DebtorQuery):
    """Subquery (customerid, balance) of the rows already due at ``q.now``."""
    c, d, dv, k = customers, documents, divisions, cash
    amount = k.c.value * func.coalesce(k.c.currencyvalue, 1)
    tv = (
        select(k.c.docid.label("docid"), func.sum(amount).label("totalvalue"))
        .select_from(k.join(d, d.c.id == k.c.docid))
        .where(d.c.type == DOC_CNOTE)
        .group_by(k.c.docid)
        .subquery("tv")
    )
    paytime = case(
        (c.c.paytime == -1, func.coalesce(dv.c.inv_paytime, literal(q.deadline))),
        else_=c.c.paytime,
    )
    now = q.now
    loose = and_(
        k.c.docid.is_(None),
        or_(
            and_(k.c.type != 0, k.c.time < now),
            and_(k.c.type == 0, k.c.value > 0, k.c.time < now),
            and_(k.c.type == 0, k.c.time + (paytime + q.days) * _DAY < now),
        ),
    )
    documented = and_(
        k.c.docid.is_not(None),
        or_(
            and_(d.c.type == DOC_RECEIPT, k.c.time < now),
            and_(d.c.type == DOC_CNOTE, k.c.time < now, tv.c.totalvalue >= 0),
            and_(
                or_(
                    and_(d.c.type == DOC_CNOTE, tv.c.totalvalue < 0),
                    d.c.type.in_([DOC_INVOICE, DOC_PROFORMA, DOC_DNOTE]),
                ),
                d.c.cdate + (d.c.paytime + q.days) * _DAY < now,
            ),
        ),
    )
    return (
        select(k.c.customerid.label("customerid"), func.sum(amount).label("balance"))
        .select_from(
            k.outerjoin(c, c.c.id == k.c.customerid)
            .outerjoin(dv, dv.c.id == c.c.divisionid)
            .outerjoin(d, d.c.id == k.c.docid)
            .outerjoin(tv, tv.c.docid == k.c.docid)
        )
        .where(or_(loose, documented))
        .group_by(k.c.customerid)
        .subquery("b2")
    )


def debtors(conn: Connection, q: DebtorQuery) -> dict[int, Decimal]:
    """customer id -> overdue balance of every debtor of the run, in id order."""
    c, ca = customers, customer_addresses
    b2 = due_balance(q)
    owes = b2.c.balance > q.limit if q.limit > 0 else b2.c.balance < q.limit
    query = (
        select(c.c.id, b2.c.balance)
        .select_from(
            c.join(ca, and_(ca.c.customer_id == c.c.id, ca.c.type == BILLING_ADDRESS)).join(
                b2, b2.c.customerid == c.c.id
            )
        )
        .where(c.c.type < 2, c.c.cutoffstop < q.now, owes)
        .order_by(c.c.id)
    )
    query = query.where(*customer_filters(q, with_deleted=True))
    return {int(cid): Decimal(bal).quantize(Decimal("0.01")) for cid, bal in conn.execute(query)}


def customer_filters(q: DebtorQuery, *, with_deleted: bool) -> list[ColumnElement[bool]]:
    """The run's status, type, id, division, group (and, for debtors, deleted) filters on ``customers``."""
    c = customers
    where: list[ColumnElement[bool]] = []
    if q.statuses:
        where.append(c.c.status.in_(list(q.statuses)))
    if q.types:
        where.append(c.c.type.in_(list(q.types)))
    if q.customer_ids is not None:
        where.append(c.c.id.in_(list(q.customer_ids)))
    if q.division_id is not None:
        where.append(c.c.divisionid == q.division_id)
    if with_deleted and not q.include_deleted:
        where.append(c.c.deleted == 0)
    if q.groups:
        where.append(group_filter(q.groups, c.c.id))
    return where


def overdue_balances(conn: Connection, q: DebtorQuery) -> dict[int, Decimal]:
    """customer id -> overdue balance, for every customer with rows already due (debtor or not)."""
    b2 = due_balance(q)
    rows = conn.execute(select(b2.c.customerid, b2.c.balance).where(b2.c.customerid.is_not(None)))
    return {int(cid): Decimal(bal).quantize(Decimal("0.01")) for cid, bal in rows}
