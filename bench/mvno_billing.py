"""Benchmark: Metroport MVNO billing import end to end, simulator -> client -> mapping -> voip_cdr.

Why: an operator imports a million records a month; the PHP script held them all in memory and wrote
row by row. Stages, each in its own process so peak RSS is per stage:

- ``sync``: ``lmsplugins metroport-mvno sync --billings -m provider`` for one day holding N records,
  against the simulator served by ANOTHER process on loopback (so it does not take the GIL), into a
  real-schema PostgreSQL database prepared with bound customers and their SIM accounts;
- ``gateway``: the database stage alone: the day's records mapped as the job maps them, spooled to a
  temporary file first, then written through :func:`lmsplugins.lms.voip.write_cdrs` in batches, only the
  writes being timed (reading the spool and making the row dicts happen between the timed parts);
- ``per-row``: one INSERT per row, the PHP pattern, on the first ``--baseline-rows`` of the same rows,
  timed the same way;
- ``fetch only``: the same day's pages read from the simulator with plain ``requests`` and
  ``json.loads`` and nothing else, the least any importer does: the end-to-end rate is printed as a
  ratio to it, so a slow or busy machine shows as such.

The simulator keeps each rendered page (``--page-cache``) and a first fetch-only pass renders them:
on a real network the provider's server does not take a core from the importer and its database.

Both database stages run with the cyclic garbage collector as the sync runs it.

Targets (issue 5): >= 50,000 records/s end to end, gateway >= 7 x per-row, peak RSS <= 300 MB.

    .venv/bin/python bench/mvno_billing.py --records 1000000
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from needs import require
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lmsplugins.host import Host
from lmsplugins.lms import voip
from lmsplugins.lms.voip import CDR_COLUMNS
from lmsplugins.testing import databases as dbs

DAY = ("2023-01-02 00:00:00", "2023-01-02 23:59:59")
USERS, MOBILES = 50, 2


def start_simulator(records: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "plugins.metroport_mvno.simulator",
            "--port",
            "0",
            "--billings",
            str(records),
            "--users",
            str(USERS),
            "--mobiles-per-user",
            str(MOBILES),
            "--seed",
            "3",
            "--page-cache",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.stdout is not None
    url = re.search(r"http://\S+", proc.stdout.readline())
    if url is None:
        raise SystemExit("the simulator did not start")
    return proc, url.group(0)


def prepare(url: str, records: int) -> tuple[str, Path]:
    """A PostgreSQL LMS with the plugin, customers bound to the simulator's users and their SIMs."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "plugins" / "metroport_mvno"))
    from mvno_env import Env, seed_customers

    from plugins.metroport_mvno.simulator import make_app

    template = "lmsplugins_bench_mvno_tpl"
    dbs.create_pg_template(template)
    database = dbs.create_pg_database(template, prefix="lmsplugins_bench_mvno")
    ini = dbs.write_ini(Path(tempfile.mkdtemp()), "postgres", database)
    host = Host(ini)
    dbs.install(host, "metroport_mvno")
    for key, value in (("api_url", url), ("api_login", "api-operator"), ("api_password", "api-secret")):
        host.set_uiconfig(f"metroportmvno.{key}", value)
    sim = make_app(seed=3, users=USERS, mobiles_per_user=MOBILES, billings=records)
    env = Env(host, sim, None, ini)  # type: ignore[arg-type]
    seed_customers(env)
    for part in ("--customers", "--accounts"):
        result = env.run(part, "-q")
        if result.exit_code != 0:
            raise SystemExit(result.output)
    host.dispose()
    return database, ini


def sync_stage(ini: Path) -> dict:
    started = time.perf_counter()
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "lmsplugins"),
            "-C",
            str(ini),
            "metroport-mvno",
            "sync",
            "--billings",
            "-m",
            "provider",
            "-s",
            DAY[0],
            "-e",
            DAY[1],
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if out.returncode not in (0, 1) or not out.stdout.strip():
        raise SystemExit(f"sync exited {out.returncode}:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    counters = dict(re.findall(r"(\w+)=(\d+)", out.stdout.strip().splitlines()[-1]))
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "stage": "sync",
        "seconds": elapsed,
        "api_records": int(counters.get("cdrs_api", 0)),
        "stored": int(counters.get("cdrs", 0)),
        "rss_mb": rss,
    }


def fetch_stage(url: str, page: int = 10_000) -> dict:
    """Every record of the day fetched page by page (``id_after``) and decoded, nothing else."""
    import requests

    from plugins.metroport_mvno.client import BILLINGS_PATH, LOGIN_PATH

    started = time.perf_counter()
    count = 0
    with requests.Session() as http:
        http.post(url + LOGIN_PATH, json={"login": "api-operator", "password": "api-secret"}, timeout=30)
        after = None
        while True:
            query = {"datestart": DAY[0], "dateend": DAY[1], "limit": page}
            if after is not None:
                query["id_after"] = after
            body = json.loads(http.get(url + BILLINGS_PATH, params=query, timeout=60).content)
            rows = body[1] if body and isinstance(body[0], int) else body
            count += len(rows)
            if len(rows) < page:
                break
            after = rows[-1]["id"]
    return {"stage": "fetch", "records": count, "seconds": time.perf_counter() - started}


