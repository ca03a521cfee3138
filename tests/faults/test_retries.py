"""Retries that cannot duplicate or hang (issue 10, item 2), against the simulators on loopback.

A create whose answer is lost (reset, or held back past the client's timeout) but which the platform
did is found, not sent again; one the platform did not do is sent again, once. A provider that never
answers fails a call, and a whole job, within the retry budget (``lmsplugins.http_retry_budget``)
instead of after every timeout times every retry.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from lmsplugins import http
from lmsplugins.http import HttpPolicy, RetryBudget, call_budget, make_session
from lmsplugins.simserver import RunningServer, serve
from plugins.hiperus_c5.client import HiperusClient, HiperusTransportError, MemorySessionStore, NoThrottle
from plugins.hiperus_c5.simulator import HiperusSimulator, Scale, make_app

CREDS = ("reseller", "secret", "demo.hiperus.pl")


@pytest.fixture
def sim() -> HiperusSimulator:
    return make_app(5, Scale(customers=3, terminals_per_customer=1, ranges=1, range_size=20), rate_limit=None)


@pytest.fixture
def server(sim: HiperusSimulator) -> Iterator[RunningServer]:
    with serve(sim) as running:
        yield running


def client_for(server: RunningServer, **policy: float) -> HiperusClient:
    pol = HttpPolicy(retry_post=True, backoff=0.01, timeout=(2.0, float(policy.pop("read", 5.0))), **policy)
    return HiperusClient(
        *CREDS,
        endpoint=f"{server.url}/hiperusapi.php",
        throttle=NoThrottle(),
        session_store=MemorySessionStore(),
        policy=pol,
        retry_backoff=0.01,
    )


def first_account(sim: HiperusSimulator) -> int:
    return min(sim.state.customers)


def terminals_named(sim: HiperusSimulator, username: str) -> list[int]:
    return [tid for tid, t in sim.state.terminals.items() if t["username"] == username]


def test_terminal_created_but_answer_reset_is_found_not_duplicated(server, sim):
    client = client_for(server)
    account = first_account(sim)
    sim.faults.lose_answer = {"AddTerminal": 1}
    tid = client.add_terminal(account, "lost-reset", "pw-123456", 1)
    assert terminals_named(sim, "lost-reset") == [tid]
    assert sim.stats["action:AddTerminal"] == 1
    assert sim.stats["lost_answer:AddTerminal"] == 1


def test_account_created_but_answer_timed_out_is_found_not_duplicated(server, sim):
    client = client_for(server, read=0.5)
    sim.faults.lose_answer = {"AddCustomer": 1}
    sim.faults.lose_answer_delay = 2.0
    before = len(sim.state.customers)
    cid = client.add_customer({"name": "Timeout Sp. z o.o.", "ext_billing_id": 77})
    named = [c for c, row in sim.state.customers.items() if row["name"] == "Timeout Sp. z o.o."]
    assert named == [cid]
    assert len(sim.state.customers) == before + 1
    assert sim.stats["action:AddCustomer"] == 1


def test_number_added_but_answer_lost_is_found(server, sim):
    client = client_for(server)
    account = first_account(sim)
    terminal = next(t for t, row in sim.state.terminals.items() if row["id_customer"] == account)
    free = sim.state.first_free_number(None)
    assert free is not None
    sim.faults.lose_answer = {"AddExtension": 1}
    eid = client.add_extension(account, free[0], id_terminal=terminal)
    assert [e for e, row in sim.state.extensions.items() if row["number"] == free[0]] == [eid]
    assert sim.stats["action:AddExtension"] == 1


def test_create_refused_by_a_proxy_and_not_done_is_sent_again_once(server, sim):
    client = client_for(server)
    account = first_account(sim)
    client.login()
    sim.faults.http_5xx = 1
    tid = client.add_terminal(account, "after-503", "pw-123456", 1)
    assert terminals_named(sim, "after-503") == [tid]
    assert sim.stats["injected_5xx"] == 1
    assert sim.stats["action:AddTerminal"] == 1  # the 503 never reached the platform; the second one did


def test_reads_are_still_retried_after_a_5xx(server, sim):
    client = client_for(server)
    sim.faults.http_5xx = 2
    assert len(client.get_customer_list()) == 3
    assert sim.stats["injected_5xx"] == 2


def test_silent_provider_fails_a_call_within_the_budget(server, sim):
    """Slower than the budget but within the read timeout: only the budget can make this call fail."""
    client = client_for(server, read=30.0, budget=1.5)
    sim.faults.latency = 4.0
    with pytest.raises(HiperusTransportError) as caught:
        client.get_customer_list()
    assert "Timeout" in str(caught.value) or "budget" in str(caught.value)


def test_retry_after_longer_than_the_budget_is_not_waited_for(server, sim):
    session = make_session(HttpPolicy(backoff=0.01, budget=1.0, retry_post=True))
    sim.faults.http_429 = 5
    sim.faults.retry_after = 60
    response = session.post(f"{server.url}/hiperusapi.php", data=b"x")
    assert response.status_code == 429
    assert sim.stats["injected_429"] == 1  # no retry: waiting 60 s would overrun the 1 s budget


def test_budget_caps_waits_and_nesting_shares_the_outer_budget():
    slept: list[float] = []
    budget = RetryBudget(0.5)
    budget.sleep(10.0, slept.append)
    assert 0 < slept[0] <= 0.5
    with call_budget(3.0) as outer, call_budget(100.0) as inner:
        assert inner is outer and outer.seconds == 3.0
    assert http.current_budget() is None


@pytest.mark.parametrize("raw", ["0", "-5", "soon", "1e9"])
def test_bad_budget_setting_is_a_config_error(raw):
    from lmsplugins.config import Config
    from lmsplugins.errors import ConfigError

    with pytest.raises(ConfigError, match="http_retry_budget"):
        http.configure(Config.from_mapping({"lmsplugins": {"http_retry_budget": raw}}))
    assert http.configure(Config.from_mapping({"lmsplugins": {"http_retry_budget": "7.5"}})) == 7.5
    http.configure(None)


def test_silent_provider_fails_a_job_within_the_budget(sqlite_host, tmp_path):
    """The whole import job against a provider that never answers: exit 1, one error line, in seconds."""
    from click.testing import CliRunner

    from lmsplugins.cli import main
    from lmsplugins.testing import databases as dbs

    dbs.install(sqlite_host, "hiperus_c5")
    silent = make_app(1, Scale(customers=2), rate_limit=None)
    silent.faults.latency = 5.0  # inside the default 60 s read timeout: only the budget fails the job
    with serve(silent) as running:
        for key, value in {
            "hiperus_c5.api_url": running.url + "/hiperusapi.php",
            "hiperus_c5.username": CREDS[0],
            "hiperus_c5.password": CREDS[1],
            "hiperus_c5.domain": CREDS[2],
            "hiperus_c5.state_dir": str(tmp_path / "state"),
            "lmsplugins.http_retry_budget": "2",
        }.items():
            sqlite_host.set_uiconfig(key, value)
        result = CliRunner().invoke(main, ["-C", sqlite_host.ini_config.path, "hiperus-c5", "import", "-p"])
    http.configure(None)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    assert "budget" in errors[0] or "Timeout" in errors[0], errors


def test_session_budget_refuses_an_attempt_once_spent(server):
    session = make_session(HttpPolicy())
    with call_budget(budget=RetryBudget(0.0)), pytest.raises(requests.exceptions.ConnectTimeout):
        session.get(server.url + "/_control/stats")
