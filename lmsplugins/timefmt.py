"""One time zone for every time the panels show and the CLI prints: LMS's own.

LMS shows times in PHP's default time zone, which a Polish install sets to Europe/Warsaw (php.ini
``date.timezone``); ``phpui.timezone`` in lms.ini or uiconfig names it explicitly. The host reads the
same setting and falls back to Europe/Warsaw, so a job's start time on the job list, the start page,
the customer card and ``lmsplugins jobs`` is the same wall-clock time. Times are stored as unix
seconds everywhere; only formatting looks at the zone, and it names the zone (``CET``/``CEST``) where
a reader could take the time for UTC or the server's zone.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from lmsplugins.host import Host

log = logging.getLogger(__name__)

SETTING = "phpui.timezone"
DEFAULT_ZONE = "Europe/Warsaw"


@lru_cache(maxsize=16)
def zone_named(name: str | None) -> ZoneInfo:
    """The zone *name*; an unset or unknown name gives Europe/Warsaw (logged once per name)."""
    if name:
        try:
            return ZoneInfo(name.strip())
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("%s = %r is not a known time zone; showing times in %s", SETTING, name, DEFAULT_ZONE)
    return ZoneInfo(DEFAULT_ZONE)


def lms_zone(host: Host) -> ZoneInfo:
    """LMS's time zone for *host* (``phpui.timezone``, else Europe/Warsaw)."""
    try:
        name = host.config().get(SETTING)
    except Exception:
        try:
            name = host.ini_config.get(SETTING)
        except Exception:
            name = None
    return zone_named(name)


def format_time(ts: int | float | None, zone: ZoneInfo, *, with_zone: bool = False, empty: str = "-") -> str:
    """``YYYY-MM-DD HH:MM:SS`` of unix time *ts* in *zone*, with the zone's abbreviation if asked."""
    if ts is None:
        return empty
    moment = datetime.fromtimestamp(ts, zone)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text} {moment.tzname()}" if with_zone else text


def zone_label(zone: ZoneInfo, ts: float | None = None) -> str:
    """``Europe/Warsaw (CET)``: the zone's name and its abbreviation at *ts* (default now)."""
    moment = datetime.fromtimestamp(time.time() if ts is None else ts, zone)
    return f"{zone.key} ({moment.tzname()})"


def format_span(seconds: int | float | None, empty: str = "-") -> str:
    """A duration or an age for people: ``42 s``, ``5 min 3 s``, ``3 h 12 min``, ``2 d 4 h``."""
    if seconds is None:
        return empty
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"