SPOOL_BATCH = 20_000
"""Rows per pickled batch of the spool: write_cdrs's own batch on PostgreSQL."""


def spool(database: str, n: int, path: Path, limit: int | None = None) -> int:
    """The day's records mapped exactly as the job maps them (without HTTP), pickled in batches of tuples."""
    from plugins.metroport_mvno.client import BillingParser
    from plugins.metroport_mvno.mapping import CdrMapper
    from plugins.metroport_mvno.simulator import TRAFFIC_TYPES, Dataset

    data = Dataset(3, USERS, MOBILES, n, datetime(2023, 1, 1))
    host = Host(dbs.write_ini(Path(tempfile.mkdtemp()), "postgres", database))
    with host.engine.connect() as conn:
        numbers = voip.number_accounts(conn)
    host.dispose()
    zone = ZoneInfo("Europe/Warsaw")
    parse = BillingParser(zone)
    mapper = CdrMapper(dict(TRAFFIC_TYPES), numbers, zone)
    lo, hi = data.index_range(datetime(2023, 1, 2), datetime(2023, 1, 2, 23, 59, 59))
    if limit is not None:
        hi = min(hi, lo + limit - 1)
    count = 0
    with path.open("wb") as fh:
        for start in range(lo, hi + 1, SPOOL_BATCH):
            batch = []
            for k in range(start, min(hi, start + SPOOL_BATCH - 1) + 1):
                row = mapper.row(parse(data.record(k)), False)
                batch.append(tuple(row[c] for c in CDR_COLUMNS))
            pickle.dump(batch, fh, protocol=pickle.HIGHEST_PROTOCOL)
            count += len(batch)
    return count


def spooled(path: Path) -> Iterator[list[dict]]:
    with path.open("rb") as fh:
        while True:
            try:
                batch = pickle.load(fh)
            except EOFError:
                return
            yield [dict(zip(CDR_COLUMNS, t, strict=True)) for t in batch]


def db_stage(name: str, database: str, records: int, limit: int) -> dict:
    """Write the first *limit* rows of the day holding *records* records; only the database calls are timed."""
    host = Host(dbs.write_ini(Path(tempfile.mkdtemp()), "postgres", database))
    engine = host.engine
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM voip_cdr"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.pickle"
        spool(database, records, path, limit)
        timed = 0.0
        count = 0
        cols = ", ".join(CDR_COLUMNS)
        marks = ", ".join(["%s"] * len(CDR_COLUMNS))
        with engine.begin() as conn:
            cur = conn.connection.driver_connection.cursor()
            for batch in spooled(path):
                started = time.perf_counter()
                if name == "gateway":
                    count += voip.write_cdrs(conn, batch)
                else:
                    for row in batch:
                        cur.execute(f"INSERT INTO voip_cdr ({cols}) VALUES ({marks})", [row[c] for c in CDR_COLUMNS])
                    count += len(batch)
                timed += time.perf_counter() - started
            started = time.perf_counter()
        timed += time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"stage": name, "rows": count, "seconds": timed, "rate": count / timed, "rss_mb": rss}


def run_db_stage(name: str, database: str, records: int, limit: int) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--stage",
            name,
            "--database",
            database,
            "--records",
            str(records),
            "--baseline-rows",
            str(limit),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000, help="billing records in the day imported")
    parser.add_argument("--baseline-rows", type=int, default=100_000)
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args()
    require(postgres=True)
    if args.stage:
        print(json.dumps(db_stage(args.stage, args.database, args.records, args.baseline_rows)))
        return
    sim, url = start_simulator(args.records)
    try:
        database, ini = prepare(url, args.records)
        fetch_stage(url)  # renders the day's pages once, as a remote provider would have them ready
        fetch = fetch_stage(url)
        sync = sync_stage(ini)
    finally:
        sim.terminate()
    rate = sync["api_records"] / sync["seconds"]
    fetch_rate = fetch["records"] / fetch["seconds"]
    print(
        f"end to end: {sync['api_records']} API records ({sync['stored']} stored, the rest belong to SIMs "
        f"deleted at Metroport) in {sync['seconds']:.1f}s = {rate:,.0f} records/s (target >= 50,000); "
        f"peak RSS of the sync process {sync['rss_mb']:.0f} MB (target <= 300)"
    )
    print(
        f"fetch only (requests + json.loads, same pages): {fetch['records']} records at {fetch_rate:,.0f} records/s; "
        f"end to end / fetch only: {rate / fetch_rate:.2f}"
    )
    gateway = run_db_stage("gateway", database, args.records, args.records)
    per_row = run_db_stage("per-row", database, args.records, min(args.records, args.baseline_rows))
    print(
        f"database stage (rows mapped beforehand, writes timed): write_cdrs {gateway['rows']} rows at "
        f"{gateway['rate']:,.0f} rows/s (RSS {gateway['rss_mb']:.0f} MB); per-row INSERT of the first "
        f"{per_row['rows']} of them at {per_row['rate']:,.0f} rows/s; ratio {gateway['rate'] / per_row['rate']:.1f}x "
        "(target >= 7x)"
    )
    dbs.drop_pg_database(database)


if __name__ == "__main__":
    main()
