"""Benchmark: ``lmsplugins notify`` block and unblock on 100,000 customers, 20,000 of them debtors.

On PostgreSQL with the real LMS schema (a fresh database), every customer has a billing address, a
node with access, an active invoiced assignment and a charge 60 days old; every fifth customer has
not paid it. The runs:

- ``block``: ``lmsplugins notify -c block -q`` (core actions node-access, customer-status,
  assignment-invoice), then the debtors pay and ``-c unblock -q`` gives everything back;
- ``baseline``: the same customers, nodes and assignments (chosen by the same query), changed the
  way lms-notify.php does it: one UPDATE per node, per customer, per assignment.

The seed and the payments load ``cash`` with LMS's balance trigger off and set ``customerbalances``
in one statement: the trigger looks each customer up in ``customerbalances``, which has no index, so
row by row the load is quadratic (not what is measured here).

Both are timed end to end (the command as a subprocess, so Python's start-up is in our figure; the
baseline only for its statements) and the database is reset between them. With ``--logs`` LMS's
transaction log (``logs.enabled``) is on for our runs too. Target (issue 12): block and unblock
each <= 20 s.

    python bench/notify.py [--customers 100000] [--debtors-every 5] [--logs]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from needs import require
from sqlalchemy import Connection, Table, text, update

import lmsplugins.cli  # noqa: F401  (loads lmsplugins.notify through the CLI, whose module it imports)
from lmsplugins.host import Host
from lmsplugins.lms.debtors import DebtorQuery, debtors
from lmsplugins.lms.notify_actions import chunks
from lmsplugins.lms.tables import assignments, customers, nodes
from lmsplugins.migrate import HOST_SOURCE, upgrade
from lmsplugins.notify import choose, parse_actions, registry
from lmsplugins.testing import databases as dbs

SEED = """
INSERT INTO networks (name, address, mask, notes) VALUES ('LAN', 167772160, '255.0.0.0', '');
INSERT INTO taxes (value, taxed, label) VALUES (23, 1, '23%');
INSERT INTO tariffs (name, value, taxid, period) VALUES ('Net', 50, (SELECT MAX(id) FROM taxes), 3);
INSERT INTO customers (id, lastname, name, status, type)
    SELECT g, 'C' || g, 'Jan', 3, 0 FROM generate_series(1, :n) g;
SELECT setval('customers_id_seq', :n);
INSERT INTO addresses (id, city) SELECT :aoff + g, 'Gdynia' FROM generate_series(1, :n) g;
SELECT setval('addresses_id_seq', :aoff + :n);
INSERT INTO customer_addresses (customer_id, address_id, type) SELECT g, :aoff + g, 1 FROM generate_series(1, :n) g;
INSERT INTO nodes (name, ownerid, access, netid, ipaddr)
    SELECT 'n' || g, g, 1, (SELECT MAX(id) FROM networks), 167772160 + g FROM generate_series(1, :n) g;
INSERT INTO assignments (customerid, tariffid, invoice, period, datefrom)
    SELECT g, (SELECT MAX(id) FROM tariffs), 1, 3, :now - 90 * 86400 FROM generate_series(1, :n) g;
ALTER TABLE cash DISABLE TRIGGER USER;
INSERT INTO cash (time, type, value, customerid) SELECT :now - 60 * 86400, 0, -50, g FROM generate_series(1, :n) g;
INSERT INTO cash (time, type, value, customerid, comment)
    SELECT :now - 30 * 86400, 1, 50, g, 'paid' FROM generate_series(1, :n) g WHERE g % :every <> 0;
ALTER TABLE cash ENABLE TRIGGER USER;
INSERT INTO customerbalances (customerid, balance)
    SELECT customerid, SUM(value * currencyvalue) FROM cash GROUP BY customerid;
"""
RESET = """
UPDATE nodes SET access = 1 WHERE access <> 1;
UPDATE customers SET status = 3 WHERE status <> 3;
UPDATE assignments SET invoice = 1 WHERE invoice <> 1;
ALTER TABLE cash DISABLE TRIGGER USER;
DELETE FROM cash WHERE comment = 'late payment';
ALTER TABLE cash ENABLE TRIGGER USER;
UPDATE customerbalances SET balance = balance - 50 WHERE customerid % :every = 0;
"""
PAY = """
ALTER TABLE cash DISABLE TRIGGER USER;
INSERT INTO cash (time, type, value, customerid, comment)
    SELECT :now - 60, 1, 50, g, 'late payment' FROM generate_series(1, :n) g WHERE g % :every = 0;
