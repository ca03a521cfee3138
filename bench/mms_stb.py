"""Benchmark: Metroport MMS STB sync (``lmsplugins metroport-mms metrotv-stb-list-update``) of 50,000 STBs
from the simulator into the embedded SQLite LMS: the first run (all inserts) and a re-run (all updates),
with the peak RSS of this process; baseline in the same run: only fetching and decoding the list
(``requests`` + ``json.loads``), the least any sync must do. Targets: <= 10 s, peak RSS <= 200 MB.

    .venv/bin/python bench/mms_stb.py [--stbs 50000]

The simulator runs in its own process; the baseline runs after the sync so its whole-document decode
does not raise the sync's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import requests
from click.testing import CliRunner
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mms_pairing import LOGIN, PASSWORD, mms_host, start_simulator

from lmsplugins.cli import main


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main_() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stbs", type=int, default=50_000)
    args = parser.parse_args()
    proc, url = start_simulator(10, args.stbs)
    try:
        host = mms_host(url)
        start_rss = rss_mb()
        timings = []
        for label in ("first run (inserts)", "re-run (updates)"):
            started = time.perf_counter()
            result = CliRunner().invoke(
                main, ["-C", str(host.ini_config.path), "metroport-mms", "metrotv-stb-list-update"]
            )
            timings.append((label, time.perf_counter() - started, result.output.strip().splitlines()[-2:]))
            if result.exit_code != 0:
                print(result.output[-2000:])
                raise SystemExit(f"the STB sync failed with exit code {result.exit_code}")
        peak = rss_mb()
        with host.engine.connect() as conn:
            stored = conn.execute(text("SELECT COUNT(*) FROM metroport_metrotv_stb")).scalar()
        session = requests.Session()
        cookie = session.post(url + "/Admins/Auth/login", json={"login": LOGIN, "password": PASSWORD}).cookies
        t0 = time.perf_counter()
        rows = json.loads(session.get(url + "/Iptv/Stbs", cookies=cookie).content)
        fetch = time.perf_counter() - t0
        print(f"STBs: {args.stbs}, stored: {stored}")
        for label, seconds, lines in timings:
            print(f"{label}: {seconds:.1f} s ({' | '.join(lines)})")
        print(
            f"peak RSS of the sync: {peak:.0f} MB (process before the first run: {start_rss:.0f} MB); "
            f"targets <= 10 s, <= 200 MB"
        )
        print(
            f"baseline fetch + json.loads only: {fetch:.1f} s for {len(rows)} rows; "
            f"ratio sync / fetch: {timings[0][1] / fetch:.1f}x (first run), {timings[1][1] / fetch:.1f}x (re-run)"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main_()
