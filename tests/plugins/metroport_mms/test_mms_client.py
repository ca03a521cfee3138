"""The MMS client against the simulator on loopback: login and the shared session, one re-login on 401,
the envelopes and bodies of spec §11, retries only where safe, the read-back of a create whose answer was
lost, and every failure as one message naming the call without a secret."""

from __future__ import annotations

import pytest
import requests

from lmsplugins.errors import ConfigError
from lmsplugins.http import HttpPolicy
from lmsplugins.simserver import serve
from plugins.metroport_mms.client import (
    MemoryTokenStore,
    MMSClient,
    MMSError,
    MMSLoginError,
    MMSProtocolError,
    MMSTransportError,
)
from plugins.metroport_mms.simulator import Faults, make_app

LOGIN, PASSWORD = "api-operator", "s3cret-pass"


@pytest.fixture(scope="module")
def sim():
    app = make_app(seed=5, users=40, stbs=12, login=LOGIN, password=PASSWORD)
    server = serve(app)
    app.url = server.url
    yield app
    server.stop()


@pytest.fixture
def fresh(sim):
    sim.faults = Faults()
    return sim


def client(sim, store=None, **kw) -> MMSClient:
    return MMSClient(sim.url, LOGIN, PASSWORD, token_store=store or MemoryTokenStore(), **kw)


def test_login_accepts_json_form_and_multipart(fresh):
    c = client(fresh)
    assert c.login()
    for kwargs in (
        {"data": {"login": LOGIN, "password": PASSWORD}},
        {"files": {"login": (None, LOGIN), "password": (None, PASSWORD)}},
    ):
        response = requests.post(fresh.url + "/Admins/Auth/login", timeout=5, **kwargs)
        assert response.status_code == 200 and response.cookies.get("sess_ci")
    assert {"json", "form", "multipart"} <= set(fresh.stats.login_formats)


def test_session_is_shared_and_expires_as_the_original_counts(fresh):
    store = MemoryTokenStore()
    first = client(fresh, store)
    first.users()
    second = client(fresh, store)
    second.fsecure_packages()
    assert (first.logins, second.logins) == (1, 0)
    store.saved_at -= 1200 - 31  # younger than lifetime - 30 s: reused ...
    young = client(fresh, store, token_lifetime=1200)
    assert young.stb_models() and young.logins == 0
    store.saved_at -= 2  # ... older: a new login
    late = client(fresh, store, token_lifetime=1200)
    late.stb_models()
    assert late.logins == 1


def test_one_relogin_on_401_then_an_error(fresh):
    c = client(fresh)
    c.users()
    fresh.faults.expire_session = 1
    assert len(c.users()) == 40 and c.logins == 2
    fresh.faults.expire_session = 2
    with pytest.raises(MMSError, match=r"GET /Users/users: HTTP 401") as caught:
        c.users()
    assert c.logins == 3 and PASSWORD not in str(caught.value)


def test_refused_login_names_the_call_and_hides_the_password(fresh):
    c = MMSClient(fresh.url, LOGIN, "wrong-password-123", token_store=MemoryTokenStore())
    with pytest.raises(MMSLoginError, match=r"POST /Admins/Auth/login: login refused \(HTTP 401\)") as caught:
        c.networks()
    assert "wrong-password-123" not in str(caught.value)


def test_envelopes_and_shapes(fresh):
    c = client(fresh)
    users = c.users()
    assert len(users) == 40 and all(u.id for u in users)
    pesel = next(u.pesel for u in users if u.pesel)
    assert [u.pesel for u in c.search_users(pesel=pesel)] == [pesel]
    assert c.search_users(pesel="00000000000") == []  # the provider's 404 for no hit
    nip = next(u.nip for u in users if u.nip)
    assert c.search_users(nip=nip)[0].nip == nip
    with pytest.raises(ValueError):
        c.search_users(nip="")
    assert {p["id"] for p in c.fsecure_packages()} == {11, 12, 13}
    accounts = c.tv_accounts()
    assert accounts and c.tv_account(accounts[0]["id"])["Packages"]["MainPackage"]["pkg_group"] == 1
    assert c.networks()[0]["TotalSTBs"] == 0 and len(c.stbs()) == 12
    assert c.orders(999999) == []


