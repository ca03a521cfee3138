"""Benchmark: Hiperus C5 CDR import end to end, its database stage against per-row INSERTs, API calls.

What it measures, each stage in its own process so peak RSS is per stage (as in bench/cdr_write.py):

- ``e2e``: ``lmsplugins hiperus-c5 import -b`` exactly as cron runs it, against the simulator served
  on loopback by a separate process (it shares the machine's cores, not our process), into a fresh
  real-schema PostgreSQL database: HTTP, streaming SOAP decoding, mapping (time zone conversion,
  terminal matching) and the upsert into ``hv_billing``.
- ``decode``: the client alone on the same answer (``HiperusClient.iter_billing``, no mapping, no
  database), to show what SOAP decoding costs.
- ``db``: the database stage alone. The same CDRs, generated and mapped once beforehand (untimed)
  into a temporary file of pickled row tuples, are read back and written through the job's upsert
  (dict rows, COPY batches of 10,000, a commit every 100,000 rows, cyclic GC paused as the job
  pauses it; the per-row baseline runs under the same GC setting).
- ``per-row``: the first ``--baseline-rows`` of those same mapped rows, read from the same file, one
  INSERT each in one transaction (the PHP plugin's pattern); compared as rows per second. db and
  per-row runs alternate (``--repeat``) and the best of each counts, so a passing load on a shared
  machine does not decide the ratio (per-row INSERTs are latency-bound and swing the most).
- ``generate``: record generation and mapping alone (what the db stage no longer includes).
- API calls of a full ``import --all`` for ``--accounts`` accounts, counted at the simulator, against
  what the PHP script makes for the same platform (spec §4: one list call per kind, per-account calls
  for terminals, numbers and end users, one usage call per range, plus a session check per
  HiperusLib object, which the script creates once per step).

Targets (issue 4): e2e >= 25,000 CDR/s, db >= 7 x per-row, peak RSS <= 300 MB whatever N.

    .venv/bin/python bench/hiperus_billing.py --cdrs 1000000
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import islice
from pathlib import Path

from benchlib import free_port
from needs import require
from sqlalchemy import text

from lmsplugins.host import Host
from lmsplugins.testing import databases as dbs

SEED = 1
CUSTOMERS = 50
DAY0 = date(2024, 1, 1)
DAYS = 10
REPO = Path(__file__).resolve().parents[1]


def per_day(n: int) -> int:
    return max(1, n // DAYS)


def _host(database: str) -> Host:
    return Host(dbs.write_ini(Path(tempfile.mkdtemp()), "postgres", database))


def _settings(host: Host, url: str, state_dir: str) -> None:
    for key, value in {
        "api_url": url,
        "username": "reseller",
        "password": "secret",
        "domain": "demo.hiperus.pl",
        "state_dir": state_dir,
        "throttle_calls": "1000",
        "throttle_period": "1",
    }.items():
        host.set_uiconfig(f"hiperus_c5.{key}", value)


def _records(n: int):
    from plugins.hiperus_c5.simulator import CDR_FIELDS, CdrGenerator, Scale, State

    state = State(SEED, Scale(customers=CUSTOMERS, cdrs_per_day=per_day(n)))
    gen = CdrGenerator(state)
    records = gen.records(DAY0, DAY0 + timedelta(days=DAYS - 1), ["outgoing"], True, None)
    return (dict(zip(CDR_FIELDS, values, strict=True)) for values in records), state


def _terminals(host: Host) -> dict:
    with host.engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(text("SELECT username, customerid FROM hv_terminal"))}


def _mapped_chunks(path: str) -> Iterator[list[tuple]]:
    with open(path, "rb") as fh:
        while True:
            try:
                yield pickle.load(fh)
            except EOFError:
                return


def prepare(database: str, n: int, path: str) -> None:
    """Generate and map the CDRs the simulator serves for ``--cdrs n`` once, into *path* as pickled
    chunks of row tuples."""
    from plugins.hiperus_c5 import mapping

    host = _host(database)
    mapper = mapping.CdrMapper("Europe/Warsaw", _terminals(host))
    records, _ = _records(n)
    rows = (mapper.row(r, True) for r in records)
    with open(path, "wb") as fh:
        while chunk := list(islice(rows, 10_000)):
            pickle.dump(chunk, fh, protocol=pickle.HIGHEST_PROTOCOL)


def stage(database: str, name: str, n: int, url: str, rows_file: str) -> dict:
    from lmsplugins.db import upsert
    from plugins.hiperus_c5 import mapping
    from plugins.hiperus_c5.jobs import CDR_BATCH_ROWS, CDR_COMMIT_ROWS, cdr_stream_gc
    from plugins.hiperus_c5.tables import hv_billing

    host = _host(database)
    engine = host.engine
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE TABLE hv_billing"))
    cols = mapping.BILLING_COLUMNS
    started = time.perf_counter()
    if name == "e2e":
        from click.testing import CliRunner

        from lmsplugins.cli import main

        last = DAY0 + timedelta(days=DAYS - 1)
        result = CliRunner().invoke(
            main,
            [
                "-C",
                str(host.ini_config.path),
                "hiperus-c5",
                "import",
                "-q",
                "-b",
                "-Y",
                "outgoing",
                "-S",
                "yes",
                "-F",
                f"{DAY0:%Y/%m/%d}",
                "-T",
                f"{last:%Y/%m/%d}",
            ],
        )
        if result.exit_code != 0:
            raise SystemExit(f"import failed ({result.exit_code}): {result.output[-2000:]}")
    elif name == "decode":
        from plugins.hiperus_c5.client import HiperusClient, NoThrottle

        client = HiperusClient("reseller", "secret", "demo.hiperus.pl", url, throttle=NoThrottle())
        last = DAY0 + timedelta(days=DAYS - 1)
        n = sum(1 for _ in client.iter_billing(DAY0, last, success_calls=True, calltype="outgoing"))
    elif name == "generate":
        mapper = mapping.CdrMapper("Europe/Warsaw", _terminals(host))
        records, _ = _records(n)
        n = 0
        for r in records:
            mapper.row(r, True)
            n += 1
    elif name == "db":
        dict_rows = (dict(zip(cols, t, strict=True)) for chunk in _mapped_chunks(rows_file) for t in chunk)
        with cdr_stream_gc() as collect:
            while True:
                with engine.begin() as conn:
                    sent = upsert(
                        conn, hv_billing, islice(dict_rows, CDR_COMMIT_ROWS), key=["id"], batch_size=CDR_BATCH_ROWS
                    )
                collect()
                if not sent:
                    break
    else:
        tuples = islice((t for chunk in _mapped_chunks(rows_file) for t in chunk), n)
        sql = f"INSERT INTO hv_billing ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
        with cdr_stream_gc(), engine.begin() as conn:
            cur = conn.connection.driver_connection.cursor()
            for t in tuples:
                cur.execute(sql, t)
    elapsed = time.perf_counter() - started
    with engine.connect() as conn:
        stored = int(conn.execute(text("SELECT COUNT(*) FROM hv_billing")).scalar() or 0)
    if name == "e2e":
        n = stored
    elif name in ("db", "per-row") and stored != n:
        raise SystemExit(f"{name} stored {stored} rows, expected {n}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"stage": name, "rows": n, "seconds": elapsed, "rate": n / elapsed, "rss_mb": rss_mb}


def run_stage(database: str, name: str, n: int, url: str = "", rows_file: str = "") -> dict:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--stage",
            name,
            "--database",
            database,
            "--cdrs",
            str(n),
            "--url",
            url,
            "--rows-file",
            rows_file,
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    if out.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{out.stderr[-3000:]}{out.stdout[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def api_calls(accounts: int, database: str, state_dir: str) -> dict:
    """Calls of ``import --all`` for *accounts* accounts, counted at the simulator, and the PHP script's."""
    from click.testing import CliRunner

    from lmsplugins.cli import main
    from lmsplugins.simserver import serve
    from plugins.hiperus_c5.simulator import Scale, make_app

    ranges = max(1, accounts * 2 // 250 + 1)
    sim = make_app(SEED, Scale(customers=accounts, ranges=ranges, range_size=250, cdrs_per_day=1), rate_limit=None)
    host = _host(database)
    with serve(sim) as server:
        _settings(host, server.url + "/hiperusapi.php", state_dir)
        with host.engine.begin() as conn:
            conn.execute(text("DELETE FROM lmsplugins_state"))
        result = CliRunner().invoke(main, ["-C", str(host.ini_config.path), "hiperus-c5", "import", "-q", "--all"])
        if result.exit_code != 0:
            raise SystemExit(f"import --all failed: {result.output[-2000:]}")
    ours = sum(v for k, v in sim.stats.items() if k.startswith("action:"))
    n, r = accounts, len(sim.state.ranges)
    php_calls = 1 + n + n + 1 + r + n + 1 + 1 + 1
    php_sessions = 7
    php_sleeps = n * 1 + n * 1 + n * 2 + r * 2
    return {
        "accounts": n,
        "ranges": r,
        "ours": ours,
        "php": php_calls + php_sessions,
        "ours_minutes_at_7_per_5s": ours * 5 / 7 / 60,
        "php_minutes": ((php_calls + php_sessions) * 5 / 7 + php_sleeps) / 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cdrs", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=200_000, help="rows for the per-row baseline")
    parser.add_argument("--accounts", type=int, default=1000, help="accounts for the API call count")
    parser.add_argument("--repeat", type=int, default=2, help="alternating runs of db and per-row; best counts")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--rows-file", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    require(postgres=True)
    if args.stage == "prepare":
        prepare(args.database, args.cdrs, args.rows_file)
        return
    if args.stage:
        print(json.dumps(stage(args.database, args.stage, args.cdrs, args.url, args.rows_file)))
        return
    n = args.cdrs
    template = "lmsplugins_hvbench_tpl"
    dbs.create_pg_template(template)
    database = dbs.create_pg_database(template, prefix="lmsplugins_hvbench")
    state_dir = tempfile.mkdtemp(prefix="hvbench-")
    rows_file = str(Path(state_dir) / "mapped-rows.pickle")
    port = free_port()
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "plugins.hiperus_c5.simulator",
            "--port",
            str(port),
            "--seed",
            str(SEED),
            "--customers",
            str(CUSTOMERS),
            "--cdrs-per-day",
            str(per_day(n)),
            "--no-rate-limit",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        host = _host(database)
        dbs.install(host, "hiperus_c5")
        url = f"http://127.0.0.1:{port}/hiperusapi.php"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        _settings(host, url, state_dir)
        from click.testing import CliRunner

        from lmsplugins.cli import main as cli_main

        setup = CliRunner().invoke(
            cli_main, ["-C", str(host.ini_config.path), "hiperus-c5", "import", "-q", "-c", "-t"]
        )
        if setup.exit_code != 0:
            raise SystemExit(f"account import failed: {setup.output}")
        host.dispose()
        e2e = run_stage(database, "e2e", n, url)
        n_rows = e2e["rows"]
        decode = run_stage(database, "decode", n_rows, url)
        gen = run_stage(database, "generate", n)
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--stage",
                "prepare",
                "--database",
                database,
                "--cdrs",
                str(n),
                "--rows-file",
                rows_file,
            ],
            check=True,
            cwd=REPO,
        )
        runs: dict[str, list[dict]] = {"db": [], "per-row": []}
        for _ in range(args.repeat):
            runs["db"].append(run_stage(database, "db", n_rows, rows_file=rows_file))
            runs["per-row"].append(run_stage(database, "per-row", min(args.baseline_rows, n_rows), rows_file=rows_file))
        db, per_row = (max(runs[k], key=lambda r: r["rate"]) for k in ("db", "per-row"))
        calls = api_calls(args.accounts, database, state_dir)
    finally:
        Path(rows_file).unlink(missing_ok=True)
        sim.terminate()
        sim.wait(timeout=10)
        dbs.drop_pg_database(database)
        dbs.drop_pg_database(template)
    print(
        f"== Hiperus C5 billing import, PostgreSQL, {n_rows:,} CDRs "
        f"(record generation + mapping alone: {gen['rate']:,.0f} rows/s, not in the db stage)"
    )
    rates = {k: ", ".join(f"{r['rate']:,.0f}" for r in v) for k, v in runs.items()}
    print(f"   db and per-row: best of {args.repeat} alternating runs (db {rates['db']}; per-row {rates['per-row']})")
    for r in (e2e, decode, db, per_row):
        print(
            f"   {r['stage']:<8} {r['rows']:>10,} rows {r['seconds']:8.1f} s {r['rate']:>10,.0f} CDR/s "
            f"peak RSS {r['rss_mb']:6.0f} MB"
        )
    print(f"   end to end: {e2e['rate']:,.0f} CDR/s (target >= 25,000); client decoding alone {decode['rate']:,.0f}")
    print(f"   db stage / per-row INSERT: {db['rate'] / per_row['rate']:.1f}x (target >= 7)")
    print(f"   peak RSS: e2e {e2e['rss_mb']:.0f} MB, db {db['rss_mb']:.0f} MB (target <= 300)")
    print(
        f"   import --all for {calls['accounts']} accounts and {calls['ranges']} ranges: {calls['ours']} API calls "
        f"(~{calls['ours_minutes_at_7_per_5s']:.0f} min at 7 calls/5 s); PHP script: {calls['php']} calls "
        f"+ fixed sleeps (~{calls['php_minutes']:.0f} min)"
    )


if __name__ == "__main__":
    main()
