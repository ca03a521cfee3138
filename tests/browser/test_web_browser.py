"""The web frame in a real browser: Playwright driving Debian's Chromium against ``lmsplugins serve``.

The server is a real subprocess on a free loopback port, on a demo-style SQLite LMS, so the test
covers what unit tests cannot: the CLI entry point, real cookies and redirects, the CSP (no inline
script may be needed), and forms submitted by a browser with their CSRF tokens.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import serve_lms
from sqlalchemy import select

from lmsplugins.demo import DEMO_LOGIN, DEMO_PASSWORD
from lmsplugins.jobs import run_job
from lmsplugins.lms.tables import uiconfig, users
from lmsplugins.testing import databases as dbs
from lmsplugins.web import totp

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, object]]:
    host = dbs.sqlite_host(tmp_path, seeded=True)
    dbs.install(host, "example")
    run_job(host, "example.sync", lambda job: job.count("notes", 24))
    ini = host.ini_config.path
    host.dispose()
    with serve_lms(ini, tmp_path / "serve.log") as url:
        yield url, host


def test_login_card_setting_jobs_logout(browser, server):
    url, host = server
    context = browser.new_context(locale="pl-PL")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(url + "/customers/3")
    assert "/login" in page.url
    page.fill("#login", DEMO_LOGIN)
    page.fill("#password", DEMO_PASSWORD)
    page.click("section.login button[type=submit]")
    page.wait_for_url(url + "/customers/3")

    assert page.locator("#customer-identity").is_visible()
    assert page.locator("#customer-contacts").inner_text().count("@example.pl") == 1
    panel = page.locator("#panel-example-notes")
    assert panel.is_visible() and "Example notes" in panel.inner_text()
    assert page.locator("nav.menu a", has_text="Example notes").count() == 1

    page.fill("header input[name=q]", "3")
    page.press("header input[name=q]", "Enter")
    page.wait_for_url(url + "/customers/3")

    page.click("nav.menu >> text=Ustawienia")
    page.fill("#s\\:example\\.api_url", "http://127.0.0.1:9999/api")
    page.fill("#s\\:example\\.api_token", "browser-secret-token")
    page.click("#save-settings")
    page.wait_for_selector(".flash.success")
    assert "browser-secret-token" not in page.content()
    assert page.input_value("#s\\:example\\.api_url") == "http://127.0.0.1:9999/api"
    with host.engine.connect() as conn:
        rows = dict(conn.execute(select(uiconfig.c.var, uiconfig.c.value).where(uiconfig.c.section == "example")).all())
    assert rows["api_url"] == "http://127.0.0.1:9999/api" and rows["api_token"] == "browser-secret-token"

    page.click("nav.menu >> text=Uruchomienia zadań")
    jobs = page.locator("#jobs").inner_text()
    assert "example.sync" in jobs and "Zapisane notatki: 24" in jobs

    page.click("#logout")
    page.wait_for_selector(".flash")
    assert "/login" in page.url and "Wylogowano" in page.content()
    page.goto(url + "/customers")
    assert "/login" in page.url
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()


def test_two_factor_login_in_the_browser(browser, tmp_path):
    """A user with LMS's two-factor login: password, then a wrong code, then the right one."""
    key = b"browser-2fa-test-key"
    host = dbs.sqlite_host(tmp_path, seeded=True)
    with host.engine.begin() as conn:
        conn.execute(
            users.update()
            .where(users.c.login == DEMO_LOGIN)
            .values(twofactorauth=1, twofactorauthsecretkey=base64.b32encode(key).decode("ascii"))
        )
    ini = host.ini_config.path
    host.dispose()
    with serve_lms(ini, tmp_path / "serve.log") as url:
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        page.goto(url + "/customers")
        page.fill("#login", DEMO_LOGIN)
        page.fill("#password", DEMO_PASSWORD)
        page.click("section.login button[type=submit]")
        page.wait_for_url(url + "/login/code")
        assert page.get_attribute("#code", "autocomplete") == "one-time-code"

        page.fill("#code", totp.totp(key, time.time() + 3600))
        page.click("section.login button[type=submit] >> nth=0")
        page.wait_for_selector("#login-error")
        assert "Wrong authentication code." in page.inner_text("#login-error")

        page.fill("#code", totp.totp(key, time.time()))
        page.click("section.login button[type=submit] >> nth=0")
        page.wait_for_url(url + "/customers")
        assert page.locator("#customers").is_visible()
        context.close()
