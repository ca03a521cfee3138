"""Hiperus C5 invoices take LMS's defaults (``invoices.paytime``, ``invoices.paytype``,
``phpui.default_currency``) and the customer's own paytime and paytype, as LMS's invoicenew does,
instead of fixed 14 days, transfer and PLN; a value LMS would refuse stops the run before any write."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from test_invoicing import seeded  # noqa: F401  (the fixture: hv_* data of two LMS-invoiced accounts)

from lmsplugins.cli import main
from lmsplugins.config import Config
from lmsplugins.errors import ConfigError
from plugins.hiperus_c5 import invoicing


def _run(host) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["-C", str(host.ini_config.path), "hiperus-c5", "invoice", "-f", "2024/03/05"])
    return result.exit_code, result.output


def _invoices(host) -> list[tuple]:
    with host.engine.connect() as conn:
        return list(conn.execute(text("SELECT customerid, paytime, paytype, currency FROM documents ORDER BY id")))


@pytest.fixture
def ready(seeded):  # noqa: F811
    seeded.set_uiconfig("hiperus_c5.taxrate", "23")
    with seeded.engine.begin() as conn:
        # Only account 1 (LMS customer 1) is invoiced by LMS; no division default in between.
        conn.execute(text("UPDATE hv_assign SET keyvalue = '1' WHERE customerid = 2"))
        conn.execute(text("UPDATE divisions SET inv_paytime = NULL, inv_paytype = NULL"))
        conn.execute(text("UPDATE customers SET paytime = -1, paytype = NULL WHERE id = 1"))
    return seeded


def test_invoice_takes_lms_defaults_from_settings(ready):
    ready.set_uiconfig("invoices.paytime", "30")
    ready.set_uiconfig("invoices.paytype", "1")
    ready.set_uiconfig("phpui.default_currency", "EUR")
    code, output = _run(ready)
    assert code == 0, output
    assert _invoices(ready) == [(1, 30, 1, "EUR")]


def test_customer_own_paytime_and_paytype_come_first(ready):
    ready.set_uiconfig("invoices.paytime", "30")
    ready.set_uiconfig("invoices.paytype", "1")
    with ready.engine.begin() as conn:
        conn.execute(text("UPDATE customers SET paytime = 7, paytype = 4 WHERE id = 1"))
    code, output = _run(ready)
    assert code == 0, output
    assert _invoices(ready) == [(1, 7, 4, "PLN")]


def test_unset_keys_keep_lms_defaults(ready):
    code, output = _run(ready)
    assert code == 0, output
    assert _invoices(ready) == [(1, 14, 2, "PLN")]


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("invoices.paytype", "przelew", "invoices.paytype = 'przelew' is not an LMS payment type"),
        ("invoices.paytype", "12", "invoices.paytype = '12' is not an LMS payment type"),
        ("invoices.paytime", "two weeks", "invoices.paytime = 'two weeks' is not a number of days"),
        ("phpui.default_currency", "zloty", "phpui.default_currency = 'ZLOTY' is not a currency code"),
    ],
)
def test_bad_default_stops_before_any_write(ready, key, value, said):
    ready.set_uiconfig(key, value)
    code, output = _run(ready)
    assert code == 2
    assert said in output and "Traceback" not in output
    assert _invoices(ready) == []


def test_writer_defaults_from_config():
    writer = invoicing.invoice_writer(
        Config.from_mapping({"invoices": {"paytime": "21", "paytype": "3"}, "phpui": {"default_currency": "usd"}})
    )
    assert (writer.default_paytime, writer.default_paytype, writer.default_currency) == (21, 3, "USD")
    with pytest.raises(ConfigError, match="must be 0 or more"):
        invoicing.invoice_writer(Config.from_mapping({"invoices": {"paytime": "-1"}}))
