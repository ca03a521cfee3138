"""The client against the simulator on loopback: sessions, every action, throttling, retries, streaming."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import requests

from lmsplugins.errors import ProviderError
from lmsplugins.http import HttpPolicy
from lmsplugins.simserver import RunningServer, serve
from plugins.hiperus_c5.client import (
    CALLTYPES,
    FileThrottle,
    HiperusCallError,
    HiperusClient,
    HiperusFault,
    HiperusLoginError,
    HiperusRateLimited,
    HiperusTransportError,
    MemorySessionStore,
    NoThrottle,
    month_chunks,
)
from plugins.hiperus_c5.simulator import HiperusSimulator, Scale, make_app

CREDS = ("reseller", "s3cr3t-pass", "demo.hiperus.pl")


@pytest.fixture
def sim() -> HiperusSimulator:
    return make_app(seed=7, username=CREDS[0], password=CREDS[1], domain=CREDS[2], rate_limit=None)


@pytest.fixture
def server(sim: HiperusSimulator) -> Iterator[RunningServer]:
    with serve(sim) as running:
        yield running


def make_client(server: RunningServer, **kw) -> HiperusClient:
    kw.setdefault("throttle", NoThrottle())
    kw.setdefault("policy", HttpPolicy(retry_post=True, backoff=0.01, timeout=(5.0, 30.0)))
    kw.setdefault("retry_backoff", 0.01)
    kw.setdefault("rate_limit_wait", 0.05)
    return HiperusClient(*CREDS, endpoint=f"{server.url}/hiperusapi.php", **kw)


# -- sessions ----------------------------------------------------------------------------------------


def test_logs_in_lazily_and_reuses_the_stored_session(server, sim):
    store = MemorySessionStore()
    client = make_client(server, session_store=store)
    assert store.get() is None
    assert len(client.get_customer_list()) == 12
    sessid = store.get()
    assert sessid in sim.sessions
    other = make_client(server, session_store=store)
    other.get_subscription_list()
    assert sim.stats["action:Login"] == 1, "a second client must reuse the stored session"
    assert store.get() == sessid


def test_relogin_after_session_expiry(server, sim):
    store = MemorySessionStore()
    client = make_client(server, session_store=store)
    client.get_customer_pricelist_list()
    first = store.get()
    sim.expire_sessions()
    assert len(client.get_customer_pricelist_list()) == 3
    assert store.get() != first
    assert sim.stats["action:Login"] == 2
    assert sim.stats["action:CheckLogin"] == 1
    sim.faults.expire_session = True
    assert client.check_login().logged is False
    assert len(client.get_subscription_list()) == 3
    assert client.check_login().logged is True


def test_stale_session_from_the_store_is_replaced(server, sim):
    store = MemorySessionStore("no-such-session")
    client = make_client(server, session_store=store)
    assert client.get_customer_list(limit=2)
    assert store.get() in sim.sessions


def test_wrong_password_is_a_login_error_without_the_password(server):
    client = HiperusClient(
        CREDS[0], "wrong-password-123", CREDS[2], f"{server.url}/hiperusapi.php", throttle=NoThrottle()
    )
    with pytest.raises(HiperusLoginError) as caught:
        client.get_customer_list()
    assert isinstance(caught.value, ProviderError)
    assert "Login" in str(caught.value)
    assert "wrong-password-123" not in str(caught.value)


def test_refused_call_names_action_and_message_and_hides_the_session(server, sim):
    store = MemorySessionStore()
    client = make_client(server, session_store=store)
    client.check_login()
    sessid = store.get()
    sim.faults.fail_action = {"GetCustomerList": f"Database error for session {sessid}"}
    with pytest.raises(HiperusCallError) as caught:
        client.get_customer_list()
    message = str(caught.value)
    assert message.startswith("Hiperus GetCustomerList failed: Database error for session ***")
    assert sessid not in message
    assert caught.value.action == "GetCustomerList"
    assert sim.stats["action:Login"] == 1, "a live session must not be replaced on an ordinary refusal"


def test_unknown_customer_is_a_call_error(server):
    client = make_client(server)
    with pytest.raises(HiperusCallError, match="GetCustomerData failed: Customer 999999 not found"):
        client.get_customer_data(999999)


def test_logout(server, sim):
    client = make_client(server)
    client.check_login()
    client.logout()
    assert not sim.sessions
    assert client.get_subscription_list()


# -- every action ------------------------------------------------------------------------------------


def test_every_action_round_trips_and_state_persists(server, sim):
    client = make_client(server)
    status = client.check_login()
    assert status.logged and status.voip_services and not status.wlr_services

    pricelists = client.get_customer_pricelist_list()
    assert {p["name"] for p in pricelists} == {"Standard", "Biznes", "Tani & Dobry"}
    subscriptions = client.get_subscription_list()
    assert subscriptions[1]["invoice_value"] == "8.13"
    assert client.get_invoice_list() == []

    cid = client.add_customer(
        {
            "name": "Testowa & Spółka",
            "email": "t@example.pl",
            "ext_billing_id": 4242,
            "issue_invoice": True,
            "payment_type": "postpaid",
            "city": "Łódź",
        }
    )
    row = client.get_customer_data(cid)
    assert row is not None
    assert (row["name"], row["ext_billing_id"], row["issue_invoice"], row["city"]) == (
        "Testowa & Spółka",
        "4242",
        "t",
        "Łódź",
    )
    assert client.get_customer_id_by_ext_billing_id(4242) == cid
    assert any(r["customer_id"] == str(cid) and r["search_type"] == "1" for r in client.search_customer("testowa"))
    assert [c["id"] for c in client.get_customer_list(query="TESTOWA")] == [str(cid)]

    client.save_customer_data(cid, {**row, "name": "Nowa Nazwa", "issue_invoice": False})
    assert client.get_customer_data(cid)["name"] == "Nowa Nazwa"
    assert client.get_customer_data(cid)["issue_invoice"] == "f"

    tid = client.add_terminal(
        cid,
        "term-test",
        "sip-pass",
        int(pricelists[0]["id"]),
        t38_fax=True,
        id_subscription=2,
        subscription_from=date(2024, 1, 1),
        id_terminal_location=12,
    )
    terminals = client.get_terminal_list(cid)
    assert [(t["id"], t["username"], t["t38_fax"], t["subscription_from"], t["subscriptions"]) for t in terminals] == [
        (str(tid), "term-test", "t", "2024-01-01", "Mini 100")
    ]

    free = client.get_first_free_platform_number()
    assert free is not None and free.country_code == "48"
    eid = client.add_extension(cid, free.number, id_terminal=tid, clir=True, voicemail_enabled=False)
    ext = client.get_extension_data(eid)
    assert ext is not None
    assert (ext["number"], ext["extension"], ext["clir"], ext["voicemail_enabled"], ext["terminal_name"]) == (
        free.number,
        "48" + free.number,
        "t",
        "f",
        "term-test",
    )
    assert client.get_first_free_platform_number() != free
    assert client.get_terminal_list(cid)[0]["extensions"] == f"48{free.number}\n"

    eid2 = client.add_extension(
        cid, client.get_first_free_platform_number().number, create_terminal=True, id_pricelist=1
    )
    assert len(client.get_extension_list(cid)) == 2
    assert len(client.get_terminal_list(cid)) == 2

    client.save_terminal_data(tid, {"username": "term-renamed", "subscription_to": "2024/12/31"})
    renamed = next(t for t in client.get_terminal_list(cid) if t["id"] == str(tid))
    assert (renamed["username"], renamed["subscription_to"]) == ("term-renamed", "2024-12-31")
    assert client.get_extension_data(eid)["terminal_name"] == "term-renamed"

    client.save_extension_data(eid, {"clir": False, "disa_enabled": True})
    assert (client.get_extension_data(eid)["clir"], client.get_extension_data(eid)["disa_enabled"]) == ("f", "t")

    ranges = client.get_platform_numbering_range()
    assert len(ranges) == 3
    in_range = next(r for r in ranges if int(r["range_start"]) <= int(free.number) <= int(r["range_end"]))
    usage = client.get_platform_numbering_usage(int(in_range["id"]))
    taken = {u["number"]: u for u in usage}
    assert taken[free.number]["id_customer"] == str(cid)
    assert taken[free.number]["customer_name"] == "Nowa Nazwa"
    assert len(usage) == int(in_range["range_end"]) - int(in_range["range_start"]) + 1

    assert client.get_end_user_auth_list(cid) == []
    assert client.get_end_user_auth_list(1001)[0]["email"].endswith("@example.pl")

    client.del_extension(eid2)
    with pytest.raises(HiperusCallError):
        client.get_extension_data(eid2)
    client.del_terminal(tid)
    assert client.get_extension_list(cid) == []
    assert [t["username"] for t in client.get_terminal_list(cid)] != []

    fresh = make_client(server)
    assert fresh.get_customer_data(cid)["name"] == "Nowa Nazwa"
    fresh.del_customer(cid)
    assert str(cid) not in {c["id"] for c in client.get_customer_list()}
    assert client.get_customer_id_by_ext_billing_id(1) is not None
    cdrs = client.get_billing(date(2024, 5, 1), date(2024, 5, 2), calltype="internal")
    assert cdrs and all(r["calltype"] == "internal" for r in cdrs)
    client.logout()
    assert client.get_customer_data(1001) is not None
    for action in sim.ACTIONS:
        assert sim.stats[f"action:{action}"] >= 1, f"{action} was never called"


def test_add_extension_refuses_a_taken_number(server):
    client = make_client(server)
    taken = client.get_extension_list(1001)[0]
    with pytest.raises(HiperusCallError, match="already used"):
        client.add_extension(1001, taken["number"], id_terminal=5001)


def test_same_seed_same_data():
    a, b = make_app(seed=3), make_app(seed=3)
    assert a.state.customers == b.state.customers
    assert a.state.terminals == b.state.terminals
    assert make_app(seed=4).state.customers != a.state.customers


# -- throttle ----------------------------------------------------------------------------------------


def test_throttle_keeps_under_the_platform_limit(server, sim, tmp_path):
    sim.rate_limit = (3, 1.0)
    client = make_client(server, throttle=FileThrottle(tmp_path / "lock", calls=3, period=1.0, margin=0.05))
    started = time.monotonic()
    for _ in range(7):
        client.get_subscription_list()
    elapsed = time.monotonic() - started
    assert sim.stats["rate_limited"] == 0
    assert elapsed >= 2.0, "8 calls (Login included) at 3 per second need at least two full windows"


def test_without_throttle_the_platform_refuses(server, sim):
    sim.rate_limit = (3, 60.0)
    client = make_client(server, call_retries=1)
    with pytest.raises(HiperusRateLimited, match="GetSubscriptionList failed: Request limit exceeded"):
        for _ in range(5):
            client.get_subscription_list()


def test_rate_limit_refusal_is_waited_out(server, sim):
    client = make_client(server)
    client.check_login()
    sim.faults.rate_limit = 2
    assert len(client.get_subscription_list()) == 3
    assert sim.stats["rate_limited"] == 2


def test_file_throttle_sliding_window_with_fake_clock(tmp_path):
    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttle = FileThrottle(tmp_path / "t", calls=7, period=5.0, margin=0.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(7):
        throttle.acquire()
        now[0] += 0.1
    assert slept == []
    throttle.acquire()
    assert slept == [pytest.approx(4.3)]
    stamps = [float(x) for x in (tmp_path / "t").read_text().split()]
    assert len(stamps) == 7


def _hammer(path: str, calls: int, out: multiprocessing.Queue) -> None:
    throttle = FileThrottle(path, calls=3, period=0.6, margin=0.0)
    stamps = []
    for _ in range(calls):
        throttle.acquire()
        stamps.append(time.time())
    out.put(stamps)


def test_file_throttle_is_shared_across_processes(tmp_path):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_hammer, args=(str(tmp_path / "shared"), 4, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    stamps = sorted(queue.get(timeout=30) + queue.get(timeout=30))
    for p in procs:
        p.join(timeout=10)
    assert len(stamps) == 8
    for i in range(len(stamps) - 3):
        assert stamps[i + 3] - stamps[i] >= 0.6 - 0.01, "4 calls fell into one 0.6 s window across processes"


# -- transient faults --------------------------------------------------------------------------------


def test_http_5xx_is_retried(server, sim):
    client = make_client(server)
    client.check_login()
    sim.faults.http_5xx = 2
    assert len(client.get_customer_pricelist_list()) == 3
    assert sim.stats["injected_5xx"] == 2


def test_persistent_5xx_is_a_transport_error(server, sim):
    client = make_client(server, policy=HttpPolicy(retry_post=True, backoff=0.01, retries=1))
    client.check_login()
    sim.faults.http_5xx = 10
    with pytest.raises(HiperusTransportError, match="GetSubscriptionList failed: HTTP 503"):
        client.get_subscription_list()


@pytest.mark.parametrize("fault", ["truncate", "reset"])
def test_cut_body_is_retried_at_call_level(server, sim, fault):
    client = make_client(server)
    client.check_login()
    setattr(sim.faults, fault, 1)
    assert len(client.get_customer_list()) == 12
    assert sim.stats[f"injected_{fault}"] == 1


def test_cut_bodies_beyond_the_retries_fail_clearly(server, sim):
    client = make_client(server, call_retries=1)
    client.check_login()
    sim.faults.truncate = 5
    with pytest.raises(HiperusTransportError, match="GetCustomerList failed: SoapDecodeError"):
        client.get_customer_list()


def test_soap_fault_is_a_provider_error(server, sim):
    client = make_client(server)
    client.check_login()
    sim.faults.soap_fault = 10
    with pytest.raises(HiperusFault, match="GetTerminalList failed with SOAP Fault SOAP-ENV:Server"):
        client.get_terminal_list(1001)


def test_latency_and_control_endpoint(server, sim):
    client = make_client(server, policy=HttpPolicy(retry_post=True, retries=0, timeout=(1.0, 0.2)))
    client.check_login()
    answer = requests.post(f"{server.url}/_control/faults", json={"latency": 0.5}, timeout=5)
    assert answer.status_code == 200 and answer.json()["latency"] == 0.5
    with pytest.raises(HiperusTransportError, match="GetSubscriptionList failed"):
        client.get_subscription_list()
    requests.post(f"{server.url}/_control/faults", json={"latency": 0}, timeout=5)
    assert client.get_subscription_list()
    assert requests.post(f"{server.url}/_control/faults", json={"nope": 1}, timeout=5).status_code == 400
    stats = requests.get(f"{server.url}/_control/stats", timeout=5).json()
    assert stats["action:GetSubscriptionList"] >= 2


# -- billing -----------------------------------------------------------------------------------------


def test_month_chunks():
    assert list(month_chunks(date(2024, 1, 31), date(2024, 4, 2), 1)) == [
        (date(2024, 1, 31), date(2024, 2, 28)),
        (date(2024, 2, 29), date(2024, 3, 28)),
        (date(2024, 3, 29), date(2024, 4, 2)),
    ]
    assert list(month_chunks(date(2024, 1, 1), date(2025, 1, 31), 6)) == [
        (date(2024, 1, 1), date(2024, 6, 30)),
        (date(2024, 7, 1), date(2024, 12, 31)),
        (date(2025, 1, 1), date(2025, 1, 31)),
    ]
    assert list(month_chunks(date(2024, 5, 5), date(2024, 5, 5), 6)) == [(date(2024, 5, 5), date(2024, 5, 5))]
    with pytest.raises(ValueError):
        list(month_chunks(date(2024, 5, 5), date(2024, 5, 4), 6))


def test_billing_in_chunks_matches_the_platform_count(server, sim):
    client = make_client(server)
    start, end = date(2023, 12, 15), date(2025, 1, 10)
    for calltype in CALLTYPES:
        for success in (True, False):
            got = list(client.iter_billing(start, end, success_calls=success, calltype=calltype, chunk_months=6))
            assert len(got) == sim.cdrs.count(start, end, [calltype], success)
            assert {r["calltype"] for r in got} <= {calltype}
            if success:
                assert got, f"no successful {calltype} calls in 13 months"
            assert len({r["id"] for r in got}) == len(got)
    assert sim.stats["action:GetBilling"] == 12 * 3


def test_billing_filters_by_account_and_pages(server, sim):
    client = make_client(server)
    start, end = date(2024, 3, 1), date(2024, 3, 31)
    whole = client.get_billing(start, end, calltype="outgoing")
    mine = client.get_billing(start, end, calltype="outgoing", id_customer=1003)
    names = {t["username"] for t in sim.state.terminals.values() if t["id_customer"] == 1003}
    assert mine and {r["terminal_name"] for r in mine} <= names
    assert [r for r in whole if r["terminal_name"] in names] == mine
    paged = list(client.iter_billing(start, end, calltype="outgoing", page_size=97))
    assert paged == whole
    assert client.get_billing(start, end, calltype="outgoing", offset=10, limit=5) == whole[10:15]
    failed = client.get_billing(start, end, success_calls=False, calltype="outgoing")
    assert failed and all(r["duration"] == "0" and r["rel_cause"] != "16" for r in failed)


@pytest.mark.parametrize("fault", ["truncate", "reset"])
def test_broken_cdr_stream_resumes_without_loss_or_duplicates(server, sim, fault):
    client = make_client(server)
    start, end = date(2024, 1, 1), date(2024, 1, 20)
    clean = [r["id"] for r in client.iter_billing(start, end, calltype="outgoing")]
    sim.faults.truncate_after_rows = 150
    setattr(sim.faults, fault, 2)
    resumed = [r["id"] for r in client.iter_billing(start, end, calltype="outgoing")]
    assert resumed == clean
    assert sim.stats[f"injected_{fault}"] == 2


def test_billing_relogs_in_when_the_session_expired(server, sim):
    client = make_client(server)
    client.check_login()
    sim.expire_sessions()
    assert client.get_billing(date(2024, 1, 1), date(2024, 1, 1), calltype="incoming")
    assert sim.stats["action:Login"] == 2


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def test_large_cdr_stream_keeps_memory_flat():
    """120,000 CDRs (about 280 MB of XML) stream through simulator and client with flat memory."""
    total = 120_000
    sim = make_app(
        seed=2,
        scale=Scale(cdrs_per_day=total, cdr_jitter=False),
        rate_limit=None,
        username=CREDS[0],
        password=CREDS[1],
        domain=CREDS[2],
    )
    with serve(sim) as running:
        client = make_client(running)
        day = date(2024, 6, 1)
        count = 0
        samples: dict[int, int] = {}
        last_id = ""
        for record in client.iter_billing(day, day, calltype="outgoing"):
            count += 1
            last_id = record["id"]
            if count in (20_000, total):
                samples[count] = _rss_kib()
    assert count == total
    assert last_id.endswith(str(total - 1))
    growth_mib = (samples[total] - samples[20_000]) / 1024
    assert growth_mib < 40, f"memory grew by {growth_mib:.0f} MiB while streaming 100,000 more CDRs"
