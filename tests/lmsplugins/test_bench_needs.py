"""Every benchmark that needs a tool or a database server says so in one line and exits, instead of
ending in a traceback half-way (here with no wrk on PATH and the database servers unreachable)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
CHECKED = sorted(p.name for p in BENCH.glob("*.py") if "from needs import require" in p.read_text(encoding="utf-8"))


def test_the_database_benchmarks_check_first():
    assert {"cdr_write.py", "web_lists.py", "mvno_billing.py", "hiperus_billing.py"} <= set(CHECKED)


@pytest.mark.parametrize("script", CHECKED)
def test_missing_piece_is_one_line(tmp_path, script):
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LMSPLUGINS_TEST_PGPORT": "1",
        "LMSPLUGINS_TEST_MYPORT": "1",
    }
    proc = subprocess.run(
        [sys.executable, str(BENCH / script)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("this benchmark"), proc.stderr
