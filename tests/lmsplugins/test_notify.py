"""Block/unblock of debtors as lms-notify does it, with core and plugin actions, on all databases."""

from __future__ import annotations

import time
from decimal import Decimal

from click.testing import CliRunner
from sqlalchemy import select

from lmsplugins.cli import main
from lmsplugins.lms.debtors import DebtorQuery, split_debtors
from lmsplugins.lms.tables import assignments, cash, customers, documents, nodes, tariffs, taxes
from lmsplugins.testing.databases import install

DAY = 86400


def _setup(conn, now):
    tax = conn.execute(taxes.insert().values(value=23, taxed=1, label="23%")).inserted_primary_key[0]
    tariff = conn.execute(tariffs.insert().values(name="Net", value=50, taxid=tax, period=3)).inserted_primary_key[0]
    netid = 0
    if conn.dialect.name != "sqlite":  # the real schema wants every node in a network
        conn.exec_driver_sql(
            "INSERT INTO networks (name, address, mask, notes) VALUES ('LAN', 167772160, '255.255.255.0', '')"
        )
        netid = conn.exec_driver_sql("SELECT MAX(id) FROM networks").scalar()
    ids = {}
    for n, (key, status) in enumerate(
        (("debtor", 3), ("payer", 3), ("fresh", 3), ("protected", 3), ("was_blocked", 5))
    ):
        cid = conn.execute(customers.insert().values(lastname=key.upper(), status=status)).inserted_primary_key[0]
        ids[key] = cid
        access = 0 if key == "was_blocked" else 1
        conn.execute(
            nodes.insert().values(name=f"n-{key}", ownerid=cid, access=access, netid=netid, ipaddr=167772161 + n)
        )
        conn.execute(assignments.insert().values(customerid=cid, tariffid=tariff, invoice=1, period=3))
    old_doc = conn.execute(
        documents.insert().values(type=1, number=1, cdate=now - 40 * DAY, paytime=14, customerid=ids["debtor"])
    ).inserted_primary_key[0]
    conn.execute(cash.insert().values(time=now - 40 * DAY, type=0, value=-50, customerid=ids["debtor"], docid=old_doc))
    conn.execute(cash.insert().values(time=now - 40 * DAY, type=0, value=-50, customerid=ids["payer"]))
    conn.execute(cash.insert().values(time=now - 30 * DAY, type=1, value=50, customerid=ids["payer"]))
    new_doc = conn.execute(
        documents.insert().values(type=1, number=2, cdate=now - 3 * DAY, paytime=14, customerid=ids["fresh"])
    ).inserted_primary_key[0]
    conn.execute(cash.insert().values(time=now - 3 * DAY, type=0, value=-50, customerid=ids["fresh"], docid=new_doc))
    conn.execute(cash.insert().values(time=now - 60 * DAY, type=0, value=-80, customerid=ids["protected"]))
    conn.execute(customers.update().where(customers.c.id == ids["protected"]).values(cutoffstop=now + 5 * DAY))
    return ids


def test_debtors_count_only_what_is_due(lms_host):
    now = int(time.time())
    with lms_host.engine.begin() as conn:
        ids = _setup(conn, now)
        debtors, others = split_debtors(conn, DebtorQuery(now=now))
    assert debtors == {ids["debtor"]: Decimal("-50.00")}
    assert set(others) == {ids["payer"], ids["fresh"], ids["protected"], ids["was_blocked"]}
    with lms_host.engine.begin() as conn:
        debtors, _ = split_debtors(conn, DebtorQuery(now=now + 20 * DAY))
    assert set(debtors) == {ids["debtor"], ids["fresh"], ids["protected"]}  # cutoffstop has passed too


def _state(host, ids):
    with host.engine.connect() as conn:
        access = dict(conn.execute(select(nodes.c.ownerid, nodes.c.access)).all())
        status = dict(conn.execute(select(customers.c.id, customers.c.status)).all())
        invoice = dict(conn.execute(select(assignments.c.customerid, assignments.c.invoice)).all())
    return {k: (access[v], status[v], invoice[v]) for k, v in ids.items()}


def test_block_then_unblock_with_core_and_plugin_actions(lms_host):
    install(lms_host, "example")
    now = int(time.time())
    with lms_host.engine.begin() as conn:
        ids = _setup(conn, now)
        conn.exec_driver_sql(
            f"INSERT INTO example_notes (customerid, greeting, blocked, mtime) VALUES ({ids['debtor']}, 'hi', 0, 0)"
        )
    ini = str(lms_host.ini_config.path)
    runner = CliRunner()
    result = runner.invoke(
        main, ["-C", ini, "notify", "-c", "block", "-a", "node-access,customer-status,example-flag", "-d"]
    )
    assert result.exit_code == 0, result.output
    assert _state(lms_host, ids)["debtor"] == (1, 3, 1)  # test mode changed nothing
    result = runner.invoke(
        main,
        [
            "-C",
            ini,
            "notify",
            "-c",
            "block",
            "-a",
            "node-access,customer-status,assignment-invoice(proforma),example-flag",
        ],
    )
    assert result.exit_code == 0, result.output
    state = _state(lms_host, ids)
    assert state["debtor"] == (0, 5, 6)
    assert state["payer"] == (1, 3, 1) and state["protected"] == (1, 3, 1)
    with lms_host.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT blocked FROM example_notes").scalar() == 1
    with lms_host.engine.begin() as conn:
        conn.execute(cash.insert().values(time=now - 1, type=1, value=50, customerid=ids["debtor"]))
    result = runner.invoke(
        main, ["-C", ini, "notify", "-c", "unblock", "-a", "node-access,customer-status,assignment-invoice(proforma)"]
    )
    assert result.exit_code == 0, result.output
    state = _state(lms_host, ids)
    assert state["debtor"] == (1, 3, 1)
    assert state["was_blocked"] == (1, 3, 1)  # lms-notify unblocks every non-debtor, as coded


def test_bad_actions_are_usage_errors(lms_host):
    ini = str(lms_host.ini_config.path)
    runner = CliRunner()
    for actions, message in (
        ("teleport", "unknown action 'teleport'"),
        ("customer-status(sleeping)", "use one of"),
        ("node-access(1)", "takes no parameter"),
    ):
        result = runner.invoke(main, ["-C", ini, "notify", "-c", "block", "-a", actions])
        assert result.exit_code == 2, result.output
        assert message in result.output
    result = runner.invoke(main, ["-C", ini, "notify", "-c", "block", "--customerid", "1,x"])
    assert result.exit_code == 2 and "comma-separated numbers" in result.output
