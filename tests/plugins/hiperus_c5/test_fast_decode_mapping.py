"""The long-hand CdrMapper.row and the cached LocalTime.unix must map every record as before.

The reference below is the straightforward implementation they replaced (kept verbatim as the
oracle); random records with every awkward kind of value (None, '', numbers, booleans, over-long
text, decimal commas, broken and DST-edge times, missing keys) must give identical rows, counters
and errors.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from plugins.hiperus_c5 import mapping
from plugins.hiperus_c5.mapping import flag, to_int

Record = Mapping[str, Any]


def money(value: Any) -> str:
    return mapping.money(value)


# The reference: mapping.py's CDR path before the long-hand rewrite, verbatim.


class RefLocalTime:
    """``YYYY-MM-DD HH:MM:SS`` in a zone -> unix time, fast.

    The UTC offset is constant within an hour of local time except at the two DST switches, so it is
    computed once per distinct ``YYYY-MM-DD HH`` with :mod:`zoneinfo` and cached. An hour that occurs
    twice (autumn) resolves to its first occurrence (``fold=0``), as PHP's ``strtotime`` does; an hour
    that does not exist (spring) is read with the offset before the switch.
    """

    def __init__(self, zone: str):
        self.zone = ZoneInfo(zone)
        self._offsets: dict[str, int] = {}

    def _offset(self, hour_key: str) -> int:
        naive = datetime(int(hour_key[0:4]), int(hour_key[5:7]), int(hour_key[8:10]), int(hour_key[11:13]))
        offset = naive.replace(tzinfo=self.zone).utcoffset() or timedelta(0)
        seconds = int(offset.total_seconds())
        if len(self._offsets) > 100_000:
            self._offsets.clear()
        self._offsets[hour_key] = seconds
        return seconds

    def unix(self, text: str | None) -> int | None:
        """Unix time of a local timestamp, or None when it is not one."""
        if not text or len(text) < 19 or text[4] != "-" or text[10] not in " T":
            return None
        key = text[:13]
        offset = self._offsets.get(key)
        try:
            if offset is None:
                offset = self._offset(key)
            naive = calendar.timegm(
                (
                    int(text[0:4]),
                    int(text[5:7]),
                    int(text[8:10]),
                    int(text[11:13]),
                    int(text[14:16]),
                    int(text[17:19]),
                    0,
                    0,
                    0,
                )
            )
        except ValueError:
            return None
        return naive - offset


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return to_int(value)


def _num(value: Any) -> Any:
    """Money for a NOT NULL numeric column; the common well-formed text passes through untouched."""
    if value is None or value == "":
        return "0"
    if isinstance(value, str) and value[-1:].isdigit() and "," not in value:
        return value
    return money(value)


def _clip(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[:limit]


class RefCdrMapper:
    """``GetBilling`` record -> hv_billing row (a tuple in :data:`BILLING_COLUMNS` order).

    ``terminals`` maps ``hv_terminal.username`` to its account id (``customerid``), as the PHP import
    matched rows. Counters say how many rows had no terminal name and how many named a terminal
    unknown here; the job reports both.
    """

    def __init__(self, zone: str, terminals: Mapping[str, int | None]):
        self.clock = RefLocalTime(zone)
        self.terminals = terminals
        self.no_terminal = 0
        self.unknown_terminal = 0
        self.no_terminal_samples: list[str] = []
        self.unknown_terminal_samples: list[str] = []

    def row(self, rec: Record, success: bool) -> tuple[Any, ...]:
        get = rec.get
        cdr_id = _int_or_none(get("id"))
        if cdr_id is None:
            raise ValueError(f"CDR without a numeric id: {get('id')!r}")
        terminal = get("terminal_name") or None
        customerid = None
        if terminal is None:
            self.no_terminal += 1
            if len(self.no_terminal_samples) < 5:
                self.no_terminal_samples.append(f"{cdr_id} ({get('customer_name') or '?'})")
        else:
            customerid = self.terminals.get(terminal)
            if customerid is None and terminal not in self.terminals:
                self.unknown_terminal += 1
                if len(self.unknown_terminal_samples) < 5:
                    self.unknown_terminal_samples.append(f"{cdr_id} ({terminal})")
        start_time = get("start_time")
        sub_used = get("subscription_used")
        return (
            cdr_id,
            customerid,
            _int_or_none(get("rel_cause")),
            _clip(start_time, 30),
            self.clock.unix(start_time),
            _clip(get("customer_name"), 255),
            _clip(terminal, 255),
            _int_or_none(get("ext_billing_id")),
            _clip(get("caller"), 20),
            _clip(get("bill_cpb"), 20),
            _int_or_none(get("duration")),
            _clip(get("calltype"), 50),
            _clip(get("country"), 255),
            _clip(get("description"), 255),
            _clip(get("operator"), 255),
            _clip(get("type"), 30),
            _num(get("cost")),
            _num(get("price")),
            _num(get("init_charge")),
            _num(get("reseller_price")),
            _num(get("reseller_cost")),
            _num(get("reseller_init_charge")),
            _num(get("margin")),
            None if sub_used is None or sub_used == "" else ("t" if sub_used in ("t", True) else flag(sub_used)),
            _clip(get("platform_type"), 20),
            "t" if success else "f",
        )


KEYS = mapping._CDR_KEYS
TIMES = [
    "2024-07-01 12:00:00",
    "2024-03-31 02:30:00",
    "2024-10-27 02:30:00",
    "2024-10-27 03:00:00",
    "2024-12-31 23:59:59",
    "2024-02-29 00:00:00",
    "2023-02-29 10:00:00",
    "2024-13-01 00:00:00",
    "2024-01-01 24:00:00",
    "2024-01-01 10:75:99",
    "2024-01-01T10:00:00",
    "2024-01-01 10:-5:+7",
    "2024-01-01 10:0x:00",
    "2024-01-01",
    "",
    None,
    "yesterday and today",
    "2024/01/01 10:00:00",
    "2024-01-01 10:00:00.123456+02",
    "0000-01-01 00:00:00",
    " 2024-01-01 10:00:00",
]
AWKWARD: list[Any] = [
    None,
    "",
    "0",
    "16",
    " 7 ",
    "12.0",
    "1,25",
    "0.4300",
    "-1",
    "x",
    "t",
    "f",
    "true",
    "No",
    True,
    False,
    3,
    2.5,
    1,
    1.0,
    0,
    "Zażółć & <x>",
    "a" * 19,
    "b" * 21,
    "c" * 31,
    "d" * 51,
    "e" * 256,
    "1e5",
    "²",
    "٣",
    "1_000",
]


def _record(rng: random.Random) -> dict[str, Any]:
    rec: dict[str, Any] = {}
    for key in KEYS:
        roll = rng.random()
        if roll < 0.05:
            continue
        if key == "start_time":
            rec[key] = rng.choice(TIMES)
        elif key == "id":
            rec[key] = rng.choice([str(rng.randrange(10**15)), rng.randrange(10**6), *AWKWARD])
        elif key == "terminal_name":
            rec[key] = rng.choice(["known", "other", "z" * 300, None, "", "known"])
        else:
            rec[key] = rng.choice([str(rng.randrange(1000)), *AWKWARD])
    return rec


@pytest.mark.parametrize("zone", ["Europe/Warsaw", "UTC", "America/New_York"])
def test_rows_counters_and_errors_match_the_reference(zone):
    rng = random.Random(zone)
    terminals = {"known": 7, "z" * 300: None}
    fast, ref = mapping.CdrMapper(zone, terminals), RefCdrMapper(zone, terminals)
    for i in range(20_000):
        rec = _record(rng)
        success = bool(i % 2)
        try:
            expected: Any = ref.row(rec, success)
        except ValueError as exc:
            expected = ("error", str(exc))
        try:
            got: Any = fast.row(rec, success)
        except ValueError as exc:
            got = ("error", str(exc))
        assert got == expected and [type(v) for v in got] == [type(v) for v in expected], rec
    for attr in ("no_terminal", "unknown_terminal", "no_terminal_samples", "unknown_terminal_samples"):
        assert getattr(fast, attr) == getattr(ref, attr)


def test_local_time_matches_the_reference_every_quarter_hour_of_a_dst_year():
    fast, ref = mapping.LocalTime("Europe/Warsaw"), RefLocalTime("Europe/Warsaw")
    moment = datetime(2024, 1, 1)
    while moment.year == 2024:
        text = moment.strftime("%Y-%m-%d %H:%M:%S")
        assert fast.unix(text) == ref.unix(text), text
        moment += timedelta(minutes=15, seconds=7)
    for text in TIMES:
        assert fast.unix(text) == ref.unix(text), text
