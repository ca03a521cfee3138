"""Benchmark: the web frame's customer search and paged customer list under 50 concurrent clients.

Setup (PostgreSQL with the real LMS schema, a fresh database): the demo seed, then ``--customers``
customers (default 100,000) with billing addresses and ``--cdr`` voip_cdr rows (default 1,000,000),
generated inside PostgreSQL with ``generate_series`` and ANALYZEd. The app runs under gunicorn as in
production (``--workers`` sync workers on loopback); a logged-in session cookie is handed to ``wrk``.

Load: ``wrk`` with ``--connections`` clients (default 50) for ``--duration`` seconds per scenario, each
request drawn from a fixed mix:

- ``search``: name prefixes (many matches: a page plus a capped count), ids, NIPs and PESELs;
- ``list``: the customer list sorted by name or id, pages 1..200;
- ``baseline``: ``/healthz`` on the same server, through the same session and user check but with no
  page query and no template, measured in the same run; the ratio is page p95 / baseline p95.

Target (issue 3): p95 <= 100 ms for search and list. It prints p50/p95/p99 and requests/s.

    python bench/web_lists.py [--customers 100000 --cdr 1000000 --connections 50 --duration 15]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import requests
from benchlib import NO_PROXY, free_port, pg_database, start_gunicorn, vacuum_analyze
from needs import require
from sqlalchemy import text

from lmsplugins.demo import DEMO_LOGIN, DEMO_PASSWORD, seed
from lmsplugins.host import Host
from lmsplugins.lms.tables import countries
from lmsplugins.migrate import HOST_SOURCE, upgrade
from lmsplugins.testing import databases as dbs

_SYL1 = ["KO", "NO", "WI", "WÓ", "KA", "LE", "ZI", "SZ", "MA", "PA", "JA", "BA", "GR", "DU", "KR", "PI", "SO", "ZA"]
_SYL2 = ["WAL", "WAK", "ŚNIE", "JCI", "MIŃ", "WAN", "ELIŃ", "YMAŃ", "ZUR", "WŁO", "SIŃ", "RAN", "ABO", "DZI"]
_SYL3 = ["SKI", "SKA", "CZYK", "EK", "AK", "IAK", "OWSKI", "CKI", "ŃSKA"]

LUA = r"""
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT {\"requests\": %d, \"seconds\": %.3f, \"p50\": %.3f, \"p95\": %.3f, \"p99\": %.3f, " ..
    "\"errors\": %d, \"non2xx3xx\": %d}\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def _sql_array(items: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{s}'" for s in items) + "]"


def build_database(customers: int, cdr: int) -> tuple[str, Path]:
    name, ini = pg_database("web_lists_")
    host = Host(ini)
    upgrade(host.engine, HOST_SOURCE)
    started = time.monotonic()
    lastname = (
        f"({_sql_array(_SYL1)})[1 + g % {len(_SYL1)}] || ({_sql_array(_SYL2)})[1 + (g / {len(_SYL1)}) % {len(_SYL2)}]"
        f" || ({_sql_array(_SYL3)})[1 + (g / {len(_SYL1) * len(_SYL2)}) % {len(_SYL3)}]"
    )
    with host.engine.begin() as conn:
        conn.execute(countries.delete().where(countries.c.name == "Poland"))
        seed(conn)
        conn.execute(
            text(
                f"""
                INSERT INTO customers (id, lastname, name, status, type, ten, ssn, creationdate, divisionid)
                SELECT 1000 + g, {lastname},
                       (ARRAY['Jan','Anna','Piotr','Ewa','Marek','Zofia','Adam','Ola'])[1 + g % 8],
                       3, CASE WHEN g % 6 = 5 THEN 1 ELSE 0 END,
                       CASE WHEN g % 6 = 5 THEN lpad((1000000000 + g)::text, 10, '0') ELSE '' END,
                       CASE WHEN g % 6 = 5 THEN '' ELSE lpad((50000000000 + g)::text, 11, '0') END,
                       1700000000, 1
                FROM generate_series(1, :n) AS g
                """
            ),
            {"n": customers},
        )
        conn.execute(
            text(
                """
                INSERT INTO addresses (id, city, street, house, zip, country_id)
                SELECT 1000 + g, 'Warszawa', 'ul. Długa', (g % 200)::text, '00-' || lpad((g % 1000)::text, 3, '0'),
                       NULL
                FROM generate_series(1, :n) AS g
                """
            ),
            {"n": customers},
        )
        conn.execute(
            text(
                "INSERT INTO customer_addresses (customer_id, address_id, type) "
                "SELECT 1000 + g, 1000 + g, 1 FROM generate_series(1, :n) AS g"
            ),
            {"n": customers},
        )
        conn.execute(
            text(
                """
                INSERT INTO voip_cdr (caller, callee, call_start_time, creationdate, totaltime, billedtime, price,
                                      status, direction, type, uniqueid)
                SELECT '48221' || lpad((g % 100000)::text, 6, '0'),
                       '486' || lpad(((g * 7919) % 100000000)::text, 8, '0'),
                       1760000000 + g * 3, 1760000600 + g * 3, 30 + g % 600, g % 600, (g % 997) / 1000.0,
                       2, 1 + g % 2, g % 5, 'bench-' || g
                FROM generate_series(1::bigint, :n) AS g
                """
            ),
            {"n": cdr},
        )
        for seq, table in (("customers_id_seq", "customers"), ("addresses_id_seq", "addresses")):
            conn.execute(text(f"SELECT setval('{seq}', (SELECT max(id) FROM {table}))"))
    vacuum_analyze(host)
    host.dispose()
    print(f"setup: {customers} customers, {cdr} voip_cdr rows in {time.monotonic() - started:.1f}s ({name})")
    return name, ini


