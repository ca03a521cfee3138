"""The universal API end to end: a usm_billing-like consumer pulls every method from an LMS with
customers of every kind, on SQLite, PostgreSQL and MariaDB (one rich dataset per engine, many
assertions), plus the refusals (key, method, customer_id) on SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from reference import fast_and_reference
from sqlalchemy import event
from userside_data import Dataset, build, ip
from usm_consumer import UsmConsumer

from lmsplugins.host import Host
from lmsplugins.lms.addresses import SYNTHETIC_BASE
from lmsplugins.lms.tables import addresses, assignments, customer_addresses, customercontacts, customers, nodes
from lmsplugins.lms.tables_network import macs
from lmsplugins.testing import databases as dbs
from lmsplugins.web import create_app

KEY = "k3y-for-usm-billing-0123456789"
BASE = f"/userside/api?key={KEY}&cat=module&json=1"


def _app(host: Host, **settings: str) -> Flask:
    host.set_uiconfig("userside.api_key", KEY)
    for key, value in settings.items():
        host.set_uiconfig(f"userside.{key}", value)
    app = create_app(host, TESTING=True)
    return app


def _fetch(app: Flask):
    client = app.test_client()

    def fetch(url: str) -> tuple[int, bytes]:
        response = client.get(url)
        return response.status_code, response.data

    return fetch


def _get(app: Flask, query: str) -> tuple[int, Any]:
    response = app.test_client().get(f"/userside/api?key={KEY}&{query}")
    return response.status_code, response.get_json()


@pytest.fixture
def bare_sqlite(tmp_path: Path) -> Iterator[Host]:
    """The embedded LMS without the demo seed, so counts are those of the dataset alone."""
    host = dbs.sqlite_host(tmp_path, seeded=False)
    yield host
    host.dispose()


@pytest.fixture
def rich(lms_host: Host) -> tuple[Host, Dataset]:
    return lms_host, build(lms_host)


def test_usm_billing_imports_every_kind_of_customer(rich: tuple[Host, Dataset]):
    host, ds = rich
    app = _app(host)
    report = UsmConsumer(BASE, _fetch(app)).run()
    assert report.problems == []
    users = report.answers["get_user_list"]
    assert str(ds["deleted"]) not in users
    assert set(users) == {
        str(ds[k]) for k in ("private", "company", "suspended", "disconnected", "interested", "access_off", "warning")
    }
    assert report.create == {
        "tariffs": 2,
        "cities": 1,
        "streets": 1,
        "houses": 2,
        "groups": 2,
        "users": 7,
        "ips": 6,
    }

    jan = users[str(ds["private"])]
    assert jan["full_name"] == "KOWALSKI Jan" and jan["flag_corporate"] == 0
    assert jan["login"] == str(ds["private"]) and jan["account_number"] == str(ds["private"])
    assert jan["balance"] == "41.00" and jan["credit"] == "0.00"
    assert jan["state_id"] == "1"
    assert [p["id"] for p in jan["tariff"]["current"]] == [str(ds["net100"])]
    assert "date_finish" in jan["tariff"]["current"][0]
    assert [p["id"] for p in jan["tariff"]["new"]] == [str(ds["net300"])]
    assert list(jan["service"]) == [str(ds["tv"])] and jan["service"][str(ds["tv"])][0]["cost"] == "25.00"
    assert jan["agreement"][0]["number"] == "UM/7/2025"
    assert jan["group"] == {str(ds["group_a"]): {"id": str(ds["group_a"])}}
    assert jan["comment"] == "klatka B"
    assert jan["phone"] == [
        {"number": "600100200", "flag_main": 1, "comment": "komórka"},
        {"number": "221234567", "flag_main": 0},
    ]
    assert jan["email"] == [{"address": "jan@example.pl", "flag_main": 1}]
    assert jan["address"] == [
        {"type": "connect", "house_id": str(ds["building"]), "apartment": {"full_name": "3", "number": "3"}}
    ]
    assert jan["ip_mac"] == {
        str(ip("192.168.1.10")): {"ip": ip("192.168.1.10"), "mac": "001a2b3c4d5e"},
        str(ip("192.168.1.11")): {"ip": ip("192.168.1.11")},
    }
    assert jan["traffic"] == {"month": {"up": 1024, "down": 5076}}
    assert "date_activity" in jan and "date_connect" in jan
    assert "password" not in jan

    firm = users[str(ds["company"])]
    assert firm["flag_corporate"] == 1 and firm["full_name"] == "Piekarnia Kłos sp. z o.o."
    assert firm["balance"] == "-250.75" and firm["state_id"] == "2"
    assert firm["group"] == {str(ds["group_b"]): {"id": str(ds["group_b"])}}
    assert firm["agreement"] == [{"number": str(ds["company"]), "date": firm["date_create"][:10]}]
    assert firm["additional_data"] == [{"id": "1", "value": "5252248481"}]
    assert firm["ip_mac"][str(ip("10.0.0.1"))]["mac"] == "aabbccddeeff"
    assert len(firm["address"]) == 1 and int(firm["address"][0]["house_id"]) >= SYNTHETIC_BASE

    states = {k: users[str(ds[k])]["state_id"] for k in ("suspended", "disconnected", "interested", "access_off")}
    assert states == {"suspended": "3", "disconnected": "4", "interested": "5", "access_off": "4"}
    assert users[str(ds["warning"])]["state_id"] == "2"

    houses = report.answers["get_house_list"]
    building = houses[str(ds["building"])]
    assert building["postcode"] == "00-635" and building["full_name"] == "ul. Polna 12"
    assert building["coordinates"].startswith("52.219")
    streets = report.answers["get_street_list"]
    assert streets[str(ds["street"])]["full_name"] == "ul. Polna"
    assert report.answers["get_tariff_list"][str(ds["net300"])] == {
        "id": str(ds["net300"]),
        "name": "Internet 300",
        "payment": "79.50",
        "payment_interval": 30,
        "speed": {"up": 30000, "down": 300000},
        "traffic": -1,
        "service_type": 0,
    }

    # what the API sent is the reference mapping's encoding, on every engine
    fast, reference = fast_and_reference(host)
    assert fast == reference and json.loads(fast) == users
    # in chunks of two (on PostgreSQL read ahead on a second connection in the same snapshot)
    host.set_uiconfig("userside.chunk_size", "2")
    assert _get(_app(host), "request=get_user_list") == (200, users)
    host.set_uiconfig("userside.chunk_size", "2500")

    # the same answer twice: ids are stable
    again = UsmConsumer(BASE, _fetch(app)).run()
    assert again.answers["get_house_list"] == houses
    assert again.answers["get_user_list"] == users

    # one customer, the history, services, devices
    status, one = _get(app, f"request=get_user_list&customer_id={ds['private']}")
    assert status == 200 and one == {str(ds["private"]): jan}
    status, history = _get(app, f"request=get_user_history&customer_id={ds['private']}")
    assert status == 200 and [h["name"] for h in history] == ["charge", "payment"]
    assert json.loads(history[1]["data"]) == {"amount": "100.00", "from": "-59.00", "to": "41.00", "operator_name": ""}
    status, services = _get(app, "request=get_services_list")
    assert services == {str(ds["tv"]): {"id": str(ds["tv"]), "name": "Telewizja", "cost": "25.00"}}
    status, device_list = _get(app, "request=get_device_list")
    switch = device_list[str(ds["switch"])]
    assert switch["ip"] == ip("10.255.0.2") and switch["mac"] == "4c5e0c000001" and switch["comment"] == "szafa"
    status, models = _get(app, "request=get_device_model")
    assert models[switch["model_id"]]["name"] == "MikroTik CRS326" and models[switch["model_id"]]["iface_count"] == 24


def test_settings_change_the_mapping(bare_sqlite: Host):
    ds = build(bare_sqlite)
    app = _app(
        bare_sqlite,
        login_source="node_name",
        account_number_source="bankaccount",
        address_type="all_locations",
        additional_data="ten,ssn",
        export_password="1",
        debt_is_nomoney="0",
        agreement_fallback="0",
    )
    report = UsmConsumer(BASE, _fetch(app), passwords=True).run()
    assert report.problems == []
    assert (report.create["cities"], report.create["streets"], report.create["houses"]) == (2, 2, 3)
    village = [s for s in report.answers["get_street_list"].values() if s["name"] == "Wólka"]
    assert len(village) == 1 and village[0]["city_id"] in report.answers["get_city_list"]
    users = report.answers["get_user_list"]
    jan, firm = users[str(ds["private"])], users[str(ds["company"])]
    assert jan["login"] == "JAN-PC" and jan["password"] == "tajne"
    assert jan["account_number"] == "PL61109010140000071219812874"
    assert jan["additional_data"] == [{"id": "2", "value": "85010112345"}]
    assert len(firm["address"]) == 2 and firm["state_id"] == "1" and firm["agreement"] == []
    assert users[str(ds["interested"])]["login"] == str(ds["interested"])


def _statements(host: Host, app: Flask) -> tuple[int, int]:
    """Users sent and SQL statements SQLite ran for one get_user_list (traced by SQLite itself, so
    statements sent on the driver's cursor count too)."""
    statements: list[str] = []

    def trace(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.set_trace_callback(statements.append)

    host.engine.dispose()
    event.listen(host.engine, "connect", trace)
    try:
        status, users = _get(app, "request=get_user_list")
    finally:
        event.remove(host.engine, "connect", trace)
        host.engine.dispose()
    assert status == 200
    return len(users), len([s for s in statements if s.lstrip().upper().startswith("SELECT")])


def test_get_user_list_runs_a_fixed_number_of_queries(sqlite_host: Host):
    """Thirty more customers, each with a node, a MAC, a contact, an address and a tariff, cost no
    more queries (no query per customer)."""
    build(sqlite_host)
    app = _app(sqlite_host)
    before_users, before = _statements(sqlite_host, app)
    with sqlite_host.engine.begin() as conn:
        for i in range(30):
            cid = conn.execute(customers.insert().values(lastname=f"NOWY {i}", status=3)).inserted_primary_key[0]
            nid = conn.execute(
                nodes.insert().values(name=f"NOWY{i}", ownerid=cid, ipaddr=167772160 + i)
            ).inserted_primary_key[0]
            conn.execute(macs.insert().values(mac=f"00:00:00:00:01:{i:02x}", nodeid=nid))
            conn.execute(customercontacts.insert().values(customerid=cid, contact=f"5000000{i:02d}", type=1))
            aid = conn.execute(addresses.insert().values(city="Wólka", house=str(i))).inserted_primary_key[0]
            conn.execute(customer_addresses.insert().values(customer_id=cid, address_id=aid, type=3))
            conn.execute(assignments.insert().values(customerid=cid, tariffid=1, datefrom=1))
    after_users, after = _statements(sqlite_host, app)
    assert after_users == before_users + 30
    assert after == before
    chunked = _app(sqlite_host, chunk_size="10")
    _, in_chunks = _statements(sqlite_host, chunked)
    assert in_chunks - after == 8 * (after_users // 10)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "request is missing"),
        ("request=get_everything", "unknown request 'get_everything'"),
        ("request=get_user_list&customer_id=abc", "customer_id must be a number"),
        ("request=get_user_list&customer_id=99999", "customer 99999 does not exist"),
        ("request=get_user_history", "customer_id is required"),
        ("request=change_user_data&customer_id=1&type=comment&value=x", "write-back is disabled"),
    ],
)
def test_bad_requests_are_400_with_an_error_body(sqlite_host: Host, query: str, message: str):
    app = _app(sqlite_host)
    status, body = _get(app, query)
    assert status == 400
    assert body["result"] == "error" and message in body["error"]


def test_deleted_customer_is_not_found(sqlite_host: Host):
    ds = build(sqlite_host)
    status, body = _get(_app(sqlite_host), f"request=get_user_list&customer_id={ds['deleted']}")
    assert status == 400 and body["result"] == "error"


@pytest.mark.parametrize("key", ["", "wrong", KEY[:-1]])
def test_wrong_key_is_a_bare_403(sqlite_host: Host, key: str):
    app = _app(sqlite_host)
    response = app.test_client().get(f"/userside/api?key={key}&request=get_user_list")
    assert response.status_code == 403
    assert response.get_json() == {"result": "error", "error": "forbidden"}


def test_supported_methods_are_exactly_those_served(sqlite_host: Host):
    app = _app(sqlite_host)
    status, methods = _get(app, "request=get_supported_method_list")
    assert status == 200 and len(methods) == 18
    for name in methods:
        code, _ = _get(app, f"request={name}&customer_id=1")
        assert code in (200, 400), name
        assert name != "change_user_data"
    assert "get_city_district_list" not in methods and "get_service_list" not in methods


@pytest.mark.parametrize(("key", "value"), [("timezone", "Mars/Olympus"), ("chunk_size", "many")])
def test_bad_configuration_is_one_clear_error(sqlite_host: Host, key: str, value: str):
    app = _app(sqlite_host, **{key: value})
    status, body = _get(app, "request=get_user_list")
    assert status == 500
    assert body["result"] == "error" and f"userside.{key}" in body["error"] and "Traceback" not in body["error"]
