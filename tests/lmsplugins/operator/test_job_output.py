"""What a job run printed is kept with its record (quiet or not, bounded), its command line masked."""

from __future__ import annotations

import io

import pytest

from lmsplugins import jobs
from lmsplugins.jobs import EXIT_FAILURES, EXIT_OK, Output, Tail, recent_runs, run_detail, run_job
from lmsplugins.secrets import mask_argv
from lmsplugins.testing import databases as dbs


def _body(lines: int = 3, fail: bool = False, crash: bool = False):
    def body(job):
        for i in range(lines):
            job.info(f"line {i}")
        job.warn("something odd")
        job.count("things", lines)
        if fail:
            job.fail("record 7 could not be stored")
        if crash:
            raise RuntimeError("boom")

    return body


def _run(host, body, quiet=False, argv=("sync",), limit=None):
    out = Output(quiet=quiet, out=io.StringIO(), err=io.StringIO(), **({"limit": limit} if limit else {}))
    code = run_job(host, "t.job", body, output=out, argv=list(argv))
    return code, out


@pytest.mark.parametrize("quiet", [False, True])
def test_output_is_kept_in_quiet_and_normal_mode(sqlite_host, quiet):
    code, out = _run(sqlite_host, _body(), quiet=quiet)
    assert code == EXIT_OK
    printed = out.out.getvalue()
    assert ("line 1" in printed) is not quiet
    run = run_detail(sqlite_host, 1)
    assert run is not None and run["exit_code"] == EXIT_OK and not run["truncated"]
    assert "line 0\nline 1\nline 2\nwarning: something odd\n" in run["output"]
    assert "t.job: done in" in run["output"]
    assert run["counters"] == {"things": 3}


def test_exit_code_and_traceback_are_kept(sqlite_host):
    code, _out = _run(sqlite_host, _body(crash=True))
    assert code == EXIT_FAILURES
    run = run_detail(sqlite_host, 1)
    assert run["exit_code"] == EXIT_FAILURES and run["status"] == "error"
    assert "RuntimeError: boom" in run["output"] and "Traceback (most recent call last)" in run["output"]


def test_output_past_the_bound_keeps_the_end(sqlite_host):
    code, _out = _run(sqlite_host, _body(lines=5000), limit=1000)
    assert code == EXIT_OK
    run = run_detail(sqlite_host, 1)
    assert run["truncated"] == 1
    assert len(run["output"]) == 1000
    assert run["output"].endswith(")\n") and "line 4999\n" in run["output"] and "line 0\n" not in run["output"]


def test_tail_memory_stays_bounded():
    tail = Tail(100)
    for i in range(10_000):
        tail.write(f"{i:05d}\n")
        assert tail._size <= 2 * 100 + 6
    assert tail.text().endswith("09999\n") and len(tail.text()) == 100 and tail.truncated


def test_secrets_are_masked_in_argv_and_output(sqlite_host):
    sqlite_host.set_uiconfig("lmsplugins.secret_key", "s3cr3t-value")

    def body(job):
        job.info("connecting with s3cr3t-value")

    argv = ["example", "sync", "--password", "hunter22", "--token=abc", "--note=s3cr3t-value"]
    assert run_job(sqlite_host, "t.job", body, output=Output(out=io.StringIO()), argv=argv) == EXIT_OK
    run = run_detail(sqlite_host, 1)
    assert run["argv"] == "example sync --password *** --token=*** --note=***"
    assert "s3cr3t-value" not in run["output"] and "connecting with ***" in run["output"]


def test_mask_argv_flags():
    assert mask_argv(["--api-key", "k", "--mapping-file", "f", "--db_passwd=x", "-p", "1"]) == [
        "--api-key", "***", "--mapping-file", "f", "--db_passwd=***", "-p", "1",
    ]  # fmt: skip


def test_unknown_run_is_none(tmp_path):
    host = dbs.sqlite_host(tmp_path)
    assert run_detail(host, 12345) is None


def test_output_record_and_pruning_on_every_dialect(lms_host, monkeypatch):
    monkeypatch.setattr(jobs, "OUTPUT_KEEP_RUNS", 2)

    def body(job):
        job.info("zażółć gęślą jaźń " * 2000)

    for name in ("t.job", "t.job", "other.job", "t.job"):
        assert run_job(lms_host, name, body, output=Output(out=io.StringIO(), limit=20_000), argv=["x"]) == EXIT_OK
    ids = [r["id"] for r in recent_runs(lms_host, job="t.job")]
    run = run_detail(lms_host, ids[0])
    assert run["truncated"] == 1 and len(run["output"]) == 20_000 and "gęślą" in run["output"]
    assert [bool(run_detail(lms_host, i)["output"]) for i in ids] == [True, True, False]
    assert run_detail(lms_host, ids[2])["status"] == "done"
    assert run_detail(lms_host, recent_runs(lms_host, job="other.job")[0]["id"])["output"]
