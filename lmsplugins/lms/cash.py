"""The cash gateway: money moved on a customer's account by something other than an invoice.

A row in ``cash`` is all LMS needs: its trigger (and the embedded database's copy of it) keeps
``customerbalances``, so nothing here touches the balance directly. Types follow LMS: 1 is a cash
operation (a payment in, or a payout), 0 a liability (a charge or a correction that is not a payment).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from lmsplugins.lms.tables import cash, customerbalances, customers, users

TYPE_LIABILITY, TYPE_CASH = 0, 1
MAX_AMOUNT = Decimal("9999999.99")
_AMOUNT = re.compile(r"^[+-]?\d{1,7}(?:[.,]\d{1,2})?$")


def parse_amount(text: str | None) -> Decimal:
    """A sum of money as typed (``12``, ``-12.5``, ``12,50``); ValueError for anything else or zero."""
    raw = (text or "").strip()
    if not _AMOUNT.match(raw):
        raise ValueError(f"{raw[:40]!r} is not a sum of money")
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"{raw[:40]!r} is not a sum of money") from None
    if value == 0 or abs(value) > MAX_AMOUNT:
        raise ValueError(f"{raw[:40]!r} is zero or out of range")
    return value


def add_operation(
    conn: Connection,
    customer_id: int,
    value: Decimal,
    comment: str,
    *,
    type_: int = TYPE_CASH,
    userid: int | None = None,
    at: int | None = None,
    currency: str = "PLN",
) -> int:
    """Insert one ``cash`` row for the customer; LMS's trigger updates the balance. Returns its id."""
    row = {
        "time": int(time.time()) if at is None else at,
        "type": type_,
        "customerid": customer_id,
        "value": value,
        "comment": comment,
        "userid": userid,
        "currency": currency,
        "currencyvalue": 1,
    }
    return int(conn.execute(cash.insert().values(**row)).inserted_primary_key[0])


def balance(conn: Connection, customer_id: int) -> Decimal:
    found = conn.execute(
        select(customerbalances.c.balance).where(customerbalances.c.customerid == customer_id)
    ).scalar()
    return Decimal(found or 0)


@dataclass(frozen=True)
class CashEntry:
    id: int
    time: int
    value: Decimal
    before: Decimal
    after: Decimal
    comment: str
    operator: str


def history(conn: Connection, customer_id: int) -> Iterator[CashEntry]:
    """The customer's cash rows oldest first, each with the balance before and after it."""
    u = users
    query = (
        select(cash.c.id, cash.c.time, cash.c.value, cash.c.currencyvalue, cash.c.comment, u.c.login)
        .select_from(cash.outerjoin(u, u.c.id == cash.c.userid))
        .where(cash.c.customerid == customer_id)
        .order_by(cash.c.time, cash.c.id)
    )
    running = Decimal(0)
    for row in conn.execute(query):
        value = (Decimal(row.value) * Decimal(row.currencyvalue or 1)).quantize(Decimal("0.01"))
        before, running = running, running + value
        yield CashEntry(row.id, int(row.time), value, before, running, row.comment or "", row.login or "")


def customer_exists(conn: Connection, customer_id: int) -> bool:
    """A customer that is not deleted."""
    found = conn.execute(
        select(func.count()).select_from(customers).where(customers.c.id == customer_id, customers.c.deleted == 0)
    ).scalar()
    return bool(found)
