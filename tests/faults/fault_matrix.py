"""The fault matrix's declarations and tools: what a provider plugin declares, and how a case is judged.

Why one tier: each plugin had its own fault tests, so nobody could say which fault every provider
survives. Here every provider runs the SAME scenario per fault (see ``test_matrix.py``):

1. a clean run of the plugin's job against its simulator (the "old" rows), then the provider's data
   changes (:meth:`Provider.change`), so a run from now on writes different ("new") rows;
2. the fault: injected in the simulator, or done to the job process (SIGKILL mid-chunk), to its
   database connections (terminated mid-run, as a server restart does), as a second concurrent run,
   as bad command-line input or a bad CSV file; the job always runs as a real process
   (``.venv/bin/lmsplugins ...``);
3. the run ends with ONE ``error:`` line (no traceback) and the job runner's exit code;
4. each touched table holds exactly its old rows or exactly its new ones (checksums);
5. a clean re-run converges to exactly the rows of a reference run without faults: nothing lost,
   nothing duplicated.

How a plugin joins: put a module in ``tests/faults/providers/`` (or ``fault_cases.py`` in the plugin's
own test folder ``tests/plugins/<name>/``) that defines ``DECLARATION = Declaration(...)``: the job's
command line, the touched tables (each as the SELECT its checksum is taken over, with surrogate ids
and clocks left out so a rolled-back sequence value does not count as a difference), a table the job
writes late inside a transaction (locking it pauses the job mid-chunk on PostgreSQL), bad command
lines, a bad CSV when a job reads one, and ``start`` returning a :class:`Provider`: the simulator
served, settings written, and ``inject(fault)`` mapping each fault to the simulator's own fault switches.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from lmsplugins.host import Host

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / ".venv" / "bin" / "lmsplugins"

FAULTS = (
    "timeout",
    "http_5xx",
    "rate_limit_429",
    "truncated_body",
    "malformed_body",
    "error_body",
    "session_expired",
    "sigkill_mid_chunk",
    "db_restart_mid_run",
    "concurrent_run",
    "bad_cli",
    "bad_csv",
)
"""Every column of the matrix. The provider faults are injected by the declaration's simulator."""

PROVIDER_FAULTS = FAULTS[:7]
PROCESS_FAULTS = ("sigkill_mid_chunk", "db_restart_mid_run", "concurrent_run")
"""Faults that need a server database: a pause mid-chunk (a table lock) and backends to terminate."""

JOB_TIMEOUT = 90


class Provider(Protocol):
    """A running simulator with the plugin's settings pointing at it."""

    def inject(self, fault: str) -> None:
        """Turn on *fault* (one of :data:`PROVIDER_FAULTS`) in the simulator for the next run."""

    def clear(self) -> None:
        """Turn every fault off again."""

    def change(self) -> None:
        """Change the provider's data, so the next run writes rows different from the last one."""

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Declaration:
    """What a provider plugin declares to join the matrix (see the module docstring)."""

    plugin: str
    argv: tuple[str, ...]
    """The job's command line after ``lmsplugins -C lms.ini``; a provider with an ``argv`` attribute
    (a job that reads a file the provider writes) overrides it."""
    tables: Mapping[str, str]
    """Touched table -> the SELECT whose rows are checksummed (natural keys, no surrogate ids/clocks)."""
    start: Callable[[Host, Path], Provider]
    pause_table: str
    """A table the job writes late inside a transaction: locking it pauses the job mid-chunk."""
    pause_sql: str | None = None
    """Instead of locking ``pause_table``: the statement (a ``SELECT ... FOR UPDATE`` of a row the job
    will change, say) that makes the job wait inside its transaction."""
    committed_in_parts: frozenset[str] = frozenset()
    """Tables the job writes in several transactions (per customer, per N rows): after a fault they may
    hold old rows for some parts and new for others, so they are judged row by row instead: every row
    old or new, none twice."""
    pause_after_writes: bool = True
    """Whether the paused transaction has already written rows (checked through ``backend_xid``)."""
    bad_cli: tuple[tuple[str, ...], ...] = ()
    bad_csv: Callable[[Path], tuple[str, ...]] | None = None
    """Given a folder, write a bad CSV there and return the command line that reads it."""
    not_applicable: Mapping[str, str] = field(default_factory=dict)
    """Fault -> why it cannot happen to this provider's job."""
    plugins: tuple[str, ...] = ()
    """Plugins to install besides ``plugin`` (none so far)."""

    def applicable(self, fault: str) -> bool:
        if fault in self.not_applicable:
            return False
        if fault == "bad_csv":
            return self.bad_csv is not None
        if fault == "bad_cli":
            return bool(self.bad_cli)
        return True

    def job_argv(self, provider: Provider) -> tuple[str, ...]:
        return tuple(getattr(provider, "argv", None) or self.argv)


def discover() -> list[Declaration]:
    """Every declaration: ``tests/faults/providers/*.py`` and ``tests/plugins/*/fault_cases.py``."""
    files = sorted((REPO / "tests" / "faults" / "providers").glob("[!_]*.py"))
    files += sorted((REPO / "tests" / "plugins").glob("*/fault_cases.py"))
    found: dict[str, Declaration] = {}
    for path in files:
        name = f"fault_decl_{path.parent.name}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        decl = getattr(module, "DECLARATION", None)
        if isinstance(decl, Declaration):
            found.setdefault(decl.plugin, decl)
    return sorted(found.values(), key=lambda d: d.plugin)


# --------------------------------------------------------------------------------------------------
# Judging


