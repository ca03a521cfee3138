"""The Metroport MMS web part on the embedded LMS against the simulator: the MMS user list (LMS names
from one query, search, paging, one API call), the connection test (no token, no password), and the
customer-card panel with its provider-first, CSRF-protected writes and the rights of spec §9."""

from __future__ import annotations

import re

import pytest
from mms_env import add_customer, make_env

from lmsplugins.testing.web import csrf_token, log_in, user_with
from lmsplugins.web import create_app


@pytest.fixture
def env(sqlite_host):
    e = make_env(sqlite_host, users=24)
    yield e
    e.server.stop()


@pytest.fixture
def app(env):
    return create_app(env.host, SLEEP=lambda s: None, USER_CACHE_SECONDS=0, TESTING=True)


def pair(env, uid: int, cid: int) -> None:
    env.sql("INSERT INTO metroport_customers (metroport_user_id, lms_user_id) VALUES (:u, :c)", u=uid, c=cid)


def flashes(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_user_list_names_lms_customers_searches_and_pages(env, app):
    user = next(u for u in env.sim.data.users.values() if u["pesel"])
    cid = add_customer(env.host, "Kowalska-LMS", name="Anna")
    pair(env, user["userid"], cid)
    env.host.set_uiconfig("metroport.list_pagelimit", "5")
    client = log_in(app)
    before = env.sim.stats.requests["GET /users/users"]
    page = client.get("/metroport/users").get_data(as_text=True)
    assert env.sim.stats.requests["GET /users/users"] - before == 1
    assert page.count('<tr id="mms-user-') == 5 and "of 5" in page
    found = client.get(f"/metroport/users?q={user['pesel']}").get_data(as_text=True)
    assert f'id="mms-user-{user["userid"]}"' in found and found.count('<tr id="mms-user-') == 1
    assert f'href="/customers/{cid}">Kowalska-LMS Anna</a>' in found
    paired = client.get("/metroport/users?state=paired").get_data(as_text=True)
    assert paired.count('<tr id="mms-user-') == 1
    env.sim.faults.http_5xx = 10
    broken = client.get("/metroport/users")
    assert broken.status_code == 200 and 'id="provider-error"' in broken.get_data(as_text=True)


def test_connection_test_never_shows_the_token_or_password(env, app):
    client = log_in(app)
    page = client.get("/metroport/connection-test").get_data(as_text=True)
    assert 'id="connection-ok"' in page and env.server.url in page
    assert not re.search(r"[0-9a-f]{32}", page)
    env.host.set_uiconfig("metroport.api_pass", "zle-haslo-42")
    page = client.get("/metroport/connection-test").get_data(as_text=True)
    assert 'id="connection-error"' in page and "zle-haslo-42" not in page


def test_panel_adds_customer_and_fsecure_licence_provider_first(env, app):
    cid = add_customer(
        env.host,
        "Zielińska",
        name="Ewa",
        ssn="90010112344",
        email="ewa@x.pl",
        address={"city": "Poznań", "zip": "60-001", "street": "Półwiejska", "house": "2"},
    )
    client = log_in(app)
    card = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert 'id="mms-add-customer"' in card
    assert client.post(f"/metroport/customers/{cid}/add").status_code == 400  # no CSRF token
    token = csrf_token(client, f"/customers/{cid}")
    page = flashes(client, client.post(f"/metroport/customers/{cid}/add", data={"csrf_token": token}))
    assert "Created MMS user" in page and 'id="mms-paired"' in page and 'id="fsecure-add"' in page
    uid = env.sql("SELECT metroport_user_id FROM metroport_customers WHERE lms_user_id = :c", c=cid)[0][0]
    assert env.sim.data.users[uid]["streetname1"] == "Półwiejska"
    tariff = env.sql("SELECT id FROM tariffs ORDER BY id")[0][0]
    form = {
        "csrf_token": token,
        "package": "12",
        "with_assignment": "1",
        "tariff": str(tariff),
        "datefrom": "2026-01-01",
        "at": "5",
    }
    page = flashes(client, client.post(f"/metroport/customers/{cid}/fsecure/add", data=form))
    assert "F-Secure licence added." in page and "LMS assignment #" in page
    services = [s for s in env.sim.data.services.values() if s["userid"] == uid]
    assert [s["secur_serviceid"] for s in services] == [12]
    assignment = env.sql("SELECT id, tariffid, at FROM assignments WHERE customerid = :c", c=cid)
    assert [(a[1], a[2]) for a in assignment] == [(tariff, 5)]
    again = flashes(client, client.post(f"/metroport/customers/{cid}/fsecure/add", data=form))
    assert "MMS refused the licence: the customer already has a live F-Secure licence" in again
    assert len(env.sql("SELECT id FROM assignments WHERE customerid = :c", c=cid)) == 1
    sid = services[0]["id"]
    page = flashes(
        client,
        client.post(
            f"/metroport/customers/{cid}/fsecure/{sid}/delete", data={"csrf_token": token, "end_assignment": "1"}
        ),
    )
    assert services[0]["status"] == "deleted" and "ended" in page
    assert env.sql("SELECT dateto FROM assignments WHERE customerid = :c", c=cid)[0][0] > 0


def test_refused_block_changes_nothing_and_rights_are_checked(env, app):
    account = next(iter(env.sim.data.accounts.values()))
    cid = add_customer(env.host, "Telewidz")
    pair(env, account["userid"], cid)
    reader = user_with(app, env.host, "czytelnik", "metroport_readonly,customer_management")
    assert reader.get(f"/customers/{cid}").status_code == 200
    token = csrf_token(reader, f"/customers/{cid}")
    assert reader.post(f"/metroport/customers/{cid}/add", data={"csrf_token": token}).status_code == 403
    assert (
        reader.post(f"/metroport/customers/{cid}/metrotv/{account['id']}/block", data={"csrf_token": token}).status_code
        == 403
    )
    nobody = user_with(app, env.host, "nikt", "customer_management")
    assert nobody.get("/metroport/users").status_code == 403
    tv = user_with(app, env.host, "telewizja", "metroport_readonly,metroport_metrotv_write,customer_management")
    token = csrf_token(tv, f"/customers/{cid}")
    env.sim.faults.expire_session = 2  # refused again after the one re-login
    url = f"/metroport/customers/{cid}/metrotv/{account['id']}/block"
    page = flashes(tv, tv.post(url, data={"csrf_token": token}))
    assert "MMS refused" in page and account["active"] == 1
    url = f"/metroport/customers/{cid}/metrotv/{account['id']}/block"
    page = flashes(tv, tv.post(url, data={"csrf_token": token}))
    assert account["active"] == 0 and f"MetroTV account #{account['id']}: done" in page


def test_polish_first(env, app):
    cid = add_customer(env.host, "Nowy")
    client = log_in(app, language="pl")
    card = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert "Dodaj Klienta Do Metroport" in card and "Klient niepowiązany z MMS." in card
    assert "Metroport: klienci MMS" in client.get("/metroport/users").get_data(as_text=True)


def test_list_pages_and_stb_warehouse(env, app):
    client = log_in(app)
    for path, marker in (
        ("/metroport/fsecure/packages", "F-Secure SAFE 3"),
        ("/metroport/fsecure/clients", "status-"),
        ("/metroport/fsecure/operations", "create"),
        ("/metroport/metrotv/packages", "TV-START"),
        ("/metroport/metrotv/networks", "IPTV-1"),
        ("/metroport/metrotv/stb-models", "MAG-322"),
        ("/metroport/metrotv/accounts", "7001"),
        ("/metroport/metrotv/stbs", "w magazynie"),
    ):
        page = client.get(path)
        assert page.status_code == 200 and marker in page.get_data(as_text=True), path
    token = csrf_token(client, "/metroport/metrotv/stbs")
    count = len(env.sim.data.stbs)
    form = {"csrf_token": token, "model": "MAG-322", "mac": "00:11", "serialnumber": "X"}
    bad = flashes(client, client.post("/metroport/metrotv/stbs/add", data=form))
    assert "is not a MAC address" in bad and len(env.sim.data.stbs) == count
    page = flashes(
        client,
        client.post(
            "/metroport/metrotv/stbs/add",
            data={"csrf_token": token, "model": "MAG-322", "mac": "aa-bb-cc-00-11-22", "serialnumber": "SN-NEW-1"},
        ),
    )
    assert len(env.sim.data.stbs) == count + 1 and "AA:BB:CC:00:11:22" in page
    new_id = max(env.sim.data.stbs)
    flashes(client, client.post(f"/metroport/metrotv/stbs/{new_id}/delete", data={"csrf_token": token}))
    assert new_id not in env.sim.data.stbs
    reader = user_with(app, env.host, "tvreader", "metroport_metrotv_read")
    assert reader.get("/metroport/metrotv/stbs").status_code == 200
    assert (
        reader.post(
            f"/metroport/metrotv/stbs/{min(env.sim.data.stbs)}/delete",
            data={"csrf_token": csrf_token(reader, "/metroport/metrotv/stbs")},
        ).status_code
        == 403
    )


def test_metrotv_card_enforces_the_removal_chain(env, app):
    user = next(
        u
        for u in env.sim.data.users.values()
        if not any(a["userid"] == u["userid"] for a in env.sim.data.accounts.values())
    )
    cid = add_customer(
        env.host, "Kinoman", address={"city": "Łódź", "zip": "90-001", "street": "Piotrkowska", "house": "7"}
    )
    pair(env, user["userid"], cid)
    client = log_in(app)
    base = f"/metroport/customers/{cid}/metrotv"
    token = csrf_token(client, f"/customers/{cid}")
    card = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert 'value="Piotrkowska"' in card and 'id="metrotv-add"' in card
    flashes(
        client,
        client.post(
            f"{base}/accounts/add",
            data={
                "csrf_token": token,
                "network": "1",
                "locationcity": "Łódź",
                "locationzip": "90-001",
                "locationstreetname": "Piotrkowska",
                "locationstreetno": "7",
            },
        ),
    )
    account = next(a for a in env.sim.data.accounts.values() if a["userid"] == user["userid"])
    aid = account["id"]
    page = flashes(
        client, client.post(f"{base}/{aid}/orders/add", data={"csrf_token": token, "package": "201", "price": "15.00"})
    )
    assert "cannot be issued" in page and not env.sim.data.live_orders(aid)  # an extra needs a base first
    page = flashes(
        client, client.post(f"{base}/{aid}/orders/add", data={"csrf_token": token, "package": "102", "price": "59,99"})
    )
    assert "must be a sum" in page
    flashes(
        client, client.post(f"{base}/{aid}/orders/add", data={"csrf_token": token, "package": "102", "price": "59.99"})
    )
    card = client.get(f"/customers/{cid}").get_data(as_text=True)
    offered = re.findall(rf'<form[^>]*id="order-add-form-{aid}".*?</form>', card, re.S)[0]
    assert 'value="201"' in offered
    assert 'value="203"' not in offered and 'value="204"' not in offered  # denied by the base, inactive
    flashes(
        client, client.post(f"{base}/{aid}/orders/add", data={"csrf_token": token, "package": "201", "price": "15.00"})
    )
    main = next(o for o in env.sim.data.live_orders(aid) if o["pkg_group"] == 1)
    extra = next(o for o in env.sim.data.live_orders(aid) if o["pkg_group"] == 2)
    stb = next(s for s in env.sim.data.stbs.values() if s["status"] == 1)
    flashes(
        client,
        client.post(
            f"{base}/{aid}/orders/{main['id']}/stb",
            data={"csrf_token": token, "network": "1", "stb": stb["serialnumber"]},
        ),
    )
    assert stb["status"] == 3 and stb["iptv_accountid"] == aid
    for target, reason in (
        (f"{base}/{aid}/delete", "packages first"),
        (f"{base}/{aid}/orders/{main['id']}/delete", "STB first"),
    ):
        assert reason in flashes(client, client.post(target, data={"csrf_token": token}))
    flashes(client, client.post(f"{base}/{aid}/stb/unlink", data={"csrf_token": token, "mac": stb["mac"]}))
    page = flashes(client, client.post(f"{base}/{aid}/orders/{main['id']}/delete", data={"csrf_token": token}))
    assert "extra and multiroom packages before the base" in page and main["active"] == 1
    flashes(client, client.post(f"{base}/{aid}/orders/{extra['id']}/delete", data={"csrf_token": token}))
    flashes(client, client.post(f"{base}/{aid}/orders/{main['id']}/delete", data={"csrf_token": token}))
    page = flashes(client, client.post(f"{base}/{aid}/delete", data={"csrf_token": token}))
    assert aid not in env.sim.data.accounts and "deleted" in page
