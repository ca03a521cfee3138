"""The Hiperus C5 panel in a real browser: Playwright driving Debian's Chromium against ``lmsplugins serve``
(a subprocess) on an SQLite LMS mirrored from the Hiperus simulator.

It proves what the Flask test client cannot: a person can create an account, a terminal (with its
emergency location) and a number through the pages, the browser sending each form's CSRF token, the
server process talking LIVE to the platform, and no page needing inline script (the frame's CSP).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import serve_lms

from lmsplugins.demo import DEMO_LOGIN, DEMO_PASSWORD
from lmsplugins.testing import databases as dbs

# The job tests' set-up (simulator on loopback, settings pointing at it) is reused, not copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "hiperus_c5"))
from hiperus_env import Env, make_env

pytestmark = pytest.mark.browser


@pytest.fixture
def mirrored(tmp_path: Path) -> Iterator[Env]:
    host = dbs.sqlite_host(tmp_path, seeded=True)
    env = make_env(host, tmp_path)
    try:
        result = env.run("import", "--all")
        assert result.exit_code == 0, result.output
        yield env
    finally:
        env.server.stop()
        host.dispose()


@pytest.fixture
def server(tmp_path: Path, mirrored: Env) -> Iterator[str]:
    with serve_lms(mirrored.ini, tmp_path / "serve.log") as url:
        yield url


def test_create_account_terminal_and_number_through_the_pages(browser, mirrored, server):
    env, url = mirrored, server
    st = env.sim.state
    context = browser.new_context(locale="pl-PL")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{url}/customers/4")
    page.fill("#login", DEMO_LOGIN)
    page.fill("#password", DEMO_PASSWORD)
    page.click("section.login button[type=submit]")
    page.wait_for_url(f"{url}/customers/4")
    assert page.locator("#panel-hiperus-c5").is_visible()

    # a new account for this LMS customer, from the panel's link (the form is pre-filled from LMS)
    page.click("#hv-panel-new")
    page.wait_for_selector("#account-form")
    assert page.input_value("#ext_billing_id") == "4"
    page.fill("#name", "Przeglądarkowy Klient")
    page.fill("#email", "przegladarka@example.pl")
    page.select_option("#invoice_choice", "2")
    page.select_option("#id_default_pricelist", "1")
    page.click("#save-account")
    page.wait_for_selector(".flash.success")
    created = [cid for cid, c in st.customers.items() if c["name"] == "Przeglądarkowy Klient"]
    assert len(created) == 1
    account = created[0]
    assert st.customers[account]["ext_billing_id"] == "4"
    assert page.url.endswith(f"/hiperus-c5/accounts/{account}")
    assert "Klient LMS" in page.content()
    assert page.locator("#invoice-choice").inner_text() == "LMS"

    # a terminal with its emergency location
    page.click("#add-terminal")
    page.wait_for_selector("#terminal-form")
    page.fill("#username", "przegladarka1")
    page.fill("#password", "Tajne12345")
    page.select_option("#id_pricelist", "2")
    page.select_option("#id_terminal_location", "1234")
    page.check("#t38_fax")
    page.click("#save-terminal")
    page.wait_for_selector(".flash.success")
    terminal = next(t for t in st.terminals.values() if t["username"] == "przegladarka1")
    assert terminal["id_customer"] == account and terminal["id_terminal_location"] == "1234"
    assert terminal["t38_fax"] == "t"
    assert page.locator(f"#terminal-{terminal['id']}").is_visible()

    # a number: the form proposes the first free number of the enabled ranges
    page.click("#add-number")
    page.wait_for_selector("#number-form")
    proposed = page.input_value("#number")
    assert proposed == st.first_free_number(None)[0]
    page.select_option("#id_terminal", str(terminal["id"]))
    page.check("#clir")
    page.click("#save-number")
    page.wait_for_selector(".flash.success")
    ext = next(e for e in st.extensions.values() if e["number"] == proposed)
    assert ext["id_customer"] == account and ext["terminal_name"] == "przegladarka1" and ext["clir"] == "t"
    row = page.locator(f"#number-{ext['id']}")
    assert proposed in row.inner_text() and row.locator(".clir").inner_text() == "tak"

    # the mirror holds all three, and the customer card's panel shows the new account with its number
    local = env.sql("SELECT ext_billing_id FROM hv_customers WHERE id = :a", a=account)
    assert [r[0] for r in local] == [4]
    assert env.sql("SELECT customerid FROM hv_terminal WHERE id = :t", t=terminal["id"])[0][0] == account
    assert env.sql("SELECT customerid, clir FROM hv_pstn WHERE id = :e", e=ext["id"])[0] == (account, "t")
    page.goto(f"{url}/customers/4")
    assert proposed in page.locator(f"#hv-panel-account-{account}").inner_text()

    # quick search by the new number finds the account
    page.goto(f"{url}/hiperus-c5/accounts")
    page.fill("#hv-search", proposed)
    page.press("#hv-search", "Enter")
    page.wait_for_url(f"**/hiperus-c5/accounts/{account}")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
