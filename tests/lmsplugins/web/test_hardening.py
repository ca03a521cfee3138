"""The web hardening of issue 10: forwarded headers from trusted proxies only, throttling per login and
address, redirects under the mount prefix, logout ending the session on the server, uiconfig seen
fresh, partial settings forms, and the demo's random key."""

from __future__ import annotations

import re
import time

from sqlalchemy import select
from test_web_login import lms_session, sso_client

from lmsplugins.demo import DEMO_LOGIN, DEMO_PASSWORD, write_ini
from lmsplugins.lms.tables import uiconfig
from lmsplugins.store import state
from lmsplugins.testing.web import add_user, csrf_token, login
from lmsplugins.web import create_app
from lmsplugins.web.proxy import parse_trusted, peer_trusted

DIRECT = {"REMOTE_ADDR": "198.51.100.7"}


def _login_from(client, login_name, password, environ=None, headers=None):
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"csrf_token": token, "login": login_name, "password": password},
        environ_base=environ or {},
        headers=headers or {},
    )


# --- X-Forwarded-* only from trusted proxies ------------------------------------------------------


def test_trusted_proxies_setting_parses_addresses_networks_and_unix():
    networks, unix = parse_trusted("10.0.0.5, 192.168.0.0/16 ::1 unix")
    assert unix
    assert peer_trusted("10.0.0.5", networks, unix) and peer_trusted("192.168.7.1", networks, unix)
    assert peer_trusted("::ffff:10.0.0.5", networks, unix) and peer_trusted("", networks, unix)
    assert not peer_trusted("10.0.0.6", networks, unix) and not peer_trusted("junk", networks, unix)
    assert not peer_trusted("", *parse_trusted("127.0.0.1"))


def test_direct_client_cannot_forge_its_address_past_users_hosts(app, web_host):
    add_user(web_host, "office", "haslo123", rights="full_access", hosts="192.0.2.0/24")
    forged = {"X-Forwarded-For": "192.0.2.9"}
    client = app.test_client()
    client.environ_base.update(DIRECT)
    assert _login_from(client, "office", "haslo123", DIRECT, forged).status_code == 401
    # The same header from the proxy on loopback (the default trusted_proxies) is believed.
    assert _login_from(app.test_client(), "office", "haslo123", None, forged).status_code == 302


def test_direct_client_cannot_forge_https_or_the_prefix(app):
    client = app.test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/evil"}
    response = client.get("/login", headers=headers, environ_base=DIRECT)
    assert "Secure" not in response.headers["Set-Cookie"]
    assert 'action="/login"' in response.get_data(as_text=True)


def test_trusted_proxies_setting_replaces_the_loopback_default(make_app, web_host):
    add_user(web_host, "office", "haslo123", rights="full_access", hosts="192.0.2.0/24")
    web_host.set_uiconfig("lmsplugins.trusted_proxies", "10.1.1.1")
    app = make_app()
    forged = {"X-Forwarded-For": "192.0.2.9"}
    assert _login_from(app.test_client(), "office", "haslo123", None, forged).status_code == 401
    proxy = {"REMOTE_ADDR": "10.1.1.1"}
    client = app.test_client()
    client.environ_base.update(proxy)
    assert _login_from(client, "office", "haslo123", proxy, forged).status_code == 302


def test_proxy_hops_zero_still_trusts_no_forwarded_header(make_app, web_host):
    add_user(web_host, "office", "haslo123", rights="full_access", hosts="192.0.2.0/24")
    web_host.set_uiconfig("lmsplugins.proxy_hops", "0")
    app = make_app()
    response = _login_from(app.test_client(), "office", "haslo123", None, {"X-Forwarded-For": "192.0.2.9"})
    assert response.status_code == 401


def test_direct_client_cannot_forge_its_address_past_the_sso_check(app, web_host):
    sid = lms_session(web_host, ip="192.0.2.9")
    forged = {"X-Forwarded-For": "192.0.2.9"}
    direct = sso_client(app, sid)
    direct.environ_base.update(DIRECT)
    assert direct.get("/customers", headers=forged).status_code == 302
    assert sso_client(app, sid).get("/customers", headers=forged).status_code == 200  # via the proxy


# --- throttle per login and address -----------------------------------------------------------------


def test_failures_from_elsewhere_do_not_lock_the_user_out(make_app, web_host, sleeps):
    app = make_app()
    app.extensions["lmsplugins"].throttle.max_failures = 3
    attacker = app.test_client()
    attacker.environ_base.update(DIRECT)
    for _ in range(4):
        assert _login_from(attacker, DEMO_LOGIN, "bad", DIRECT).status_code == 401
    assert _login_from(attacker, DEMO_LOGIN, DEMO_PASSWORD, DIRECT).status_code == 401  # refused there
    assert login(app.test_client()).status_code == 302  # the real user, elsewhere, still gets in


def test_the_delay_grows_and_refuses_unchecked_meanwhile(make_app, web_host, sleeps):
    app = make_app()
    throttle = app.extensions["lmsplugins"].throttle
    client = app.test_client()
    for _ in range(throttle.free):
        assert login(client, password="bad").status_code == 401
    assert throttle.wait("127.0.0.1", DEMO_LOGIN) > 0
    response = login(client)  # the right password, but inside the delay
    assert response.status_code == 401 and "Zbyt wiele" in response.get_data(as_text=True)
    assert throttle.failures("127.0.0.1", DEMO_LOGIN) == throttle.free


