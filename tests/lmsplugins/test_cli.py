"""The lmsplugins command as an administrator meets it: bad input, db check/upgrade, plugins, jobs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from lmsplugins.cli import main
from lmsplugins.lms.settings import get_dbinfo
from lmsplugins.testing import databases as dbs


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_unreadable_ini_is_exit_2(tmp_path):
    code, out = run("-C", str(tmp_path / "missing.ini"), "db", "check")
    assert code == 2
    assert f"Unable to read configuration file [{tmp_path / 'missing.ini'}]" in out


def test_malformed_ini_is_exit_2(tmp_path):
    ini = tmp_path / "lms.ini"
    ini.write_text("[database]\nthis line is broken\n")
    code, out = run("-C", str(ini), "jobs")
    assert code == 2 and "line 2" in out


def test_unknown_database_type_is_exit_2(tmp_path):
    ini = tmp_path / "lms.ini"
    ini.write_text("[database]\ntype = oracle\nhost = x\nuser = u\npassword = p\ndatabase = d\n")
    code, out = run("db", "check", "-C", str(ini))
    assert code == 2 and "'oracle' is not supported" in out


def test_unreachable_database_is_exit_2_and_hides_password(tmp_path):
    ini = tmp_path / "lms.ini"
    ini.write_text("[database]\ntype = postgres\nhost = 127.0.0.1:1\nuser = u\npassword = hunter2\ndatabase = d\n")
    code, out = run("-C", str(ini), "db", "check")
    assert code == 2
    assert "cannot connect to database" in out and "check [database] in lms.ini" in out
    assert "hunter2" not in out


def test_help_works_without_any_config():
    code, out = run("--help")
    assert code == 0 and "example" in out and "db" in out


@pytest.mark.postgres
def test_db_check_passes_on_the_real_postgresql_schema(pg_host):
    code, out = run("-C", str(pg_host.ini_config.path), "db", "check")
    assert code == 0, out
    assert "database check passed" in out


@pytest.mark.mysql
def test_db_check_passes_on_the_real_mariadb_schema(mysql_host):
    code, out = run("-C", str(mysql_host.ini_config.path), "db", "check")
    assert code == 0, out


@pytest.mark.postgres
def test_db_check_names_what_is_missing(pg_host):
    with pg_host.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE voip_cdr DROP COLUMN fraction")
        conn.exec_driver_sql("UPDATE dbinfo SET keyvalue = '2019010100' WHERE keytype = 'dbversion'")
    code, out = run("-C", str(pg_host.ini_config.path), "db", "check")
    assert code == 2
    assert "table voip_cdr lacks column(s) fraction" in out
    assert "older than" in out


def test_db_upgrade_installs_then_is_idempotent(lms_host):
    ini = str(lms_host.ini_config.path)
    code, out = run("-C", ini, "db", "upgrade")
    assert code == 0 and "Example: applied 2026112300" in out
    with lms_host.engine.connect() as conn:
        assert get_dbinfo(conn, "dbversion_LMSExamplePlugin") == "2026112300"
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM example_notes").scalar() == 0
    code, out = run("-C", ini, "db", "upgrade")
    assert code == 0 and "schema is up to date" in out
    code, out = run("-C", ini, "db", "check")
    assert code == 0, out


def test_broken_plugin_is_listed_and_others_keep_working(tmp_path):
    host = dbs.sqlite_host(tmp_path / "db")
    extra = tmp_path / "extra"
    (extra / "broken").mkdir(parents=True)
    (extra / "broken" / "__init__.py").write_text("")
    (extra / "broken" / "plugin.py").write_text("raise RuntimeError('missing dependency foo')\n")
    (extra / "badname").mkdir()
    (extra / "badname" / "__init__.py").write_text("")
    (extra / "badname" / "plugin.py").write_text(
        textwrap.dedent(
            """
            from lmsplugins.plugin import Plugin
            plugin = Plugin(name="Bad Name", title="x", lms_class="X", version="1")
            """
        )
    )
    ini = Path(host.ini_config.path)
    ini.write_text(ini.read_text() + f"\n[lmsplugins]\nplugin_dirs = {extra}\n")
    code, out = run("-C", str(ini), "plugins")
    assert code == 0
    assert "FAILED   broken" in out and "missing dependency foo" in out
    assert "FAILED   badname" in out and "must be lower-case" in out
    assert "enabled  example" in out


def test_enabled_list_and_unknown_names(tmp_path):
    host = dbs.sqlite_host(tmp_path)
    host.set_uiconfig("lmsplugins.plugins", "NoSuchPlugin LMSExamplePlugin:5")
    code, out = run("-C", str(host.ini_config.path), "plugins")
    assert code == 0
    assert "enabled  example" in out
    assert "MISSING  NoSuchPlugin" in out
    host.set_uiconfig("lmsplugins.plugins", "NoSuchPlugin")
    _code, out = run("-C", str(host.ini_config.path), "plugins")
    assert "disabled example" in out


def test_example_job_end_to_end_with_simulator(tmp_path):
    from lmsplugins.simserver import serve
    from plugins.example.simulator import make_app

    host = dbs.sqlite_host(tmp_path, seeded=True)
    dbs.install(host, "example")
    ini = str(host.ini_config.path)
    with serve(make_app(token="t0k", fail_every=4)) as sim:
        host.set_uiconfig("example.api_url", sim.url)
        code, out = run("-C", ini, "example", "sync")
        assert code == 1, out  # wrong token: the provider refuses
        assert "HTTP 401" in out
        assert dbs.table_count(host, "example_notes") == 0
        host.set_uiconfig("example.api_token", "t0k")
        code, out = run("-C", ini, "example", "sync", "--test")
        assert code == 0, out
        assert dbs.table_count(host, "example_notes") == 0
        code, out = run("-C", ini, "example", "sync")
        assert code == 0, out
        assert dbs.table_count(host, "example_notes") == 24
        assert "t0k" not in out
    code, out = run("-C", ini, "jobs")
    assert out.count("example.sync") == 3
    assert "notes=24" in out
    code, out = run("-C", ini, "example", "sync", "--limit", "0")
    assert code == 2 and "--limit must be at least 1" in out


def test_disabled_plugin_commands_refuse_with_the_setting_named(tmp_path):
    host = dbs.sqlite_host(tmp_path, seeded=True)
    dbs.install(host, "example")
    host.set_uiconfig("lmsplugins.plugins", "SomethingElse")
    code, out = run("-C", str(host.ini_config.path), "example", "sync")
    assert code == 2
    assert "plugin example is not enabled" in out and "lmsplugins.plugins" in out
    code, out = run("example", "sync", "-C", str(host.ini_config.path))
    assert code == 2 and "not enabled" in out


def test_plugin_from_an_extra_folder_gets_its_commands(tmp_path):
    host = dbs.sqlite_host(tmp_path / "db")
    extra = tmp_path / "extra" / "hello"
    extra.mkdir(parents=True)
    (extra / "__init__.py").write_text("")
    (extra / "plugin.py").write_text(
        textwrap.dedent(
            """
            import click
            from lmsplugins.plugin import Plugin

            @click.group("hello")
            def cli():
                "Say hello."

            @cli.command("world")
            def world():
                click.echo("hello from an extra folder")

            plugin = Plugin(name="hello", title="Hello", lms_class="LMSHelloPlugin", version="0.1", cli=lambda: cli)
            """
        )
    )
    ini = Path(host.ini_config.path)
    ini.write_text(ini.read_text() + f"\n[lmsplugins]\nplugin_dirs = {extra.parent}\nplugins = hello\n")
    code, out = run("-C", str(ini), "hello", "world")
    assert code == 0 and "hello from an extra folder" in out


@pytest.mark.postgres
def test_demo_seed_works_on_the_real_schema_and_search_indexes_exist(pg_host):
    from sqlalchemy import inspect

    from lmsplugins.demo import seed

    with pg_host.engine.begin() as conn:
        ids = seed(conn, customers=3)
    assert ids["admin"] > 0
    names = {i["name"] for i in inspect(pg_host.engine).get_indexes("customers")}
    assert {"lmsplugins_customers_ten_idx", "lmsplugins_customers_ssn_idx"} <= names


def test_demo_runs_every_plugins_jobs_without_serving(tmp_path):
    from sqlalchemy import inspect

    from lmsplugins.demo import demo_plugins
    from lmsplugins.host import Host

    data = tmp_path / "demo"
    code, out = run("demo", "--data-dir", str(data), "--no-serve")
    assert code == 0, out
    host = Host(data / "lms.ini")
    with host.engine.connect() as conn:
        jobs = {r[0]: r[1] for r in conn.exec_driver_sql("SELECT job, status FROM lmsplugins_job_runs")}
        cdrs = conn.exec_driver_sql("SELECT COUNT(*) FROM voip_cdr").scalar()
        linked = conn.exec_driver_sql("SELECT COUNT(*) FROM voip_number_assignments").scalar()
        hv_cdrs = conn.exec_driver_sql("SELECT COUNT(*) FROM hv_billing").scalar()
        tables = set(inspect(conn).get_table_names())
    # Plugins are opt-in: the demo names the real integrations and leaves the template out.
    assert "example.sync" not in jobs and "example_notes" not in tables
    assert [p.name for p in host.registry.enabled] == demo_plugins() and "example" not in demo_plugins()
    assert jobs["hiperus_c5.import"] == "done" and "hiperus_c5.invoice" in jobs
    assert jobs["metroport_mvno.sync"] == "done"
    assert cdrs > 0 and linked > 0 and hv_cdrs > 0


def test_click_usage_errors_are_one_error_line_with_exit_2():
    import subprocess
    import sys

    for args, expected in (
        (["--bogus"], "error: No such option '--bogus'. (see 'lmsplugins --help')"),
        (["nosuch"], "error: No such command 'nosuch'. (see 'lmsplugins --help')"),
        (["jobs", "--limit", "x"], "error: Invalid value for '--limit'"),
    ):
        script = str(Path(sys.executable).with_name("lmsplugins"))
        proc = subprocess.run([script, *args], capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 2, proc
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(expected), proc.stderr
        assert "Usage:" not in proc.stderr + proc.stdout
