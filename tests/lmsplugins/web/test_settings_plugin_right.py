"""A plugin's own section of the settings page is open to that plugin's full-access right (e.g.
``hiperus_full_access``), not only to the host admin; the other sections stay closed to that user."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from lmsplugins.testing import databases as dbs
from lmsplugins.testing.web import csrf_token, user_with
from lmsplugins.web import create_app


@pytest.fixture
def app(sqlite_host):
    dbs.install(sqlite_host, "hiperus_c5")
    return create_app(sqlite_host, TESTING=True, USER_CACHE_SECONDS=0, SLEEP=lambda _s: None)


def _uiconfig(host, section: str, var: str) -> list[str]:
    with host.engine.connect() as conn:
        query = text("SELECT value FROM uiconfig WHERE section = :s AND var = :v")
        rows = conn.execute(query, {"s": section, "v": var})
        return [r[0] for r in rows]


def test_full_access_right_opens_only_its_plugins_section(app, sqlite_host):
    client = user_with(app, sqlite_host, "voipadmin", "hiperus_full_access")
    page = client.get("/admin/settings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="section-hiperus_c5"' in html
    assert 'id="section-lmsplugins"' not in html and 'id="section-example"' not in html

    token = csrf_token(client, "/admin/settings")
    saved = client.post(
        "/admin/settings",
        data={"csrf_token": token, "s:hiperus_c5.username": "reseller1", "s:lmsplugins.sso": "false"},
    )
    assert saved.status_code == 302
    assert _uiconfig(sqlite_host, "hiperus_c5", "username") == ["reseller1"]
    assert _uiconfig(sqlite_host, "lmsplugins", "sso") == [], "a host setting is not this user's to change"


@pytest.mark.parametrize("rights", ["hiperus_read_only", "example_read"])
def test_other_rights_get_403(app, sqlite_host, rights):
    client = user_with(app, sqlite_host, "someone", rights)
    assert client.get("/admin/settings").status_code == 403
