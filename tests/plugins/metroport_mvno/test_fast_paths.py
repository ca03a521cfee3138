"""The fast paths of the billing import give exactly what the general code gives.

Why: the import's speed comes from shortcuts (whole-page ``json.loads``, a billing-row parser with
caches, a simulator rendering JSON from fragments, a mapper reusing the last timestamp); each one is
only allowed because it is indistinguishable from the plain code it stands in for, on the usual rows
and on every odd one.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests

from plugins.metroport_mvno import client as mc
from plugins.metroport_mvno.client import BillingParser, _Malformed, _RowError, _Truncated, page_rows, parse_billing
from plugins.metroport_mvno.mapping import CdrMapper
from plugins.metroport_mvno.simulator import TRAFFIC_TYPES, Dataset

ZONE = ZoneInfo("Europe/Warsaw")
BASE = {
    "id": 7,
    "src": "48510000000",
    "dst": "D148600000001",
    "ano": "510000000",
    "calldate": "2024-03-31 02:30:00",
    "billingfield": "duration",
    "duration": 30,
    "datatransfer": 0,
    "msg": 0,
    "retail_totalnetto": 0.1234,
    "retail_vat": 1.23,
    "traffic_types_id": 11,
    "CategoryName": " Połączenia ",
}
ODD = [
    {},
    {"id": True},
    {"id": "12"},
    {"id": 1.0, "calldate": "2024-01-01 00:00:00"},
    {"src": None},
    {"src": 48600},
    {"src": "  D2123 "},
    {"dst": "Dx12"},
    {"dst": ""},
    {"ano": " 510 "},
    {"calldate": ""},
    {"calldate": "yesterday"},
    {"calldate": " 2024-10-27 02:30:00 "},
    {"calldate": "2024-01-01T10:00:00+00:00"},
    {"calldate": 5},
    {"billingfield": " MSG "},
    {"billingfield": None},
    {"duration": "15"},
    {"duration": 15.0},
    {"duration": True},
    {"duration": ""},
    {"msg": None},
    {"traffic_types_id": "11"},
    {"datatransfer": "1,5"},
    {"datatransfer": " "},
    {"datatransfer": ""},
    {"datatransfer": True},
    {"datatransfer": [1]},
    {"datatransfer": {"a": 1}},
    {"datatransfer": 12345678901234567890},
    {"retail_totalnetto": "0,1234"},
    {"retail_totalnetto": " 0.5 "},
    {"retail_totalnetto": "abc"},
    {"retail_totalnetto": -0.0},
    {"retail_totalnetto": 0.0},
    {"retail_totalnetto": 1},
    {"retail_totalnetto": float("nan")},
    {"retail_totalnetto": float("inf")},
    {"retail_vat": 1.0},
    {"retail_vat": True},
    {"retail_vat": None},
    {"CategoryName": None},
    {"CategoryName": 7},
]


def _outcome(parse, row):
    try:
        record = parse(row)
    except _RowError as exc:
        return ("error", str(exc))
    # Decimal equality ignores the exponent and the sign of zero; repr does not.
    return ("record", repr(record))


@pytest.mark.parametrize("tz", [ZONE, None])
def test_billing_parser_matches_parse_billing_on_every_odd_row(tz):
    fast = BillingParser(tz)
    for change in [*ODD, {}]:
        row = {**BASE, **change}
        for _ in range(2):  # the second time through the caches
            assert _outcome(fast, row) == _outcome(lambda r: parse_billing(r, tz), row), row
        missing = {k: v for k, v in BASE.items() if k not in change or not change}
        assert _outcome(fast, missing) == _outcome(lambda r: parse_billing(r, tz), missing)


def test_billing_parser_matches_on_simulator_rows_and_keeps_its_cache_bounded():
    data = Dataset(4, 6, 2, 100_000, datetime(2023, 1, 1))
    fast = BillingParser(ZONE)
    for k in range(0, 40_000, 3):
        row = json.loads(data.record_json(k))
        assert repr(fast(row)) == repr(parse_billing(row, ZONE))
    assert len(fast._amounts) <= BillingParser._CACHE_LIMIT


def test_simulator_renders_exactly_the_records_json():
    for seed, per_day in ((1, 200), (3, 1_000_000), (12345678901234567890, 3)):
        data = Dataset(seed, 7, 3, per_day, datetime(2023, 1, 1))
        for k in [*range(2000), *range(10**6, 10**6 + 500)]:
            assert data.record_json(k) == json.dumps(data.record(k), ensure_ascii=False)


def _stream_outcome(chunks, max_bytes):
    rows = []
    try:
        for row in page_rows(iter(chunks), max_bytes):
            rows.append(row)
    except (_Malformed, _Truncated, requests.RequestException) as exc:
        return rows, type(exc).__name__, str(exc), getattr(exc, "excerpt", "")
    return rows, None, "", ""


def _reference(body: bytes):
    rows = []
    try:
        for row in mc.iter_rows(mc._JsonStream([body])):
            rows.append(row)
    except (_Malformed, _Truncated) as exc:
        return rows, type(exc).__name__, str(exc), getattr(exc, "excerpt", "")
    return rows, None, "", ""


ROWS = ",".join(json.dumps({"id": i, "CategoryName": "żółw"}, ensure_ascii=False) for i in range(40))
BODIES = [
    "",
    "  ",
    "[]",
    " [ ] ",
    "[3, []]",
    f"[40, [{ROWS}]]",
    f"[{ROWS}]",
    f'["40", [{ROWS}]]',
    f"[40, [{ROWS}]",
    f"[40, [{ROWS}",
    f"[{ROWS[:-7]}",
    '{"status":false}',
    "<html>",
    "[1,2]",
    '[{"id":1},"x"]',
    "[3,[],[]]",
    "[true, []]",
    "[[1]]",
    "null",
    "\ufeff[]",
    f"[{ROWS}] x",
    '[{"id": NaN}]',
    f"[{ROWS}]\n",
]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("max_bytes", [1 << 20, 64])
def test_page_rows_behaves_as_the_incremental_reader(body, max_bytes):
    data = body.encode()
    chunks = [data[i : i + 50] for i in range(0, len(data), 50)] or [b""]
    got = _stream_outcome(chunks, max_bytes)
    want = _reference(data)
    assert json.dumps(got[0]) == json.dumps(want[0]) and got[1:3] == want[1:3]
    shorter = min(len(got[3]), len(want[3]))  # the excerpt is the first chunk received, up to 200 characters
    assert got[3][:shorter] == want[3][:shorter] and (shorter > 0) == bool(want[3])


def test_page_rows_not_utf8_is_malformed():
    assert _stream_outcome([b"[\xff]"], 1 << 20)[1:3] == ("_Malformed", "the body is not UTF-8")


def test_page_rows_that_break_yield_what_came_then_raise_the_break():
    data = f"[40, [{ROWS}]]".encode()

    def broken():
        yield data[:300]
        raise requests.ConnectionError("reset by peer")

    rows, kind, message, _ = _stream_outcome(broken(), 1 << 20)
    assert kind == "ConnectionError" and message == "reset by peer"
    assert [r["id"] for r in rows] == list(range(len(rows))) and 0 < len(rows) < 40


def test_mapper_reuses_the_timestamp_only_for_the_same_moment():
    mapper = CdrMapper(dict(TRAFFIC_TYPES), {}, ZONE)
    fast = BillingParser(ZONE)
    stamps = []
    for text in ("2024-10-27 02:30:00", "2024-10-27 02:30:00", "2024-10-27 03:30:00", "2024-03-31 01:59:59"):
        record = fast({**BASE, "calldate": text})
        stamps.append(mapper.row(record, False)["call_start_time"])
    assert stamps == [1729989000, 1729989000, 1729996200, 1711846799]
    assert mapper.row(fast(BASE), True)["price"] == Decimal("0.12340")


def test_mapper_memos_give_what_the_plain_functions_give():
    from plugins.metroport_mvno.mapping import price, unix_time

    data = Dataset(6, 4, 2, 50_000, datetime(2024, 10, 26, 23))
    fast = BillingParser(ZONE)
    mapper = CdrMapper(dict(TRAFFIC_TYPES), {}, ZONE)
    for k in range(0, 20_000, 7):
        record = fast(json.loads(data.record_json(k)))
        for net in (False, True):
            row = mapper.row(record, net)
            assert repr(row["price"]) == repr(price(record, net))
            assert row["call_start_time"] == unix_time(record.calldate, ZONE)
    odd = fast({**BASE, "retail_vat": 23, "retail_totalnetto": None})
    assert mapper.row(odd, False)["price"] == Decimal(0)
    with pytest.raises(ValueError, match="negative"):
        mapper.row(fast({**BASE, "retail_vat": -1}), False)
