"""Benchmark: the job health behind the start page, ``jobs check`` and ``/metrics`` on a long history.

Setup (PostgreSQL, a fresh database with the host tables): ``--jobs`` jobs (default 25) with
``--runs`` run records in all (default 300,000: about three years of hourly and daily jobs), generated
inside PostgreSQL with ``generate_series`` (a few failed, a few test runs) and ANALYZEd.

Measured, in the same run, ``--repeat`` times each (median and worst printed):

- ``job_health``: every job's latest run, latest success and learnt period (what the start page,
  ``jobs check`` and ``/metrics`` read on every call);
- ``metrics``: the same plus rendering the Prometheus text;
- ``baseline``: ``recent_runs(limit=50)``, the job list page's one query, on the same table.

The ratio is median / baseline median. Target: the start page's part stays within a few job-list
queries (no scan of the whole history per call).

    python bench/job_health.py [--jobs 25 --runs 300000 --repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from needs import require
from sqlalchemy import text

from lmsplugins.host import Host
from lmsplugins.jobs import recent_runs
from lmsplugins.jobstatus import job_health
from lmsplugins.migrate import HOST_SOURCE, upgrade
from lmsplugins.testing import databases as dbs

FILL = """
INSERT INTO lmsplugins_job_runs (job, status, test, started, finished, counters, message, argv, host, pid)
SELECT 'plugin' || (g % :jobs) || '.job',
       CASE WHEN g % 97 = 0 THEN 'failed' ELSE 'done' END,
       CASE WHEN g % 211 = 0 THEN 1 ELSE 0 END,
       :now - (:runs - g) * 300,
       :now - (:runs - g) * 300 + 40,
       '{"records": 120, "api_calls": 12}', '', 'plugin sync --quiet', 'cron1', 4242
FROM generate_series(1, :runs) AS g
"""


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=25)
    parser.add_argument("--runs", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    require(postgres=True)
    reason = dbs.pg_unavailable()
    if reason:
        sys.exit(f"PostgreSQL needed: {reason}")
    template = "lmsplugins_bench_jh_tpl"
    dbs.create_pg_template(template)
    name = dbs.create_pg_database(template, prefix="lmsplugins_bench_jh")
    tmp = Path(f"/tmp/{name}")
    tmp.mkdir(exist_ok=True)
    host = Host(dbs.write_ini(tmp, "postgres", name))
    try:
        upgrade(host.engine, HOST_SOURCE)
        started = time.perf_counter()
        with host.engine.begin() as conn:
            conn.execute(text(FILL), {"jobs": args.jobs, "runs": args.runs, "now": int(time.time())})
        with host.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE lmsplugins_job_runs"))
        print(f"{args.runs} runs of {args.jobs} jobs written in {time.perf_counter() - started:.1f} s")
        from lmsplugins.web.views_status import metrics_text

        baseline = timed(lambda: recent_runs(host, limit=50), args.repeat)
        health = timed(lambda: job_health(host), args.repeat)
        metrics = timed(lambda: metrics_text(job_health(host), 0, time.time()), args.repeat)
        base = statistics.median(baseline)
        for label, values in (("baseline", baseline), ("job_health", health), ("metrics", metrics)):
            med = statistics.median(values)
            print(f"{label:<11} median {med:7.2f} ms  worst {max(values):7.2f} ms  ratio {med / base:5.2f}")
    finally:
        host.dispose()
        dbs.drop_pg_database(name)
        dbs.drop_pg_database(template)


if __name__ == "__main__":
    main()
