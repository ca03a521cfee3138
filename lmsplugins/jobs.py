"""The one job runner every cron command goes through (DESIGN rule 7).

Order of a run: flags and settings are validated (nothing touched yet) -> the job's named lock is
taken (a second run exits 3 naming the holder) -> a run record is written -> the body works in
chunks, each its own transaction, all rolled back under ``--test`` -> the record gets its status,
counters and message -> exit code 0 done, 1 finished with failures, 2 usage or configuration error,
3 locked. Output: a rich progress bar on a terminal, plain lines in cron, only errors with
``--quiet``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from lmsplugins import http
from lmsplugins.checks import ensure_core_schema, sources
from lmsplugins.db import named_lock
from lmsplugins.errors import LMSPluginsError, SchemaError
from lmsplugins.host import Host
from lmsplugins.lms import syslog
from lmsplugins.migrate import upgrade
from lmsplugins.secrets import mask_argv, mask_text, secret_values
from lmsplugins.store import job_output, job_runs

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3


OUTPUT_LIMIT = 64 * 1024
"""Characters of a run's output kept with its run record: the last ones, where a failure shows."""
OUTPUT_KEEP_RUNS = 200
"""Runs per job whose output is kept: an hourly job's at 64 KiB would otherwise grow by half a GB a year."""


class Tail:
    """The last *limit* characters of what was written, in memory bounded to about twice that."""

    def __init__(self, limit: int = OUTPUT_LIMIT):
        self.limit = limit
        self._parts: list[str] = []
        self._size = 0
        self.truncated = False

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size > 2 * self.limit:
            self._compact()

    def _compact(self) -> None:
        text = "".join(self._parts)
        if len(text) > self.limit:
            text = text[-self.limit :]
            self.truncated = True
        self._parts = [text]
        self._size = len(text)

    def text(self) -> str:
        self._compact()
        return self._parts[0] if self._parts else ""


class Output:
    """Where a job talks: info lines (hidden by quiet), warnings and errors (always, on stderr).

    Every line, info lines under ``--quiet`` too, also goes to :attr:`captured`, kept with the run
    record: cron runs are quiet, and the detail page is where the administrator reads what happened.
    """

    def __init__(
        self, quiet: bool = False, out: IO[str] | None = None, err: IO[str] | None = None, limit: int = OUTPUT_LIMIT
    ):
        self.quiet = quiet
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.captured = Tail(limit)

    @property
    def interactive(self) -> bool:
        return not self.quiet and hasattr(self.err, "isatty") and self.err.isatty()

    def info(self, message: str) -> None:
        self.captured.write(message + "\n")
        if not self.quiet:
            print(message, file=self.out, flush=True)

    def warn(self, message: str) -> None:
        self.captured.write(f"warning: {message}\n")
        print(f"warning: {message}", file=self.err, flush=True)

    def error(self, message: str) -> None:
        self.captured.write(f"error: {message}\n")
        print(f"error: {message}", file=self.err, flush=True)

    def details(self, text: str) -> None:
        """A multi-line block for stderr and the record (a traceback)."""
        self.captured.write(text)
        print(text, file=self.err, end="", flush=True)


class Progress:
    """Progress of one stage: a rich bar on a terminal, a plain line per 10 % (or 30 s) otherwise."""

    def __init__(self, output: Output, description: str, total: int | None):
        self.output = output
        self.description = description
        self.total = total
        self.done = 0
        self._last_line = time.monotonic()
        self._last_pct = 0
        self._bar: Any = None
        self._task: Any = None
        if output.interactive:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(description, total=total)
        elif not output.quiet:
            output.info(f"{description}: started" + (f" ({total} to do)" if total else ""))

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(self._task, advance=n)
            return
        if self.output.quiet:
            return
        now = time.monotonic()
        if self.total:
            pct = int(self.done * 100 / self.total) // 10 * 10
            if pct > self._last_pct and pct < 100:
                self._last_pct = pct
                self._last_line = now
                self.output.info(f"{self.description}: {self.done}/{self.total} ({pct}%)")
        elif now - self._last_line >= 30:
            self._last_line = now
            self.output.info(f"{self.description}: {self.done} done")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif not self.output.quiet:
            self.output.info(f"{self.description}: {self.done} done")


