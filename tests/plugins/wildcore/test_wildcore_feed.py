"""The MikBill feed Wildcore pulls, on the embedded SQLite LMS and the real schemas (PostgreSQL, MariaDB).

One rich dataset (wildcore_data.py) per database: the whole list, the search by serial and MAC, the
key, bad parameters, the billing link, and the fixed number of queries whatever the base's size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event
from wildcore_data import Dataset, build, install

from lmsplugins.host import Host
from lmsplugins.testing import databases as dbs
from lmsplugins.web import create_app
from plugins.wildcore.simulator import onu_mac, onu_serial, port_mac

KEY = "feed-key-0123456789"
BASE = "/wildcore/mikbill"


def _env(host: Host) -> tuple[Host, Dataset, Flask]:
    install(host)
    data = build(host)
    host.set_uiconfig("wildcore.feed_key", KEY)
    return host, data, create_app(host, TESTING=True)


@pytest.fixture
def db_env(lms_host: Host) -> tuple[Host, Dataset, Flask]:
    """The dataset on each of the three databases (for what the SQL decides)."""
    return _env(lms_host)


@pytest.fixture
def feed_env(tmp_path: Path) -> Iterator[tuple[Host, Dataset, Flask]]:
    """The dataset on the embedded SQLite LMS only (for what the SQL does not decide)."""
    host = dbs.sqlite_host(tmp_path, seeded=False)
    yield _env(host)
    host.dispose()


def _list(app: Flask, key: str = KEY):
    return app.test_client().get(f"{BASE}/api/index/support?key={key}&request=get_user_list")


def _strings(value) -> bool:
    if isinstance(value, dict):
        return all(_strings(v) for v in value.values())
    return isinstance(value, str)


def test_user_list_whole_base_split_and_strings(db_env):
    _host, data, app = db_env
    response = _list(app)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(response.data))
    assert response.mimetype == "application/json"
    elements = json.loads(response.data)
    assert all(set(e["search"]) == {"client_mac", "switch", "port", "onu_ident"} for e in elements)
    assert all(_strings(e) for e in elements)
    got = sorted((e["data"]["uid"], tuple(e["search"].values())) for e in elements)
    ids = {k: str(v) for k, v in data.ids.items()}
    expected = sorted(
        [
            (ids["kowalski"], (port_mac(1, 3), "10.2.0.1", "3", "")),
            (ids["kowalski"], ("", "", "", onu_serial(2))),
            (ids["nowak"], ("", "10.9.9.9", "2", "")),
            (ids["nowak"], ("", "", "", onu_serial(3))),
            (ids["firma"], (port_mac(1, 5), "10.2.0.1", "5", "")),
            (ids["firma"], ("", "", "", onu_mac(4))),
            (ids["zielinski"], ("", "", "", onu_serial(1))),
            (ids["shared_a"], ("", "10.2.0.2", "2", "")),
            (ids["shared_a"], ("", "", "", onu_serial(6))),
            (ids["shared_b"], ("", "10.2.0.2", "2", "")),
            (ids["shared_b"], ("", "", "", onu_serial(6))),
            (ids["uplink"], ("", "10.2.0.1", "8", "")),
            (ids["noport"], (port_mac(2, 4), "", "", "")),
        ]
    )
    assert got == expected
    kowalski = next(e["data"] for e in elements if e["data"]["uid"] == ids["kowalski"])
    assert kowalski == {
        "uid": ids["kowalski"],
        "billing_link": f"/customer/{ids['kowalski']}",
        "agreement": "UM/7/2026",
        "login": "jkowalski",
        "name": "Kowalski Jan",
        "address": {
            "full": "Kraków, ul. Polna 5/2",
            "settlement": "Kraków",
            "lane": "ul. Polna",
            "house": "5",
            "app": "2",
        },
    }
    firma = next(e["data"] for e in elements if e["data"]["uid"] == ids["firma"])
    assert firma["name"] == 'Usługi & Handel "Pod Lipą"' and firma["agreement"] == ids["firma"]


@pytest.mark.parametrize("key", ["", "wrong", KEY.upper(), KEY + "x"])
def test_wrong_key_is_403_and_nothing_else(feed_env, key):
    response = _list(feed_env[2], key)
    assert response.status_code == 403
    assert response.get_json() == {"result": "error", "error": "forbidden"}


def _search(app: Flask, param: str, value: str):
    return app.test_client().get(f"{BASE}/json/index/support?key={KEY}&request=search&param={param}&value={value}")


def test_search_by_serial_and_mac(db_env):
    _host, data, app = db_env
    found = _search(app, "serial", onu_serial(2).lower())
    assert found.status_code == 200
    body = json.loads(found.data)
    assert [d["uid"] for d in body[0]] == [str(data.ids["kowalski"])]
    assert body[0][0]["billing_link"] == f"/customer/{data.ids['kowalski']}"
    # The client MAC typed bare in LMS, asked for in colons; the EPON ONU's MAC kept in wildcore_onus.
    assert json.loads(_search(app, "mac", port_mac(1, 5)).data)[0][0]["uid"] == str(data.ids["firma"])
    assert json.loads(_search(app, "mac", onu_mac(4).replace(":", "-")).data)[0][0]["uid"] == str(data.ids["firma"])
    shared = json.loads(_search(app, "serial", onu_serial(6)).data)
    assert sorted(d["uid"] for d in shared[0]) == sorted([str(data.ids["shared_a"]), str(data.ids["shared_b"])])
    assert json.loads(_search(app, "serial", onu_serial(7)).data) == []  # owned by a deleted customer
    assert json.loads(_search(app, "serial", onu_serial(9)).data) == []  # owned by nobody


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("request=get_everything", "unknown request; expected get_user_list or search"),
        ("", "unknown request; expected get_user_list or search"),
        ("request=search&param=ip&value=10.0.0.1", "param must be mac or serial"),
        ("request=search&param=mac&value=ZTEGC69EF036", "value is not a MAC address"),
        ("request=search&param=serial&value=%3Cscript%3E", "value is not an ONU serial number"),
        ("request=search&param=serial", "value is empty"),
    ],
)
def test_bad_requests_are_400_with_a_reason(feed_env, query, message):
    response = feed_env[2].test_client().get(f"{BASE}/json/index/support?key={KEY}&{query}")
    assert response.status_code == 400
    assert response.get_json() == {"result": "error", "error": message}


def test_billing_link_redirects_to_lms_card(feed_env):
    host, data, app = feed_env
    client = app.test_client()
    cid = data.ids["kowalski"]
    assert client.get(f"{BASE}/customer/{cid}").status_code == 404
    host.set_uiconfig("wildcore.lms_url", "https://lms.example.pl/lms/")
    response = client.get(f"{BASE}/customer/{cid}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"https://lms.example.pl/lms/?m=customerinfo&id={cid}"
    host.set_uiconfig("wildcore.lms_url", "https://lms.example.pl/index.php")
    assert client.get(f"{BASE}/customer/{cid}").headers["Location"] == (
        f"https://lms.example.pl/index.php?m=customerinfo&id={cid}"
    )


def _statements(host: Host, app: Flask) -> tuple[int, int]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(host.engine, "before_cursor_execute", count)
    try:
        response = _list(app)
    finally:
        event.remove(host.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen), len(json.loads(response.data))


def test_fixed_number_of_queries_whatever_the_size(feed_env):
    host, _data, app = feed_env
    small, small_elements = _statements(host, app)
    with host.engine.begin() as conn:
        from wildcore_data import _Builder

        b = _Builder(conn)
        sw = b.switch("SW-9", "10.2.0.9")
        for i in range(40):
            cid = b.customer(f"Extra{i}")
            b.node(cid, sw, 1 + i % 7, port_mac(9, i), name=f"extra-{i}")
            b.onu(cid, onu_serial(100 + i))
    large, large_elements = _statements(host, app)
    assert large_elements == small_elements + 80
    assert large == small


def test_missing_plugin_table_is_an_error_status_not_half_a_list(feed_env):
    host, _data, app = feed_env
    with host.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE wildcore_onus")
    response = _list(app)
    assert response.status_code == 503
    assert response.get_json() == {"result": "error", "error": "the document could not be produced; try again"}
