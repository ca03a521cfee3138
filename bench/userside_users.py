"""Benchmark: UserSide's ``get_user_list`` for a whole LMS over HTTP under gunicorn (issue 13).

Setup (PostgreSQL with the real LMS schema, a fresh database): ``--small`` customers first (default
10,000), then the rest up to ``--customers`` (default 100,000), generated inside PostgreSQL with
``generate_series``: 1.5 nodes per customer (9 in 10 with a MAC), a location address per customer (4 in
5 on a TERYT street with a building row, the rest free text), a mobile and an e-mail contact, an
internet tariff assignment (1 in 10 with a next tariff), a contract for half of them, a group, a
balance and a traffic counter per node for this month.

Measured at each size, on a fresh gunicorn (one sync worker, so its peak RSS is the request's):

- time to the last byte of ``get_user_list`` (client side, whole body read);
- the CPU seconds of the worker and of the PostgreSQL backends of the bench database (the
  machine may be shared, so wall time alone says little);
- the worker's peak RSS (``VmHWM`` in ``/proc``), which must stay flat between the two sizes;
- baseline, in the same run: one query set per customer (the same gateway asked for one customer at a
  time, nine queries each, as a naive exporter would) timed on ``--sample`` customers and scaled to the
  whole base; the ratio is HTTP time / baseline time.

Targets: last byte <= 5 s and peak RSS <= 150 MB at 100,000 customers, flat from 10,000.

    python bench/userside_users.py [--customers 100000 --small 10000 --sample 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import requests
from benchlib import cpu_seconds, free_port, peak_rss_mb, pg_database, start_gunicorn, vacuum_analyze, worker_pid
from needs import require
from sqlalchemy import text

from lmsplugins.host import Host
from lmsplugins.migrate import HOST_SOURCE, upgrade
from lmsplugins.testing import databases as dbs

KEY = "bench-userside-key-0123456789"
CITIES, STREETS, BUILDINGS = 20, 1000, 20000

DICTIONARIES = f"""
INSERT INTO networks (name, address, mask, notes) VALUES ('BENCH', 167772160, '255.0.0.0', '');
INSERT INTO taxes (value, taxed, label) VALUES (23, 1, '23%');
INSERT INTO tariffs (name, type, value, taxid, period, uprate, downrate)
SELECT 'Internet ' || g * 100, 1, 40 + g * 20, (SELECT max(id) FROM taxes), 3, g * 10000, g * 100000
FROM generate_series(1, 3) AS g;
INSERT INTO customergroups (name) SELECT 'Grupa ' || g FROM generate_series(1, 5) AS g;
INSERT INTO location_cities (id, ident, name) SELECT g, lpad(g::text, 7, '0'), 'Miasto ' || g
FROM generate_series(1, {CITIES}) AS g;
INSERT INTO location_street_types (id, name) VALUES (1, 'ul.');
INSERT INTO location_streets (id, name, ident, typeid, cityid)
SELECT g, 'Ulica ' || g, lpad(g::text, 5, '0'), 1, 1 + g % {CITIES} FROM generate_series(1, {STREETS}) AS g;
INSERT INTO location_buildings (id, city_id, street_id, building_num, zip, latitude, longitude)
SELECT b, 1 + (1 + b % {STREETS}) % {CITIES}, 1 + b % {STREETS}, (1 + b / {STREETS})::text, '00-001',
       52 + (b % 1000) / 1000.0, 21 + (b % 997) / 1000.0
FROM generate_series(1, {BUILDINGS}) AS b;
"""

CUSTOMERS = f"""
INSERT INTO customers (id, lastname, name, status, type, ten, notes, creationdate)
SELECT g, 'KLIENT ' || g, 'Jan', CASE WHEN g % 50 = 0 THEN 4 ELSE 3 END, CASE WHEN g % 6 = 5 THEN 1 ELSE 0 END,
       CASE WHEN g % 6 = 5 THEN lpad(g::text, 10, '0') ELSE '' END, CASE WHEN g % 7 = 0 THEN 'uwaga' ELSE '' END,
       1700000000
