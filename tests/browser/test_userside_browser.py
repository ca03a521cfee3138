"""The UserSide admin page in a real browser: Playwright driving Debian's Chromium against
``lmsplugins serve`` (a subprocess) on an SQLite LMS, the universal API asked over real HTTP beside it.

It proves what the Flask test client cannot: the operator reaches the page from the menu, the rotate
button posts its CSRF token from the browser, the new key is shown once (a reload shows it masked),
and the running server answers with the new key at once while the old one gets 403; the page's list
of last requests shows both answers.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import serve_lms

from lmsplugins.demo import DEMO_LOGIN, DEMO_PASSWORD
from lmsplugins.host import Host
from lmsplugins.testing import databases as dbs
from plugins.userside.admin import mask_key

pytestmark = pytest.mark.browser


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Host, str]]:
    host = dbs.sqlite_host(tmp_path, seeded=True)
    try:
        with serve_lms(Path(host.ini_config.path), tmp_path / "serve.log") as url:
            yield host, url
    finally:
        host.dispose()


def _api(url: str, key: str) -> tuple[int, Any]:
    query = urllib.parse.urlencode({"key": key, "request": "get_api_information"})
    try:
        with urllib.request.urlopen(f"{url}/userside/api?{query}", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def _stored_key(host: Host) -> str:
    """The key as the server wrote it (this process's settings are cached, so read the row)."""
    with host.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT value FROM uiconfig WHERE section = 'userside' AND var = 'api_key' AND userid IS NULL"
        ).all()
    assert len(rows) == 1
    return str(rows[0][0])


def _rotate(page: Any) -> str:
    """Click "generate a new key"; the key the flash shows once."""
    page.click("#rotate-key")
    page.wait_for_selector(".flash.success")
    text = page.locator(".flash.success").first.inner_text()
    assert "Nowy klucz (pokazany raz, skopiuj go do usm_billing):" in text
    return text.rsplit(" ", 1)[-1].strip()


def test_rotate_key_shown_once_and_the_api_follows(browser, env):
    host, url = env
    context = browser.new_context(locale="pl-PL")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{url}/")
    page.fill("#login", DEMO_LOGIN)
    page.fill("#password", DEMO_PASSWORD)
    page.click("section.login button[type=submit]")
    page.click("nav.menu >> text=API UserSide")
    page.wait_for_selector("#rotate-key")
    assert page.url == f"{url}/userside/"

    first = _rotate(page)
    assert first == _stored_key(host) and len(first) >= 32
    assert _api(url, first) == (200, {"version": "1.5", "date": "06.10.2017"})
    page.reload()
    assert first not in page.content()
    assert page.locator("#api-key code").inner_text() == mask_key(first)
    assert mask_key(first) in page.locator("#billing-url").inner_text()

    second = _rotate(page)
    assert second != first and second == _stored_key(host)
    status, body = _api(url, first)
    assert status == 403 and body == {"result": "error", "error": "forbidden"}
    assert _api(url, second) == (200, {"version": "1.5", "date": "06.10.2017"})

    page.goto(f"{url}/userside/")
    assert second not in page.content()
    statuses = [r.locator("td").nth(3).inner_text() for r in page.locator("#userside-requests tbody tr").all()]
    assert sorted(statuses) == ["200", "200", "403"], statuses
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
