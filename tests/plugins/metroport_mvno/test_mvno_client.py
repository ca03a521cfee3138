"""The Metroport MVNO client against its simulator on loopback: session, every call, envelopes, faults, paging."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lmsplugins.errors import ProviderError
from lmsplugins.http import HttpPolicy
from lmsplugins.simserver import RunningServer, serve
from plugins.metroport_mvno.client import (
    MetroportLoginError,
    MetroportMVNOClient,
    MetroportProtocolError,
    MetroportSessionError,
    MetroportTransportError,
    PassedRecord,
    PriceListError,
)
from plugins.metroport_mvno.simulator import MetroportSimulator, make_app

LOGIN, PASSWORD = "api-operator", "Sekret-Hasl0!"
DAY = ("2023-01-02 00:00:00", "2023-01-02 23:59:59")


@pytest.fixture
def sim() -> MetroportSimulator:
    return make_app(seed=5, users=15, mobiles_per_user=2, billings=480, login=LOGIN, password=PASSWORD)


@pytest.fixture
def server(sim: MetroportSimulator) -> Iterator[RunningServer]:
    with serve(sim) as running:
        yield running


def client_for(server: RunningServer, **kw) -> MetroportMVNOClient:
    kw.setdefault("policy", HttpPolicy(backoff=0.01, retries=3, timeout=(5.0, 30.0)))
    kw.setdefault("sleep", lambda s: None)
    return MetroportMVNOClient(server.url, LOGIN, kw.pop("password", PASSWORD), **kw)


@pytest.fixture
def client(server: RunningServer) -> Iterator[MetroportMVNOClient]:
    with client_for(server) as c:
        yield c


def _digits(value: str | None) -> str:
    return re.sub(r"[^0-9]", "", value or "")


# -- session -------------------------------------------------------------------------------------------


def test_logs_in_lazily_once_and_reuses_the_cookie(client, sim):
    assert not client.logged_in
    client.users()
    client.mobiles()
    client.traffic_types()
    assert sim.stats.logins == 1
    assert client.logins == 1
    assert sim.stats.requests["users"] == 1


def test_refused_login_names_the_settings_and_never_the_password(server, sim):
    c = client_for(server, password="wrong-password-123")
    with pytest.raises(MetroportLoginError) as err:
        c.users()
    assert "api_login" in str(err.value)
    assert "wrong-password-123" not in str(err.value)
    assert sim.stats.refused_logins == 1
    assert sim.stats.requests["users"] == 0


def test_expired_session_logs_in_again_once_and_repeats_the_call(client, sim):
    client.users()
    sim.faults.expire_session = 1
    mobiles = client.mobiles()
    assert len(mobiles) == 30
    assert sim.stats.logins == 2
    assert sim.stats.requests["mobiles"] == 2


def test_second_expiry_right_after_the_new_login_fails_clearly(client, sim):
    client.users()
    sim.faults.expire_session = 2
    with pytest.raises(MetroportSessionError) as err:
        client.mobiles()
    assert "again right after a new login" in str(err.value)
    assert sim.stats.logins == 2


def test_session_lost_between_billing_pages_resumes_without_loss(client, sim):
    expected = [r.id for r in client.billings(*DAY, page_size=None)]
    stream = client.billings(*DAY, page_size=100)
    got = [next(stream).id for _ in range(100)]
    sim.expire_sessions()
    got += [r.id for r in stream]
    assert got == expected
    assert sim.stats.logins == 2


def test_session_ttl_expiry_is_survived(client, sim):
    sim.faults.session_ttl = 0.05
    client.users()
    time.sleep(0.1)
    assert client.traffic_types()
    assert sim.stats.logins == 2


# -- the calls -------------------------------------------------------------------------------------------


def test_users_carry_messy_and_shared_identifiers(client, sim):
    users = client.users()
    assert [u.id for u in users] == [u["id"] for u in sim.data.users]
    assert len({u.id for u in users}) == 15
    assert all(u.name == u.name.strip() and u.name for u in users)
    nips = [u.nip for u in users if u.nip]
    assert any("-" in n for n in nips) and any(n.upper().startswith("PL") for n in nips)
    assert any(u.idcardno and u.idcardno != u.idcardno.upper() for u in users)
    assert any(not (u.nip or u.pesel or u.idcardno) for u in users)
    normalised = [_digits(u.nip or u.pesel) for u in users if u.nip or u.pesel]
    assert len(normalised) > len(set(normalised)), "some identifier must be shared by two users"


def test_user_id_falls_back_to_userid(server):
    app = make_app(seed=5, users=15, login=LOGIN, password=PASSWORD, user_id_key="userid")
    with serve(app) as other, client_for(other) as c:
        assert "id" not in app.data.users[0]
        ids = [u.id for u in c.users()]
    assert ids == [u["userid"] for u in app.data.users]


def test_no_users_is_an_empty_list():
    app = make_app(users=0, login=LOGIN, password=PASSWORD)
    with serve(app) as srv, client_for(srv) as c:
        assert c.users() == []
        assert c.mobiles() == []


def test_mobiles_every_status_and_user_filter(client, sim):
    mobiles = client.mobiles()
    assert {m.status for m in mobiles} == {"active", "new", "blocked", "deleted"}
    assert {m.status_confirmed for m in mobiles} == {True, False}
    assert all(len(m.ano) == 9 and m.ano.isdigit() for m in mobiles)
    uid = mobiles[5].userid
    own = client.mobiles(userid=uid)
    assert len(own) == 2 and {m.userid for m in own} == {uid}
    assert client.mobiles(userid=0) == []


def test_traffic_types(client):
    assert {t.type: t.id for t in client.traffic_types()} == {"call": 11, "sms": 12, "mms": 13, "data": 14, "video": 15}


@pytest.mark.parametrize("enveloped", [True, False])
def test_both_envelopes_give_the_same_records(client, sim, enveloped):
    sim.envelopes = {k: enveloped for k in sim.envelopes}
    users = client.users()
    mobiles = client.mobiles()
    pair = client.mobiles(userid=mobiles[0].userid)
    records = list(client.billings(*DAY, page_size=50))
    assert len(users) == 15 and len(mobiles) == 30
    assert len(pair) == 2, "a bare list of two objects is not an envelope"
    assert len(records) == 480


# -- malformed answers and transient faults ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"status":false,"message":"Unexpected error"}', "a JSON object where a list was expected"),
        ("<html><body>Login</body></html>", "an HTML page"),
        ("[1,2]", "second element is not a list"),
        ('[{"id":1},"x"]', "row 1 is str"),
        ("[3,[],[]]", "more than [count, rows]"),
    ],
)
def test_malformed_answers_are_provider_errors_naming_the_call(client, sim, body, expected):
    sim.faults.malformed = 1
    sim.faults.malformed_body = body
    with pytest.raises(MetroportProtocolError) as err:
        client.users()
    assert err.value.call == "users"
    assert "Metroport users answered" in str(err.value) and expected in str(err.value)
    assert client.users(), "the next call works again"


def test_malformed_billing_answer(client, sim):
    sim.faults.malformed = 1
    with pytest.raises(ProviderError, match="Metroport billings answered a JSON object"):
        list(client.billings(*DAY))


def test_truncated_list_is_retried_then_reported(client, sim):
    sim.faults.truncate = 1
    assert len(client.mobiles()) == 30
    sim.faults.truncate = 10
    with pytest.raises(MetroportProtocolError, match="cut short"):
        client.mobiles()
    assert sim.stats.requests["mobiles"] == 1 + 1 + 3


def test_5xx_is_retried_then_reported(client, sim):
    sim.faults.http_5xx = 2
    assert len(client.users()) == 15
    assert sim.stats.faults["http_5xx"] == 2
    sim.faults.http_5xx = 50
    with pytest.raises(MetroportTransportError, match="HTTP 503 after 3 retries"):
        client.traffic_types()


def test_login_is_retried_on_5xx(client, sim):
    sim.faults.http_5xx = 1
    client.users()
    assert sim.stats.requests["login"] == 2 and sim.stats.logins == 1


def test_429_waits_for_retry_after(client, sim):
    client.users()
    sim.faults.rate_limit = 1
    sim.faults.retry_after = 1
    started = time.monotonic()
    assert client.traffic_types()
    assert time.monotonic() - started >= 0.9
    assert sim.stats.requests["traffic_types"] == 2


def test_unreachable_server_is_a_transport_error():
    c = MetroportMVNOClient("http://127.0.0.1:9", LOGIN, PASSWORD, policy=HttpPolicy(retries=0, timeout=(1.0, 1.0)))
    with pytest.raises(MetroportTransportError, match="cannot reach"):
        c.users()


# -- billings --------------------------------------------------------------------------------------------


def test_billing_window_is_filtered_server_side(client):
    records = list(client.billings("2023-01-03 06:00:00", "2023-01-03 08:59:59"))
    assert len(records) == 60
    assert all(
        datetime(2023, 1, 3, 6) <= r.calldate.replace(tzinfo=None) <= datetime(2023, 1, 3, 8, 59, 59) for r in records
    )
    assert records[0].calldate.utcoffset().total_seconds() == 3600


def test_billing_records_are_typed_and_cleaned(client, sim):
    records = list(client.billings(*DAY))
    assert {r.billingfield for r in records} == {"duration", "datatransfer", "msg"}
    assert {r.traffic_types_id for r in records} == {11, 12, 13, 14, 15}
    raw = [sim.data.record(k) for k in range(480, 960)]
    assert any(str(r["dst"]).startswith("D") or str(r["src"]).startswith("D") for r in raw)
    assert not any(r.src.startswith("D") or r.dst.startswith("D") for r in records)
    assert any(isinstance(r["retail_totalnetto"], str) and "," in r["retail_totalnetto"] for r in raw)
    assert all(isinstance(r.retail_totalnetto, Decimal) for r in records)
    assert all(r.retail_vat == Decimal("1.23") for r in records)
    outgoing = [r for r in records if r.src == "48" + r.ano]
    assert outgoing and len(outgoing) < len(records)


def test_unwanted_numbers_pass_unparsed_with_paging_intact(client, sim):
    full = list(client.billings(*DAY, page_size=None))
    keep = {r.ano for r in full[::3]}
    seen: list[str] = []

    def wanted(ano: str) -> bool:
        seen.append(ano)
        return ano in keep

    mixed = list(client.billings(*DAY, page_size=7, wanted=wanted))
    assert [r.id for r in mixed] == [r.id for r in full] and len(seen) == len(full)
    passed = [r for r in mixed if isinstance(r, PassedRecord)]
    assert passed and all(r.ano not in keep for r in passed)
    assert [r for r in mixed if not isinstance(r, PassedRecord)] == [r for r in full if r.ano in keep]
    by_id = {r.id: r for r in full}
    assert all(by_id[p.id].ano == p.ano for p in passed)


def test_page_cache_serves_the_same_pages_and_leaves_faults_alone():
    sim = make_app(seed=5, users=15, mobiles_per_user=2, billings=480, login=LOGIN, password=PASSWORD, page_cache=True)
    plain = make_app(seed=5, users=15, mobiles_per_user=2, billings=480, login=LOGIN, password=PASSWORD)
    with (
        serve(sim) as cached_server,
        serve(plain) as plain_server,
        client_for(cached_server) as cached,
        client_for(plain_server) as reference,
    ):
        expected = list(reference.billings(*DAY, page_size=50))
        assert list(cached.billings(*DAY, page_size=50)) == expected
        pages = len(sim._pages)
        assert pages == -(-len(expected) // 50) + (1 if len(expected) % 50 == 0 else 0)
        assert list(cached.billings(*DAY, page_size=50)) == expected and len(sim._pages) == pages
        assert sim.stats.records_sent == 2 * len(expected)
        sim.faults.truncate_after_rows = 7
        sim.faults.truncate = 1
        assert [r.id for r in cached.billings(*DAY, page_size=50)] == [r.id for r in expected]
        assert sim.stats.faults["truncate"] == 1 and len(sim._pages) == pages + 1  # the resumed rest of a page


def test_billing_user_filter(client, sim):
    user = sim.data.users[3]["id"]
    anos = {m.ano for m in client.mobiles(userid=user)}
    records = list(client.billings(*DAY, userid=user, page_size=7))
    assert len(records) == 480 // 30 * 2
    assert {r.ano for r in records} == anos
    assert list(client.billings(*DAY, userid=999999)) == []


def test_id_after_paging_loses_and_repeats_nothing(client, sim):
    whole = [r.id for r in client.billings(*DAY, page_size=None)]
    assert len(whole) == 480 and whole == sorted(set(whole))
    before = sim.stats.requests["billings"]
    paged = [r.id for r in client.billings(*DAY, page_size=97)]
    assert paged == whole
    assert sim.stats.requests["billings"] - before == 5
    cut = whole[199]
    assert [r.id for r in client.billings(*DAY, id_after=cut, page_size=50)] == whole[200:]
    assert all(int(q["id_after"]) >= cut for q in sim.stats.queries[-6:])


def test_exact_multiple_of_the_page_size_ends_with_an_empty_page(client, sim):
    before = sim.stats.requests["billings"]
    assert len(list(client.billings(*DAY, page_size=120))) == 480
    assert sim.stats.requests["billings"] - before == 5


def test_server_ignoring_limit_still_ends(client, sim):
    client.page_param = "unknown_param"
    before = sim.stats.requests["billings"]
    assert len(list(client.billings(*DAY, page_size=100))) == 480
    assert sim.stats.requests["billings"] - before == 2


def test_broken_billing_body_resumes_after_the_last_record(client, sim):
    whole = [r.id for r in client.billings(*DAY, page_size=None)]
    sim.faults.truncate = 3
    sim.faults.truncate_after_rows = 40
    got = [r.id for r in client.billings(*DAY, page_size=None)]
    assert got == whole
    assert sim.stats.faults["truncate"] == 3


def test_billing_body_that_keeps_breaking_fails(client, sim):
    sim.faults.truncate = 10
    sim.faults.truncate_after_rows = 0
    with pytest.raises(MetroportProtocolError, match="broke off after 0 records"):
        list(client.billings(*DAY))


def test_billing_5xx_and_latency(client, sim):
    sim.faults.http_5xx = 1
    sim.faults.latency = 0.02
    assert len(list(client.billings(*DAY, page_size=200))) == 480


def test_billing_stream_keeps_client_memory_flat():
    """The simulator runs in its own process (its entry point), so only the client is measured."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "plugins.metroport_mvno.simulator",
            "--port",
            "0",
            "--seed",
            "2",
            "--billings",
            "1000000",
            "--login",
            LOGIN,
            "--password",
            PASSWORD,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url, line
        c = MetroportMVNOClient(url.group(0), LOGIN, PASSWORD)

        def peak(end: str) -> tuple[int, int]:
            tracemalloc.start()
            count = last = 0
            for record in c.billings("2023-01-01 00:00:00", end, page_size=None):
                assert record.id > last
                last = record.id
                count += 1
            size = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return count, size

        small = peak("2023-01-01 00:02:59")
        big = peak("2023-01-01 00:29:59")
        assert (small[0], big[0]) == (2084, 20834)
        assert big[1] < small[1] * 1.5 + 256 * 1024, (small, big)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# -- price list ------------------------------------------------------------------------------------------