FROM generate_series(:lo, :hi) AS g;
INSERT INTO addresses (id, city, city_id, street, street_id, house, flat)
SELECT 1000000 + g,
       CASE WHEN g % 5 = 0 THEN 'Wieś ' || g % 100 ELSE 'Miasto ' || (1 + (1 + b % {STREETS}) % {CITIES}) END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE 1 + (1 + b % {STREETS}) % {CITIES} END,
       CASE WHEN g % 5 = 0 THEN '' ELSE 'ul. Ulica ' || (1 + b % {STREETS}) END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE 1 + b % {STREETS} END,
       CASE WHEN g % 5 = 0 THEN (g % 300)::text ELSE (1 + b / {STREETS})::text END,
       (g % 50)::text
FROM (SELECT g, 1 + g % {BUILDINGS} AS b FROM generate_series(:lo, :hi) AS g) AS s;
INSERT INTO customer_addresses (customer_id, address_id, type)
SELECT g, 1000000 + g, 3 FROM generate_series(:lo, :hi) AS g;
INSERT INTO nodes (name, ownerid, ipaddr, netid, passwd, login, lastonline, access, warning)
SELECT 'N' || g || '_' || k, g, 167772160 + g * 2 + k, (SELECT max(id) FROM networks), 'p' || g, 'l' || g,
       1760000000 + g, CASE WHEN g % 97 = 0 THEN 0 ELSE 1 END, CASE WHEN g % 89 = 0 THEN 1 ELSE 0 END
FROM generate_series(:lo, :hi) AS g, generate_series(0, 1) AS k WHERE k = 0 OR g % 2 = 0;
INSERT INTO macs (mac, nodeid)
SELECT lpad(to_hex(n.id), 12, '0'), n.id FROM nodes n WHERE n.ownerid BETWEEN :lo AND :hi AND n.id % 10 <> 0;
INSERT INTO customercontacts (customerid, name, contact, type)
SELECT g, '', '600' || lpad(g::text, 6, '0'), 1 FROM generate_series(:lo, :hi) AS g
UNION ALL SELECT g, '', 'k' || g || '@example.pl', 8 FROM generate_series(:lo, :hi) AS g;
INSERT INTO assignments (customerid, tariffid, datefrom, dateto, period, at)
SELECT g, (SELECT min(id) FROM tariffs) + g % 3, 1700000000, 0, 3, 1 FROM generate_series(:lo, :hi) AS g
UNION ALL SELECT g, (SELECT min(id) FROM tariffs) + (g + 1) % 3, 1900000000, 0, 3, 1
FROM generate_series(:lo, :hi) AS g WHERE g % 10 = 0;
INSERT INTO documents (type, number, fullnumber, cdate, customerid, name, address)
SELECT -1, g, 'UM/' || g, 1700000000, g, 'KLIENT ' || g, '' FROM generate_series(:lo, :hi) AS g WHERE g % 2 = 0;
INSERT INTO customerassignments (customergroupid, customerid)
SELECT (SELECT min(id) FROM customergroups) + g % 5, g FROM generate_series(:lo, :hi) AS g;
INSERT INTO customerbalances (customerid, balance) SELECT g, (g % 200) - 100 FROM generate_series(:lo, :hi) AS g;
INSERT INTO stats (nodeid, dt, upload, download)
SELECT n.id, extract(epoch FROM now())::bigint - 60, n.id * 10, n.id * 50 FROM nodes n
WHERE n.ownerid BETWEEN :lo AND :hi;
"""


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip()]


def build_database() -> tuple[str, Path]:
    name, ini = pg_database("userside_users_")
    host = Host(ini)
    upgrade(host.engine, HOST_SOURCE)
    with host.engine.begin() as conn:
        for statement in _statements(DICTIONARIES):
            conn.execute(text(statement))
    host.set_uiconfig("userside.api_key", KEY)
    host.dispose()
    return name, ini


def add_customers(ini: Path, lo: int, hi: int) -> None:
    started = time.monotonic()
    host = Host(ini)
    with host.engine.begin() as conn:
        for statement in _statements(CUSTOMERS):
            conn.execute(text(statement.replace(":lo", str(int(lo))).replace(":hi", str(int(hi)))))
    vacuum_analyze(host)
    host.dispose()
    print(f"setup: customers {lo}..{hi} in {time.monotonic() - started:.1f}s")


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving *database*, found by its process title
    (``postgres: [cluster:] user database address state``)."""
    title = f" postgres {database} ".encode()
    result = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                if cmdline.startswith(b"postgres:") and title in cmdline:
                    result[int(entry.name)] = cpu_seconds(int(entry.name))
            except OSError:
                continue
    return result


