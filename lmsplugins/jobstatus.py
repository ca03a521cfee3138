"""The health of each job, read from its run records: for the start page, ``jobs check`` and ``/metrics``.

A job is known by its runs (``<plugin>.<job>`` names, ``notify.*`` for the host's own); plugins do not
declare their schedules, because cron holds them. So the period is learnt from the history: the
median interval between the starts of the latest successful runs (test runs never count, they roll
everything back). A job is *overdue* when its last success is older than that period plus a grace
(a tenth of it, at least two hours), so a daily job whose 02:00 run has not succeeded warns from
about 04:30 the next day, and a job run by hand now and then (no steady period) never does.
"""

from __future__ import annotations

import itertools
import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection

from lmsplugins.host import Host
from lmsplugins.store import job_runs

HISTORY = 15
"""Successful runs a period is learnt from."""
MIN_INTERVALS = 2
DAY = 86400
MIN_GRACE = 2 * 3600
OK_STATUSES = ("done",)
BAD_STATUSES = ("failed", "error")


@dataclass
class JobHealth:
    """One job as the run records tell it."""

    job: str
    last_id: int
    last_status: str
    last_started: int
    last_finished: int | None
    last_counters: dict[str, int] = field(default_factory=dict)
    last_success_id: int | None = None
    last_success: int | None = None
    last_success_duration: int | None = None
    period: int | None = None

    @property
    def plugin(self) -> str:
        return self.job.split(".", 1)[0]

    @property
    def last_duration(self) -> int | None:
        return None if self.last_finished is None else self.last_finished - self.last_started

    @property
    def daily(self) -> bool:
        return self.period is not None and 20 * 3600 <= self.period <= 28 * 3600

    @property
    def overdue_after(self) -> int | None:
        """Seconds after the last success from which the job is overdue (None: no steady period)."""
        if self.period is None:
            return None
        return self.period + max(MIN_GRACE, self.period // 10)

    def since_success(self, now: float) -> int | None:
        return None if self.last_success is None else int(now - self.last_success)

    def overdue(self, now: float) -> bool:
        limit = self.overdue_after
        age = self.since_success(now)
        return limit is not None and age is not None and age > limit

    @property
    def failed(self) -> bool:
        return self.last_status in BAD_STATUSES


def learn_period(starts: Sequence[int]) -> int | None:
    """Median interval between consecutive *starts* (any order); None with fewer than two intervals."""
    ordered = sorted(starts)
    gaps = [b - a for a, b in itertools.pairwise(ordered) if b > a]
    if len(gaps) < MIN_INTERVALS:
        return None
    return int(statistics.median(gaps))


def _parse_counters(raw: str | None) -> dict[str, int]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int)} if isinstance(value, dict) else {}


def _health(conn: Connection, job: str) -> JobHealth | None:
    """*job*'s health, None when it has no run but test runs.

    One query reads the latest runs; a second, for the successes alone, only when failures among
    them leave fewer than :data:`HISTORY` successes to learn from.
    """
    t = job_runs.c
    recent = conn.execute(
        select(t.id, t.status, t.started, t.finished, t.counters)
        .where(t.job == job, t.test == 0)
        .order_by(t.started.desc(), t.id.desc())
        .limit(2 * HISTORY)
    ).all()
    if not recent:
        return None
    last = recent[0]
    health = JobHealth(job, last.id, last.status, last.started, last.finished, _parse_counters(last.counters))
    successes = [r for r in recent if r.status in OK_STATUSES][:HISTORY]
    if len(successes) < HISTORY and len(recent) == 2 * HISTORY:
        successes = conn.execute(
            select(t.id, t.status, t.started, t.finished)
            .where(t.job == job, t.test == 0, t.status.in_(OK_STATUSES))
            .order_by(t.started.desc(), t.id.desc())
            .limit(HISTORY)
        ).all()
    if successes:
        first = successes[0]
        health.last_success_id = first.id
        health.last_success = first.finished or first.started
        health.last_success_duration = None if first.finished is None else first.finished - first.started
        health.period = learn_period([r.started for r in successes])
    return health


def job_health(host: Host, jobs: Iterable[str] | None = None) -> list[JobHealth]:
    """Every job that has a run record that is not a test (or only *jobs*), sorted by name."""
    with host.engine.connect() as conn:
        if not inspect(conn).has_table(job_runs.name):
            return []
        names = sorted(jobs) if jobs is not None else job_names(conn)
        found = (_health(conn, job) for job in names)
        return [h for h in found if h is not None]


def job_names(conn: Connection) -> list[str]:
    """Every job name in the run records, read from the ``(job, started)`` index one name at a time
    (a loose index scan) instead of scanning years of runs; MySQL does that for DISTINCT itself."""
    t = job_runs.c
    if conn.dialect.name == "mysql":
        return sorted(conn.execute(select(t.job).distinct()).scalars())
    names = select(func.min(t.job).label("job")).cte("names", recursive=True)
    following = select(func.min(t.job)).where(t.job > names.c.job).scalar_subquery()
    names = names.union_all(select(following).where(names.c.job.isnot(None)))
    return sorted(conn.execute(select(names.c.job).where(names.c.job.isnot(None))).scalars())


def known_jobs(host: Host) -> list[str]:
    """Names of every job with a run record, tests included (to tell "unknown" from "never succeeded")."""
    with host.engine.connect() as conn:
        if not inspect(conn).has_table(job_runs.name):
            return []
        return job_names(conn)


@dataclass(frozen=True)
class CounterReading:
    """Counters of the latest finished run of a job that reported one of the counters asked for."""

    run_id: int
    started: int
    counters: dict[str, int]

    def total(self, *names: str) -> int:
        return sum(self.counters.get(name, 0) for name in names)


def last_counters(conn: Connection, job: str, *names: str, scan: int = 50) -> CounterReading | None:
    """For attention items that come from what a job counted (e.g. users a sync could not bind): the
    newest finished non-test run of *job* among its last *scan* that reported any of *names*."""
    t = job_runs.c
    rows = conn.execute(
        select(t.id, t.started, t.counters)
        .where(t.job == job, t.test == 0, t.status != "running")
        .order_by(t.id.desc())
        .limit(scan)
    ).all()
    for row in rows:
        counters = _parse_counters(row.counters)
        if any(name in counters for name in names):
            return CounterReading(row.id, row.started, counters)
    return None