def test_price_list_upload(client, sim, tmp_path):
    csv = tmp_path / "cennik.csv"
    csv.write_text("prefix;nazwa;cena_netto\n48500;Polska komórkowe;0,12\n48221;Warszawa;0.08\n", encoding="utf-8")
    result = client.upload_price_list(csv)
    assert result.status == 200 and "Imported 2" in result.body
    assert sim.uploads[-1].content == csv.read_bytes()
    assert sim.uploads[-1].filename == "cennik.csv" and sim.uploads[-1].accepted


def test_bad_price_list_is_refused_and_nothing_is_sent(server, sim, tmp_path):
    csv = tmp_path / "cennik.csv"
    csv.write_text('prefix;nazwa;cena\n48500;Polska\n48221;Warszawa;0.08\n"48;x;1\n', encoding="utf-8")
    c = client_for(server)
    with pytest.raises(PriceListError) as err:
        c.upload_price_list(csv)
    assert "line 2: 2 fields, the header has 3" in str(err.value)
    assert sim.uploads == []
    assert sum(sim.stats.requests.values()) == 0, "not even a login"


def test_server_side_refusal_of_an_upload(client, sim, tmp_path, monkeypatch):
    csv = tmp_path / "x.csv"
    csv.write_text("a;b\n1;2\n", encoding="utf-8")
    monkeypatch.setattr(
        "plugins.metroport_mvno.simulator.validate_price_list_bytes", lambda data: ["line 2: unknown prefix"]
    )
    with pytest.raises(MetroportProtocolError, match=r"HTTP 400.*unknown prefix"):
        client.upload_price_list(csv)
    assert sim.uploads[-1].accepted is False


# -- secrets ---------------------------------------------------------------------------------------------


def test_password_and_cookie_never_reach_logs_or_errors(client, sim, caplog):
    caplog.set_level(logging.DEBUG)
    messages = []
    client.users()
    token = client._cookies["sess_ci"]
    sim.faults.expire_session = 2
    for call in (client.users, client.mobiles):
        try:
            call()
        except ProviderError as exc:
            messages.append(str(exc))
    sim.faults.malformed = 1
    sim.faults.malformed_body = f'{{"error":"bad password {PASSWORD} for session {client._cookies["sess_ci"]}"}}'
    with pytest.raises(ProviderError) as err:
        client.users()
    messages.append(str(err.value))
    assert "***" in messages[-1]
    text = caplog.text + "\n".join(messages) + repr(client)
    assert PASSWORD not in text and token not in text
    assert client._cookies["sess_ci"] not in text
