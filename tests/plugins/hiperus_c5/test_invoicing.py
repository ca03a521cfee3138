"""Invoice planning (spec §5 with §7.13 fixed) from hv_* rows, and the shims.

The writing itself goes through ``lmsplugins.lms.documents`` (the host's invoice writer); the tests
that check totals with LMS's own views on PostgreSQL run once that module is present.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from lmsplugins.testing import databases as dbs
from plugins.hiperus_c5 import invoicing
from plugins.hiperus_c5.tables import (
    hv_assign,
    hv_billing,
    hv_customers,
    hv_pstn,
    hv_subscriptionlist,
    hv_terminal,
)

REPO = Path(__file__).resolve().parents[3]
OPTS = dict(
    rate=Decimal(23),
    subscription_comment="Abonament VoIP: %pricelist %numbers za okres %month_name %year",
    call_comment="Kosz rozmów poza abonamentem %pricelist %numbers za okres %month_name %year",
)


def _cdr(i, terminal, account, cost, init="0", start="2024-02-10 12:00:00", success="t"):
    return {
        "id": i,
        "customerid": account,
        "terminal_name": terminal,
        "start_time": start,
        "cost": cost,
        "init_charge": init,
        "price": "0",
        "reseller_price": "0",
        "reseller_cost": "0",
        "reseller_init_charge": "0",
        "margin": "0",
        "success_call": success,
    }


def _insert(conn, table, rows):
    for row in rows:
        conn.execute(table.insert().values(**row))


@pytest.fixture
def seeded(sqlite_host):
    dbs.install(sqlite_host, "hiperus_c5")
    with sqlite_host.engine.begin() as conn:
        _insert(
            conn,
            hv_customers,
            [
                {"id": 1, "name": "Nowak", "ext_billing_id": 1, "create_date": "2015-01-01 10:00:00"},
                {"id": 2, "name": "Orphan", "ext_billing_id": None, "create_date": "2015-01-01 10:00:00"},
                {"id": 3, "name": "Hiperus invoiced", "ext_billing_id": 2, "create_date": "2015-01-01 10:00:00"},
                {"id": 4, "name": "Too new", "ext_billing_id": 3, "create_date": "2024-03-02 10:00:00"},
            ],
        )
        _insert(
            conn,
            hv_assign,
            [
                {"customerid": c, "keytype": "issue_invoice", "keyvalue": v}
                for c, v in ((1, "2"), (2, "2"), (3, "1"), (4, "2"))
            ],
        )
        _insert(conn, hv_subscriptionlist, [{"id": 1, "name": "Mini", "value": "10", "invoice_value": "8.13"}])
        _insert(
            conn,
            hv_terminal,
            [
                {
                    "id": 10,
                    "customerid": 1,
                    "username": "1t1",
                    "pricelist_name": "Standard",
                    "id_subscription": 1,
                    "subscription_from": "2015-01-01",
                },
                {"id": 11, "customerid": 1, "username": "1t2", "pricelist_name": "Biznes", "id_subscription": None},
                {
                    "id": 12,
                    "customerid": 1,
                    "username": "1t3",
                    "pricelist_name": "Biznes",
                    "id_subscription": 1,
                    "subscription_to": "2023-12-31",
                },
                {"id": 20, "customerid": 2, "username": "2t1", "pricelist_name": "Standard", "id_subscription": 1},
                {"id": 40, "customerid": 4, "username": "4t1", "pricelist_name": "Standard", "id_subscription": 1},
            ],
        )
        _insert(
            conn,
            hv_pstn,
            [
                {
                    "id": 100,
                    "customerid": 1,
                    "number": "221000001",
                    "terminal_name": "1t1",
                    "create_date": "2015-01-01 10:00:00",
                },
                {
                    "id": 101,
                    "customerid": 1,
                    "number": "221000002",
                    "terminal_name": "1t1",
                    "create_date": "2024-05-01 10:00:00",
                },
            ],
        )
        _insert(
            conn,
            hv_billing,
            [
                _cdr(1, "1t1", 1, "1.0000", "0.0500"),
                _cdr(2, "1t2", 1, "2.3333", start="2024-02-29 23:59:59"),
                _cdr(3, "1t2", 1, "0.0000", "0.0500", success="f"),
                _cdr(4, "1t2", 1, "5.0000", start="2024-03-01 00:00:00"),
                _cdr(5, "2t1", 2, "1.0000"),
            ],
        )
    return sqlite_host


def test_billed_month_and_text():
    assert invoicing.billed_month(date(2024, 1, 15), 1) == (2023, 12)
    assert invoicing.billed_month(date(2024, 1, 15), 0) == (2023, 12)
    assert invoicing.billed_month(date(2024, 3, 1), 2) == (2024, 1)
    assert invoicing.gross(Decimal("8.13"), Decimal(23)) == Decimal("10.00")
    assert invoicing.gross(Decimal("2.4333"), Decimal(23)) == Decimal("2.99")
    text = invoicing.render(
        "A %pricelist %numbers za okres %month_name %year",
        pricelist="P",
        subscription="",
        numbers=[],
        year=2024,
        month=9,
    )
    assert text == "A P za okres wrzesień 2024"


def test_plan_bills_every_terminal_with_init_charge_and_rounding(seeded):
    with seeded.engine.connect() as conn:
        plans = invoicing.plan_invoices(conn, invoicing.Options(year=2024, month=2, **OPTS))
    by_account = {p.account_id: p for p in plans}
    assert set(by_account) == {1, 2}
    lines = by_account[1].lines
    assert [(ln.kind, ln.net, ln.gross) for ln in lines] == [
        ("subscription", Decimal("8.13"), Decimal("10.00")),
        ("calls", Decimal("1.0500"), Decimal("1.29")),
        ("calls", Decimal("2.3833"), Decimal("2.93")),
    ]
    assert lines[0].description == "Abonament VoIP: Standard (221000001) za okres luty 2024"
    assert lines[2].description == "Kosz rozmów poza abonamentem Biznes za okres luty 2024"
    assert by_account[1].total == Decimal("14.22")
    assert by_account[2].customer_id is None


def test_subscription_in_advance_only_relabels(seeded):
    with seeded.engine.connect() as conn:
        plain = invoicing.plan_invoices(conn, invoicing.Options(year=2024, month=12, **OPTS))
        ahead = invoicing.plan_invoices(
            conn, invoicing.Options(year=2024, month=12, subscription_in_advance=True, **OPTS)
        )
    assert [p.total for p in plain] == [p.total for p in ahead]
    assert "grudzień 2024" in plain[0].lines[0].description
    assert "styczeń 2025" in ahead[0].lines[0].description


def test_unlinked_account_fails_clearly_before_any_write(seeded):
    from click.testing import CliRunner

    from lmsplugins.cli import main

    seeded.set_uiconfig("hiperus_c5.taxrate", "23")
    result = CliRunner().invoke(main, ["-C", str(seeded.ini_config.path), "hiperus-c5", "invoice", "-f", "2024/03/05"])
    if importlib.util.find_spec("lmsplugins.lms.documents") is None:
        assert result.exit_code == 1
        assert "documents" in result.output
        return
    assert result.exit_code == 1
    assert "account 2 (Orphan)" in result.output and "not linked" in result.output


@pytest.mark.parametrize("args", [["-f", "2024/02/30"], ["-l", "-1"]])
def test_invoice_bad_input_exits_2(seeded, args):
    from click.testing import CliRunner

    from lmsplugins.cli import main

    result = CliRunner().invoke(main, ["-C", str(seeded.ini_config.path), "hiperus-c5", "invoice", *args])
    assert result.exit_code == 2 and "error:" in result.output


def test_missing_tax_rate_exits_2(seeded):
    from click.testing import CliRunner

    from lmsplugins.cli import main

    seeded.set_uiconfig("hiperus_c5.taxrate", "17")
    result = CliRunner().invoke(main, ["-C", str(seeded.ini_config.path), "hiperus-c5", "invoice"])
    assert result.exit_code == 2 and "17" in result.output


@pytest.mark.parametrize("name", ["lms_hiperus_c5_import", "lms_hiperus_c5_invoice"])
def test_shims_pass_arguments_through(tmp_path, name):
    fake = tmp_path / "lmsplugins"
    fake.write_text('#!/bin/sh\nprintf "%s|" "$@"\n')
    fake.chmod(0o755)
    shim = tmp_path / name
    shim.write_bytes((REPO / "bin" / name).read_bytes())
    shim.chmod(0o755)
    out = subprocess.run(
        [str(shim), "--quiet", "a b"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PATH": "/usr/bin:/bin"},
    ).stdout
    assert out == f"hiperus-c5|{name.rsplit('_', 1)[1]}|--quiet|a b|"
    assert os.access(REPO / "bin" / name, os.X_OK)
