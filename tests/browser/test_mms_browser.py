"""The Metroport MMS panel of the customer card in a real browser: Playwright driving Debian's Chromium
against ``lmsplugins serve`` (a subprocess) on an SQLite LMS, the server talking live to the MMS
simulator on loopback.

It proves what the Flask test client cannot: a person takes a customer through the whole life of the
services from the card (create in MMS and pair, F-Secure licence with its LMS assignment, MetroTV account,
base package, STB from the warehouse) with every button posting its CSRF token; a button from a page
left open in another tab (delete the account) is refused by the server because the account now has a
package and an STB; the removal in the right order works; the MMS user list shows the pairing. Every
step is checked in the simulator's state or the plugin's tables, not only on the page.
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

# The job tests' set-up (plugin installed, simulator on loopback, settings pointing at it) is reused.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "metroport_mms"))
from mms_env import Env, add_customer, make_env

pytestmark = pytest.mark.browser

PESEL = "90010112344"  # no simulator user carries it, so "add" creates the MMS user


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    host = dbs.sqlite_host(tmp_path, seeded=True)
    env = make_env(host, users=12, stbs=12)
    try:
        yield env
    finally:
        env.server.stop()
        host.dispose()


@pytest.fixture
def server(tmp_path: Path, env: Env) -> Iterator[str]:
    with serve_lms(env.ini, tmp_path / "serve.log") as url:
        yield url


def _flash(page: Any, kind: str) -> str:
    page.wait_for_selector(f".flash.{kind}")
    return page.locator(f".flash.{kind}").first.inner_text()


def test_customer_through_fsecure_metrotv_and_stb_and_back(browser, env, server):
    url, data = server, env.sim.data
    cid = add_customer(
        env.host,
        "Przeglądarkowa",
        name="Ewa",
        ssn=PESEL,
        email="ewa@example.pl",
        address={"city": "Łódź", "zip": "90-001", "street": "Piotrkowska", "house": "7"},
    )
    context = browser.new_context(locale="pl-PL")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{url}/customers/{cid}")
    page.fill("#login", DEMO_LOGIN)
    page.fill("#password", DEMO_PASSWORD)
    page.click("section.login button[type=submit]")
    page.wait_for_url(f"{url}/customers/{cid}")
    panel = page.locator("#panel-metroport-mms")
    assert "Klient niepowiązany z MMS." in panel.inner_text()

    # create the MMS user from LMS data and pair it
    panel.locator("#mms-add-customer").click()
    assert "Utworzono użytkownika MMS #" in _flash(page, "success")
    paired = env.sql("SELECT metroport_user_id FROM metroport_customers WHERE lms_user_id = :c", c=cid)
    assert len(paired) == 1
    uid = paired[0][0]
    assert data.users[uid]["pesel"] == PESEL and data.users[uid]["streetname1"] == "Piotrkowska"
    assert f"#{uid}" in page.locator("#mms-paired").inner_text()

    # the manual update sends the LMS data again (its button sits in the pairing line)
    env.sql(
        "UPDATE addresses SET house = '9'"
        " WHERE id IN (SELECT address_id FROM customer_addresses WHERE customer_id = :c)",
        c=cid,
    )
    page.locator("#mms-paired #mms-update-customer").click()
    assert f"Dane klienta wysłano do użytkownika MMS #{uid}." in _flash(page, "success")
    assert data.users[uid]["streetno1"] == "9"

    # an F-Secure licence with its LMS assignment
    form = page.locator("#fsecure-add-form")
    form.locator("select[name=package]").select_option("12")
    form.locator("input[name=with_assignment]").check()
    tariff = form.locator("select[name=tariff] option").first.get_attribute("value")
    form.locator("#fsecure-add").click()
    assert "Dodano licencję F-Secure." in _flash(page, "success")
    licences = [s for s in data.services.values() if s["userid"] == uid]
    assert [(s["secur_serviceid"], s["status"]) for s in licences] == [(12, "new")]
    assert [r[0] for r in env.sql("SELECT tariffid FROM assignments WHERE customerid = :c", c=cid)] == [int(tariff)]
    assert page.locator(f"#fsecure-{licences[0]['id']}").get_attribute("data-status") == "new"
    assert page.locator("#fsecure-add-form").count() == 0  # one live licence at a time

    # a MetroTV account, its address pre-filled from LMS
    add = page.locator("#metrotv-add-form")
    assert add.locator("input[name=locationstreetname]").input_value() == "Piotrkowska"
    add.locator("#metrotv-add").click()
    assert "Dodano konto MetroTV." in _flash(page, "success")
    accounts = [a for a in data.accounts.values() if a["userid"] == uid]
    assert len(accounts) == 1 and accounts[0]["locationcity"] == "Łódź"
    aid = accounts[0]["id"]

    # this tab stays open on the card of the empty account, with its delete button
    stale = context.new_page()
    stale.goto(f"{url}/customers/{cid}")
    assert stale.locator(f"#metrotv-delete-{aid}").is_visible()

    # base package, then an STB from the warehouse by its serial number
    order_form = page.locator(f"#order-add-form-{aid}")
    order_form.locator("select[name=package]").select_option("102")
    order_form.locator("input[name=price]").fill("59.99")
    order_form.locator(f"#order-add-{aid}").click()
    assert f"Wydano pakiet na koncie MetroTV #{aid}." in _flash(page, "success")
    (base,) = data.live_orders(aid)
    assert base["pkg_id"] == 102 and base["pricebrutto"] == "59.99"
    stb = next(s for s in data.stbs.values() if s["status"] == 1)
    row = page.locator(f"#order-{base['id']}")
    row.locator("input[name=stb]").fill(stb["serialnumber"])
    row.locator(f"#stb-issue-{base['id']}").click()
    assert f"Wydano STB na pakiet #{base['id']}." in _flash(page, "success")
    assert stb["status"] == 3 and stb["iptv_accountid"] == aid
    assert page.locator(f"[id='stb-{stb['mac']}']").is_visible()
    assert page.locator(f"#metrotv-delete-{aid}").count() == 0
    assert page.locator(f"#order-delete-{base['id']}").count() == 0

    # the stale tab's delete button: the server reads the account from MMS and refuses
    stale.locator(f"#metrotv-delete-{aid}").click()
    assert "najpierw usuń pakiety konta" in _flash(stale, "error")
    assert aid in data.accounts and data.live_orders(aid) == [base] and stb["status"] == 3
    stale.close()

    # the right order: STB back to the warehouse, the base package, the account
    page.goto(f"{url}/customers/{cid}")
    page.locator(f"[id='stb-unlink-{stb['mac']}']").click()
    assert "wróciło do magazynu" in _flash(page, "success")
    assert stb["status"] == 1 and not stb["iptv_accountid"]
    page.locator(f"#order-delete-{base['id']}").click()
    assert f"Usunięto pakiet #{base['id']}." in _flash(page, "success")
    assert data.live_orders(aid) == []
    page.locator(f"#metrotv-delete-{aid}").click()
    assert f"Usunięto konto MetroTV #{aid}" in _flash(page, "success")
    assert aid not in data.accounts and page.locator(f"#metrotv-{aid}").count() == 0

    # the MMS user list shows the pairing, linked to the LMS customer
    page.click("nav.menu >> text=Metroport: klienci MMS")
    page.wait_for_selector("#mms-users")
    page.select_option("select[name=state]", "paired")
    page.fill("input[name=q]", PESEL)
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**state=paired**")
    row = page.locator(f"#mms-user-{uid}")
    assert row.get_attribute("data-paired") == "1" and page.locator("#mms-users tbody tr").count() == 1
    assert row.locator(f"a.lms-name[href='/customers/{cid}']").inner_text().startswith("Przeglądarkowa")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
