"""Benchmark: customer matching of ``metroport-mvno sync --customers`` at scale.

100,000 LMS customers (real-schema PostgreSQL) against 100,000 Metroport users with messy identifiers:
load the identity index from the database, plan the bindings (normalised NIP/PESEL/ID card, both-side
ambiguity), and write the bindings, as the job does (no HTTP: the user list is built in-process).
Baseline, measured in the same run: the naive matcher that scans every customer for every user
(the PHP script's per-customer loops), timed on a sample of users and scaled to all of them.
Target (issue 5): at most 5 s.

    .venv/bin/python bench/mvno_match.py --customers 100000 --users 100000
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from needs import require

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lmsplugins.host import Host
from lmsplugins.lms import customers as lms_customers
from lmsplugins.lms import tables as t
from lmsplugins.testing import databases as dbs
from plugins.metroport_mvno import mapping
from plugins.metroport_mvno.client import MetroportUser


def identities(n: int, seed: int = 7) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    return [
        (
            f"{rng.randrange(10**9, 10**10)}",
            f"{rng.randrange(10**10, 10**11)}",
            "".join(rng.choice("ABCDEFGH") for _ in range(3)) + f"{rng.randrange(10**6):06d}",
        )
        for _ in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--baseline-sample", type=int, default=300)
    args = parser.parse_args()
    require(postgres=True)
    ids = identities(max(args.customers, args.users))
    template = "lmsplugins_bench_match_tpl"
    dbs.create_pg_template(template)
    database = dbs.create_pg_database(template, prefix="lmsplugins_bench_match")
    host = Host(dbs.write_ini(Path(tempfile.mkdtemp()), "postgres", database))
    dbs.install(host, "metroport_mvno")
    with host.engine.begin() as conn:
        conn.execute(
            t.customers.insert(),
            [
                {
                    "lastname": f"C{i}",
                    "name": "",
                    "ten": ten if i % 3 == 0 else "",
                    "ssn": ssn if i % 3 == 1 else "",
                    "icn": icn if i % 3 == 2 else "",
                    "deleted": 0,
                    "creationdate": 0,
                    "moddate": 0,
                    "type": 0,
                    "status": 3,
                }
                for i, (ten, ssn, icn) in enumerate(ids[: args.customers])
            ],
        )
    users = []
    for i, (ten, ssn, icn) in enumerate(ids[: args.users]):
        messy_ten = f"PL {ten[:3]}-{ten[3:6]}-{ten[6:8]}-{ten[8:]}" if i % 2 else ten
        users.append(
            MetroportUser(
                id=10_000 + i,
                name=f"U{i}",
                nip=messy_ten if i % 3 == 0 else None,
                pesel=f" {ssn} " if i % 3 == 1 else None,
                idcardno=icn.lower() if i % 3 == 2 else None,
            )
        )
    started = time.perf_counter()
    with host.engine.begin() as conn:
        spid = lms_customers.service_provider_id(conn, "Metroport MVNO")
        index = lms_customers.IdentityIndex.load(conn)
        loaded = time.perf_counter()
        plan = mapping.plan_bindings(users, index, lms_customers.extids(conn, spid))
        planned = time.perf_counter()
        lms_customers.bind_extids(conn, [(c, str(u.id)) for c, u, _ in plan.bindings], spid)
        written = time.perf_counter()
    elapsed = time.perf_counter() - started
    with host.engine.connect() as conn:
        rows = [
            (r.id, r.ten, r.ssn, r.icn)
            for r in conn.execute(
                t.customers.select().with_only_columns(
                    t.customers.c.id, t.customers.c.ten, t.customers.c.ssn, t.customers.c.icn
                )
            )
        ]
    sample = random.Random(1).sample(users, min(len(users), args.baseline_sample))
    b0 = time.perf_counter()
    naive_hits = 0
    for u in sample:
        ident = mapping.identity(u)
        for _cid, ten, ssn, icn in rows:
            if (
                (ident["ten"] and lms_customers.normalize_ten(ten) == ident["ten"])
                or (ident["ssn"] and lms_customers.normalize_ssn(ssn) == ident["ssn"])
                or (ident["icn"] and lms_customers.normalize_icn(icn) == ident["icn"])
            ):
                naive_hits += 1
                break
    naive = (time.perf_counter() - b0) * len(users) / len(sample)
    print(
        f"{args.customers} customers x {len(users)} users: {len(plan.bindings)} bound in {elapsed:.2f}s "
        f"(load {loaded - started:.2f}s, plan {planned - loaded:.2f}s, write {written - planned:.2f}s); "
        f"target <= 5 s"
    )
    print(
        f"naive scan baseline: {naive:.0f}s (measured on {len(sample)} users, {naive_hits} hits, scaled); "
        f"ratio {naive / elapsed:,.0f}x"
    )
    host.dispose()
    dbs.drop_pg_database(database)


if __name__ == "__main__":
    main()
