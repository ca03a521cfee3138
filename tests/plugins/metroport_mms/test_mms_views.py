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
    cid = add_customer(env.host, "Zielińska", name="Ewa", ssn="90010112344", email="ewa@x.pl",
                       address={"city": "Poznań", "zip": "60-001", "street": "Półwiejska", "house": "2"})
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
    form = {"csrf_token": token, "package": "12", "with_assignment": "1", "tariff": str(tariff),
            "datefrom": "2026-01-01", "at": "5"}
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
    page = flashes(client, client.post(f"/metroport/customers/{cid}/fsecure/{sid}/delete",
                                       data={"csrf_token": token, "end_assignment": "1"}))
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
    assert reader.post(f"/metroport/customers/{cid}/metrotv/{account['id']}/block",
                       data={"csrf_token": token}).status_code == 403
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
