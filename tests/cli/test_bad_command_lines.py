"""Bad command lines against every command: one line naming what is wrong, exit code 2, nothing written.

The commands are read from the click tree (host commands and every plugin's group), so a plugin added
later is swept too. Two tiers:

- a table of command lines that must be refused (impossible dates, zero or negative sizes, huge ids,
  bad ports, a malformed provider URL), each with the word the message must name;
- for every command, every option that takes a value gets hostile values; whatever the command
  makes of them, it never shows a traceback, and when it refuses (exit 2) the database is unchanged;
- every command run against a database without the LMS schema, and against a mistyped SQLite path
  (which must not create an empty file), refuses with exit 2 or runs without needing the database.

"Unchanged" is a digest of every table but the job runner's own run log. Provider addresses point at
a closed loopback port and the retry budget is one second, so nothing reaches a real provider.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import inspect, select, text

from lmsplugins.cli import main
from lmsplugins.host import Host
from lmsplugins.testing import databases as dbs

CLOSED_PORT_URL = "http://127.0.0.1:9/"
CREDENTIAL = re.compile(r"(login|user|username|password|domain|token|key|secret)$")
NOT_DATABASE = frozenset({("demo",), ("serve",)})
"""Commands that serve or build their own database: only their argument checks are run here."""
HOSTILE = ("-1", "0", "99999999999999999999999", "2024-02-30", "١٢٣", "")
SKIP_OPTIONS = frozenset({"config_file", "data_dir"})
UNLOGGED = frozenset({"lmsplugins_job_runs", "lmsplugins_job_output"})
REFUSAL_CODES = {("jobs", "check"): (0, 2, 3)}
"""Exit codes a command may end with when it cannot use the database; the monitoring check answers
UNKNOWN (3) as the Nagios convention wants."""


def _commands(group: click.Group, ctx: click.Context, path: tuple[str, ...] = ()) -> Iterator[Any]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        sub = click.Context(command, parent=ctx, info_name=name)
        if isinstance(command, click.Group):
            yield from _commands(command, sub, (*path, name))
        else:
            yield (*path, name), command


def all_commands(ini: Path) -> list[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(main, info_name="lmsplugins")
    ctx.params["config_file"] = str(ini)
    return list(_commands(main, ctx))


def enable_every_plugin(host: Host) -> Host:
    """A Host on the same database with every plugin found enabled and installed."""
    host.set_uiconfig("lmsplugins.plugins", " ".join(p.name for p in host.registry.found))
    enabled = Host(host.ini_config.path)
    host.dispose()
    dbs.install(enabled)
    return enabled


def _digest(host: Host) -> str:
    out = hashlib.sha256()
    with host.engine.connect() as conn:
        for table in sorted(inspect(conn).get_table_names()):
            if table in UNLOGGED:
                continue
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.update(repr(tuple(row)).encode())
    return out.hexdigest()


@pytest.fixture(scope="module")
def lms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Host, Path]]:
    host = enable_every_plugin(dbs.sqlite_host(tmp_path_factory.mktemp("cli"), seeded=True))
    for plugin in host.registry.found:
        for setting in plugin.settings:
            default = str(setting.default or "")
            if setting.type == "str" and (setting.key.endswith("url") or default.startswith("http")):
                host.set_uiconfig(setting.key, CLOSED_PORT_URL)
            elif setting.type == "str" and not default and CREDENTIAL.search(setting.key.split(".")[-1]):
                host.set_uiconfig(setting.key, "fuzz")  # so that option checks, not missing logins, answer
    host.set_uiconfig("lmsplugins.http_retry_budget", "1")
    yield host, Path(str(host.ini_config.path))
    host.dispose()


def run(ini: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["-C", str(ini), *args], catch_exceptions=True)


def assert_clean(result: Result, args: tuple[str, ...]) -> None:
    shown = " ".join(args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"lmsplugins {shown}: {type(result.exception).__name__}: {result.exception}"
    )
    assert "Traceback" not in result.output, f"lmsplugins {shown}:\n{result.output}"


def assert_refused(result: Result, args: tuple[str, ...], naming: str) -> None:
    assert_clean(result, args)
    shown = " ".join(args)
    assert result.exit_code == 2, f"lmsplugins {shown} -> {result.exit_code}:\n{result.output}"
    errors = [line for line in result.output.splitlines() if line.lower().startswith(("error", "failed:"))]
    assert len(errors) == 1, f"lmsplugins {shown}: expected one error line:\n{result.output}"
    assert naming.lower() in errors[0].lower(), f"lmsplugins {shown}: {errors[0]!r} does not name {naming!r}"


REFUSED = [
    (("hiperus-c5", "import", "-b", "-D", "2024-02-30"), "2024-02-30"),
    (("hiperus-c5", "import", "-b", "-F", "2024/13/01", "-T", "2024/12/31"), "2024/13/01"),
    (("hiperus-c5", "import", "-b", "-F", "2024/02/30", "-T", "2024/03/31"), "2024/02/30"),
    (("hiperus-c5", "import", "-b", "-F", "2024/03/01", "-T", "2024/02/01"), "2024/02/01"),
    (("hiperus-c5", "invoice", "-f", "2023/02/29"), "2023/02/29"),
    (("hiperus-c5", "invoice", "-l", "99999999999999999999"), "leftmonth"),
    (("hiperus-c5", "invoice", "-l", "-1"), "leftmonth"),
    (("metroport-mvno", "sync", "--billings", "-s", "2024-02-30"), "start-date"),
    (("metroport-mvno", "sync", "--billings", "-s", "2024-03-01", "-e", "2024-13-01"), "end-date"),
    (("metroport-mvno", "sync", "--customers", "--customerid", "99999999999999999999999"), "customerid"),
    (("metroport-mvno", "sync", "--customers", "--customerid", "-3"), "customerid"),
    (("example", "sync", "--limit", "-1"), "limit"),
    (("example", "sync", "--limit", "0"), "limit"),
    (("jobs", "show", "99999999999999999999999"), "run_id"),
    (("jobs", "show", "0"), "run_id"),
    (("serve", "--port", "70000"), "port"),
    (("serve", "--port", "-1"), "port"),
    (("serve", "--port", "http"), "port"),
    (("demo", "--no-serve", "--port", "0"), "port"),
]


@pytest.fixture
def no_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve`` and ``demo`` must refuse before they serve or build anything; if not, fail here."""

    def started(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the command started instead of refusing its arguments")

    monkeypatch.setattr("flask.Flask.run", started)
    monkeypatch.setattr("lmsplugins.demo.run_demo", started)


@pytest.mark.parametrize(("args", "naming"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_bad_value_is_refused_with_one_line_and_nothing_written(lms, no_serving, args, naming):
    host, ini = lms
    before = _digest(host)
    assert_refused(run(ini, *args), args, naming)
    assert _digest(host) == before


def test_monitoring_check_answers_unknown_to_a_bad_max_age(lms):
    _host, ini = lms
    for value in ("-5", "0", "soon", "١٢h"):
        result = run(ini, "jobs", "check", "--max-age", value)
        assert_clean(result, ("jobs", "check", "--max-age", value))
        assert result.exit_code == 3 and result.output.startswith("JOBS UNKNOWN - "), result.output


@pytest.mark.parametrize(
    ("setting", "args"),
    [("hiperus_c5.api_url", ("hiperus-c5", "check")), ("metroportmvno.api_url", ("metroport-mvno", "check"))],
)
def test_malformed_provider_url_is_named(lms, setting, args):
    host, ini = lms
    host.set_uiconfig(setting, "htp:/no such//url")
    try:
        before = _digest(host)
        assert_refused(run(ini, *args), args, "url")
        assert _digest(host) == before
    finally:
        host.set_uiconfig(setting, CLOSED_PORT_URL)


def test_every_command_survives_hostile_option_values(lms):
    host, ini = lms
    commands = all_commands(ini)
    assert {path[0] for path, _ in commands} >= {"db", "jobs", "hiperus-c5", "metroport-mvno"}
    tried = 0
    for path, command in commands:
        if path in NOT_DATABASE:
            continue
        for param in command.params:
            if not isinstance(param, click.Option) or param.is_flag or param.name in SKIP_OPTIONS:
                continue
            for value in HOSTILE:
                args = (*path, param.opts[-1], value)
                before = _digest(host)
                result = run(ini, *args)
                tried += 1
                assert_clean(result, args)
                if result.exit_code == 2:
                    assert _digest(host) == before, f"lmsplugins {' '.join(args)} refused but wrote"
    assert tried > 50


def _empty_lms(tmp_path: Path) -> Path:
    db = tmp_path / "empty.sqlite"
    sqlite3.connect(db).close()
    return dbs.write_ini(tmp_path, "sqlite", str(db))


def test_every_command_on_a_database_without_the_lms_schema(lms, tmp_path):
    _host, good_ini = lms
    ini = _empty_lms(tmp_path)
    for path, _command in all_commands(good_ini):
        if path in NOT_DATABASE:
            continue
        result = run(ini, *path)
        assert_clean(result, path)
        allowed = REFUSAL_CODES.get(path, (0, 2))
        assert result.exit_code in allowed, f"lmsplugins {' '.join(path)} -> {result.exit_code}:\n{result.output}"
    assert_refused(run(ini, "db", "upgrade"), ("db", "upgrade"), "LMS")
    assert_refused(run(ini, "hiperus-c5", "import", "-a"), ("hiperus-c5", "import"), "LMS")
    with sqlite3.connect(tmp_path / "empty.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_every_command_with_a_mistyped_sqlite_path_creates_no_file(lms, tmp_path):
    _host, good_ini = lms
    missing = tmp_path / "lms.sqlit"
    ini = dbs.write_ini(tmp_path, "sqlite", str(missing))
    for path, _command in all_commands(good_ini):
        if path in NOT_DATABASE:
            continue
        result = run(ini, *path)
        assert_clean(result, path)
        allowed = REFUSAL_CODES.get(path, (0, 2))
        assert result.exit_code in allowed, f"lmsplugins {' '.join(path)} -> {result.exit_code}:\n{result.output}"
        assert not missing.exists(), f"lmsplugins {' '.join(path)} created {missing}"
    assert_refused(run(ini, "db", "check"), ("db", "check"), str(missing))
    assert not missing.exists()


def test_the_digest_sees_a_change(lms):
    host, _ini = lms
    before = _digest(host)
    from lmsplugins.lms.tables import customers

    with host.engine.begin() as conn:
        cid = conn.execute(select(customers.c.id).limit(1)).scalar()
        conn.execute(customers.update().where(customers.c.id == cid).values(message="changed by the test"))
    assert _digest(host) != before