@dataclass
class Job:
    """What a job body gets: the host, its flags, counters, chunked transactions and output."""

    host: Host
    name: str
    test: bool = False
    output: Output = field(default_factory=Output)
    counters: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    connection_lost: bool = False

    @contextlib.contextmanager
    def chunk(self) -> Iterator[Connection]:
        """One transaction: committed at the end of the block, or rolled back (always under --test,
        and on any exception, which then propagates). Gateway changes made on it go to LMS's
        transaction log when ``logs.enabled`` is on (module: the job's name)."""
        with self.host.engine.connect() as conn:
            trans = conn.begin()
            try:
                with syslog.recording(syslog.Syslog.for_host(self.host, conn, self.name)):
                    yield conn
            except BaseException:
                trans.rollback()
                raise
            if self.test:
                trans.rollback()
            else:
                trans.commit()

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] += n

    def info(self, message: str) -> None:
        self.output.info(message)

    def warn(self, message: str) -> None:
        self.messages.append(message)
        self.output.warn(message)

    def fail(self, message: str) -> None:
        """Record a failure: the job goes on, but finishes with exit code 1."""
        self.failures.append(message)
        self.output.error(message)

    @contextlib.contextmanager
    def progress(self, description: str, total: int | None = None) -> Iterator[Progress]:
        bar = Progress(self.output, description, total)
        try:
            yield bar
        finally:
            bar.close()


ABANDONED = "the run ended without recording its result (killed, or the machine stopped)"


def _close_abandoned_runs(conn: Connection, name: str) -> None:
    """Runs of *name* still marked running while we hold the job's lock can no longer be running: their
    process was killed or its machine stopped. Mark them failed, so the job list, ``jobs check`` and
    ``/metrics`` stop showing them as in progress."""
    conn.execute(
        job_runs.update()
        .where(job_runs.c.job == name, job_runs.c.status == "running")
        .values(status="failed", finished=int(time.time()), message=ABANDONED)
    )


def _record_start(host: Host, name: str, test: bool, argv: Sequence[str]) -> int:
    with host.engine.begin() as conn:
        if not inspect(conn).has_table(job_runs.name):
            raise SchemaError(
                f"table {job_runs.name} is missing; run 'lmsplugins db upgrade' once to install the host tables"
            )
        _close_abandoned_runs(conn, name)
        result = conn.execute(
            job_runs.insert().values(
                job=name,
                status="running",
                test=int(test),
                started=int(time.time()),
                counters="{}",
                message="",
                argv=" ".join(mask_argv(argv, secret_values(host)))[:2000],
                host=socket.gethostname()[:255],
                pid=os.getpid(),
            )
        )
        return int(result.inserted_primary_key[0])


def _record_end(host: Host, run_id: int, status: str, job: Job, message: str) -> None:
    try:
        with host.engine.begin() as conn:
            conn.execute(
                job_runs.update()
                .where(job_runs.c.id == run_id)
                .values(
                    status=status,
                    finished=int(time.time()),
                    counters=json.dumps(dict(job.counters), sort_keys=True),
                    message=message[:10000],
                )
            )
    except Exception as exc:
        job.output.error(f"could not record the end of run #{run_id}: {exc}")


def _record_output(host: Host, run_id: int, code: int, output: Output, job: str) -> None:
    """Keep the run's output (secrets masked) and exit code, and drop the output of the job's runs
    older than its :data:`OUTPUT_KEEP_RUNS` newest (their run records stay). A failure here never
    changes the exit code."""
    text = mask_text(output.captured.text(), secret_values(host))
    try:
        with host.engine.begin() as conn:
            if not inspect(conn).has_table(job_output.name):
                return
            conn.execute(
                job_output.insert().values(
                    run_id=run_id, exit_code=code, truncated=int(output.captured.truncated), output=text
                )
            )
            _prune_output(conn, job)
    except Exception as exc:
        print(f"error: could not record the output of run #{run_id}: {exc}", file=output.err, flush=True)


def _prune_output(conn: Connection, job: str, keep: int | None = None) -> None:
    keep = OUTPUT_KEEP_RUNS if keep is None else keep
    t = job_runs.c
    cutoff = conn.execute(select(t.id).where(t.job == job).order_by(t.id.desc()).limit(1).offset(keep)).scalar()
    if cutoff is not None:
        old_runs = select(t.id).where(t.job == job, t.id <= cutoff)
        conn.execute(job_output.delete().where(job_output.c.run_id.in_(old_runs)))