ALTER TABLE cash ENABLE TRIGGER USER;
UPDATE customerbalances SET balance = balance + 50 WHERE customerid % :every = 0;
"""


def sql(host: Host, script: str, **params: int) -> None:
    with host.engine.begin() as conn:
        for statement in filter(str.strip, script.split(";")):
            conn.execute(text(statement), params)


def ours(ini: Path, channel: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lmsplugins"), "-C", str(ini), "notify", "-c", channel, "-q"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"notify -c {channel} failed: {done.stderr.strip()}")
    return time.perf_counter() - started


def one_by_one(conn: Connection, select_sql: str, ids: list[int], table: Table, **values: int) -> int:
    """The rows *select_sql* picks among *ids* (in chunks), then one UPDATE per row, as the PHP does."""
    picked: list[int] = []
    for part in chunks(ids):
        picked += conn.execute(text(select_sql), {"ids": part}).scalars().all()
    for row_id in picked:
        conn.execute(update(table).where(table.c.id == row_id).values(**values))
    return len(picked)


def baseline(host: Host, channel: str) -> tuple[float, int]:
    """lms-notify.php's way on the same selection: one UPDATE per node, customer and assignment."""
    block = channel == "block"
    with host.engine.begin() as conn:
        query = DebtorQuery(now=int(time.time()))
        found = debtors(conn, query)
        actions = parse_actions("node-access,customer-status,assignment-invoice", registry(host))
        ids, _names, node_ids = choose(conn, channel, query, list(found), actions)
        started = time.perf_counter()
        written = one_by_one(
            conn,
            f"SELECT id FROM nodes WHERE access = {1 if block else 0} AND id = ANY(:ids)",
            node_ids,
            nodes,
            access=0 if block else 1,
        )
        cond = "status <> 5" if block else "status = 5"
        written += one_by_one(
            conn, f"SELECT id FROM customers WHERE {cond} AND id = ANY(:ids)", ids, customers, status=5 if block else 3
        )
        cond = "invoice = 1" if block else "invoice <> 1"
        written += one_by_one(
            conn,
            f"SELECT id FROM assignments WHERE {cond} AND customerid = ANY(:ids)",
            ids,
            assignments,
            invoice=0 if block else 1,
        )
        return time.perf_counter() - started, written


def changed(host: Host) -> tuple[int, int, int]:
    with host.engine.connect() as conn:
        return (
            conn.execute(text("SELECT COUNT(*) FROM nodes WHERE access = 0")).scalar(),
            conn.execute(text("SELECT COUNT(*) FROM customers WHERE status = 5")).scalar(),
            conn.execute(text("SELECT COUNT(*) FROM assignments WHERE invoice = 0")).scalar(),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--debtors-every", type=int, default=5, help="every Nth customer is a debtor")
    parser.add_argument("--logs", action="store_true", help="LMS's transaction log on (logs.enabled)")
    args = parser.parse_args()
    require(postgres=True)
    reason = dbs.pg_unavailable()
    if reason:
        raise SystemExit(f"bench/notify.py needs PostgreSQL: {reason}")
    template = "lmsplugins_bench_notify_tpl"
    dbs.create_pg_template(template)
    database = dbs.create_pg_database(template, prefix="lmsplugins_bench_notify")
    try:
        extra = "[logs]\nenabled = 1\n" if args.logs else ""
        ini = dbs.write_ini(Path(tempfile.mkdtemp()), "postgres", database, extra=extra)
        host = Host(ini)
        upgrade(host.engine, HOST_SOURCE)
        now, n, every = int(time.time()), args.customers, args.debtors_every
        started = time.perf_counter()
        with host.engine.connect() as conn:
            aoff = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM addresses")).scalar()
        sql(host, SEED, n=n, now=now, every=every, aoff=aoff)
        sql(host, "ANALYZE")
        print(f"seeded {n} customers, {n // every} debtors in {time.perf_counter() - started:.1f}s")

        block = ours(ini, "block")
        blocked = changed(host)
        sql(host, PAY, n=n, now=now, every=every)
        unblock = ours(ini, "unblock")
        after = changed(host)
        sql(host, RESET, n=n, now=now, every=every)
        base_block, rows_block = baseline(host, "block")
        sql(host, PAY, n=n, now=now, every=every)
        base_unblock, rows_unblock = baseline(host, "unblock")
        assert changed(host) == after == (0, 0, 0), (changed(host), after)
        print(f"block:   {block:6.2f} s  (nodes, customers, assignments changed: {blocked})")
        print(f"unblock: {unblock:6.2f} s  (left blocked after: {after})")
        print(f"baseline per-row block:   {base_block:6.2f} s for {rows_block} statements")
        print(f"baseline per-row unblock: {base_unblock:6.2f} s for {rows_unblock} statements")
        print(f"ratio baseline/ours: block {base_block / block:.2f}x, unblock {base_unblock / unblock:.2f}x")
        print(f"target <= 20 s each: {'met' if max(block, unblock) <= 20 else 'MISSED'}")
    finally:
        dbs.drop_pg_database(database)
        dbs.drop_pg_database(template)


if __name__ == "__main__":
    main()
