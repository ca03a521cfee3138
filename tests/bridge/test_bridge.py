"""The PHP bridge inside a stand-in of LMS's plugin manager and lms-notify's hooks, driving the real
``lmsplugins`` command: actions registered, run in one ``notify apply`` call, fails closed."""

from __future__ import annotations

import pytest
from bridge_support import LMSPLUGINS, PLUGIN, lms_notify, require_php
from sqlalchemy import text

from lmsplugins.lms.tables import customers
from lmsplugins.testing.databases import install


@pytest.fixture(autouse=True)
def _php():
    require_php()


def _customers_with_notes(host, n: int) -> list[int]:
    ids = []
    with host.engine.begin() as conn:
        for i in range(n):
            cid = conn.execute(
                customers.insert().values(lastname=f"BRIDGE{i}", name="Jan", status=3)
            ).inserted_primary_key[0]
            ids.append(cid)
        conn.execute(
            text("INSERT INTO example_notes (customerid, greeting, blocked, mtime) VALUES (:c, 'hi', 0, 0)"),
            [{"c": cid} for cid in ids],
        )
    return ids


def _blocked(host, ids) -> list[int]:
    with host.engine.connect() as conn:
        rows = conn.execute(text("SELECT customerid, blocked FROM example_notes")).all()
    return [b for c, b in sorted(rows) if c in set(ids)]


def test_lms_notify_runs_our_actions_through_one_apply(pg_host, tmp_path):
    lms_host = pg_host  # the real LMS schema
    install(lms_host, "example")
    ids = _customers_with_notes(lms_host, 3)
    settings = {"lmsplugins.command": str(LMSPLUGINS), "lmsplugins.config_file": str(lms_host.ini_config.path)}

    result, out = lms_notify(tmp_path, settings, "block", "node-access,example-flag", ids[:2], "debug")
    assert result.returncode == 0, result.stderr
    assert out["supported"]["example-flag"] == 0 and out["supported"]["node-access"] == 0
    assert _blocked(lms_host, ids) == [0, 0, 0]  # LMS's debug: nothing changes, no plugin called

    result, out = lms_notify(tmp_path, settings, "block", "node-access,example-flag", ids[:2])
    assert result.returncode == 0, result.stderr
    assert "example-flag [Example]: 2 change(s)" in result.stdout
    assert _blocked(lms_host, ids) == [1, 1, 0]

    result, _ = lms_notify(tmp_path, settings, "unblock", "example-flag", ids, "quiet")
    assert result.returncode == 0 and "change(s)" not in result.stdout
    assert _blocked(lms_host, ids) == [0, 0, 0]
    with lms_host.engine.connect() as conn:
        runs = conn.execute(text("SELECT job FROM lmsplugins_job_runs ORDER BY id")).scalars().all()
    assert runs == ["notify.apply.block", "notify.apply.block", "notify.apply.unblock"]


def test_many_customers_pass_through_a_file(sqlite_host, tmp_path):
    install(sqlite_host, "example")
    ids = _customers_with_notes(sqlite_host, 1200)
    settings = {"lmsplugins.command": str(LMSPLUGINS), "lmsplugins.config_file": str(sqlite_host.ini_config.path)}
    result, _ = lms_notify(tmp_path, settings, "block", "example-flag", ids, "quiet")
    assert result.returncode == 0, result.stderr
    assert set(_blocked(sqlite_host, ids)) == {1}
    assert not list(tmp_path.glob("lmsplugins-ids-*"))  # temporary files removed


def test_missing_or_failing_lmsplugins_leaves_lms_working(sqlite_host, tmp_path):
    install(sqlite_host, "example")
    ids = _customers_with_notes(sqlite_host, 1)
    missing = {"lmsplugins.command": "/nonexistent/lmsplugins"}
    result, out = lms_notify(tmp_path, missing, "block", "node-access", ids)
    assert result.returncode == 0 and out is not None
    assert "example-flag" not in out["supported"]  # nothing registered, LMS's own actions untouched
    assert "lmsplugins bridge: command '/nonexistent/lmsplugins' not found" in result.stderr
    # a cron line naming our action then fails in LMS's own parser, as for any unknown action
    result, out = lms_notify(tmp_path, missing, "block", "example-flag", ids)
    assert "Invalid format of actions parameter!" in result.stdout and out is None

    broken = {"lmsplugins.command": "/bin/false"}
    result, out = lms_notify(tmp_path, broken, "block", "node-access", ids)
    assert result.returncode == 0 and out is not None
    assert "lmsplugins bridge: lmsplugins notify actions exited with 1" in result.stderr
    assert _blocked(sqlite_host, ids) == [0]


def test_card_box_and_template_dir_only_with_a_url(sqlite_host, tmp_path):
    settings = {"lmsplugins.command": "/nonexistent/lmsplugins", "lmsplugins.url": "https://lms.example/plugins/"}
    _result, out = lms_notify(tmp_path, settings, "block", "node-access", [1])
    assert out["panels_url"] == "https://lms.example/plugins/embed/customers/7/panels"
    assert out["template_dirs"][0] == str(PLUGIN / "templates")
    assert out["menu"] == {"customers": {"name": "Customers"}}  # no menu data: LMS's menu as it was
    _result, out = lms_notify(tmp_path, {}, "block", "node-access", [1])
    assert out["panels_url"] is None
