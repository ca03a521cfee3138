"""Suspending and resuming a customer's tariff assignments of one kind of service (by tariff tag).

A provider lock (a debtor's MetroTV account blocked, say) should stop LMS billing that service while it
lasts. LMS's own mark for it is ``assignments.suspended``, which lms-payments honours; which assignments
belong to the service is told by a tariff tag. Only assignments that are running (not suspended, not
ended) are suspended, and the caller gets their ids back so that a resume touches exactly those, never
one an operator suspended by hand.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection

from lmsplugins.lms.tables import assignments, tariffassignments, tarifftags


def running_tagged_assignments(
    conn: Connection, customer_ids: Iterable[int], tag: str, now: int | None = None
) -> dict[int, list[int]]:
    """customer id -> ids of its running, unsuspended assignments of tariffs tagged *tag*."""
    ids = list(customer_ids)
    if not ids or not tag:
        return {}
    now = int(time.time()) if now is None else now
    a = assignments
    tagged = (
        select(tariffassignments.c.tariffid)
        .join(tarifftags, tarifftags.c.id == tariffassignments.c.tarifftagid)
        .where(tarifftags.c.name.ilike(tag))
    )
    query = (
        select(a.c.customerid, a.c.id)
        .where(
            a.c.customerid.in_(ids),
            a.c.tariffid.in_(tagged),
            a.c.suspended == 0,
            or_(a.c.dateto == 0, a.c.dateto >= now),
        )
        .order_by(a.c.id)
    )
    result: dict[int, list[int]] = defaultdict(list)
    for row in conn.execute(query):
        result[row.customerid].append(row.id)
    return dict(result)


def set_suspended(conn: Connection, assignment_ids: Iterable[int], suspended: bool) -> int:
    """Mark the assignments suspended (or running again); returns how many changed."""
    ids = list(assignment_ids)
    if not ids:
        return 0
    flag = 1 if suspended else 0
    stmt = update(assignments).where(assignments.c.id.in_(ids), assignments.c.suspended != flag)
    return conn.execute(stmt.values(suspended=flag)).rowcount or 0


def end_assignment(conn: Connection, assignment_id: int, customer_id: int, when: int | None = None) -> bool:
    """End the customer's assignment at *when* (default now), as LMS's "end of liability" does; False
    when it is not the customer's or already ended before then."""
    when = int(time.time()) if when is None else when
    a = assignments
    stmt = (
        update(a)
        .where(a.c.id == assignment_id, a.c.customerid == customer_id, or_(a.c.dateto == 0, a.c.dateto > when))
        .values(dateto=when)
    )
    return bool(conn.execute(stmt).rowcount)
