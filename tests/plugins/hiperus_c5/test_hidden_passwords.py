"""SIP passwords: never shown to read-only users; with ``hide_passwords`` on, not shown on pages or in forms
either, and an edit form left without one keeps the terminal's password at the platform (SQLite only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from hiperus_env import Env, make_env

from lmsplugins.testing.web import csrf_token, log_in, user_with
from lmsplugins.web import create_app
from plugins.hiperus_c5.tables import hv_terminal


@pytest.fixture
def env(sqlite_host: Any, tmp_path: Any) -> Iterator[Env]:
    e = make_env(sqlite_host, tmp_path)
    assert e.run("import", "--all").exit_code == 0
    yield e
    e.server.stop()


@pytest.fixture
def app(env: Env) -> Flask:
    return create_app(env.host, SLEEP=lambda s: None, USER_CACHE_SECONDS=0, TESTING=True)


def _terminal(env: Env) -> dict[str, Any]:
    return next(r for r in env.rows(hv_terminal) if r["password"] and len(r["password"]) >= 6)


def test_read_only_user_never_sees_sip_passwords(app, env):
    terminal = _terminal(env)
    reader = user_with(app, env.host, "reader", "hiperus_read_only")
    page = reader.get(f"/hiperus-c5/accounts/{terminal['customerid']}")
    assert page.status_code == 200
    assert terminal["username"] in page.get_data(as_text=True)
    assert terminal["password"] not in page.get_data(as_text=True)
    admin = log_in(app)
    assert terminal["password"] in admin.get(f"/hiperus-c5/accounts/{terminal['customerid']}").get_data(as_text=True)


def test_hide_passwords_hides_them_on_pages_and_forms_and_keeps_them_on_save(app, env):
    env.host.set_uiconfig("hiperus_c5.hide_passwords", "true")
    terminal = _terminal(env)
    admin = log_in(app)
    page = admin.get(f"/hiperus-c5/accounts/{terminal['customerid']}").get_data(as_text=True)
    assert terminal["username"] in page and terminal["password"] not in page
    form = admin.get(f"/hiperus-c5/terminals/{terminal['id']}/edit").get_data(as_text=True)
    assert terminal["username"] in form and terminal["password"] not in form
    assert 'type="password"' in form
    data = {
        "csrf_token": csrf_token(admin, "/"),
        "username": terminal["username"],
        "password": "",
        "id_pricelist": str(terminal["id_pricelist"] or 1),
        "screen_numbers": "y",
        "no_location": "y",
        "location": "Nowe miejsce",
    }
    response = admin.post(f"/hiperus-c5/terminals/{terminal['id']}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert env.sim.state.terminals[terminal["id"]]["password"] == terminal["password"]
    local = {r["id"]: r for r in env.rows(hv_terminal)}[terminal["id"]]
    assert local["password"] == terminal["password"] and local["location"] == "Nowe miejsce"
