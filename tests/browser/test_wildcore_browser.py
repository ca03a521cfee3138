"""The Wildcore diagnostics panel of the customer card and the problems page in a real browser:
Playwright driving Debian's Chromium against ``lmsplugins serve`` (a subprocess) on an SQLite LMS, the
server asking the Wildcore simulator on loopback.

It proves what the Flask test client cannot: the panel inside the real card shows the status and
optical levels; "poll now" posts its CSRF token from the browser and comes back to the card with the
device's answer (a POST without the token is refused and asks nothing); with Wildcore answering 5xx or
HTML the card still renders, each target showing the error line; and the problems page lists what
the cards could not match.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import serve_lms

from lmsplugins.demo import DEMO_LOGIN, DEMO_PASSWORD
from lmsplugins.host import Host
from lmsplugins.simserver import serve
from lmsplugins.testing import databases as dbs
from plugins.wildcore.simulator import DEFAULT_KEY, Faults, WildcoreSimulator

# The panel tests' LMS data (customers on switch ports and ONUs matching the simulator) is reused.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "wildcore"))
from wildcore_data import Dataset, build, install

pytestmark = pytest.mark.browser


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Host, Dataset, WildcoreSimulator, str]]:
    host = dbs.sqlite_host(tmp_path, seeded=True)
    simulator = WildcoreSimulator()
    try:
        with serve(simulator) as wildcore:
            install(host)
            data = build(host)
            host.set_uiconfig("wildcore.api_url", wildcore.url)
            host.set_uiconfig("wildcore.api_key", DEFAULT_KEY)
            host.set_uiconfig("wildcore.timeout", "2")
            with serve_lms(Path(host.ini_config.path), tmp_path / "serve.log") as url:
                yield host, data, simulator, url
    finally:
        host.dispose()


def _misses(host: Host) -> list[tuple[int, str, str]]:
    with host.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT customerid, target, reason FROM wildcore_misses ORDER BY target")
        return [tuple(r) for r in rows]


def _card(page: Any, url: str, customer_id: int) -> Any:
    page.goto(f"{url}/customers/{customer_id}")
    assert page.locator("h1").first.is_visible()
    return page.locator("#panel-wildcore")


def test_diagnostics_poll_now_failures_and_problems_page(browser, env):
    host, data, sim, url = env
    kowalski = data.ids["kowalski"]
    context = browser.new_context(locale="pl-PL")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{url}/customers/{kowalski}")
    page.fill("#login", DEMO_LOGIN)
    page.fill("#password", DEMO_PASSWORD)
    page.click("section.login button[type=submit]")
    page.wait_for_url(f"{url}/customers/{kowalski}")

    # status and optical levels of the ONU, the switch port's link, read from Wildcore's store
    panel = page.locator("#panel-wildcore")
    onu = panel.locator("[data-target^='onu:']")
    assert "gpon-onu_1/1/1:2" in onu.locator(".wc-iface").inner_text()
    assert "positive" in (onu.locator(".wc-status").get_attribute("class") or "")
    optical = onu.locator(".wc-optical").inner_text()
    assert "RX -22.50 dBm" in optical and "TX 2.31 dBm" in optical and "odległość 231 m" in optical
    port = panel.locator("[data-target='port:10.2.0.1:3']")
    assert "1G-Full" in port.locator(".wc-link").inner_text()
    assert [s.inner_text() for s in panel.locator(".wc-source").all()] == ["zapisane w Wildcore"] * 2
    assert sim.calls.get("diag_cache") == 2 and not sim.calls.get("diag_device")

    # "poll now": a POST without the CSRF token is refused and asks nothing; the button works
    refused = context.request.post(f"{url}/wildcore/poll/{kowalski}", max_redirects=0)
    assert refused.status == 400 and not sim.calls.get("diag_device")
    panel.locator("#wildcore-poll").click()
    page.wait_for_selector(".flash.success")
    assert "Urządzenia odpytane przez Wildcore" in page.locator(".flash.success").first.inner_text()
    assert page.url == f"{url}/customers/{kowalski}"
    assert sim.calls.get("diag_device") == 2
    assert [s.inner_text() for s in panel.locator(".wc-source").all()] == ["odpytane z urządzenia"] * 2

    # inside LMS's card (the bridge frames the panels page): "poll now" stays in the frame
    lms_card = f"{url}/lms-card-{kowalski}"
    frame_html = f'<!doctype html><h1>LMS</h1><iframe src="/embed/customers/{kowalski}/panels"></iframe>'
    page.route(lms_card, lambda route: route.fulfill(status=200, content_type="text/html", body=frame_html))
    page.goto(lms_card)
    frame = page.frames[1]
    with frame.expect_navigation():
        frame.click("#wildcore-poll")
    assert sim.calls.get("diag_device") == 4
    assert page.url == lms_card and frame.url == f"{url}/embed/customers/{kowalski}/panels"
    assert frame.locator(".wc-source").first.inner_text() == "odpytane z urządzenia"

    # Wildcore failing: the card renders, each target shows Wildcore's error line, nothing is recorded
    for customer, fault, line in (("nowak", "status_5xx", "HTTP 502"), ("firma", "html", "text/html")):
        setattr(sim.faults, fault, 50)
        panel = _card(page, url, data.ids[customer])
        lines = panel.locator(".wildcore-target-error")
        assert lines.count() == panel.locator("[data-target]").count() >= 1 and all(
            line in e.inner_text() for e in lines.all()
        ), panel.inner_text()
        assert page.locator("#panel-wildcore").is_visible()
        sim.faults = Faults()
    assert _misses(host) == []

    # a clean answer for the customer on an unknown switch goes to the problems page
    panel = _card(page, url, data.ids["nowak"])
    assert panel.locator(".wildcore-not-found").count() == 1
    assert _misses(host) == [(data.ids["nowak"], "port:10.9.9.9:2", "not found in Wildcore")]
    page.click("nav.menu >> text=Wildcore: niedopasowane i duplikaty")
    page.wait_for_selector("#wildcore-misses")
    row = page.locator("#wildcore-misses tbody tr").filter(has_text="10.9.9.9:2")
    assert row.count() == 1 and row.locator(f"a[href='/customers/{data.ids['nowak']}']").count() == 1
    assert page.locator("#wildcore-duplicates tr.dup-serial").count() == 1
    assert page.locator("#wildcore-duplicates tr.dup-port").count() == 1
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()