# --- redirects keep the mount prefix --------------------------------------------------------------


def test_redirects_keep_the_script_name_prefix(app):
    client = app.test_client()
    base = "http://localhost/lms/plugins/"
    response = client.get("/customers?q=x", base_url=base)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/lms/plugins/login?next=")
    page = client.get("/login?next=/customers", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "login": DEMO_LOGIN, "password": DEMO_PASSWORD, "next": "/customers"}
    response = client.post("/login", data=data, base_url=base)
    assert response.headers["Location"] == "/lms/plugins/customers"
    assert client.get("/login?next=/customers", base_url=base).headers["Location"] == "/lms/plugins/customers"
    page = client.get("/", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/"}, base_url=base)
    assert response.headers["Location"] == "/lms/plugins/"
    response = client.post("/logout", data={"csrf_token": token}, base_url=base)
    assert response.headers["Location"] == "/lms/plugins/login"


def test_redirects_keep_the_forwarded_prefix_from_the_proxy(app):
    client = app.test_client()
    prefix = {"X-Forwarded-Prefix": "/lms-plugins"}
    token = csrf_token(client)
    data = {"csrf_token": token, "login": DEMO_LOGIN, "password": DEMO_PASSWORD, "next": "/customers?page=2"}
    response = client.post("/login", data=data, headers=prefix)
    assert response.headers["Location"] == "/lms-plugins/customers?page=2"


def test_next_cannot_leave_the_app(logged_in):
    for target in ("//evil.example/", "http://evil.example/", "/\\evil.example", "/ok\r\nSet-Cookie: x=1"):
        assert logged_in.get("/login", query_string={"next": target}).headers["Location"] == "/"


# --- logout ends the session on the server -------------------------------------------------------


def test_a_copied_cookie_stops_working_after_logout(app, web_host):
    client = app.test_client()
    assert login(client).status_code == 302
    copied = client.get_cookie("lmsplugins_session").value
    thief = app.test_client()
    thief.set_cookie("lmsplugins_session", copied)
    assert thief.get("/").status_code == 200
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert thief.get("/").status_code == 302
    with web_host.engine.connect() as conn:
        assert conn.execute(select(state.c.name).where(state.c.name.like("web.session.%"))).first() is None


def test_the_server_record_holds_no_usable_token(logged_in, web_host):
    with logged_in.session_transaction() as sess:
        token = sess["sid"]
    with web_host.engine.connect() as conn:
        names = conn.execute(select(state.c.name).where(state.c.name.like("web.session.%"))).scalars().all()
    assert len(names) == 1 and token not in names[0]


# --- uiconfig changes reach a running worker ------------------------------------------------------


def test_uiconfig_changed_elsewhere_is_seen_after_the_ttl(web_host):
    web_host.uiconfig_ttl = 0.2
    example = web_host.plugin("example")
    assert web_host.plugin_settings(example)["example.batch_size"] == 500
    with web_host.engine.begin() as conn:  # LMS's config page, or another worker
        conn.execute(uiconfig.insert().values(section="example", var="batch_size", value="77", description=""))
    time.sleep(0.3)
    assert web_host.plugin_settings(example)["example.batch_size"] == 77


# --- a settings form without a field leaves that setting alone -----------------------------------


def test_settings_form_without_a_field_does_not_clear_it(logged_in, web_host):
    web_host.set_uiconfig("example.batch_size", "250")
    web_host.set_uiconfig("example.api_token", "sekret-1")
    token = csrf_token(logged_in, "/admin/settings")
    response = logged_in.post("/admin/settings", data={"csrf_token": token, "s:example.api_url": "http://10.0.0.9"})
    assert response.status_code == 302
    web_host.refresh_settings()
    config = web_host.config()
    assert config.get("example.batch_size") == "250" and config.get("example.api_token") == "sekret-1"
    assert config.get("example.api_url") == "http://10.0.0.9"
    # Sent empty, it is cleared as before.
    logged_in.post("/admin/settings", data={"csrf_token": token, "s:example.batch_size": ""})
    web_host.refresh_settings()
    assert web_host.config().get("example.batch_size") is None


# --- the demo's key -------------------------------------------------------------------------------


def test_demo_secret_key_is_random(tmp_path):
    keys = []
    for name in ("a.ini", "b.ini"):
        write_ini(tmp_path / name, tmp_path / "lms.sqlite")
        keys.append(re.search(r"^secret_key = (\S+)$", (tmp_path / name).read_text(), re.M).group(1))
    assert keys[0] != keys[1]
    assert all(len(k) >= 40 and str(int(time.time()))[:6] not in k for k in keys)


def test_app_created_twice_on_one_database_shares_its_generated_key(web_host):
    assert create_app(web_host).secret_key == create_app(web_host).secret_key


def test_the_web_app_applies_the_retry_budget_setting(sqlite_host, monkeypatch):
    from lmsplugins import http

    monkeypatch.setitem(http._configured, "budget", http.DEFAULT_RETRY_BUDGET)
    sqlite_host.set_uiconfig("lmsplugins.http_retry_budget", "7")
    create_app(sqlite_host, TESTING=True)
    assert http.default_budget() == 7.0
    sqlite_host.set_uiconfig("lmsplugins.http_retry_budget", "soon")
    create_app(sqlite_host, TESTING=True)  # a bad value is logged, the panels still start
    assert http.default_budget() == 7.0
