"""Benchmark: Metroport MMS pairing (``lmsplugins metroport-mms customer-update``) of 100,000 LMS customers
against an MMS of 100,000 users on the simulator, end to end (user list, matching, pairs written), with
the number of API calls; baseline: the PHP plugin's way, one ``GET /Users/users?pesel=|nip=`` per
customer, timed on a sample in the same run and scaled to all customers. Target: <= 60 s, fewer calls
than customers.

    .venv/bin/python bench/mms_pairing.py [--customers 100000] [--sample 300]

The simulator runs in its own process (as the provider would), the LMS database is the embedded SQLite.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import free_port
from click.testing import CliRunner
from sqlalchemy import text

from lmsplugins.cli import main
from lmsplugins.db import bulk_insert
from lmsplugins.host import Host
from lmsplugins.lms import tables as t
from lmsplugins.testing import databases as dbs
from plugins.metroport_mms.client import MemoryTokenStore, MMSClient
from plugins.metroport_mms.mapping import format_nip
from plugins.metroport_mms.simdata import Dataset

LOGIN, PASSWORD = "bench", "bench-pass"


def start_simulator(users: int, stbs: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "plugins.metroport_mms.simulator",
            "--port",
            str(port),
            "--users",
            str(users),
            "--stbs",
            str(stbs),
            "--accounts",
            "0",
            "--login",
            LOGIN,
            "--password",
            PASSWORD,
        ],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    return proc, f"http://127.0.0.1:{port}"


def mms_host(url: str) -> Host:
    """The embedded SQLite LMS with the plugin's tables, set to talk to the simulator at *url*."""
    host = dbs.sqlite_host(Path(tempfile.mkdtemp(prefix="mms-bench-")))
    dbs.install(host, "metroport_mms")
    for key, value in {"serwer_url": url, "api_login": LOGIN, "api_pass": PASSWORD}.items():
        host.set_uiconfig(f"metroport.{key}", value)
    return host


def stats(url: str) -> dict:
    with urlopen(url + "/_control/stats") as response:
        return json.load(response)


def main_() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=300)
    args = parser.parse_args()
    n = args.customers
    proc, url = start_simulator(n, 0)
    try:
        host = mms_host(url)
        users = list(Dataset(1, n, 0, accounts=0).users.values())  # the simulator's data, same seed
        rows = []
        for i, u in enumerate(users):
            company = u["customertype"] == "1"
            rows.append(
                {
                    "lastname": u["lastname"],
                    "name": u["name"],
                    "type": 1 if company else 0,
                    "ssn": (u["pesel"] if i % 2 else f"{u['pesel'][:6]} {u['pesel'][6:]}") if u["pesel"] else "",
                    "ten": u["nip"].replace("-", "") if company else "",
                    "status": 3,
                    "deleted": 0,
                }
            )
        with host.engine.begin() as conn:
            bulk_insert(conn, t.customers, rows)
        before = stats(url)["requests"]
        started = time.perf_counter()
        result = CliRunner().invoke(main, ["-C", str(host.ini_config.path), "metroport-mms", "customer-update", "-q"])
        elapsed = time.perf_counter() - started
        after = stats(url)["requests"]
        calls = sum(after.values()) - sum(before.values())
        with host.engine.connect() as conn:
            paired = conn.execute(text("SELECT COUNT(*) FROM metroport_customers")).scalar()
        if result.exit_code != 0:
            print(result.output[-2000:])
            raise SystemExit(f"the pairing job failed with exit code {result.exit_code}")

        client = MMSClient(url, LOGIN, PASSWORD, token_store=MemoryTokenStore())
        client.token()
        sample = rows[: args.sample]
        t0 = time.perf_counter()
        found = 0
        for row in sample:
            if row["type"] == 1 and row["ten"]:
                found += bool(client.search_users(nip=format_nip(row["ten"])))
            elif row["ssn"]:
                found += bool(client.search_users(pesel=row["ssn"].replace(" ", "")))
        per_customer = (time.perf_counter() - t0) / len(sample)
        baseline = per_customer * n
        print(f"customers: {n}, MMS users: {n}, paired: {paired}")
        print(
            f"pairing job end to end: {elapsed:.1f} s, API calls: {calls} (target <= 60 s, fewer calls than customers)"
        )
        print(
            f"baseline (one search per customer, {len(sample)} sampled, {found} hits): {per_customer * 1000:.2f} ms"
            f" per customer -> {baseline:.1f} s and {n} API calls for {n} customers"
        )
        print(f"ratio: {baseline / elapsed:.1f}x faster, {n / max(calls, 1):.0f}x fewer API calls")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main_()
