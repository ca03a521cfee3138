"""Benchmark: voip_cdr writes through the gateway against two baselines on the same rows.

For each database (real LMS schema, fresh database) it runs, each in its own process so peak RSS is
per stage:

- ``gateway``: :func:`lmsplugins.lms.voip.write_cdrs` (upsert on (direction, uniqueid)) in chunks of
  200,000 rows, each committed, as an import job does;
- ``raw``: the server's bulk loader fed from Python (PostgreSQL ``COPY``, MariaDB ``LOAD DATA``);
- ``per-row``: one INSERT per row in one transaction, the PHP plugins' pattern (on the first
  ``--baseline-rows`` rows, since it is slow; compared as rows per second).

Every stage draws the same deterministic rows from the same generator, so generation cost is in all
of them. Gateway and raw runs alternate (``--repeat``) and the best of each counts, so a passing load
on the machine does not decide the ratio.
Targets (issue 2): gateway >= 0.8 x raw, >= 7 x per-row, peak RSS <= 250 MB whatever N.

    python bench/cdr_write.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from needs import require
from sqlalchemy import text

from lmsplugins.db import mysql_load
from lmsplugins.host import Host
from lmsplugins.lms import voip
from lmsplugins.lms.voip import CDR_COLUMNS
from lmsplugins.testing import databases as dbs

CHUNK = 200_000


def rows(n: int) -> Iterator[dict]:
    base = 1_760_000_000
    for i in range(n):
        yield voip.cdr_row(
            caller=f"48221{i % 100000:06d}",
            callee=f"486{(i * 7919) % 10**8:08d}",
            call_start_time=base + i * 3,
            creationdate=base + i * 3 + 600,
            totaltime=30 + i % 600,
            billedtime=i % 600,
            price=f"{(i % 997) / 1000:.5f}",
            status=2,
            direction=2 - (i % 2),
            type=i % 5,
            uniqueid=f"bench-{i:09d}",
            prefix="48" if i % 3 else None,
        )


def stage(dbtype: str, database: str, name: str, n: int) -> dict:
    host = Host(dbs.write_ini(Path(tempfile.mkdtemp()), dbtype, database))
    engine = host.engine
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE TABLE voip_cdr"))
    started = time.perf_counter()
    if name == "gateway":
        it = rows(n)
        done = 0
        while done < n:
            with engine.begin() as conn:
                done += voip.write_cdrs(conn, (next(it) for _ in range(min(CHUNK, n - done))))
    elif name == "raw":
        with engine.begin() as conn:
            tuples = ([r[c] for c in CDR_COLUMNS] for r in rows(n))
            if dbtype == "postgres":
                raw = conn.connection.driver_connection
                cols = ", ".join(CDR_COLUMNS)
                with raw.cursor() as cur, cur.copy(f"COPY voip_cdr ({cols}) FROM STDIN") as copy:
                    for t in tuples:
                        copy.write_row(t)
            else:
                mysql_load(conn, "voip_cdr", CDR_COLUMNS, tuples)
    elif name == "generate":
        for _ in rows(n):
            pass
    else:
        cols = ", ".join(CDR_COLUMNS)
        marks = ", ".join(["%s"] * len(CDR_COLUMNS))
        with engine.begin() as conn:
            cur = conn.connection.driver_connection.cursor()
            for r in rows(n):
                cur.execute(f"INSERT INTO voip_cdr ({cols}) VALUES ({marks})", [r[c] for c in CDR_COLUMNS])
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT COUNT(*) FROM voip_cdr")).scalar()
    if name != "generate" and stored != n:
        raise SystemExit(f"{name} stored {stored} rows, expected {n}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"stage": name, "rows": n, "seconds": elapsed, "rate": n / elapsed, "rss_mb": rss_mb}


def run_stage(dbtype: str, database: str, name: str, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--stage", name, "--db", dbtype, "--database", database, "--rows", str(n)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"stage {name} on {dbtype} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=200_000, help="rows for the per-row baseline")
    parser.add_argument("--dbs", default="postgres,mysql")
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs of gateway and raw; best counts")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stage(args.db, args.database, args.stage, args.rows)))
        return
    kinds = args.dbs.split(",")
    require(postgres="postgres" in kinds, mysql="mysql" in kinds)
    n, per_row_n = args.rows, min(args.baseline_rows, args.rows)
    for dbtype in args.dbs.split(","):
        if dbtype == "postgres":
            template = "lmsplugins_bench_tpl"
            dbs.create_pg_template(template)
            database = dbs.create_pg_database(template, prefix="lmsplugins_bench")
        else:
            database = dbs.create_mysql_database(prefix="lmsplugins_bench")
        try:
            gen = run_stage(dbtype, database, "generate", n)
            results: dict[str, list[dict]] = {"gateway": [], "raw": [], "per-row": []}
            for _ in range(args.repeat):
                for name in ("gateway", "raw"):
                    results[name].append(run_stage(dbtype, database, name, n))
            results["per-row"].append(run_stage(dbtype, database, "per-row", per_row_n))
            gw, raw, per_row = (max(results[k], key=lambda r: r["rate"]) for k in ("gateway", "raw", "per-row"))
        finally:
            if dbtype == "postgres":
                dbs.drop_pg_database(database)
                dbs.drop_pg_database("lmsplugins_bench_tpl")
            else:
                dbs.drop_mysql_database(database)
        print(f"== {dbtype}: {n:,} voip_cdr rows (row generation alone: {gen['rate']:,.0f} rows/s)")
        for r in (gw, raw, per_row):
            print(
                f"   {r['stage']:<8} {r['rows']:>10,} rows {r['seconds']:8.1f} s {r['rate']:>12,.0f} rows/s "
                f"peak RSS {r['rss_mb']:6.0f} MB"
            )
        print(f"   gateway / raw bulk load: {gw['rate'] / raw['rate']:.2f} (target >= 0.8)")
        print(f"   gateway / per-row INSERT: {gw['rate'] / per_row['rate']:.1f}x (target >= 7)")
        print(f"   gateway peak RSS: {gw['rss_mb']:.0f} MB (target <= 250)")


if __name__ == "__main__":
    main()
