"""What the card's Wildcore panel shows for one customer: each ONU or port looked up in Wildcore.

For each target of the customer (:func:`mapping.customer_targets`): ``device-interface/search``, then
``diag?from=cache`` (``from=device`` for "poll now") and ``links`` for the deep link. Several search
hits are ranked as §6 says (online first, newest first): the first is shown, the others are flagged
as stale duplicates to delete in Wildcore.

Answers are kept a short while (``wildcore.cache_seconds``) in this worker, so a card reopened or
paged through does not ask Wildcore again; "poll now" replaces the kept answer. What Wildcore says it
cannot find (no search hit, several hits) is written to ``wildcore_misses`` for the admin page; when
Wildcore could not be asked (down, slow, 5xx, HTML, an error body) nothing is written or kept.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, select
from sqlalchemy.engine import Connection, Engine

from lmsplugins.lms import network

from . import mapping
from .client import WildcoreClient, WildcoreError
from .tables import wildcore_misses, wildcore_onus

CACHE_SIZE = 2048


@dataclass
class TargetResult:
    target: mapping.Target
    iface: dict[str, Any] | None = None
    flagged: list[dict[str, Any]] = field(default_factory=list)
    diagnosis: mapping.Diagnosis | None = None
    link: str = ""
    error: str = ""
    not_found: bool = False
    polled_at: float = 0.0
    source: str = "cache"


class _Cache:
    """A small LRU of target results with an age limit, shared by the threads of one worker."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str], tuple[float, TargetResult]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], max_age: float) -> TargetResult | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or time.monotonic() - item[0] > max_age:
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: tuple[str, str], result: TargetResult) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), result)
            self._items.move_to_end(key)
            while len(self._items) > CACHE_SIZE:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


CACHE = _Cache()


def own_idents(conn: Connection, customer_id: int) -> list[str]:
    rows = conn.execute(
        select(wildcore_onus.c.ident).where(wildcore_onus.c.customerid == customer_id).order_by(wildcore_onus.c.id)
    )
    return list(rows.scalars())


def customer_targets(conn: Connection, customer_id: int) -> list[mapping.Target] | None:
    customer = network.customer_points(conn, customer_id)
    if customer is None:
        return None
    return mapping.customer_targets(customer, own_idents(conn, customer_id))


def _search(client: WildcoreClient, target: mapping.Target) -> list[dict[str, Any]]:
    if target.kind == "onu":
        return client.search(ont_ident=target.ident)
    hits = client.search(device_ip=target.switch, interface_bind_key=target.port)
    return hits or client.search(device_ip=target.switch, interface_name=target.port)


def look_up(client: WildcoreClient, target: mapping.Target, source: str = "cache") -> TargetResult:
    """Ask Wildcore about *target*; a failure is in ``error`` (never raised)."""
    result = TargetResult(target, source=source, polled_at=time.time())
    try:
        hits = mapping.rank_hits(_search(client, target))
        if not hits:
            result.not_found = True
            return result
        result.iface, result.flagged = dict(hits[0]), [dict(h) for h in hits[1:]]
        iface_id = int(result.iface["id"])
        result.diagnosis = mapping.diagnosis(client.diag(iface_id, source), target.kind)
        result.link = client.links(iface_id).get("interface_url", "")
    except WildcoreError as exc:
        result.error = str(exc)
    except (TypeError, ValueError, KeyError):
        result.error = "Wildcore's answer has an unexpected shape"
    return result


def miss_reason(result: TargetResult) -> str | None:
    """What the admin page records for *result*: None when there is nothing to record (or nothing
    trustworthy: a failed call)."""
    if result.error and result.iface is None:
        return None
    if result.not_found:
        return "not found in Wildcore"
    if result.flagged:
        return f"{len(result.flagged) + 1} interfaces in Wildcore"
    return ""


def record_misses(engine: Engine, customer_id: int, results: Sequence[TargetResult]) -> None:
    """Store what Wildcore could not match, forget what it matches again (one transaction)."""
    now = int(time.time())
    with engine.begin() as conn:
        for result in results:
            reason = miss_reason(result)
            if reason is None:
                continue
            key = result.target.key
            match = and_(wildcore_misses.c.customerid == customer_id, wildcore_misses.c.target == key)
            conn.execute(delete(wildcore_misses).where(match))
            if reason:
                conn.execute(
                    wildcore_misses.insert().values(customerid=customer_id, target=key, reason=reason, seen=now)
                )


def panel_results(
    engine: Engine,
    client: WildcoreClient,
    customer_id: int,
    targets: Sequence[mapping.Target],
    max_age: float,
    poll: bool = False,
) -> list[TargetResult]:
    """Results for *targets*: kept ones younger than *max_age*, else asked now (``from=device`` when
    *poll*); fresh trustworthy answers are kept and their misses recorded."""
    results, fresh = [], []
    for target in targets:
        key = (client.base_url, target.key)
        cached = None if poll else CACHE.get(key, max_age)
        if cached is not None:
            results.append(cached)
            continue
        result = look_up(client, target, "device" if poll else "cache")
        if miss_reason(result) is not None and not result.error:
            CACHE.put(key, result)
        results.append(result)
        fresh.append(result)
    if fresh:
        record_misses(engine, customer_id, fresh)
    return results