def run_job(
    host: Host,
    name: str,
    body: Callable[[Job], None],
    *,
    test: bool = False,
    quiet: bool = False,
    validate: Callable[[], None] | None = None,
    lock_name: str | None = None,
    argv: Sequence[str] | None = None,
    output: Output | None = None,
) -> int:
    """Run *body* as job *name* and return the exit code. Never raises for expected failures."""
    out = output or Output(quiet=quiet)
    job = Job(host=host, name=name, test=test, output=out)
    try:
        if validate is not None:
            validate()
        engine = host.engine
        ensure_core_schema(engine)
        http.configure(host.config())
        if host.ini_config.get_bool("database.auto_update", False):
            for source in sources(host):
                upgrade(engine, source, echo=out.info)
        if test:
            out.warn("test mode: every database change of this run is rolled back")
        with named_lock(engine, lock_name or name):
            run_id = _record_start(host, name, test, argv if argv is not None else sys.argv[1:])
            code = _run_body(host, run_id, job, body)
            _record_output(host, run_id, code, out, name)
            return code
    except LMSPluginsError as exc:
        out.error(str(exc))
        return exc.exit_code
    except Exception as exc:
        if not _connection_lost(exc):
            raise
        if not job.connection_lost:  # lost while taking or releasing the lock: the server dropped it too
            out.error(f"the database connection was lost ({_first_line(exc)}); run the job again")
        return EXIT_FAILURES


def _connection_lost(exc: BaseException) -> bool:
    """A database restart or a cut connection, not a bug of the job: one line, not a traceback."""
    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    )


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return (lines[0] if lines else type(orig).__name__)[:300]


def _run_body(host: Host, run_id: int, job: Job, body: Callable[[Job], None]) -> int:
    """Run the body of a recorded run, record its end and return the exit code."""
    out = job.output
    started = time.monotonic()
    try:
        body(job)
    except LMSPluginsError as exc:
        _record_end(host, run_id, "error", job, str(exc))
        out.error(str(exc))
        return exc.exit_code if exc.exit_code != EXIT_LOCKED else EXIT_FAILURES
    except KeyboardInterrupt:
        _record_end(host, run_id, "error", job, "interrupted")
        out.error("interrupted; the chunk in progress was rolled back")
        return EXIT_FAILURES
    except Exception as exc:
        if _connection_lost(exc):
            job.connection_lost = True
            logging.getLogger("sqlalchemy.pool").disabled = True  # the resets of the other dead connections
            message = (
                f"the database connection was lost ({_first_line(exc)}); the chunk in progress was rolled back; "
                f"run the job again (run #{run_id})"
            )
            _record_end(host, run_id, "error", job, message)
            out.error(message)
            return EXIT_FAILURES
        _record_end(host, run_id, "error", job, f"{type(exc).__name__}: {exc}")
        out.error(f"{type(exc).__name__}: {exc} (run #{run_id}; details follow)")
        out.details(traceback.format_exc())
        return EXIT_FAILURES
    status = "failed" if job.failures else "done"
    summary = "; ".join(job.failures[:20] + job.messages[:20])
    _record_end(host, run_id, status, job, summary)
    elapsed = time.monotonic() - started
    counts = ", ".join(f"{k}={v}" for k, v in sorted(job.counters.items())) or "nothing to do"
    out.info(f"{job.name}: {status} in {elapsed:.1f}s ({counts})" + (" [test mode, rolled back]" if job.test else ""))
    return EXIT_FAILURES if job.failures else EXIT_OK


def recent_runs(host: Host, limit: int = 20, job: str | None = None, status: str | None = None) -> list[dict]:
    """Latest run records, newest first (for ``lmsplugins jobs`` and the admin page)."""
    query = select(job_runs).order_by(job_runs.c.id.desc()).limit(limit)
    if job:
        query = query.where(job_runs.c.job == job)
    if status:
        query = query.where(job_runs.c.status == status)
    with host.engine.connect() as conn:
        if not inspect(conn).has_table(job_runs.name):
            return []
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for row in rows:
        try:
            row["counters"] = json.loads(row["counters"] or "{}")
        except ValueError:
            row["counters"] = {}
    return rows


def run_detail(host: Host, run_id: int) -> dict | None:
    """One run record with its output and exit code (None: no such run). A run from before the host
    kept output, or one still running, has ``output`` empty and ``exit_code`` None."""
    query = (
        select(job_runs, job_output.c.exit_code, job_output.c.truncated, job_output.c.output)
        .select_from(job_runs.outerjoin(job_output, job_output.c.run_id == job_runs.c.id))
        .where(job_runs.c.id == run_id)
    )
    with host.engine.connect() as conn:
        if not inspect(conn).has_table(job_output.name):
            query = select(job_runs).where(job_runs.c.id == run_id)
        row = conn.execute(query).mappings().first()
    if row is None:
        return None
    run = {"exit_code": None, "truncated": 0, "output": ""} | dict(row)
    run["output"] = run["output"] or ""
    try:
        run["counters"] = json.loads(run["counters"] or "{}")
    except ValueError:
        run["counters"] = {}
    return run
