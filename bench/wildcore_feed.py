"""Benchmark: Wildcore's MikBill feed (``get_user_list``) over HTTP under gunicorn, on PostgreSQL.

Setup (the real LMS schema, a fresh database): ``--customers`` customers (default 100,000) with a
location address, one node each plus a second node for every fifth (120,000 nodes at the default),
each node on one of ``--switches`` switches (their management addresses are nodes of the switch, LMS's
convention) at a port 1..48 with one MAC, an ONU (a customer-owned ``netdevices`` row with a serial
number) for every second customer and one in ten of the others (60,000), and a contract for every
third. Generated inside PostgreSQL with ``generate_series`` and ANALYZEd; the Wildcore plugin's tables are installed.

Measured, in the same run, twice: first with a tenth of the base, then with all of it, so the figures
show how time and memory grow with size:

- the feed: ``GET /wildcore/mikbill/api/index/support?key=…&request=get_user_list`` from one gunicorn
  sync worker (started fresh for each size), time to the last byte, and the worker's peak RSS (VmHWM);
- the baseline: the same elements built customer by customer (``customer_points``, the card's way, a
  handful of queries per customer) for a ``--sample`` of customers, extrapolated to the whole base.

Targets (issue 14): at most 5 s to the last byte, worker RSS at most 150 MB and flat with size.

    python bench/wildcore_feed.py [--customers 100000 --switches 500 --sample 500]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import requests
from benchlib import cpu_seconds, free_port, peak_rss_mb, pg_database, start_gunicorn, vacuum_analyze, worker_pid
from needs import require
from sqlalchemy import text

from lmsplugins.host import Host
from lmsplugins.lms import network
from lmsplugins.testing import databases as dbs
from plugins.wildcore import mapping

KEY = "bench-feed-key-0123456789"
ADDRESS_BASE = 10_000_000


def _fill(conn, first: int, last: int, switches: int, netid: int) -> None:
    """Customers *first*..*last* with addresses, nodes, MACs, ONUs and contracts."""
    p = {"a": int(first), "b": int(last), "sw": int(switches), "net": int(netid), "addr": ADDRESS_BASE}
    statements = [
        """INSERT INTO customers (id, lastname, name, status, type, creationdate)
           SELECT g, 'Klient' || g, (ARRAY['Jan','Anna','Piotr','Ewa'])[1 + g % 4], 3, 0, 1700000000
           FROM generate_series({a}, {b}) AS g""",
        """INSERT INTO addresses (id, city, street, house, flat)
           SELECT {addr} + g, 'Gdynia', 'ul. Morska', (g % 300)::text, (g % 40)::text
           FROM generate_series({a}, {b}) AS g""",
        """INSERT INTO customer_addresses (customer_id, address_id, type)
           SELECT g, {addr} + g, 3 FROM generate_series({a}, {b}) AS g""",
        # node 2g for everyone, node 2g+1 for every fifth customer
        """INSERT INTO nodes (id, name, ownerid, ipaddr, netid, netdev, port, login)
           SELECT 2 * g, 'n' || (2 * g), g, 184549376 + 2 * g, {net}, 1 + g % {sw}, 1 + g % 48, 'login' || g
           FROM generate_series({a}, {b}) AS g""",
        """INSERT INTO nodes (id, name, ownerid, ipaddr, netid, netdev, port)
           SELECT 2 * g + 1, 'n' || (2 * g + 1), g, 184549377 + 2 * g, {net}, 1 + (g * 7) % {sw}, 1 + (g * 7) % 48
           FROM generate_series({a}, {b}) AS g WHERE g % 5 = 0""",
        """INSERT INTO macs (mac, nodeid)
           SELECT upper(substr(md5(n.id::text), 1, 2) || ':' || substr(md5(n.id::text), 3, 2) || ':' ||
                        substr(md5(n.id::text), 5, 2) || ':' || substr(md5(n.id::text), 7, 2) || ':' ||
                        substr(md5(n.id::text), 9, 2) || ':' || substr(md5(n.id::text), 11, 2)), n.id
           FROM nodes n WHERE n.ownerid BETWEEN {a} AND {b}""",
        """INSERT INTO netdevices (name, model, serialnumber, ownerid)
           SELECT 'ONU ' || g, 'F660', 'ZTEG' || upper(lpad(to_hex(g), 8, '0')), g
           FROM generate_series({a}, {b}) AS g WHERE g % 2 = 0 OR g % 10 = 1""",
        """INSERT INTO documents (type, number, fullnumber, customerid, cdate, name, address)
           SELECT -1, g, 'UM/' || g || '/2026', g, 1700000000, '', ''
           FROM generate_series({a}, {b}) AS g WHERE g % 3 = 0""",
    ]
    for statement in statements:
        conn.execute(text(statement.format(**p)))


def build_database(switches: int) -> tuple[str, Path, Host]:
    name, ini = pg_database("wildcore_feed_")
    host = Host(ini)
    dbs.install(host, "wildcore")
    with host.engine.begin() as conn:
        conn.execute(text("INSERT INTO networks (id, name, address, mask) VALUES (1, 'BENCH', 167772160, '255.0.0.0')"))
        conn.execute(
            text(
                "INSERT INTO netdevices (id, name, model, ports) "
                f"SELECT g, 'SW-' || g, 'switch', 48 FROM generate_series(1, {int(switches)}) AS g"
            )
        )
        conn.execute(
            text(
                "INSERT INTO nodes (id, name, ownerid, ipaddr, netid, netdev) "
                "SELECT 1000000000 + g, 'mgmt' || g, NULL, 167903232 + g, 1, g "
                f"FROM generate_series(1, {int(switches)}) AS g"
            )
        )
        conn.execute(text("SELECT setval('netdevices_id_seq', :sw)"), {"sw": switches})
    host.set_uiconfig("wildcore.feed_key", KEY)
    return name, ini, host


def grow(host: Host, first: int, last: int, switches: int) -> float:
    started = time.monotonic()
    with host.engine.begin() as conn:
        _fill(conn, first, last, switches, 1)
    vacuum_analyze(host)
    return time.monotonic() - started


def counts(host: Host) -> str:
    with host.engine.connect() as conn:
        c = conn.execute(text("SELECT count(*) FROM customers")).scalar()
        n = conn.execute(text("SELECT count(*) FROM nodes WHERE ownerid IS NOT NULL")).scalar()
        o = conn.execute(text("SELECT count(*) FROM netdevices WHERE ownerid IS NOT NULL")).scalar()
    return f"{c} customers, {n} nodes, {o} ONUs"


def measure_feed(ini: Path) -> tuple[float, float, float, int, int]:
    """Seconds to the last byte, worker CPU seconds, worker peak RSS (MB), bytes and elements, from a
    fresh worker."""
    port = free_port()
    proc = start_gunicorn(ini, port, "--timeout", "120")
    try:
        url = f"http://127.0.0.1:{port}/wildcore/mikbill/api/index/support"
        worker = worker_pid(proc.pid)
        cpu = cpu_seconds(worker)
        started = time.perf_counter()
        response = requests.get(url, params={"key": KEY, "request": "get_user_list"}, timeout=300, stream=True)
        first_byte = time.perf_counter() - started
        body = response.content
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(worker) - cpu
        if response.status_code != 200:
            raise SystemExit(f"feed answered {response.status_code}: {body[:200]!r}")
        rss = peak_rss_mb(worker)
        elements = len(json.loads(body))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"  headers (the document complete on the server) after {first_byte:.2f} s, body after {seconds:.2f} s")
    return seconds, cpu, rss, len(body), elements


def measure_baseline(host: Host, customers: int, sample: int) -> float:
    """Seconds the per-customer way would take for the whole base, from a random sample."""
    rng = random.Random(14)
    ids = rng.sample(range(1, customers + 1), min(sample, customers))
    started = time.perf_counter()
    size = 0
    with host.engine.connect() as conn:
        for cid in ids:
            customer = network.customer_points(conn, cid)
            if customer is not None:
                size += len(json.dumps(mapping.feed_elements(customer)))
    per_customer = (time.perf_counter() - started) / len(ids)
    return per_customer * customers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--switches", type=int, default=500)
    parser.add_argument("--sample", type=int, default=500, help="customers in the per-customer baseline")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    require("gunicorn", postgres=True)
    name, ini, host = build_database(args.switches)
    results = []
    try:
        done = 0
        for size in (args.customers // 10, args.customers):
            setup = grow(host, done + 1, size, args.switches)
            done = size
            print(f"setup: {counts(host)} ({setup:.1f}s)")
            seconds, cpu, rss, length, elements = measure_feed(ini)
            baseline = measure_baseline(host, size, args.sample)
            results.append((size, seconds, rss))
            print(
                f"feed {size} customers: {elements} elements, {length / 1e6:.1f} MB, {seconds:.2f} s to the last byte "
                f"(worker CPU {cpu:.2f} s), worker peak RSS {rss:.0f} MB; per-customer baseline (sample "
                f"{args.sample}, extrapolated) {baseline:.1f} s; ratio feed/baseline {seconds / baseline:.4f}"
            )
            print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        (small, t_small, m_small), (large, t_large, m_large) = results
        print(
            f"growth x{large / small:.0f} customers: time x{t_large / t_small:.1f}, peak RSS x{m_large / m_small:.2f} "
            f"({m_small:.0f} -> {m_large:.0f} MB); targets: <= 5 s ({'met' if t_large <= 5 else 'MISSED'}), "
            f"<= 150 MB ({'met' if m_large <= 150 else 'MISSED'})"
        )
    finally:
        host.dispose()
        if not args.keep:
            dbs.drop_pg_database(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
