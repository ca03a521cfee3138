"""Narrow units: wire details with requests-mock, field helpers, the CSV validator, the simulator's arithmetic."""

from __future__ import annotations

import random
import warnings
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests_mock

from lmsplugins.errors import ConfigError
from lmsplugins.http import HttpPolicy
from plugins.metroport_mvno.client import (
    MetroportLoginError,
    MetroportMVNOClient,
    MetroportProtocolError,
    strip_routing_prefix,
    validate_price_list,
    validate_price_list_bytes,
    wire_datetime,
)
from plugins.metroport_mvno.simulator import ID_BASE, Dataset

BASE = "https://mmsc.test"
LOGIN_URL = f"{BASE}/admins/Auth/login"


@pytest.fixture
def mock() -> requests_mock.Mocker:
    with requests_mock.Mocker() as m:
        m.post(LOGIN_URL, text='{"status":true}', headers={"Set-Cookie": "sess_ci=tok123; HttpOnly"})
        yield m


def make(**kw) -> MetroportMVNOClient:
    return MetroportMVNOClient(BASE + "/", "op", "pa55word", policy=HttpPolicy(retries=0), sleep=lambda s: None, **kw)


def test_gets_are_plain_and_carry_the_session_cookie_from_a_path_less_set_cookie(mock):
    mock.get(f"{BASE}/Users/users", text="[]")
    make().users()
    login, get = mock.request_history
    assert login.json() == {"login": "op", "password": "pa55word"}
    assert get.headers["Cookie"] == "sess_ci=tok123"
    assert get.body is None
    assert get.qs == {"usertype": ["2"]}


def test_a_redirect_is_refused_with_advice(mock):
    mock.get(f"{BASE}/Mvno/Mobiles", status_code=301, headers={"Location": "https://other.test/Mvno/Mobiles?x=1"})
    with pytest.raises(MetroportProtocolError, match=r"redirect to https://other.test/Mvno/Mobiles; set metroportmvno"):
        make().mobiles()
    assert len(mock.request_history) == 2


def test_login_without_cookie_is_refused():
    with requests_mock.Mocker() as m:
        m.post(LOGIN_URL, text="{}")
        with pytest.raises(MetroportLoginError, match="without a session cookie"):
            make().users()


def test_user_without_any_id_is_named(mock):
    mock.get(f"{BASE}/Users/users", text='[1, [{"UserCodeName": "X"}]]')
    with pytest.raises(MetroportProtocolError, match=r"row 0 is unusable \(neither id nor userid\)"):
        make().users()


def test_count_as_text_and_no_content(mock):
    mock.get(f"{BASE}/Users/users", text='["2", [{"id": "7"}, {"userid": 8}]]')
    mock.get(f"{BASE}/Mvno/Mobiles", status_code=204)
    client = make()
    assert [u.id for u in client.users()] == [7, 8]
    assert client.mobiles() == []


def test_billing_records_at_or_below_id_after_are_dropped(mock):
    rows = ",".join(f'{{"id": {i}, "calldate": "2024-03-31 02:30:00", "src": "D1123"}}' for i in (5, 6, 7))
    mock.get(f"{BASE}/Mvno/Billings", text=f"[3, [{rows}]]")
    records = list(make().billings("2024-03-01", "2024-03-31 23:59:59", id_after=5, page_size=None))
    assert [r.id for r in records] == [6, 7]
    assert records[0].src == "123"
    assert mock.request_history[-1].qs["id_after"] == ["5"]
    assert mock.request_history[-1].qs["datestart"] == ["2024-03-01 00:00:00"]


def test_a_server_ignoring_id_after_is_an_error_not_a_silent_loss(mock):
    mock.get(f"{BASE}/Mvno/Billings", text='[1, [{"id": 9, "calldate": "2024-01-01 00:00:00"}]]')
    stream = make().billings("2024-01-01", "2024-01-02", id_after=None, page_size=1)
    assert next(stream).id == 9
    with pytest.raises(MetroportProtocolError, match="ignores id_after"):
        next(stream)
    assert len(mock.request_history) == 3


def test_a_cut_unordered_page_is_not_resumed(mock):
    mock.get(
        f"{BASE}/Mvno/Billings",
        text='[3, [{"id": 9, "calldate": "2024-01-01 00:00:00"}, {"id": 4, "calldate": "2024-01-01 00:00:00"}, {"id":',
    )
    with pytest.raises(MetroportProtocolError, match="not ascending"):
        list(make().billings("2024-01-01", "2024-01-02"))


