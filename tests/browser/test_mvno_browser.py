"""The Metroport MVNO pages in a real browser: Playwright driving Debian's Chromium against
``lmsplugins serve`` (a subprocess) on an SQLite LMS synchronised from the Metroport simulator.

It proves what the Flask test client cannot: the panel inside the real card, the bind button posting
its CSRF token from a browser, redirects with flash messages, the filter form of the billing list, and
that no page needs inline script (the frame's CSP forbids it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import serve_lms

from lmsplugins.demo import DEMO_LOGIN, DEMO_PASSWORD
from lmsplugins.testing import databases as dbs

# The sync tests' set-up (simulator, settings, LMS customers carrying the simulator's identities) is
# reused rather than copied; it lives beside them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "metroport_mvno"))
from mvno_env import PERIOD, Env, add_customer, make_env, seed_customers

pytestmark = pytest.mark.browser


@pytest.fixture
def synced(tmp_path: Path) -> Iterator[tuple[Env, dict[str, Any]]]:
    """Customers bound, SIM accounts mirrored and billing records imported by the real sync, plus a
    twin customer that makes one Metroport user ambiguous (left for the manual binding)."""
    host = dbs.sqlite_host(tmp_path, seeded=True)
    env = make_env(host, users=12, mobiles_per_user=2, billings=48)
    try:
        ids = seed_customers(env)
        user = next(u for u in env.sim.data.users if u["_pesel"] and not u["_nip"] and u["id"] in ids)
        twin = add_customer(host, "BLIŹNIAK", ssn=user["_pesel"])
        assert env.run("--customers").exit_code == 0
        assert env.run("--accounts").exit_code == 0
        assert env.run("--billings", *PERIOD).exit_code == 0
        yield env, {"ids": ids, "user": user, "twin": twin}
    finally:
        env.server.stop()
        host.dispose()


@pytest.fixture
def server(tmp_path: Path, synced: tuple[Env, dict[str, Any]]) -> Iterator[str]:
    env, _ = synced
    with serve_lms(env.ini, tmp_path / "serve.log") as url:
        yield url


def test_card_panel_manual_binding_and_billing_list(browser, synced, server):
    env, facts = synced
    url = server
    user, twin = facts["user"], facts["twin"]
    spid = env.provider_id()
    bound_customer, account = env.sql(
        """SELECT a.ownerid, a.id FROM voipaccounts a JOIN voip_cdr c
             ON (c.direction = 2 AND c.callervoipaccountid = a.id) OR (c.direction = 1 AND c.calleevoipaccountid = a.id)
           WHERE a.serviceproviderid = :p GROUP BY a.ownerid, a.id ORDER BY COUNT(*) DESC, a.id""",
        p=spid,
    )[0]
    records = env.sql(
        """SELECT COUNT(*) FROM voip_cdr
           WHERE (direction = 2 AND callervoipaccountid = :a) OR (direction = 1 AND calleevoipaccountid = :a)""",
        a=account,
    )[0][0]
    context = browser.new_context(locale="pl-PL")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{url}/customers/{bound_customer}")
    page.fill("#login", DEMO_LOGIN)
    page.fill("#password", DEMO_PASSWORD)
    page.click("section.login button[type=submit]")
    page.wait_for_url(f"{url}/customers/{bound_customer}")

    # the customer card with the MVNO panel
    panel = page.locator("#panel-metroport-mvno")
    assert panel.is_visible()
    assert "powiązany" in page.locator("#mvno-binding").inner_text()
    assert "zakończony" in page.locator("#mvno-last-import").inner_text()
    assert page.locator("#mvno-accounts tbody tr").count() >= 1

    # manual binding from the unbound page (Polish menu entry)
    page.click("nav.menu >> text=Metroport MVNO: niepowiązani użytkownicy")
    page.wait_for_selector("#mvno-unbound")
    row = page.locator(f"#user-{user['id']}")
    assert row.get_attribute("data-kind") == "ambiguous"
    assert row.locator(".candidate").count() == 2
    row.locator(f"#bind-{user['id']}-{twin}").click()
    page.wait_for_selector(".flash.success")
    assert f"Klient #{twin} jest teraz powiązany z użytkownikiem Metroport #{user['id']}" in page.content()
    assert page.locator(f"#user-{user['id']}").count() == 0
    bound = env.sql(
        "SELECT customerid FROM customerextids WHERE serviceproviderid = :p AND extid = :e", p=spid, e=str(user["id"])
    )
    assert [r[0] for r in bound] == [twin]
    page.goto(f"{url}/customers/{twin}")
    assert f"#{user['id']}" in page.locator("#mvno-user").inner_text()

    # the billing list of an account, reached from the panel, filtered to the synced period
    page.goto(f"{url}/customers/{bound_customer}")
    page.locator(f"#panel-metroport-mvno a[href$='/accounts/{account}/billing']").click()
    page.wait_for_selector("#billing-filters")
    page.fill("#billing-filters input[name=from]", "2023-01-01")
    page.fill("#billing-filters input[name=to]", "2023-01-31")
    page.click("#apply-filters")
    page.wait_for_url("**from=2023-01-01**")
    assert page.locator("#total-count").inner_text() == str(records)
    assert page.locator("#billing-records tbody tr").count() == min(records, 20)
    page.select_option("#billing-filters select[name=direction]", "in")
    page.click("#apply-filters")
    page.wait_for_url("**direction=in**")
    incoming = env.sql(
        "SELECT COUNT(*) FROM voip_cdr WHERE direction = 1 AND calleevoipaccountid = :a AND call_start_time > 0",
        a=account,
    )[0][0]
    assert page.locator("#total-count").inner_text() == str(incoming)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
