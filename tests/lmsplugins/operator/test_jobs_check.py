"""``lmsplugins jobs check`` as Nagios/Icinga run it, the learnt period, and times in LMS's zone."""

from __future__ import annotations

import re
import time

import pytest
from click.testing import CliRunner

from lmsplugins.cli import main
from lmsplugins.jobs_cli import parse_age
from lmsplugins.jobstatus import job_health, job_names, learn_period
from lmsplugins.store import job_runs
from lmsplugins.timefmt import format_span, format_time, zone_named

HOUR, DAY = 3600, 86400


def add_run(host, job, started, status="done", took=60, test=0, counters="{}"):
    with host.engine.begin() as conn:
        conn.execute(
            job_runs.insert().values(
                job=job, status=status, test=test, started=int(started),
                finished=None if status == "running" else int(started + took),
                counters=counters, message="", argv="", host="h", pid=1,
            )
        )  # fmt: skip


def daily(host, job, days, last_ago, status="done"):
    """*days* daily successes, the latest *last_ago* seconds ago."""
    now = time.time()
    for i in reversed(range(days)):
        add_run(host, job, now - last_ago - i * DAY, status)


def check(host, *args):
    result = CliRunner().invoke(main, ["-C", str(host.ini_config.path), "jobs", "check", *args])
    assert result.output.count("\n") == 1, result.output
    return result.exit_code, result.output.strip()


def test_learn_period_is_the_median_interval():
    assert learn_period([0, DAY, 2 * DAY, 3 * DAY + 600]) == DAY
    assert learn_period([0, DAY]) is None
    assert learn_period([5 * DAY, 0, DAY, 2 * DAY, 2 * DAY + 60]) == DAY


def test_fresh_daily_job_is_ok(sqlite_host):
    daily(sqlite_host, "p.import", 5, 2 * HOUR)
    code, line = check(sqlite_host)
    assert code == 0 and line.startswith("JOBS OK - p.import succeeded recently") and "'p.import_age'=" in line


def test_daily_job_not_succeeded_for_over_a_day_is_critical(sqlite_host):
    daily(sqlite_host, "p.import", 5, 27 * HOUR)
    health = job_health(sqlite_host)[0]
    assert health.daily and health.period == DAY and health.overdue(time.time())
    code, line = check(sqlite_host, "--job", "p.import")
    assert code == 2 and line.startswith("JOBS CRITICAL - p.import: last success ")
    assert re.search(r"last success \d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T, 1 d 2 h ago \(limit 1 d 2 h\)", line)


def test_max_age_overrides_the_learnt_period(sqlite_host):
    daily(sqlite_host, "p.import", 5, 20 * HOUR)
    assert check(sqlite_host, "--max-age", "26h")[0] == 0
    code, line = check(sqlite_host, "--max-age", "90m")
    assert code == 2 and "limit 1 h 30 min" in line


def test_latest_run_failed_is_a_warning(sqlite_host):
    daily(sqlite_host, "p.import", 3, 5 * HOUR)
    add_run(sqlite_host, "p.import", time.time() - HOUR, status="failed")
    code, line = check(sqlite_host)
    assert code == 1 and line.startswith("JOBS WARNING - p.import: last run failed (run #4")


def test_worst_job_decides_and_test_runs_do_not_count(sqlite_host):
    daily(sqlite_host, "a.ok", 3, HOUR)
    add_run(sqlite_host, "b.never", time.time() - HOUR, status="error")
    add_run(sqlite_host, "b.never", time.time() - 10, test=1)
    code, line = check(sqlite_host)
    assert code == 2 and "b.never: never succeeded (last run error)" in line


def test_unknown_job_is_unknown_naming_known_ones(sqlite_host):
    daily(sqlite_host, "p.import", 2, HOUR)
    code, line = check(sqlite_host, "--job", "p.imprt")
    assert code == 3 and line == "JOBS UNKNOWN - no job named 'p.imprt' has run (known: p.import)"


@pytest.mark.parametrize("bad", ["26x", "-5h", "0", "h", ""])
def test_malformed_max_age_is_unknown(sqlite_host, bad):
    code, line = check(sqlite_host, "--max-age", bad)
    assert code == 3 and line.startswith(f"JOBS UNKNOWN - --max-age {bad!r} is not a duration")


def test_no_database_is_unknown(tmp_path):
    result = CliRunner().invoke(main, ["-C", str(tmp_path / "missing.ini"), "jobs", "check"])
    assert result.exit_code == 3 and result.output.startswith("JOBS UNKNOWN - ")
    assert "Traceback" not in result.output


def test_parse_age_units():
    got = [parse_age(x) for x in ("26h", "90m", "2d", "45s", "3600", "1H")]
    assert got == [26 * HOUR, 5400, 2 * DAY, 45, 3600, HOUR]


def test_times_are_in_lms_zone_with_the_zone_named(sqlite_host):
    winter, summer = 1798761600, 1783000000  # 2027-01-01 00:00 UTC, 2026-07-02 13:46:40 UTC
    warsaw = zone_named(None)
    assert format_time(winter, warsaw, with_zone=True) == "2027-01-01 01:00:00 CET"
    assert format_time(summer, warsaw, with_zone=True) == "2026-07-02 15:46:40 CEST"
    assert format_time(winter, zone_named("No/Such_Zone")) == "2027-01-01 01:00:00"
    add_run(sqlite_host, "p.import", winter, took=125)
    sqlite_host.set_uiconfig("phpui.timezone", "America/New_York")
    out = CliRunner().invoke(main, ["-C", str(sqlite_host.ini_config.path), "jobs"]).output
    assert "times in America/New_York" in out and "2026-12-31 19:00:00 EST p.import" in out
    assert format_span(125) in out


def test_jobs_show_prints_one_run_and_refuses_an_unknown_id(sqlite_host):
    add_run(sqlite_host, "p.import", 1798761600, counters='{"cdrs": 5}')
    result = CliRunner().invoke(main, ["-C", str(sqlite_host.ini_config.path), "jobs", "show", "1"])
    assert result.exit_code == 0 and "run #1 p.import: done" in result.output and "cdrs = 5" in result.output
    assert "2027-01-01 01:00:00 CET" in result.output
    result = CliRunner().invoke(main, ["-C", str(sqlite_host.ini_config.path), "jobs", "show", "99"])
    assert result.exit_code == 2 and "no job run #99" in result.output


def test_job_names_and_health_on_every_dialect(lms_host):
    now = time.time()
    for job in ("b.two", "a.one", "b.two", "c.only_tests"):
        add_run(lms_host, job, now - HOUR, test=int(job == "c.only_tests"))
    add_run(lms_host, "a.one", now - 60, status="failed")
    with lms_host.engine.connect() as conn:
        assert job_names(conn) == ["a.one", "b.two", "c.only_tests"]
    health = {h.job: h for h in job_health(lms_host)}
    assert sorted(health) == ["a.one", "b.two"]
    assert health["a.one"].last_status == "failed" and health["a.one"].last_success is not None
