"""What the benchmarks share: a fresh PostgreSQL database with the real LMS schema, a free loopback port,
the web app under gunicorn as in production, and the /proc readings (peak RSS, CPU seconds) that make a
figure comparable on a shared machine. One copy here, so every bench measures the same way.

Benchmarks import it by name (``python bench/x.py`` puts this folder first on ``sys.path``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import text

from lmsplugins.host import Host
from lmsplugins.testing import databases as dbs

NO_PROXY = "[lmsplugins]\nproxy_hops = 0\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_database(workdir_prefix: str, extra: str = NO_PROXY) -> tuple[str, Path]:
    """A fresh PostgreSQL database cloned from the real LMS schema, and an lms.ini naming it (in a new
    temporary folder, beside which a bench may keep its own files). The caller drops the database."""
    template = f"lmsplugins_bench_tpl_{os.getpid()}"
    dbs.create_pg_template(template)
    name = dbs.create_pg_database(template, prefix="lmsplugins_bench")
    dbs.drop_pg_database(template)
    workdir = Path(tempfile.mkdtemp(prefix=workdir_prefix))
    return name, dbs.write_ini(workdir, "postgres", name, extra=extra)


def vacuum_analyze(host: Host) -> None:
    """Fresh planner statistics after a bulk load (outside a transaction, as VACUUM requires)."""
    with host.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def start_gunicorn(ini: Path, port: int, *options: str, workers: int = 1) -> subprocess.Popen:
    """The web app for *ini* under gunicorn sync workers on loopback, returned once ``/healthz`` answers."""
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    proc = subprocess.Popen(
        [
            gunicorn,
            "--workers",
            str(workers),
            *options,
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            f"lmsplugins.web:create_app(config_path='{ini}')",
        ]
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.3)


def worker_pid(master: int) -> int:
    """The one worker of a ``--workers 1`` gunicorn."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident memory so far (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM in /proc")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/<pid>/stat`` fields 14 and 15): on a shared
    machine wall time includes waiting for a core, CPU time is the work itself."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
