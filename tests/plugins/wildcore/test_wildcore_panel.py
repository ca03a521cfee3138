"""The Wildcore client and the customer card's diagnostics panel against the simulator on loopback,
with Wildcore down, slow, failing, answering HTML or an error body; "poll now"; the problems page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select
from wildcore_data import Dataset, build, install

from lmsplugins.errors import ConfigError
from lmsplugins.host import Host
from lmsplugins.simserver import RunningServer, serve
from lmsplugins.testing.web import csrf_token, log_in, user_with
from lmsplugins.web import create_app
from plugins.wildcore import diagnostics
from plugins.wildcore.client import WildcoreClient, WildcoreError
from plugins.wildcore.simulator import DEFAULT_KEY, LIMITED_KEY, Faults, WildcoreSimulator, onu_serial
from plugins.wildcore.tables import wildcore_misses


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[WildcoreSimulator, RunningServer]]:
    simulator = WildcoreSimulator()
    with serve(simulator) as server:
        yield simulator, server


@pytest.fixture
def wc(sim) -> Iterator[tuple[WildcoreSimulator, str]]:
    simulator, server = sim
    simulator.faults = Faults()
    simulator.calls.clear()
    diagnostics.CACHE.clear()
    yield simulator, server.url
    if simulator.faults.latency:
        time.sleep(simulator.faults.latency + 0.3)  # let requests the client gave up on finish here
    simulator.faults = Faults()
    diagnostics.CACHE.clear()


@dataclass
class Env:
    host: Host
    data: Dataset
    app: Flask
    sim: WildcoreSimulator

    def card(self, client, key: str) -> str:
        response = client.get(f"/customers/{self.data.ids[key]}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def misses(self) -> list[tuple[int, str, str]]:
        with self.host.engine.connect() as conn:
            rows = conn.execute(
                select(wildcore_misses.c.customerid, wildcore_misses.c.target, wildcore_misses.c.reason).order_by(
                    wildcore_misses.c.target
                )
            )
            return [tuple(r) for r in rows]


@pytest.fixture
def env(sqlite_host: Host, wc) -> Env:
    simulator, url = wc
    install(sqlite_host)
    data = build(sqlite_host)
    sqlite_host.set_uiconfig("wildcore.api_url", url)
    sqlite_host.set_uiconfig("wildcore.api_key", DEFAULT_KEY)
    sqlite_host.set_uiconfig("wildcore.timeout", "1")
    return Env(sqlite_host, data, create_app(sqlite_host, TESTING=True, USER_CACHE_SECONDS=0), simulator)


# --------------------------------------------------------------------------------------------------
# Client


def test_client_reads_search_diag_and_links(wc):
    simulator, url = wc
    with WildcoreClient(url + "/api/v1/", DEFAULT_KEY, timeout=2) as client:
        hits = client.search(ont_ident=onu_serial(1).lower())
        assert len(hits) == 2 and {h["status"] for h in hits} == {"Online", "Offline"}
        diag = client.diag(hits[0]["id"], "device")
        assert diag["diagnostic"]["meta"]["from"] == "device"
        assert client.links(hits[0]["id"])["interface_url"].endswith(f"/interface/{hits[0]['id']}")
        assert client.search(device_ip="10.2.0.1", interface_bind_key="3")[0]["name"] == "eth1/0/3"
    assert simulator.calls == {"search": 2, "diag_device": 1, "links": 1}


@pytest.mark.parametrize(
    ("faults", "key", "message"),
    [
        ({"status_5xx": 5}, DEFAULT_KEY, "Wildcore failed with HTTP 502"),
        ({"html": 1}, DEFAULT_KEY, "Wildcore answered HTTP 200 with text/html instead of JSON"),
        ({"error_body": 1}, DEFAULT_KEY, "Wildcore refused (status 500): Internal poller error"),
        ({}, "expired-key", "Wildcore refused (status 401): Auth key is invalid or expired"),
        ({"latency": 1.5}, DEFAULT_KEY, "Wildcore did not answer within 1 s"),
    ],
)
def test_client_failures_are_one_clear_line(wc, faults, key, message):
    simulator, url = wc
    for name, value in faults.items():
        setattr(simulator.faults, name, value)
    with WildcoreClient(url, key, timeout=1) as client, pytest.raises(WildcoreError) as failed:
        client.search(ont_ident=onu_serial(2))
    assert str(failed.value) == message
    assert key not in str(failed.value)


def test_client_configuration_errors():
    with pytest.raises(ConfigError, match=r"wildcore\.api_url"):
        WildcoreClient("wildcore.example.net", "k")
    with pytest.raises(ConfigError, match=r"wildcore\.api_key"):
        WildcoreClient("https://wildcore.example.net", "")


# --------------------------------------------------------------------------------------------------
# Panel


def test_panel_shows_onu_and_port_diagnostics_and_a_deep_link(env: Env):
    admin = log_in(env.app)
    html = env.card(admin, "kowalski")
    assert 'id="panel-wildcore"' in html
    assert f'data-target="onu:{onu_serial(2)}"' in html and 'data-target="port:10.2.0.1:3"' in html
    assert "OLT-1 10.1.0.1 · gpon-onu_1/1/1:2" in html
    assert "RX -22.50 dBm · TX 2.31 dBm · OLT RX -24.00 dBm · distance 231 m" in html
    assert "power-off · 2026-11-30 23:41:10" in html and "1: Up, 2: Down" in html
    assert "https://wildcore.example.net/devices/1/interface/3" in html
    assert "SW-1 10.2.0.1 · eth1/0/3" in html and "1G-Full" in html
    assert "stored in Wildcore" in html and env.sim.calls.get("diag_cache") == 2
    env.card(admin, "kowalski")
    assert env.sim.calls.get("search") == 2  # kept for wildcore.cache_seconds: not asked again


def test_duplicate_onu_prefers_the_online_interface_and_flags_the_other(env: Env):
    html = env.card(log_in(env.app), "zielinski")
    assert "OLT-1 10.1.0.1 · gpon-onu_1/1/1:1" in html
    assert "wildcore-duplicates" in html and "10.1.0.2 gpon-onu_1/1/1:9 (Offline" in html
    assert env.misses() == [(env.data.ids["zielinski"], f"onu:{onu_serial(1)}", "2 interfaces in Wildcore")]


def test_unknown_port_is_recorded_and_listed_with_duplicates(env: Env):
    admin = log_in(env.app)
    html = env.card(admin, "nowak")
    assert "Wildcore does not know this ONU or port" in html
    assert env.misses() == [(env.data.ids["nowak"], "port:10.9.9.9:2", "not found in Wildcore")]
    page = admin.get("/wildcore/problems").get_data(as_text=True)
    assert "10.9.9.9:2" in page and "not found in Wildcore" in page
    assert f"ONU serial {onu_serial(6)}" in page and "Switch port SW-2 #2" in page
    assert page.count('class="dup-serial"') == 1 and page.count('class="dup-port"') == 1


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ({"status_5xx": 50}, "Wildcore failed with HTTP 502"),
        ({"html": 50}, "instead of JSON"),
        ({"error_body": 50}, "Internal poller error"),
        ({"latency": 1.5}, "did not answer within 1 s"),
    ],
)
def test_wildcore_failing_shows_its_error_and_stores_nothing(env: Env, faults, message):
    for name, value in faults.items():
        setattr(env.sim.faults, name, value)
    html = env.card(log_in(env.app), "nowak")
    assert "wildcore-target-error" in html and message in html
    assert env.misses() == []
    env.sim.faults = Faults()
    assert "Wildcore does not know this ONU or port" in env.card(log_in(env.app), "nowak")  # nothing kept


def test_key_without_diag_rights_is_explained(env: Env):
    env.host.set_uiconfig("wildcore.api_key", LIMITED_KEY)
    html = env.card(log_in(env.app), "kowalski")
    assert "Access denied: rule diag_interface required" in html


def test_unconfigured_wildcore_is_a_message_not_a_broken_card(env: Env):
    env.host.set_uiconfig("wildcore.api_url", "")
    html = env.card(log_in(env.app), "kowalski")
    assert 'id="wildcore-error"' in html and "wildcore.api_url" in html
    assert "No ONU or switch port" in env.card(log_in(env.app), "nothing")


def test_poll_now_asks_the_device_and_needs_csrf(env: Env):
    admin = log_in(env.app)
    env.card(admin, "kowalski")
    cid = env.data.ids["kowalski"]
    assert admin.post(f"/wildcore/poll/{cid}").status_code == 400
    env.sim.faults.device_down = True
    response = admin.post(f"/wildcore/poll/{cid}", data={"csrf_token": csrf_token(admin, "/")})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/customers/{cid}")
    assert env.sim.calls.get("diag_device") == 2
    html = env.card(admin, "kowalski")
    assert "polled from the device" in html and "is unreachable, returned stored data" in html
    assert f'name="next" value="/customers/{cid}"' in html
    token = csrf_token(admin, "/")
    embedded = admin.post(f"/wildcore/poll/{cid}", data={"csrf_token": token, "next": f"/embed/customers/{cid}/panels"})
    assert embedded.headers["Location"].endswith(f"/embed/customers/{cid}/panels")
    away = admin.post(f"/wildcore/poll/{cid}", data={"csrf_token": token, "next": "https://evil.example/"})
    assert "evil" not in away.headers["Location"]


def test_rights(env: Env):
    nobody = user_with(env.app, env.host, "nobody", "customer_management")
    assert 'id="panel-wildcore"' not in env.card(nobody, "kowalski")
    assert nobody.get("/wildcore/problems").status_code == 403
    reader = user_with(env.app, env.host, "reader", "customer_management,wildcore_read")
    assert 'id="panel-wildcore"' in env.card(reader, "kowalski")
    assert reader.get("/wildcore/problems").status_code == 200
