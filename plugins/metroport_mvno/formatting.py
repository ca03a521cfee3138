"""How the web pages show MVNO quantities: pure functions, so their edge cases are unit-tested.

``voip_cdr`` keeps one integer ``billedtime`` for every kind of record (spec §5): seconds for calls and
video, bytes for data (the sync multiplies Metroport's kB by 1024), a message count for SMS and MMS.
A page that printed the raw number would show a 2 GB session as "2147483648", so every quantity goes
through :func:`format_quantity`, which picks the unit from the record type. Sizes use binary units
(1 MB = 1024 kB) because the provider's kB are binary too; the result then matches the operator's
own invoices from Metroport.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from lmsplugins.lms.voip import TYPE_DATA, TYPE_MMS, TYPE_SMS, TYPE_VIDEO, TYPE_VOICE

MB = 1024 * 1024
GB = 1024 * MB

TYPE_NAMES = {TYPE_VOICE: "call", TYPE_SMS: "sms", TYPE_MMS: "mms", TYPE_DATA: "data", TYPE_VIDEO: "video"}
"""``voip_cdr.type`` -> the Metroport traffic type name (mapping.CDR_TYPES reversed)."""
TIMED_TYPES = frozenset({TYPE_VOICE, TYPE_VIDEO})
COUNTED_TYPES = frozenset({TYPE_SMS, TYPE_MMS})


def format_bytes(value: int | None) -> str:
    """``1572864`` -> ``"1.50 MB"``; from one GB on, GB. Below 0.01 MB a non-zero volume reads
    ``"< 0.01 MB"`` rather than a misleading ``0.00``."""
    if value is None:
        return ""
    if value < 0:
        raise ValueError(f"a data volume cannot be negative: {value}")
    if value >= GB:
        return f"{_round2(Decimal(value) / GB)} GB"
    megabytes = _round2(Decimal(value) / MB)
    if value and megabytes == 0:
        return "< 0.01 MB"
    return f"{megabytes} MB"


def format_duration(seconds: int | None) -> str:
    """``3725`` -> ``"1:02:05"``; hours are not wrapped into days (``90000`` -> ``"25:00:00"``),
    because a month's total of calls is read as hours."""
    if seconds is None:
        return ""
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {seconds}")
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def format_quantity(cdr_type: int | None, value: int | None) -> str:
    """``billedtime`` in the unit of its record type: h:mm:ss, MB/GB, or a plain count."""
    if value is None:
        return ""
    if cdr_type in TIMED_TYPES:
        return format_duration(value)
    if cdr_type == TYPE_DATA:
        return format_bytes(value)
    return str(int(value))


def format_money(value: Decimal | float | int | None, places: int = 2) -> str:
    """A price rounded half up (as invoices round), ``None`` as empty."""
    if value is None:
        return ""
    step = Decimal(1).scaleb(-places)
    return str(Decimal(str(value)).quantize(step, ROUND_HALF_UP))


def _round2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def format_time(timestamp: int | None, zone: ZoneInfo) -> str:
    """A unix time as the operator's wall clock in *zone* (``voip_cdr`` keeps unix times)."""
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(int(timestamp), zone).strftime("%Y-%m-%d %H:%M:%S")
