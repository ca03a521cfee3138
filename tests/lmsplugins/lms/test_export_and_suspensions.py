"""Host gateways for providers: the one address and e-mail a provider is told about (by LMS address type,
not alphabetical order), and suspending a tagged service's running assignments and resuming them."""

from __future__ import annotations

from lmsplugins.lms import tables as t
from lmsplugins.lms.customer_export import export_customers
from lmsplugins.lms.suspensions import running_tagged_assignments, set_suspended


def _customer(conn, **values) -> int:
    return int(conn.execute(t.customers.insert().values(lastname="X", name="", **values)).inserted_primary_key[0])


def _address(conn, cid: int, kind: int, **values) -> None:
    aid = conn.execute(t.addresses.insert().values(**values)).inserted_primary_key[0]
    conn.execute(t.customer_addresses.insert().values(customer_id=cid, address_id=aid, type=kind))


def test_export_prefers_billing_then_postal_address(sqlite_host):
    with sqlite_host.engine.begin() as conn:
        cid = _customer(conn, ten="123", ssn="")
        _address(conn, cid, 2, city="Aaa-location", street="ul. A", house="1")
        _address(conn, cid, 0, city="Postal", street="ul. Pocztowa", house="2", flat="4", zip="00-001")
        other = _customer(conn)
        _address(conn, other, 3, city="Default", street="ul. D", house="3")
        _address(conn, other, 2, city="Aaa", street="ul. A", house="1")
        conn.execute(t.customercontacts.insert().values(customerid=cid, contact="off@x.pl", name="", type=8 | 16384))
        conn.execute(t.customercontacts.insert().values(customerid=cid, contact="600100200", name="", type=1))
        conn.execute(t.customercontacts.insert().values(customerid=cid, contact="on@x.pl", name="", type=8))
        found = {e.id: e for e in export_customers(conn, [other, cid])}
    assert (found[cid].address.city, found[cid].address.street, found[cid].address.flat) == (
        "Postal",
        "ul. Pocztowa",
        "4",
    )
    assert found[cid].email == "on@x.pl" and found[other].address.city == "Default" and found[other].email == ""


def test_suspend_only_running_tagged_assignments(sqlite_host):
    with sqlite_host.engine.begin() as conn:
        cid = _customer(conn)
        tax = conn.execute(t.taxes.insert().values(value=23, taxed=1, label="23")).inserted_primary_key[0]
        tagged = conn.execute(t.tariffs.insert().values(name="TV", value=1, taxid=tax)).inserted_primary_key[0]
        plain = conn.execute(t.tariffs.insert().values(name="NET", value=2, taxid=tax)).inserted_primary_key[0]
        tag = conn.execute(t.tarifftags.insert().values(name="Metroport-MetroTV")).inserted_primary_key[0]
        conn.execute(t.tariffassignments.insert().values(tariffid=tagged, tarifftagid=tag))
        ids = {}
        for name, tariff, extra in (
            ("run", tagged, {}),
            ("ended", tagged, {"dateto": 1000}),
            ("held", tagged, {"suspended": 1}),
            ("net", plain, {}),
        ):
            ids[name] = conn.execute(
                t.assignments.insert().values(customerid=cid, tariffid=tariff, **extra)
            ).inserted_primary_key[0]
        found = running_tagged_assignments(conn, [cid], "metroport-metrotv", now=2000)
        assert found == {cid: [ids["run"]]}
        assert set_suspended(conn, found[cid], True) == 1 and set_suspended(conn, found[cid], True) == 0
        assert running_tagged_assignments(conn, [cid], "metroport-metrotv", now=2000) == {}
        assert set_suspended(conn, found[cid], False) == 1