@pytest.mark.parametrize("fault", ["malformed", "truncate"])
def test_bad_bodies_are_protocol_errors_naming_the_call(fresh, fault):
    c = client(fresh)
    c.login()
    setattr(fresh.faults, fault, 1)
    with pytest.raises(MMSProtocolError, match=r"GET /Iptv/Packages: "):
        c.tv_packages()


def test_reads_are_retried_writes_are_not(fresh):
    c = client(fresh, policy=HttpPolicy(backoff=0.01, user_agent="t"))
    services = c.fsecure_services()
    fresh.faults.http_5xx = 1
    assert c.fsecure_services() == services
    fresh.faults.http_5xx = 1
    before = dict(fresh.stats.requests)
    sid = next(s["id"] for s in services if s["status"] == "active")
    with pytest.raises(MMSTransportError, match=rf"PUT /services/security/{sid}/block: HTTP 503"):
        c.fsecure_block(sid)
    key = f"PUT /services/security/{sid}/block"
    assert fresh.stats.requests[key] - before.get(key, 0) == 1


def test_lost_create_answer_is_read_back_not_repeated(fresh):
    c = client(fresh, policy=HttpPolicy(timeout=(2.0, 0.3), user_agent="t"))
    user = next(u for u in c.users() if not [s for s in c.fsecure_services(u.id)])
    fresh.faults.slow_create = 0.8
    try:
        created = c.fsecure_add(user.id, 12, 3)
    finally:
        fresh.faults.slow_create = 0
    assert created["secur_serviceid"] == 12
    assert len(c.fsecure_services(user.id)) == 1
    assert fresh.stats.requests["POST /services/security"] == 1


def test_bodies_as_the_original_sends_them(fresh):
    c = client(fresh)
    acc = c.tv_accounts()[0]
    card = c.tv_account(acc["id"])
    extra = next(iter(card["Packages"]["ExtraPackages"].values()), None) or c.order_add(acc["id"], 202, "9.99")
    c.order_delete(extra["id"], acc["id"])
    method, path, body = fresh.stats.bodies[-1]
    assert (method, path) == ("DELETE", f"/iptv/orders/{extra['id']}")
    assert body == f"orderid={extra['id']}&accountid={acc['id']}"
    c.fsecure_block(next(iter(fresh.data.services)), block=False)
    assert fresh.stats.bodies[-1][2] == ""


def test_provider_rules_come_back_as_its_message(fresh):
    c = client(fresh)
    max_account = next(
        a
        for a in fresh.data.accounts.values()
        if any(o["pkg_id"] == 102 and o["active"] for o in fresh.data.orders.values() if o["accountid"] == a["id"])
    )
    with pytest.raises(MMSError, match="POST /Iptv/Orders: HTTP 409: package 203 is denied by the base package 102"):
        c.order_add(max_account["id"], 203, "19.99")
    with pytest.raises(MMSError, match="is not AA:BB:CC:DD:EE:FF"):
        c.stb_add("MAG-322", "SN-X", "00:11")


def test_refused_connection_and_bad_settings():
    with serve(make_app()) as server:
        url = server.url
    with pytest.raises(MMSTransportError, match=r"^POST /Admins/Auth/login: Błąd pobierania tokena"):
        MMSClient(url, "a", "b", policy=HttpPolicy(retries=0)).users()
    with pytest.raises(ConfigError, match="serwer_url is empty"):
        MMSClient("", "a", "b")
    with pytest.raises(ConfigError, match="needs its scheme"):
        MMSClient("api.mmsc.metroport.pl ", "a", "b")
    with pytest.raises(ConfigError, match="Brak loginu lub hasła"):
        MMSClient("https://x", "", "")