def test_bad_calldate_is_a_protocol_error(mock):
    mock.get(f"{BASE}/Mvno/Billings", text='[{"id": 1, "calldate": "yesterday"}]')
    with pytest.raises(MetroportProtocolError, match="record 0 is unusable"):
        list(make().billings("2024-01-01", "2024-01-02"))


def test_from_settings():
    with pytest.raises(ConfigError, match="api_password not set"):
        MetroportMVNOClient.from_settings({"metroportmvno.api_url": BASE, "metroportmvno.api_login": "x"})
    with pytest.raises(ConfigError, match="placeholders"):
        MetroportMVNOClient.from_settings(
            {
                "metroportmvno.api_url": BASE,
                "metroportmvno.api_login": "api_login",
                "metroportmvno.api_password": "api_password",
            }
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = MetroportMVNOClient.from_settings(
            {
                "metroportmvno.api_url": BASE,
                "metroportmvno.api_login": "x",
                "metroportmvno.api_password": "y",
                "metroportmvno.verify_tls": False,
            }
        )
    assert c.http.verify is False and caught
    assert "y" not in repr(c).replace("MetroportMVNOClient", "")


def test_wire_datetime_and_prefix():
    warsaw = ZoneInfo("Europe/Warsaw")
    assert wire_datetime(datetime(2024, 7, 1, 10, 0, tzinfo=ZoneInfo("UTC")), warsaw) == "2024-07-01 12:00:00"
    assert wire_datetime("2024-07-01") == "2024-07-01 00:00:00"
    with pytest.raises(ValueError):
        wire_datetime("1st of July")
    assert strip_routing_prefix("D1500100200") == "500100200"
    assert strip_routing_prefix("48500100200") == "48500100200"
    assert strip_routing_prefix("Dx12") == "Dx12"
    assert strip_routing_prefix("internet") == "internet"


# -- price-list validator --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"PK\x03\x04rest", "spreadsheet"),
        (b"a;b\n1;\xb3\n", "line 2: is not UTF-8"),
        (b"prefix\n48\n", "line 1: the header has a single column"),
        (b"a;b\n", "header but no price rows"),
        (b"a;a\n1;2\n", "appears twice"),
        (b"a;;c\n1;2;3\n", "column 2 of the header has no name"),
        (b"a,b\n1,2\n3\n4,5,6\n", "line 3: 1 fields"),
        (b"a;b\n1;2\n\n3;4\n", "line 3: empty line inside the data"),
        (b'a;b\n1;"2\n3;4\n', "broken CSV"),
    ],
)
def test_price_list_problems(content, expected):
    problems = validate_price_list_bytes(content)
    assert any(expected in str(p) for p in problems), problems


def test_price_list_accepts_a_good_file_and_checks_named_columns(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes('\ufeffprefix;nazwa;cena\r\n48500;"Polska; komórkowe";0,12\r\n48221;W-wa;x\r\n\r\n'.encode())
    assert validate_price_list(path) == []
    problems = validate_price_list(path, required_columns=["Prefix", "vat"], numeric_columns=["cena"])
    assert [str(p) for p in problems] == [
        "line 1: the header lacks the column(s) vat",
        "line 3: cena is not a number: 'x'",
    ]
    assert "does not exist" in str(validate_price_list(tmp_path / "none.csv")[0])
    assert "more than" in str(validate_price_list(path, max_bytes=10)[0])


# -- simulator arithmetic --------------------------------------------------------------------------------


def test_simulator_index_arithmetic_matches_the_records():
    data = Dataset(seed=4, users=5, mobiles_per_user=3, billings_per_day=1000, epoch=datetime(2023, 1, 1))
    rng = random.Random(1)
    for _ in range(30):
        start = data.epoch + timedelta(seconds=rng.randrange(-3600, 5 * 86400))
        end = start + timedelta(seconds=rng.randrange(0, 7200))
        lo, hi = data.index_range(start, end)
        for k in (lo - 1, lo, hi, hi + 1):
            if k < 0:
                continue
            inside = start <= datetime.fromisoformat(data.record(k)["calldate"]) <= end
            assert inside == (lo <= k <= hi), (start, end, k)
        user = data.users[rng.randrange(5)]["id"]
        listed = list(data.indexes(lo, hi, user))
        assert len(listed) == data.count(lo, hi, user)
        assert all(data.record(k)["userid"] == user for k in listed)
        assert listed == sorted(listed)
        after = ID_BASE + rng.randrange(0, 20000)
        first = data.first_after(after)
        assert data.record_id(first) > after and (first == 0 or data.record_id(first - 1) <= after)
