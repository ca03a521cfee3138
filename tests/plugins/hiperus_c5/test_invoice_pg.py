"""``hiperus-c5 invoice`` end to end on PostgreSQL with the real LMS schema: imported from the
simulator, invoiced through the host's writer, checked with LMS's own vinvoicecontents view and the
customerbalances its triggers keep; a second run for the same month creates nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hiperus_env import make_env
from sqlalchemy import text

from lmsplugins.demo import seed
from plugins.hiperus_c5 import invoicing


@pytest.fixture
def pg_env(pg_host, tmp_path):
    with pg_host.engine.begin() as conn:
        conn.execute(text("DELETE FROM countries"))  # the PostgreSQL schema ships them; the demo seed adds its own
        seed(conn)
    env = make_env(pg_host, tmp_path)
    yield env
    env.server.stop()


def _expected(env):
    opts = invoicing.Options(
        year=2024, month=2, rate=Decimal(23), subscription_comment="S %pricelist", call_comment="C %pricelist"
    )
    with env.host.engine.connect() as conn:
        return invoicing.plan_invoices(conn, opts)


@pytest.mark.parametrize("add_new", ["true", "false"])
def test_invoices_match_lms_views_and_rerun_creates_nothing(pg_env, add_new):
    env = pg_env
    env.host.set_uiconfig("hiperus_c5.add_new_invoices", add_new)
    assert env.run("import", "-a").exit_code == 0
    assert env.run("import", "-b", "-Y", "all", "-S", "all", "-F", "2024/02/01", "-T", "2024/02/29").exit_code == 0
    plans = [p for p in _expected(env) if p.customer_id is not None]
    assert plans
    before = dict(env.sql("SELECT customerid, balance FROM customerbalances"))
    cash_before = env.sql("SELECT COUNT(*) FROM cash")[0][0]
    docs_before = env.sql("SELECT COUNT(*) FROM documents")[0][0]
    result = env.run("invoice", "-f", "2024/03/05")
    unlinked = [p for p in _expected(env) if p.customer_id is None]
    assert result.exit_code == (1 if unlinked else 0), result.output
    for p in unlinked:
        assert f"account {p.account_id} " in result.output
    docs = env.sql(
        "SELECT id, customerid, fullnumber, extid FROM documents WHERE extid LIKE 'hiperus_c5:%' ORDER BY id"
    )
    assert len(docs) == len(plans)
    for (docid, customerid, fullnumber, extid), plan in zip(docs, plans, strict=True):
        assert customerid == plan.customer_id and extid == f"hiperus_c5:{plan.account_id}:2024-02"
        assert fullnumber and "/" in fullnumber
        total = env.sql("SELECT SUM(value * count) FROM vinvoicecontents WHERE docid = :d", d=docid)[0][0]
        assert Decimal(total).quantize(Decimal("0.01")) == plan.total
        cash = env.sql("SELECT SUM(value) FROM cash WHERE docid = :d", d=docid)[0][0]
        assert cash == -plan.total
        tariffs = env.sql("SELECT DISTINCT tariffid FROM invoicecontents WHERE docid = :d", d=docid)
        assert tariffs == [(None,)]
    balances = dict(env.sql("SELECT customerid, balance FROM customerbalances"))
    per_customer: dict[int, Decimal] = {}
    for plan in plans:
        per_customer[plan.customer_id] = per_customer.get(plan.customer_id, Decimal(0)) - plan.total
    for cid, value in per_customer.items():
        assert balances[cid] - before.get(cid, Decimal(0)) == value
    second = env.run("invoice", "-f", "2024/03/20")
    assert second.exit_code == result.exit_code
    assert env.sql("SELECT COUNT(*) FROM documents")[0][0] == docs_before + len(plans)
    assert env.sql("SELECT COUNT(*) FROM cash")[0][0] == cash_before + sum(len(p.lines) for p in plans)


def test_append_mode_adds_lines_to_this_months_invoice_once(pg_env):
    from lmsplugins.lms import documents
    from lmsplugins.lms.documents import InvoiceDraft, InvoiceLine

    env = pg_env
    env.host.set_uiconfig("hiperus_c5.add_new_invoices", "false")
    assert env.run("import", "-a").exit_code == 0
    assert env.run("import", "-b", "-Y", "all", "-S", "all", "-F", "2024/02/01", "-T", "2024/02/29").exit_code == 0
    plans = [p for p in _expected(env) if p.customer_id is not None]
    assert len(plans) >= 2
    target = plans[0]
    taxid = env.sql("SELECT id FROM taxes WHERE value = 23 ORDER BY id")[0][0]
    cdate = int(env.sql("SELECT EXTRACT(EPOCH FROM TIMESTAMPTZ '2024-03-02 10:00 Europe/Warsaw')")[0][0])
    with env.host.engine.begin() as conn:
        existing = documents.write_invoice(
            conn, InvoiceDraft(target.customer_id, [InvoiceLine("Internet", Decimal("69.00"), taxid)], cdate=cdate)
        )
    docs_before = env.sql("SELECT COUNT(*) FROM documents")[0][0]
    env.run("invoice", "-f", "2024/03/05")
    items = env.sql("SELECT itemid FROM invoicecontents WHERE docid = :d ORDER BY itemid", d=existing.id)
    assert [i for (i,) in items] == list(range(1, 2 + len(target.lines)))
    appended = env.sql("SELECT SUM(value) FROM cash WHERE docid = :d AND itemid > 1", d=existing.id)[0][0]
    assert appended == -target.total
    assert env.sql("SELECT DISTINCT time FROM cash WHERE docid = :d", d=existing.id) == [(cdate,)]
    others = {p.customer_id for p in plans[1:]} - {target.customer_id}
    created = env.sql("SELECT COUNT(*) FROM documents")[0][0] - docs_before
    assert created == len([p for p in plans[1:] if p.customer_id in others])
    env.run("invoice", "-f", "2024/03/20")
    assert env.sql("SELECT COUNT(*) FROM documents")[0][0] == docs_before + created
    assert env.sql("SELECT COUNT(*) FROM invoicecontents WHERE docid = :d", d=existing.id)[0][0] == 1 + len(
        target.lines
    )