def checksums(host: Host, tables: Mapping[str, str]) -> dict[str, tuple[int, str]]:
    """Table -> (row count, sha256 of its sorted rows): equal only for the same multiset of rows."""
    return {
        table: (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16])
        for table, rows in table_rows(host, tables).items()
    }


def table_rows(host: Host, tables: Mapping[str, str]) -> dict[str, list[str]]:
    """Table -> its rows (each one normalised line), sorted."""
    out: dict[str, list[str]] = {}
    with host.engine.connect() as conn:
        for table, query in tables.items():
            out[table] = sorted(repr(tuple(_norm(v) for v in row)) for row in conn.execute(text(query)))
    return out


def rows_old_or_new(after: Sequence[str], old: Sequence[str], new: Sequence[str]) -> list[str]:
    """Rows of *after* that are in neither *old* nor *new*, or more often than in either (duplicates)."""
    have, was, will = Counter(after), Counter(old), Counter(new)
    return [row for row, n in have.items() if n > max(was[row], will[row])]


def _norm(value: Any) -> Any:
    """One spelling per value whatever the driver returns (Decimal('1.50') and 1.5 alike)."""
    if value is None or isinstance(value, str):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return int(number) if number.is_integer() else round(number, 6)


@dataclass
class Run:
    """One finished job process."""

    argv: Sequence[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]

    def describe(self) -> str:
        return f"$ lmsplugins {' '.join(self.argv)} -> {self.returncode}\n{self.stdout[-1500:]}\n{self.stderr[-3000:]}"


def start_job(ini: Path, argv: Sequence[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    return subprocess.Popen(
        [str(CLI), "-C", str(ini), *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(REPO),
    )


def finish(proc: subprocess.Popen[str], argv: Sequence[str]) -> Run:
    try:
        out, err = proc.communicate(timeout=JOB_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"job did not end within {JOB_TIMEOUT}s:\n{err[-2000:]}") from None
    return Run(argv, proc.returncode, out, err)


def run_job(ini: Path, argv: Sequence[str]) -> Run:
    return finish(start_job(ini, argv), argv)


def run_in_process(ini: Path, argv: Sequence[str]) -> Run:
    """The same command through click's test runner: for the set-up and re-runs on SQLite, which are
    not what a case judges, without a process start each. (Not for server databases: the command's
    engine would keep its pooled connections open.)"""
    from click.testing import CliRunner

    from lmsplugins.cli import main

    result = CliRunner().invoke(main, ["-C", str(ini), *argv])
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        stderr += "".join(traceback.format_exception(result.exception))
    return Run(argv, result.exit_code, result.stdout, stderr)


def one_clear_line(run: Run, codes: Sequence[int]) -> None:
    """The run ended with an exit code of *codes*; a failure says so in one ``error:`` line."""
    assert run.returncode in codes, run.describe()
    assert "Traceback" not in run.stderr, run.describe()
    if run.returncode != 0:
        assert len(run.error_lines) == 1, run.describe()
        assert len(run.error_lines[0]) < 600, run.describe()


# --------------------------------------------------------------------------------------------------
# PostgreSQL: pausing a job mid-chunk, and cutting its connections


class Pause:
    """Hold an ACCESS EXCLUSIVE lock on a table so the job blocks on it inside its transaction."""

    def __init__(self, host: Host, table: str, statement: str | None = None):
        self.engine = create_engine(host.engine.url, poolclass=NullPool)
        self.conn = self.engine.connect()
        self.trans = self.conn.begin()
        self.conn.execute(text(statement or f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))

    def wait_blocked(self, proc: subprocess.Popen[str], timeout: float = 60.0) -> tuple[int, bool]:
        """Wait until a backend of the job waits for the lock; (its pid, whether it holds writes).
        The probe runs in autocommit: PostgreSQL keeps one snapshot of pg_stat_activity per transaction."""
        deadline = time.monotonic() + timeout
        query = text(
            "SELECT pid, backend_xid IS NOT NULL FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as probe:
            while time.monotonic() < deadline:
                row = probe.execute(query).first()
                if row is not None:
                    return int(row[0]), bool(row[1])
                if proc.poll() is not None:
                    raise AssertionError(f"the job ended before it reached the paused table: {proc.communicate()}")
                time.sleep(0.05)
        raise AssertionError("the job never blocked on the paused table")

    def release(self) -> None:
        try:
            self.trans.rollback()
            self.conn.close()
        except Exception:
            pass
        self.engine.dispose()


def terminate_backends(host: Host) -> int:
    """What a database restart does to a running job: every connection to its database is cut."""
    engine = create_engine(host.engine.url.set(database="postgres"), poolclass=NullPool)
    name = host.engine.url.database
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).all()
    finally:
        engine.dispose()
    return len(rows)


def sigkill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


RESULTS: dict[tuple[str, str], str] = {}
"""(plugin, fault) -> "survived" / "n/a" / "FAILED", filled by the cases, printed by conftest."""


def wait_no_backends(host: Host, timeout: float = 30.0) -> None:
    """Wait until a killed job's server processes are gone (they release its lock as they go)."""
    engine = create_engine(host.engine.url, poolclass=NullPool)
    host.dispose()  # the test's own pooled connection is not the job's
    deadline = time.monotonic() + timeout
    query = text(
        "SELECT pid, state, wait_event_type, left(query, 80) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    left: list = []
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while time.monotonic() < deadline:
                left = list(conn.execute(query).all())
                if not left:
                    return
                time.sleep(0.05)
    finally:
        engine.dispose()
    raise AssertionError(f"the killed job's database connections did not go away: {left}")
