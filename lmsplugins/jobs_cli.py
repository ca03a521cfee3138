"""``lmsplugins jobs``: recent runs, one run in full, and a monitoring check in the Nagios convention.

``jobs check`` is meant for an ISP's existing Nagios/Icinga (or anything speaking their plugin
convention): one line, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. CRITICAL when a job has not
succeeded within ``--max-age`` (or, without it, within the period learnt from its history), WARNING
when its latest run failed while an older success is still recent enough. Every time printed is in
LMS's time zone, named (see :mod:`lmsplugins.timefmt`).
"""

from __future__ import annotations

import re
import sys
import time

import click

from lmsplugins.cli import config_option, fail, get_host
from lmsplugins.errors import LMSPluginsError
from lmsplugins.timefmt import format_span, format_time, lms_zone

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
_AGE_RE = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_age(text: str) -> int:
    """``26h``, ``90m``, ``2d``, ``3600`` (seconds) -> seconds; ValueError with the reason otherwise."""
    match = _AGE_RE.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"--max-age {text!r} is not a duration; give a positive number with s, m, h or d, e.g. 26h")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


@click.group("jobs", invoke_without_command=True)
@config_option
@click.option("--limit", default=20, show_default=True, help="How many runs to show.")
@click.option("--job", "job_name", default=None, help="Only runs of this job.")
@click.option("--status", default=None, type=click.Choice(["running", "done", "failed", "error"]))
@click.pass_context
def jobs_group(ctx: click.Context, limit: int, job_name: str | None, status: str | None) -> None:
    """List recent job runs with status, counters and message (times in LMS's time zone).

    \b
    lmsplugins jobs show RUN_ID   one run in full, with what it printed
    lmsplugins jobs check         monitoring check (Nagios exit codes)
    """
    if ctx.invoked_subcommand is not None:
        return
    from lmsplugins.jobs import recent_runs

    try:
        host = get_host()
        runs = recent_runs(host, limit=limit, job=job_name, status=status)
        zone = lms_zone(host)
    except LMSPluginsError as exc:
        fail(exc)
        return
    if not runs:
        click.echo("no job runs recorded")
        return
    click.echo(f"times in {zone.key}")
    for run in runs:
        started = format_time(run["started"], zone, with_zone=True)
        took = format_span(run["finished"] - run["started"]) if run["finished"] else "-"
        counters = ", ".join(f"{k}={v}" for k, v in sorted(run["counters"].items()))
        test = " [test]" if run["test"] else ""
        click.echo(f"#{run['id']:<5} {started} {run['job']:<28} {run['status']:<8} {took:>10}{test}  {counters}")
        if run["message"]:
            click.echo(f"       {run['message'][:300]}")


@jobs_group.command("show")
@config_option
@click.argument("run_id", type=click.IntRange(1, 2**31 - 1))
def show_cmd(run_id: int) -> None:
    """One run in full: command line (secrets masked), times, exit code, counters and what it printed."""
    from lmsplugins.jobs import run_detail

    try:
        host = get_host()
        run = run_detail(host, run_id)
        zone = lms_zone(host)
    except LMSPluginsError as exc:
        fail(exc)
        return
    if run is None:
        fail(LMSPluginsError(f"no job run #{run_id}; 'lmsplugins jobs' lists the recent ones").with_exit_code(2))
        return
    took = format_span(run["finished"] - run["started"]) if run["finished"] else "-"
    click.echo(f"run #{run['id']} {run['job']}: {run['status']}" + (" [test, rolled back]" if run["test"] else ""))
    click.echo(f"command:   lmsplugins {run['argv']}".rstrip())
    click.echo(f"started:   {format_time(run['started'], zone, with_zone=True)} on {run['host']} (pid {run['pid']})")
    click.echo(f"finished:  {format_time(run['finished'], zone, with_zone=True)} ({took})")
    click.echo(f"exit code: {'-' if run['exit_code'] is None else run['exit_code']}")
    for key, value in sorted(run["counters"].items()):
        click.echo(f"  {key} = {value}")
    if run["message"]:
        click.echo(f"message:   {run['message']}")
    if run["output"]:
        click.echo("output" + (" (the end of it; the start was cut)" if run["truncated"] else "") + ":")
        click.echo(run["output"].rstrip("\n"))


def _check_line(max_age: int | None, job_name: str | None) -> tuple[int, str]:
    """(state, text) of the check; raises LMSPluginsError when the database cannot tell."""
    from lmsplugins.jobstatus import job_health, known_jobs

    host = get_host()
    zone = lms_zone(host)
    now = time.time()
    healths = job_health(host, [job_name] if job_name else None)
    if job_name and not healths:
        known = known_jobs(host)
        if job_name in known:
            return UNKNOWN, f"job {job_name} has only test runs recorded"
        hint = f" (known: {', '.join(known[:12])})" if known else " (no job runs recorded at all)"
        return UNKNOWN, f"no job named {job_name!r} has run{hint}"
    if not healths:
        return UNKNOWN, "no job runs recorded"
    problems: list[tuple[int, str]] = []
    perf: list[str] = []
    for h in healths:
        limit = max_age if max_age is not None else h.overdue_after
        age = h.since_success(now)
        if age is not None:
            perf.append(f"'{h.job}_age'={age}s;;{limit or ''}")
        if h.last_success is None:
            problems.append((CRITICAL, f"{h.job}: never succeeded (last run {h.last_status})"))
        elif limit is not None and age is not None and age > limit:
            when = format_time(h.last_success, zone, with_zone=True)
            problems.append(
                (CRITICAL, f"{h.job}: last success {when}, {format_span(age)} ago (limit {format_span(limit)})")
            )
        elif h.failed:
            when = format_time(h.last_started, zone, with_zone=True)
            problems.append((WARNING, f"{h.job}: last run {h.last_status} (run #{h.last_id}, {when})"))
    if not problems:
        newest = min((h.since_success(now) or 0) for h in healths)
        what = healths[0].job if len(healths) == 1 else f"{len(healths)} jobs"
        text = f"{what} succeeded recently (latest success {format_span(newest)} ago)"
        return OK, text + (" | " + " ".join(perf) if perf else "")
    state = max(s for s, _ in problems)
    problems.sort(key=lambda p: -p[0])
    return state, "; ".join(text for _, text in problems) + (" | " + " ".join(perf) if perf else "")


@jobs_group.command("check")
@config_option
@click.option("--job", "job_name", default=None, help="Check this job only (default: every job that has run).")
@click.option(
    "--max-age",
    "max_age",
    default=None,
    help="CRITICAL when the last success is older (e.g. 26h, 90m, 2d). Default: the job's learnt period plus grace.",
)
def check_cmd(job_name: str | None, max_age: str | None) -> None:
    """Monitoring check in the Nagios/Icinga convention: one line, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""
    try:
        seconds = parse_age(max_age) if max_age is not None else None
        state, text = _check_line(seconds, job_name)
    except ValueError as exc:
        state, text = UNKNOWN, str(exc)
    except LMSPluginsError as exc:
        state, text = UNKNOWN, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    except Exception as exc:  # a check must answer UNKNOWN, never a traceback
        state, text = UNKNOWN, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    click.echo(f"JOBS {STATE_NAMES[state]} - {text}")
    sys.exit(state)
