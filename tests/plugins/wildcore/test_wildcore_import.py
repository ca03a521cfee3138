"""``lmsplugins wildcore import-onus``: ONUs kept outside LMS's network devices, feeding the feed."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from wildcore_data import Dataset, build, install

from lmsplugins.cli import main
from lmsplugins.host import Host
from lmsplugins.testing import databases as dbs
from plugins.wildcore.tables import wildcore_onus


def _setup(tmp_path: Path) -> tuple[Host, Dataset]:
    host = dbs.sqlite_host(tmp_path, seeded=False)
    install(host)
    return host, build(host)


def _run(host: Host, *args: str):
    return CliRunner().invoke(main, ["-C", str(host.ini_config.path), "wildcore", "import-onus", *args])


def _rows(host: Host) -> list[tuple[int, str, str]]:
    with host.engine.connect() as conn:
        q = select(wildcore_onus.c.customerid, wildcore_onus.c.ident, wildcore_onus.c.description)
        return sorted(tuple(r) for r in conn.execute(q))


def test_import_adds_replaces_and_refuses_bad_files_whole(tmp_path: Path):
    host, data = _setup(tmp_path)
    k, n = data.ids["kowalski"], data.ids["nowak"]
    before = _rows(host)
    good = tmp_path / "onus.csv"
    good.write_text(f"customer;ident;description\n{k};hwtc1a2b3c4d;piwnica\n{n};AA-BB-CC-00-00-01\n", encoding="utf-8")
    result = _run(host, str(good))
    assert result.exit_code == 0, result.output
    assert _rows(host) == sorted([*before, (k, "HWTC1A2B3C4D", "piwnica"), (n, "AA:BB:CC:00:00:01", "")])
    assert _run(host, str(good)).exit_code == 0 and len(_rows(host)) == len(before) + 2

    for content, message in [
        (f"{k},ZTEG00000001\n{n},not an onu\n", "line 2: 'not an onu' is neither an ONU serial nor a MAC address"),
        ("999999,ZTEG00000001\n", "line 1: no customer #999999 in LMS (or deleted)"),
        (f"{data.ids['deleted']},ZTEG00000001\n", "(or deleted)"),
        ("x1,ZTEG00000001\n", "line 1: 'x1' is not a customer id"),
        (f"{k}\n", "line 1: expected customer_id,ident[,description]"),
    ]:
        bad = tmp_path / "bad.csv"
        bad.write_text(content, encoding="utf-8")
        result = _run(host, str(bad))
        assert result.exit_code == 2 and message in result.output, result.output
        assert "Traceback" not in result.output
    assert len(_rows(host)) == len(before) + 2
    missing = _run(host, str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "cannot read" in missing.output

    only = tmp_path / "only.csv"
    only.write_text(f"{n},AA:BB:CC:00:00:01,szafa\n", encoding="utf-8")
    assert _run(host, "--test", "--replace", str(only)).exit_code == 0
    assert len(_rows(host)) == len(before) + 2
    assert _run(host, "--replace", str(only)).exit_code == 0
    assert _rows(host) == [(n, "AA:BB:CC:00:00:01", "")]


def test_db_check_warns_until_the_feed_is_configured(tmp_path: Path):
    host = dbs.sqlite_host(tmp_path, seeded=False)
    plugin = host.plugin("wildcore")
    assert plugin is not None and plugin.checks is not None
    warnings = plugin.checks(host)
    assert any("wildcore.feed_key is not set" in w for w in warnings)
    assert any("wildcore.lms_url is not set" in w for w in warnings)
    host.set_uiconfig("wildcore.feed_key", "short")
    assert any("shorter than 16" in w for w in plugin.checks(host))
    host.set_uiconfig("wildcore.feed_key", "k" * 24)
    host.set_uiconfig("wildcore.lms_url", "https://lms.example.pl/")
    assert plugin.checks(host) == []
