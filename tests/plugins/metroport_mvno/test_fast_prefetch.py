"""The next billing page is fetched ahead in a thread without changing what the client yields or asks.

Why: the overlap only pays if it is invisible: the same records in the same order, no request the
plain client would not make when every page is read, errors raised where they always were, and no
thread or connection left behind when the consumer stops early or fails.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from lmsplugins.http import HttpPolicy
from lmsplugins.simserver import serve
from plugins.metroport_mvno import client as mc
from plugins.metroport_mvno.client import MetroportMVNOClient, MetroportProtocolError
from plugins.metroport_mvno.simulator import MetroportSimulator, make_app

DAY = ("2023-01-02 00:00:00", "2023-01-02 23:59:59")


@pytest.fixture
def sim() -> MetroportSimulator:
    return make_app(seed=5, users=15, mobiles_per_user=2, billings=480)


@pytest.fixture
def client(sim: MetroportSimulator) -> Iterator[MetroportMVNOClient]:
    with serve(sim) as running:
        c = MetroportMVNOClient(
            running.url,
            "api-operator",
            "api-secret",
            policy=HttpPolicy(backoff=0.01, retries=3, timeout=(5.0, 30.0)),
            sleep=lambda s: None,
        )
        yield c
        c.close()


def _ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "metroport-billings-ahead"]


@pytest.mark.parametrize(("page", "requests"), [(50, 10), (48, 11), (480, 2), (1000, 1)])
def test_same_records_and_requests_as_without_fetching_ahead(client, sim, page, requests):
    whole = [r.id for r in client.billings(*DAY, page_size=None)]
    before = sim.stats.requests["billings"]
    got = [r.id for r in client.billings(*DAY, page_size=page)]
    assert got == whole and len(got) == 480
    assert sim.stats.requests["billings"] - before == requests
    assert not _ahead_threads()


def test_the_page_ahead_is_really_requested_before_the_current_one_is_consumed(client, sim):
    stream = client.billings(*DAY, page_size=100)
    next(stream)
    for t in _ahead_threads():
        t.join(5)
    assert sim.stats.requests["billings"] == 2, "page 2 asked for while page 1 is still being read"
    assert len(list(stream)) == 479


def test_a_consumer_that_stops_early_leaves_no_thread_and_at_most_one_extra_request(client, sim):
    stream = client.billings(*DAY, page_size=50)
    assert len(list(itertools.islice(stream, 60))) == 60
    stream.close()
    assert not _ahead_threads()
    assert sim.stats.requests["billings"] == 3


def test_failures_of_the_page_ahead_surface_where_its_request_would_have(client, sim, monkeypatch):
    stream = client.billings(*DAY, page_size=100)
    first = [next(stream) for _ in range(100)]
    assert len(first) == 100
    sim.faults.expire_session = 1
    sim.faults.http_5xx = 1
    assert len(list(stream)) == 380, "an expired session and a 5xx on the page ahead are survived"

    calls = {"n": 0}
    real = mc.BillingParser.__call__

    def failing(self, row):
        calls["n"] += 1
        if calls["n"] == 150:
            return real(self, {**row, "calldate": "never"})
        return real(self, row)

    monkeypatch.setattr(mc.BillingParser, "__call__", failing)
    with pytest.raises(MetroportProtocolError, match="record 49 is unusable"):
        list(client.billings(*DAY, page_size=100))
    assert not _ahead_threads()


def test_a_server_ignoring_limit_is_not_fetched_ahead(client, sim):
    client.page_param = "unknown_param"
    before = sim.stats.requests["billings"]
    assert len(list(client.billings(*DAY, page_size=100))) == 480
    assert sim.stats.requests["billings"] - before == 2
