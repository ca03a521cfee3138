"""The web frame in a real browser: Playwright driving Debian's Chromium against ``lmsplugins serve``.

The server is a real subprocess on a free loopback port, on a demo-style SQLite LMS, so the test
covers what unit tests cannot: the CLI entry point, real cookies and redirects, the CSP (no inline
script may be needed), and forms submitted by a browser with their CSRF tokens.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from lmsplugins.demo import DEMO_LOGIN, DEMO_PASSWORD
from lmsplugins.jobs import run_job
from lmsplugins.lms.tables import uiconfig
from lmsplugins.testing import databases as dbs

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true and the browser tests cannot run: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package is not installed")
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, object]]:
    host = dbs.sqlite_host(tmp_path, seeded=True)
    dbs.install(host, "example")
    run_job(host, "example:sync", lambda job: job.count("greetings", 24))
    ini = host.ini_config.path
    host.dispose()
    port = _free_port()
    exe = shutil.which("lmsplugins", path=str(Path(sys.executable).parent)) or "lmsplugins"
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed below, after the process ends
    proc = subprocess.Popen(
        [exe, "-C", str(ini), "serve", "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"lmsplugins serve did not start: {(tmp_path / 'serve.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield url, host
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
        rows = dict(
            conn.execute(select(uiconfig.c.var, uiconfig.c.value).where(uiconfig.c.section == "example")).all()
        )
    assert rows["api_url"] == "http://127.0.0.1:9999/api" and rows["api_token"] == "browser-secret-token"

    page.click("nav.menu >> text=Uruchomienia zadań")
    jobs = page.locator("#jobs").inner_text()
    assert "example:sync" in jobs and "greetings=24" in jobs

    page.click("#logout")
    page.wait_for_selector(".flash")
    assert "/login" in page.url and "Wylogowano" in page.content()
    page.goto(url + "/customers")
    assert "/login" in page.url
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
