"""lms-notify's debtor rules (what is already due) and every bad input of ``lmsplugins notify``."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from lmsplugins.cli import main
from lmsplugins.lms.debtors import DebtorQuery, debtors, parse_groups
from lmsplugins.lms.tables import addresses, cash, customer_addresses, customers, divisions, documents, nodes

DAY = 86400


def _customer(conn, key: str, paytime: int = -1, divisionid=None) -> int:
    cid = conn.execute(
        customers.insert().values(lastname=key, status=3, paytime=paytime, divisionid=divisionid)
    ).inserted_primary_key[0]
    aid = conn.execute(addresses.insert().values(city="X")).inserted_primary_key[0]
    conn.execute(customer_addresses.insert().values(customer_id=cid, address_id=aid, type=1))
    return cid


def _doc(conn, cid: int, doctype: int, cdate: int, paytime: int, *values: int) -> None:
    doc = conn.execute(
        documents.insert().values(type=doctype, number=cid * 10 + doctype, cdate=cdate, paytime=paytime, customerid=cid)
    ).inserted_primary_key[0]
    for value in values:
        conn.execute(cash.insert().values(time=cdate, type=0, value=value, customerid=cid, docid=doc))


def test_what_is_due_follows_lms(sqlite_host):
    now = int(time.time())
    with sqlite_host.engine.begin() as conn:
        div = conn.execute(divisions.insert().values(name="D", shortname="d", inv_paytime=30)).inserted_primary_key[0]
        c = {
            "own_paytime": _customer(conn, "own", paytime=5),  # charge 10 days old, paytime 5: due
            "division_paytime": _customer(conn, "div", divisionid=div),  # 10 days old, division's 30: not due
            "global_deadline": _customer(conn, "glob"),  # 10 days old, payments.deadline 7: due
            "invoice_due": _customer(conn, "inv"),
            "invoice_not_due": _customer(conn, "inv2"),
            "cnote_positive": _customer(conn, "cn"),
        }
        for key in ("own_paytime", "division_paytime", "global_deadline"):
            conn.execute(cash.insert().values(time=now - 10 * DAY, type=0, value=-20, customerid=c[key]))
        _doc(conn, c["invoice_due"], 1, now - 20 * DAY, 14, -30)
        _doc(conn, c["invoice_not_due"], 1, now - 10 * DAY, 14, -30)
        # a credit note whose document total is positive counts at once, even with a negative line
        _doc(conn, c["cnote_positive"], 3, now - DAY, 14, -5, 15)
        conn.execute(cash.insert().values(time=now - 40 * DAY, type=0, value=-50, customerid=c["cnote_positive"]))
        mine = list(c.values())
        found = debtors(conn, DebtorQuery(now=now, deadline=7, customer_ids=mine))
        grace = debtors(conn, DebtorQuery(now=now, deadline=7, days=10, customer_ids=mine))
        positive_limit = debtors(conn, DebtorQuery(now=now, deadline=7, limit=1, customer_ids=mine))
    assert set(found) == {c["own_paytime"], c["global_deadline"], c["invoice_due"], c["cnote_positive"]}
    assert found[c["cnote_positive"]] == -40
    assert set(grace) == {c["cnote_positive"]}  # debtors_days is added to every payment term
    assert positive_limit == {}  # a positive limit flips the test to '>' (nobody is owed money), as coded


def test_customer_groups_syntax():
    assert parse_groups("a, b+!c") == [(("A",), ()), (("B",), ("C",))]
    assert parse_groups("") == []


BAD = [
    (["-c", "mail"], "lms-notify's own"),
    (["-c", "sideways"], "unknown channel 'sideways'"),
    (["-c", "block", "-t", "invoices"], "lms-notify's own"),
    (["-c", "block", "-t", "debts"], "unknown"),
    (["-c", "block", "-s", "nosuch"], "section [nosuch] has no settings"),
    (["-c", "block", "-s", "bad;name"], "not a section name"),
    (["-c", "block", "-a", "node-access,(x)"], "malformed"),
    (["-c", "block", "-a", "node-access(1)"], "takes no parameter"),
    (["-c", "block", "-a", "customer-group"], "needs a parameter"),
    (["-c", "block", "-a", "customer-status(sleeping)"], "use one of"),
    (["-c", "block", "--block-prechecks", "teleport"], "unknown block-precheck 'teleport'"),
    (["-c", "block", "--customerid", "1,x"], "comma-separated customer numbers"),
    (["-c", "block", "--division", "nowhere"], "no division has that short name"),
    (["-c", "block", "--customer-types", "alien"], "invalid customer type 'alien'"),
    (["-c", "block", "--customer-status", "sleeping"], "customer status 'sleeping' is unknown"),
    (["apply", "--block", "-a", "node-access", "--customers", "1,a"], "comma-separated customer numbers"),
    (["apply", "-a", "node-access", "--customers", "1"], "--block or --unblock"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a) for a, _m in BAD])
def test_bad_input_is_one_line_and_changes_nothing(sqlite_host, args, message):
    now = int(time.time())
    with sqlite_host.engine.begin() as conn:
        cid = _customer(conn, "debtor")
        conn.execute(cash.insert().values(time=now - 60 * DAY, type=0, value=-50, customerid=cid))
        conn.execute(nodes.insert().values(name="notify-n1", ownerid=cid, access=1, ipaddr=1))
    result = CliRunner().invoke(main, ["-C", str(sqlite_host.ini_config.path), "notify", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    with sqlite_host.engine.connect() as conn:
        assert conn.execute(select(nodes.c.access).where(nodes.c.ownerid == cid)).scalar() == 1
        assert conn.execute(select(customers.c.status).where(customers.c.id == cid)).scalar() == 3
