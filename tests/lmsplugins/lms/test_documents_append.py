"""Appending lines to an issued invoice (the add_new_invoices=false mode of the Hiperus script)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from test_documents import World, ts  # the same small LMS the writer tests use

from lmsplugins.lms import documents as docs
from lmsplugins.lms.documents import InvoiceDraft, InvoiceError
from lmsplugins.lms.tables import cash, customerbalances, documents, invoicecontents


@pytest.fixture
def world(lms_host):
    with lms_host.engine.begin() as conn:
        yield World(conn)


def test_append_continues_items_and_books_at_invoice_date(world):
    conn = world.conn
    cid = world.customer()
    plan = world.plan("FV/%N/%m/%Y", docs.MONTHLY, isdefault=1)
    first = docs.write_invoice(
        conn, InvoiceDraft(cid, [world.line("69.99")], cdate=ts(2025, 3, 3, 8), numberplanid=plan)
    )
    added = docs.append_lines(
        conn, first.id, [world.line("10.00", description="Abonament VoIP"), world.line("2.345", count=2)]
    )
    assert added.itemids == (2, 3)
    assert added.total == Decimal("10.00") + Decimal("4.69")
    items = conn.execute(
        select(invoicecontents.c.itemid, invoicecontents.c.description).where(invoicecontents.c.docid == first.id)
    ).all()
    assert sorted(i for i, _ in items) == [1, 2, 3]
    charges = conn.execute(select(cash.c.itemid, cash.c.time, cash.c.value).where(cash.c.docid == first.id)).all()
    assert {c.time for c in charges} == {first.cdate}
    assert sum(Decimal(c.value) for c in charges) == -(first.total + added.total)
    balance = conn.execute(select(customerbalances.c.balance).where(customerbalances.c.customerid == cid)).scalar()
    assert Decimal(balance) == -(first.total + added.total)
    assert conn.execute(select(documents.c.id)).scalars().all() == [first.id]


def test_latest_invoice_picks_newest_of_plan_and_window_and_skips_cancelled(world):
    conn = world.conn
    cid = world.customer()
    plan = world.plan("FV/%N/%m/%Y", docs.MONTHLY, isdefault=1)
    other = world.plan("X/%N/%Y", docs.YEARLY)
    march = [
        docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2025, 3, d), numberplanid=plan)).id
        for d in (2, 9)
    ]
    docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2025, 3, 20), numberplanid=other))
    docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2025, 2, 27), numberplanid=plan))
    window = (ts(2025, 3, 1), ts(2025, 3, 31, 23, 59))
    assert docs.latest_invoice(conn, cid, *window, numberplanid=plan) == march[1]
    conn.execute(documents.update().where(documents.c.id == march[1]).values(cancelled=1))
    assert docs.latest_invoice(conn, cid, *window, numberplanid=plan) == march[0]
    assert docs.latest_invoice(conn, cid, ts(2025, 4, 1), ts(2025, 4, 30), numberplanid=plan) is None
    with pytest.raises(InvoiceError, match="cancelled"):
        docs.append_lines(conn, march[1], [world.line()])
    with pytest.raises(InvoiceError, match="nothing to append"):
        docs.append_lines(conn, march[0], [])
