"""The UserSide admin page: right required, endpoint URL for usm_billing, key generated, rotated and
shown masked (in full once), allow-list validated and enforced, last requests, one customer's preview;
and the demo ISP answering get_user_list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from userside_data import Dataset, build

from lmsplugins.host import Host
from lmsplugins.plugin import DemoContext
from lmsplugins.testing import databases as dbs
from lmsplugins.testing.web import csrf_token, user_with
from lmsplugins.web import create_app
from plugins.userside import admin
from plugins.userside.plugin import plugin


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Host, Dataset, Flask]]:
    host = dbs.sqlite_host(tmp_path, seeded=True)
    ds = build(host)
    yield host, ds, create_app(host, TESTING=True)
    host.dispose()


def test_page_needs_the_right(env):
    host, _, app = env
    nobody = user_with(app, host, "nobody", "customer_management")
    assert nobody.get("/userside/").status_code == 403


def test_key_rotation_allow_list_requests_and_preview(env):
    host, ds, app = env
    client = user_with(app, host, "usadmin", "userside_admin")
    page = client.get("/userside/").get_data(as_text=True)
    assert "no key: the API is off" in page and "/userside/api?key=" in page

    token = csrf_token(client, "/userside/")
    response = client.post("/userside/", data={"csrf_token": token, "action": "rotate"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    key = host.plugin_settings(plugin)["userside.api_key"]
    assert len(key) >= 32 and page.count(key) == 1
    again = client.get("/userside/").get_data(as_text=True)
    assert key not in again and admin.mask_key(key) in again

    api = app.test_client()
    assert api.get(f"/userside/api?key={key}&request=get_user_state_list").status_code == 200
    rotated = client.post("/userside/", data={"csrf_token": token, "action": "rotate"}, follow_redirects=True)
    assert host.plugin_settings(plugin)["userside.api_key"] in rotated.get_data(as_text=True)
    assert api.get(f"/userside/api?key={key}&request=get_user_state_list").status_code == 403
    key = host.plugin_settings(plugin)["userside.api_key"]

    bad = client.post(
        "/userside/",
        data={"csrf_token": token, "action": "allow", "allowed": "10.0.0.0/8, nonsense"},
        follow_redirects=True,
    )
    assert host.plugin_settings(plugin)["userside.allowed_hosts"] == ""
    assert "Not an address or network: nonsense" in bad.get_data(as_text=True)
    good = {"csrf_token": token, "action": "allow", "allowed": "10.1.2.3 192.168.0.0/16"}
    assert "Allow-list saved." in client.post("/userside/", data=good, follow_redirects=True).get_data(as_text=True)
    assert host.plugin_settings(plugin)["userside.allowed_hosts"] == "10.1.2.3/32, 192.168.0.0/16"
    assert api.get(f"/userside/api?key={key}&request=get_user_list").status_code == 403
    inside = api.get(f"/userside/api?key={key}&request=get_user_list", environ_base={"REMOTE_ADDR": "192.168.5.5"})
    assert inside.status_code == 200

    page = client.get(f"/userside/?customer_id={ds['private']}").get_data(as_text=True)
    assert re.search(r'<table class="table" id="userside-requests">.*get_user_list.*192\.168\.5\.5', page, re.S)
    assert key not in page
    assert "&#34;full_name&#34;: &#34;KOWALSKI Jan&#34;" in page
    missing = client.get("/userside/?customer_id=abc").get_data(as_text=True)
    assert 'id="preview-error"' in missing and "customer_id must be a number" in missing


def test_polish_page(env):
    host, _, app = env
    client = user_with(app, host, "uspl", "userside_admin")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pl"
    page = client.get("/userside/").get_data(as_text=True)
    assert "Ostatnie zapytania" in page and "Wygeneruj nowy klucz" in page


def test_demo_isp_answers_get_user_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    host = dbs.sqlite_host(tmp_path, seeded=True)
    try:
        ctx = DemoContext(host, None, host.set_uiconfig, lambda args: 0, tmp_path)
        plugin.demo(ctx)
        assert re.search(r"get_user_list answered 200 with [1-9]\d* customers", capsys.readouterr().out)
    finally:
        host.dispose()


def test_page_with_a_bad_setting_says_so(env):
    host, ds, app = env
    host.set_uiconfig("userside.chunk_size", "many")
    client = user_with(app, host, "usbad", "userside_admin")
    page = client.get(f"/userside/?customer_id={ds['private']}").get_data(as_text=True)
    assert "userside.chunk_size" in page and 'id="preview-error"' in page