def measure(ini: Path, database: str, customers: int) -> dict[str, float]:
    port = free_port()
    proc = start_gunicorn(ini, port, "--timeout", "300")
    try:
        url = f"http://127.0.0.1:{port}/userside/api?key={KEY}&request=get_user_list"
        requests.get(f"http://127.0.0.1:{port}/userside/api?key={KEY}&request=get_user_state_list", timeout=30)
        pid = worker_pid(proc.pid)
        rss_before = peak_rss_mb(pid)
        cpu_before = cpu_seconds(pid)
        pg_before = backend_cpu(database)
        started = time.perf_counter()
        response = requests.get(url, timeout=300, stream=True)
        size = sum(len(chunk) for chunk in response.iter_content(1 << 16))
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu_before
        pg_cpu = sum(t - pg_before.get(p, 0.0) for p, t in backend_cpu(database).items())
        if response.status_code != 200:
            raise SystemExit(f"get_user_list answered {response.status_code}")
        response = requests.get(url, timeout=300)
        users = len(json.loads(response.content))
        if users != customers:
            raise SystemExit(f"get_user_list sent {users} users, expected {customers}")
        return {
            "seconds": elapsed,
            "cpu": cpu,
            "pg_cpu": pg_cpu,
            "mb": size / 1e6,
            "rss_before": rss_before,
            "rss_peak": peak_rss_mb(pid),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def baseline(ini: Path, customers: int, sample: int) -> float:
    """Seconds one query set per customer would take for the whole base, from a timed sample."""
    from plugins.userside import api
    from plugins.userside.plugin import plugin

    host = Host(ini)
    settings = host.plugin_settings(plugin)
    ids = [1 + i * (customers // sample) for i in range(sample)]
    with host.engine.connect() as conn:
        ctx = api.Context(conn, settings, {}, api.now())
        started = time.perf_counter()
        for cid in ids:
            for _ in api.user_elements(ctx, cid):
                pass
        elapsed = time.perf_counter() - started
    host.dispose()
    return elapsed / sample * customers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    require("gunicorn", postgres=True)
    if not 0 < args.small < args.customers or args.sample < 1:
        parser.error("need 0 < --small < --customers and --sample >= 1")
    name, ini = build_database()
    try:
        results = {}
        add_customers(ini, 1, args.small)
        results[args.small] = measure(ini, name, args.small)
        add_customers(ini, args.small + 1, args.customers)
        results[args.customers] = measure(ini, name, args.customers)
        base = baseline(ini, args.customers, args.sample)
        for n, r in results.items():
            print(
                f"get_user_list {n:>7} customers: last byte {r['seconds']:.2f} s (worker CPU {r['cpu']:.2f} s, "
                f"PostgreSQL CPU {r['pg_cpu']:.2f} s), "
                f"{r['mb']:.1f} MB, "
                f"worker peak RSS {r['rss_peak']:.0f} MB (after start {r['rss_before']:.0f} MB)"
            )
        big, small = results[args.customers], results[args.small]
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"baseline (one query set per customer, {args.sample} sampled): {base:.1f} s for {args.customers}; "
            f"ratio {big['seconds'] / base:.3f}"
        )
        print(
            f"targets: last byte {big['seconds']:.2f} s <= 5 s: {'ok' if big['seconds'] <= 5 else 'MISSED'}; "
            f"peak RSS {big['rss_peak']:.0f} MB <= 150 MB: {'ok' if big['rss_peak'] <= 150 else 'MISSED'}; "
            f"RSS growth {small['rss_peak']:.0f} -> {big['rss_peak']:.0f} MB "
            f"({big['rss_peak'] - small['rss_peak']:+.0f} MB for {args.customers // args.small}x the customers)"
        )
    finally:
        if args.keep:
            print(f"kept database {name} (settings {ini})")
        else:
            dbs.drop_pg_database(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
