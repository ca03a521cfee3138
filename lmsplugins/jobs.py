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

from lmsplugins.checks import ensure_core_schema, sources
from lmsplugins.db import named_lock
from lmsplugins.errors import LMSPluginsError, SchemaError
from lmsplugins.host import Host
from lmsplugins.migrate import upgrade
from lmsplugins.store import job_runs

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3


class Output:
    """Where a job talks: info lines (hidden by quiet), warnings and errors (always, on stderr)."""

    def __init__(self, quiet: bool = False, out: IO[str] | None = None, err: IO[str] | None = None):
        self.quiet = quiet
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    @property
    def interactive(self) -> bool:
        return not self.quiet and hasattr(self.err, "isatty") and self.err.isatty()

    def info(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.out, flush=True)

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=self.err, flush=True)

    def error(self, message: str) -> None:
        print(f"error: {message}", file=self.err, flush=True)


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

    @contextlib.contextmanager
    def chunk(self) -> Iterator[Connection]:
        """One transaction: committed at the end of the block, or rolled back (always under --test,
        and on any exception, which then propagates)."""
        with self.host.engine.connect() as conn:
            trans = conn.begin()
            try:
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


def _record_start(host: Host, name: str, test: bool, argv: Sequence[str]) -> int:
    with host.engine.begin() as conn:
        if not inspect(conn).has_table(job_runs.name):
            raise SchemaError(
                f"table {job_runs.name} is missing; run 'lmsplugins db upgrade' once to install the host tables"
            )
        result = conn.execute(
            job_runs.insert().values(
                job=name,
                status="running",
                test=int(test),
                started=int(time.time()),
                counters="{}",
                message="",
                argv=" ".join(argv)[:2000],
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
        if host.ini_config.get_bool("database.auto_update", False):
            for source in sources(host):
                upgrade(engine, source, echo=out.info)
        if test:
            out.warn("test mode: every database change of this run is rolled back")
        with named_lock(engine, lock_name or name):
            run_id = _record_start(host, name, test, argv if argv is not None else sys.argv[1:])
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
                _record_end(host, run_id, "error", job, f"{type(exc).__name__}: {exc}")
                out.error(f"{type(exc).__name__}: {exc} (run #{run_id}; details follow)")
                traceback.print_exc(file=out.err)
                return EXIT_FAILURES
            status = "failed" if job.failures else "done"
            summary = "; ".join(job.failures[:20] + job.messages[:20])
            _record_end(host, run_id, status, job, summary)
            elapsed = time.monotonic() - started
            counts = ", ".join(f"{k}={v}" for k, v in sorted(job.counters.items())) or "nothing to do"
            out.info(f"{name}: {status} in {elapsed:.1f}s ({counts})" + (" [test mode, rolled back]" if test else ""))
            return EXIT_FAILURES if job.failures else EXIT_OK
    except LMSPluginsError as exc:
        out.error(str(exc))
        return exc.exit_code


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
