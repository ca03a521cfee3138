"""LMS's transaction log from the host's gateways: what LMS's SYSLOG writes, only with logs.enabled,
only inside a job's chunk, rolled back with it."""

from __future__ import annotations

import time
from decimal import Decimal

from sqlalchemy import select

from lmsplugins.jobs import run_job
from lmsplugins.lms import assignments, customers, documents, syslog, voip
from lmsplugins.lms.tables import (
    addresses,
    customer_addresses,
    logmessagedata,
    logmessagekeys,
    logmessages,
    logtransactions,
    serviceproviders,
    tariffs,
    taxes,
)
from lmsplugins.lms.tables import customers as customers_table


def test_fields_split_as_lms_addmessage():
    keys, data = syslog.split_fields(
        [(syslog.RES_NODE, 12), (syslog.RES_CUST, None), ("access", 0), (syslog.RES_TARIFF, "x1"), ("ok", True)],
        keys=(),
    )
    assert keys == [("nodeid", 12), ("customerid", 0)]
    assert data == [("access", "0"), ("12", "x1"), ("ok", "1")]
    assert syslog.split_fields([("div_countryid", "7")], keys=("div_countryid",))[0] == [("div_countryid", 7)]


def _messages(host) -> list[tuple]:
    """(module, resource, operation, {key: value}, {name: value}) in order."""
    with host.engine.connect() as conn:
        rows = conn.execute(
            select(logmessages.c.id, logtransactions.c.module, logmessages.c.resource, logmessages.c.operation)
            .join(logtransactions, logtransactions.c.id == logmessages.c.transactionid)
            .order_by(logmessages.c.id)
        ).all()
        out = []
        for mid, module, resource, operation in rows:
            keys = dict(
                conn.execute(
                    select(logmessagekeys.c.name, logmessagekeys.c.value).where(logmessagekeys.c.logmessageid == mid)
                ).all()
            )
            data = dict(
                conn.execute(
                    select(logmessagedata.c.name, logmessagedata.c.value).where(logmessagedata.c.logmessageid == mid)
                ).all()
            )
            out.append((module, resource, operation, keys, data))
    return out


def _world(host):
    with host.engine.begin() as conn:
        cid = conn.execute(customers_table.insert().values(lastname="LOG", name="Jan", status=3)).inserted_primary_key[
            0
        ]
        aid = conn.execute(addresses.insert().values(city="Gdynia", street="Polna", house="1")).inserted_primary_key[0]
        conn.execute(customer_addresses.insert().values(customer_id=cid, address_id=aid, type=1))
        tax = conn.execute(taxes.insert().values(value=23, taxed=1, label="23%")).inserted_primary_key[0]
        tariff = conn.execute(tariffs.insert().values(name="Tel", value=10, taxid=tax, period=3)).inserted_primary_key[
            0
        ]
        sp = conn.execute(serviceproviders.insert().values(name="Metroport")).inserted_primary_key[0]
    return cid, tax, tariff, sp


def _changes(host, cid, tax, tariff, sp, test=False) -> int:
    def body(job):
        with job.chunk() as conn:
            customers.set_status(conn, [cid], 5)
            customers.bind_extid(conn, cid, "77", sp)
            customers.unbind_extid(conn, cid, sp)
            account = voip.create_account(conn, ownerid=cid, login="sip1", passwd="p", phones=["48581234567"])
            voip.update_account(conn, account, access=0)
            voip.replace_number(conn, account, "48581234567", "48587654321")
            voip.delete_account(conn, account)
            assignments.assign_tariff(conn, cid, tariff, datefrom=1_700_000_000)
            line = documents.InvoiceLine("Telefon", Decimal("12.30"), tax, Decimal(1))
            documents.write_invoice(conn, documents.InvoiceDraft(cid, [line], cdate=int(time.time())))

    return run_job(host, "logtest", body, test=test, quiet=True, lock_name="logtest")


def test_gateway_changes_logged_as_lms(lms_host):
    cid, tax, tariff, sp = _world(lms_host)
    assert _changes(lms_host, cid, tax, tariff, sp) == 0
    assert _messages(lms_host) == []  # logs.enabled off: LMS writes nothing, nor do we

    lms_host.set_uiconfig("logs.enabled", "1")
    assert _changes(lms_host, cid, tax, tariff, sp, test=True) == 0
    assert _messages(lms_host) == []  # --test rolls the log back with the changes

    with lms_host.engine.begin() as conn:
        conn.execute(customers_table.update().values(status=3))
    assert _changes(lms_host, cid, tax, tariff, sp) == 0
    got = _messages(lms_host)
    assert {m[0] for m in got} == {"logtest"}
    kinds = [(m[1], m[2]) for m in got]
    assert kinds == [
        (7, 3),  # status
        (7, 3),  # extid bound
        (7, 3),  # extid unbound
        (65, 1),  # VoIP account added
        (66, 1),  # its number
        (65, 3),  # account updated
        (66, 3),  # number replaced
        (65, 2),  # account deleted
        (66, 2),  # its number
        (2, 1),  # assignment
        (36, 1),  # invoice
        (37, 1),  # its item
        (35, 1),  # its charge
    ]
    status, extid = got[0], got[1]
    assert status[3] == {"customerid": cid} and status[4] == {"status": "5"}
    assert extid[4] == {"extid": "77", "serviceproviderid": str(sp)}
    account_add = got[3]
    assert account_add[3]["customerid"] == cid and "voipaccountid" in account_add[3]
    assert account_add[4]["login"] == "sip1"
    invoice = got[10]
    assert invoice[3]["customerid"] == cid and "documentid" in invoice[3]
    assert got[12][3]["cashid"] > 0 and got[12][4]["value"].startswith("-")
    with lms_host.engine.connect() as conn:
        transactions = conn.execute(select(logtransactions.c.id)).all()
    assert len(transactions) == 9  # the account with its numbers, and the invoice, are one transaction each


def test_nothing_logged_outside_a_job_chunk(sqlite_host):
    sqlite_host.set_uiconfig("logs.enabled", "1")
    cid, *_ = _world(sqlite_host)
    with sqlite_host.engine.begin() as conn:
        customers.set_status(conn, [cid], 5)
    assert _messages(sqlite_host) == []