def session_cookie(base: str) -> str:
    s = requests.Session()
    page = s.get(base + "/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = s.post(base + "/login", data={"csrf_token": token, "login": DEMO_LOGIN, "password": DEMO_PASSWORD})
    if r.status_code != 200 or "/login" in r.url:
        raise SystemExit(f"login failed: {r.status_code} {r.url}")
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)


def paths(kind: str, customers: int, rng: random.Random) -> list[str]:
    out: list[str] = []
    for _ in range(2000):
        if kind == "baseline":
            out.append("/healthz")
        elif kind == "list":
            sort = rng.choice(["name", "id"])
            out.append(f"/customers?sort={sort}&order={rng.choice(['asc', 'desc'])}&page={rng.randint(1, 200)}")
        else:
            pick = rng.random()
            g = rng.randint(1, customers)
            if pick < 0.6:
                prefix = rng.choice(_SYL1) + rng.choice(_SYL2)[: rng.randint(0, 2)]
                out.append("/customers?q=" + urllib.request.quote(prefix.lower()))
            elif pick < 0.75:
                out.append(f"/customers?q={1000 + g}")
            elif pick < 0.9:
                out.append(f"/customers?q={50000000000 + g:011d}")
            else:
                out.append(f"/customers?q={1000000000 + g:010d}")
    return out


def run_wrk(base: str, cookie: str, kind: str, customers: int, connections: int, duration: int, workdir: Path) -> dict:
    rng = random.Random(kind)
    path_file = workdir / f"{kind}.paths"
    path_file.write_text("\n".join(paths(kind, customers, rng)) + "\n")
    script = workdir / "mix.lua"
    script.write_text(LUA)
    cmd = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--timeout",
        "10s",
        "-H",
        f"Cookie: {cookie}",
        "-s",
        str(script),
        base,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "WRK_PATHS": str(path_file)})
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {out.stdout}\n{out.stderr}")
    result = json.loads(line[len("RESULT ") :])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--cdr", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn's advice: 2 x cores + 1"
    )
    parser.add_argument("--keep", action="store_true", help="Keep the database (its name is printed).")
    parser.add_argument("--database", help="Reuse a database kept by --keep instead of building one (implies --keep).")
    args = parser.parse_args()
    require("gunicorn", "wrk", postgres=True)
    if args.database:
        name, args.keep = args.database, True
        ini = dbs.write_ini(Path(tempfile.mkdtemp(prefix="web_lists_")), "postgres", name, extra=NO_PROXY)
    else:
        name, ini = build_database(args.customers, args.cdr)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc: subprocess.Popen | None = None
    try:
        proc = start_gunicorn(ini, port, "--backlog", "2048", workers=args.workers)
        cookie = session_cookie(base)
        results = {}
        for kind in ("baseline", "search", "list"):
            run_wrk(base, cookie, kind, args.customers, args.connections, 3, ini.parent)  # warm-up
            results[kind] = run_wrk(base, cookie, kind, args.customers, args.connections, args.duration, ini.parent)
        base_p95 = results["baseline"]["p95"]
        print(
            f"{args.connections} clients, {args.duration}s each, gunicorn {args.workers} sync workers, "
            f"{os.cpu_count()} CPUs"
        )
        print(f"{'scenario':<10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7}  p95/baseline")
        worst = 0.0
        for kind, r in results.items():
            ratio = r["p95"] / base_p95 if base_p95 else float("nan")
            errors = r["errors"] + r["non2xx3xx"]
            print(
                f"{kind:<10} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} {r['rps']:>8.0f} {errors:>7}  "
                f"{ratio:.2f}x"
            )
            if kind != "baseline":
                worst = max(worst, r["p95"])
        verdict = "met" if worst <= 100 else "NOT met"
        print(f"target p95 <= 100 ms for search and list: {verdict} (worst p95 {worst:.1f} ms)")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        if not args.keep:
            dbs.drop_pg_database(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
