"""The job runner: exit codes, test-mode rollback, locking, run records, output modes."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from lmsplugins.db import named_lock
from lmsplugins.errors import ConfigError, ProviderError, UsageError
from lmsplugins.jobs import EXIT_FAILURES, EXIT_LOCKED, EXIT_OK, EXIT_USAGE, Output, recent_runs, run_job
from lmsplugins.lms.tables import serviceproviders


def _count(host):
    with host.engine.connect() as conn:
        query = select(func.count()).select_from(serviceproviders).where(serviceproviders.c.name.like("sp%"))
        return conn.execute(query).scalar()


def _body(n=3, fail_at=None):
    def body(job):
        for i in range(n):
            with job.chunk() as conn:
                conn.execute(serviceproviders.insert().values(name=f"sp{i}"))
            job.count("inserted")
            if fail_at == i:
                job.fail(f"record {i} could not be stored")

    return body


def _out():
    return Output(quiet=False, out=io.StringIO(), err=io.StringIO())


def test_done_counters_and_record(lms_host):
    out = _out()
    assert run_job(lms_host, "t.job", _body(), output=out, argv=["--x"]) == EXIT_OK
    assert _count(lms_host) == 3
    run = recent_runs(lms_host, job="t.job")[0]
    assert (run["status"], run["counters"], run["argv"], run["test"]) == ("done", {"inserted": 3}, "--x", 0)
    assert "t.job: done" in out.out.getvalue()


def test_test_mode_rolls_every_chunk_back(lms_host):
    out = _out()
    assert run_job(lms_host, "t.job", _body(), test=True, output=out) == EXIT_OK
    assert _count(lms_host) == 0
    assert recent_runs(lms_host)[0]["test"] == 1
    assert "test mode" in out.err.getvalue()


def test_failures_give_exit_1_and_keep_committed_chunks(lms_host):
    assert run_job(lms_host, "t.job", _body(fail_at=1), output=_out()) == EXIT_FAILURES
    assert _count(lms_host) == 3
    run = recent_runs(lms_host)[0]
    assert run["status"] == "failed" and "record 1" in run["message"]


def test_crash_rolls_back_the_open_chunk(lms_host):
    def body(job):
        with job.chunk() as conn:
            conn.execute(serviceproviders.insert().values(name="sp-kept"))
        with job.chunk() as conn:
            conn.execute(serviceproviders.insert().values(name="sp-lost"))
            raise ProviderError("provider said no")

    out = _out()
    assert run_job(lms_host, "t.job", body, output=out) == EXIT_FAILURES
    assert _count(lms_host) == 1
    assert "provider said no" in out.err.getvalue()
    assert recent_runs(lms_host)[0]["status"] == "error"


def test_validation_happens_before_anything(lms_host):
    def validate():
        raise UsageError("--billing-from is not a date")

    out = _out()
    assert run_job(lms_host, "t.job", _body(), validate=validate, output=out) == EXIT_USAGE
    assert _count(lms_host) == 0
    assert recent_runs(lms_host) == []
    assert "--billing-from is not a date" in out.err.getvalue()


def test_config_error_in_body_is_exit_2(lms_host):
    def body(job):
        raise ConfigError("hiperus_c5.password is not set")

    assert run_job(lms_host, "t.job", body, output=_out()) == EXIT_USAGE


def test_second_run_is_refused_with_exit_3(lms_host):
    out = _out()
    with named_lock(lms_host.engine, "t.job"):
        assert run_job(lms_host, "t.job", _body(), output=out) == EXIT_LOCKED
    assert "held by" in out.err.getvalue()
    assert _count(lms_host) == 0


def test_quiet_prints_only_errors(lms_host):
    out = Output(quiet=True, out=io.StringIO(), err=io.StringIO())
    assert run_job(lms_host, "t.job", _body(fail_at=0), output=out) == EXIT_FAILURES
    assert out.out.getvalue() == ""
    assert "record 0" in out.err.getvalue()


def test_plain_progress_lines_when_not_a_terminal(lms_host):
    out = _out()

    def body(job):
        with job.progress("records", total=100) as bar:
            for _ in range(100):
                bar.advance()

    run_job(lms_host, "t.job", body, output=out)
    text = out.out.getvalue()
    assert "records: 50/100 (50%)" in text
    assert "records: 100 done" in text


def test_wrong_core_schema_version_is_exit_2_and_nothing_written(lms_host):
    with lms_host.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE dbinfo SET keyvalue = '2012010100' WHERE keytype = 'dbversion'")
    out = _out()
    assert run_job(lms_host, "t.job", _body(), output=out) == EXIT_USAGE
    assert "older than" in out.err.getvalue() and "devel/upgradedb.php" in out.err.getvalue()
    assert _count(lms_host) == 0
    assert recent_runs(lms_host) == []


def test_auto_update_installs_pending_schema_before_the_job(tmp_path):
    from lmsplugins.host import Host
    from lmsplugins.lms.embedded import create_core_schema
    from lmsplugins.testing.databases import write_ini

    ini = write_ini(tmp_path, "sqlite", str(tmp_path / "lms.sqlite"))
    create_core_schema(Host(ini).engine)
    out = _out()
    assert run_job(Host(ini), "t.job", _body(), output=out) == EXIT_USAGE
    assert "lmsplugins db upgrade" in out.err.getvalue()
    ini.write_text(ini.read_text().replace("[database]\n", "[database]\nauto_update = yes\n"))
    host = Host(ini)
    assert run_job(host, "t.job", _body(), output=_out()) == EXIT_OK
    assert _count(host) == 3


def test_a_run_left_running_by_a_killed_process_is_closed_by_the_next_run(lms_host):
    from lmsplugins.jobs import ABANDONED
    from lmsplugins.store import job_runs

    with lms_host.engine.begin() as conn:
        for job in ("t.killed", "t.other"):
            conn.execute(
                job_runs.insert().values(
                    job=job, status="running", test=0, started=1, counters="{}", message="", argv="", host="h", pid=1
                )
            )
    assert run_job(lms_host, "t.killed", _body(1), output=_out()) == EXIT_OK
    with lms_host.engine.connect() as conn:
        rows = conn.execute(select(job_runs.c.job, job_runs.c.status, job_runs.c.message).order_by(job_runs.c.id)).all()
    assert [tuple(r) for r in rows] == [
        ("t.killed", "failed", ABANDONED),
        ("t.other", "running", ""),
        ("t.killed", "done", rows[2].message),
    ]
