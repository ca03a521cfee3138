"""``lmsplugins hiperus-c5 import`` against the simulator on loopback, on SQLite, PostgreSQL and MariaDB.

Every step, -i atomicity, deletion of what the platform dropped while local-only columns survive,
idempotent CDR re-import, time zones, flag spellings, strict bad input and a refused login.
"""

from __future__ import annotations

import calendar
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hiperus_env import make_env

from lmsplugins.lms.settings import read_uiconfig
from plugins.hiperus_c5 import jobs
from plugins.hiperus_c5.tables import hv_assign, hv_billing, hv_pricelist, hv_pstnrange, hv_pstnusage, hv_terminal

BILLING = ["-b", "--billing-type=all", "--billing-success=all", "-F", "2024/01/01", "-T", "2024/01/10"]


@pytest.fixture
def env(lms_host, tmp_path):
    e = make_env(lms_host, tmp_path)
    yield e
    e.server.stop()


def test_all_steps_mirror_the_platform(env):
    result = env.run("import", "--all")
    assert result.exit_code == 0, result.output
    st = env.sim.state
    counts = env.counts()
    assert counts["hv_customers"] == len(st.customers) == counts["hv_assign"]
    assert counts["hv_terminal"] == len(st.terminals)
    assert counts["hv_pstn"] == len(st.extensions)
    assert counts["hv_pstnrange"] == len(st.ranges)
    assert counts["hv_pstnusage"] == sum(int(r["range_end"]) - int(r["range_start"]) + 1 for r in st.ranges)
    assert counts["hv_enduserlist"] == len(st.end_users)
    assert counts["hv_pricelist"] == 3 and counts["hv_subscriptionlist"] == 3
    assert counts["hv_billing"] == 0
    charge = {r["id"]: r["charge_internal_call"] for r in env.rows(hv_pricelist)}
    assert charge == {1: "t", 2: "f", 3: "t"}
    assigns = {r["customerid"]: r["keyvalue"] for r in env.rows(hv_assign)}
    assert assigns == {cid: ("2" if c["issue_invoice"] == "t" else "0") for cid, c in st.customers.items()}
    used = {e["number"]: e["id_customer"] for e in st.extensions.values()}
    for row in env.rows(hv_pstnusage, "extension"):
        assert row["customerid"] == used.get(str(row["number"]), 0)
    with env.host.engine.connect() as conn:
        assert read_uiconfig(conn, "hiperus_c5.voip_services")[0]["value"] == "1"
        assert read_uiconfig(conn, "hiperus_c5.wlr")[0]["value"] == "0"


def test_sync_deletes_what_the_platform_dropped_and_keeps_local_columns(env):
    assert env.run("import", "-a").exit_code == 0
    st = env.sim.state
    victim = sorted(st.customers)[0]
    kept_terminal = next(t for t in sorted(st.terminals.values(), key=lambda t: t["id"]) if t["id_customer"] != victim)
    with env.host.engine.begin() as conn:
        conn.execute(hv_terminal.update().where(hv_terminal.c.id == kept_terminal["id"]).values(location="Dom 1"))
        conn.execute(hv_pstnrange.update().where(hv_pstnrange.c.id == 1).values(ussage="f"))
    for table in (st.terminals, st.extensions, st.end_users):
        for key in [k for k, v in table.items() if v["id_customer"] == victim]:
            del table[key]
    del st.customers[victim]
    result = env.run("import", "--customers", "--terminals", "--numbers", "--end-users")
    assert result.exit_code == 0, result.output
    counts = env.counts()
    assert counts["hv_customers"] == len(st.customers) == counts["hv_assign"]
    assert counts["hv_terminal"] == len(st.terminals) and counts["hv_pstn"] == len(st.extensions)
    assert counts["hv_enduserlist"] == len(st.end_users)
    terminal = {r["id"]: r for r in env.rows(hv_terminal)}[kept_terminal["id"]]
    assert terminal["location"] == "Dom 1"
    assert {r["id"]: r["ussage"] for r in env.rows(hv_pstnrange)}[1] == "f"
    assert env.run("import", "-i", "-n").exit_code == 0
    assert {r["id"]: r["ussage"] for r in env.rows(hv_pstnrange)}[1] == "t"


def test_account_with_no_terminals_left_loses_its_stale_terminals(env):
    assert env.run("import", "-c", "-t").exit_code == 0
    st = env.sim.state
    cid = sorted(st.customers)[1]
    for key in [k for k, v in st.terminals.items() if v["id_customer"] == cid]:
        del st.terminals[key]
    assert env.run("import", "-t").exit_code == 0
    assert all(r["customerid"] != cid for r in env.rows(hv_terminal))


def test_full_import_fault_mid_reload_keeps_old_rows(lms_host, tmp_path):
    calls = {"n": 0, "armed": False}

    def wrap(sim):
        def app(environ, start_response):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            if b"GetTerminalList" in body and calls["armed"]:
                calls["n"] += 1
                if calls["n"] == 3:
                    sim.faults.fail_action["GetTerminalList"] = "Internal database error"
            environ["wsgi.input"] = io.BytesIO(body)
            return sim(environ, start_response)

        return app

    env = make_env(lms_host, tmp_path, wrap=wrap)
    try:
        assert env.run("import", "-c", "-t").exit_code == 0
        before = env.rows(hv_terminal)
        assert before
        for t in env.sim.state.terminals.values():
            t["password"] = "changed"
        calls["armed"] = True
        result = env.run("import", "-i", "-t")
        assert result.exit_code == 1
        assert "Internal database error" in result.output
        assert env.rows(hv_terminal) == before
        calls["armed"] = False
        env.sim.faults.fail_action.clear()
        assert env.run("import", "--full-import", "--terminal").exit_code == 0
        assert {r["password"] for r in env.rows(hv_terminal)} == {"changed"}
    finally:
        env.server.stop()


def test_billing_is_idempotent_updates_changed_rows_and_converts_time(env):
    assert env.run("import", "-c", "-t").exit_code == 0
    result = env.run("import", *BILLING)
    assert result.exit_code == 0, result.output
    first = env.rows(hv_billing)
    expected = sum(
        env.sim.cdrs.count(date(2024, 1, 1), date(2024, 1, 10), [ct], ok)
        for ct in jobs.CALLTYPES
        for ok in (True, False)
    )
    assert len(first) == expected > 0
    assert {r["success_call"] for r in first} == {"t", "f"}
    assert {r["calltype"] for r in first} == set(jobs.CALLTYPES)
    assert all(r["customerid"] is not None for r in first)
    warsaw = ZoneInfo("Europe/Warsaw")
    for r in first[:200]:
        local = datetime.strptime(r["start_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=warsaw)
        assert r["start_time_unix"] == int(local.timestamp())
    env.sql("UPDATE hv_billing SET cost = 999, customerid = NULL WHERE id = :i", i=first[0]["id"])
    assert env.run("import", *BILLING).exit_code == 0
    assert env.rows(hv_billing) == first


def test_billing_zone_setting_and_chunks(env):
    env.host.set_uiconfig("hiperus_c5.timezone", "UTC")
    env.host.set_uiconfig("hiperus_c5.billing_chunk_months", "1")
    assert env.run("import", "-c", "-t").exit_code == 0
    assert env.run("import", "-b", "-Y", "outgoing", "-F", "2024/01/20", "-T", "2024/03/05").exit_code == 0
    rows = env.rows(hv_billing)
    assert rows
    for r in rows[:100]:
        t = datetime.strptime(r["start_time"], "%Y-%m-%d %H:%M:%S")
        assert r["start_time_unix"] == calendar.timegm(t.timetuple())
    assert env.sim.stats["action:GetBilling"] == 2  # 01-20..02-19 and 02-20..03-05


def test_cdrs_of_unknown_terminals_are_stored_and_reported(env):
    assert env.run("import", "-c", "-t").exit_code == 0
    gone = sorted(env.sim.state.terminals.values(), key=lambda t: t["id"])[0]["username"]
    env.sql("DELETE FROM hv_terminal WHERE username = :u", u=gone)
    result = env.run("import", "-b", "-D", "lastday")
    assert result.exit_code == 0
    result = env.run("import", *BILLING)
    assert result.exit_code == 0
    assert "name a terminal unknown here" in result.output and gone in result.output
    orphans = env.sql("SELECT COUNT(*) FROM hv_billing WHERE terminal_name = :u AND customerid IS NULL", u=gone)
    assert orphans[0][0] > 0


@pytest.mark.parametrize(
    "args",
    [
        ["-b", "-F", "2024/13/01", "-T", "2024/01/02"],
        ["-b", "-F", "2024/01/01"],
        ["-b", "-F", "2024/02/01", "-T", "2024/01/01"],
        ["-b", "-D", "yesterday"],
        ["-b", "--b_date=lastweek"],
        ["-b", "-Y", "bogus"],
        ["-b", "--billing-success=maybe"],
        ["-a", "-b", "-D", "lastday", "-F", "not-a-date", "-T", "2024/01/01"],
        [],
    ],
)
def test_bad_input_exits_2_and_touches_nothing(env, args):
    before = env.counts()
    result = env.run("import", *args)
    assert result.exit_code == 2
    assert "error:" in result.output
    assert env.counts() == before
    assert sum(v for k, v in env.sim.stats.items() if k.startswith("action:")) == 0


def test_refused_login_exits_1_with_the_platform_message_and_writes_nothing(env):
    env.host.set_uiconfig("hiperus_c5.password", "wrong")
    result = env.run("import", "-a", "-b")
    assert result.exit_code == 1
    assert "Invalid username, password or domain" in result.output
    assert "wrong" not in result.output
    assert env.counts() == dict.fromkeys(env.counts(), 0)


def test_missing_credentials_exit_2(env):
    env.host.set_uiconfig("hiperus_c5.username", "")
    result = env.run("import", "-a")
    assert result.exit_code == 2 and "hiperus_c5.username" in result.output


def test_test_mode_rolls_back(env):
    assert env.run("import", "-a", "--test").exit_code == 0
    assert env.counts() == dict.fromkeys(env.counts(), 0)


def _params(args):
    with jobs.import_cmd.make_context("import", list(args)) as ctx:
        return ctx.params


@pytest.mark.parametrize(
    "spellings",
    [
        (["-i", "-c"], ["--full-import", "--customers"], ["--import", "--customer"]),
        (["-t", "-n"], ["--terminals", "--numbers"], ["--terminal", "--pstn"]),
        (
            ["-e", "-p", "-s", "-w"],
            ["--end-users", "--price-lists", "--subscriptions", "--wlr"],
            ["--enduser", "--pricelist", "--subscription", "--wlr"],
        ),
        (
            ["-b", "-F", "2024/01/01", "-T", "2024/01/31", "-Y", "all", "-S", "no"],
            [
                "--billing",
                "--billing-from=2024/01/01",
                "--billing-to=2024/01/31",
                "--billing-type=all",
                "--billing-success=no",
            ],
            ["--billing", "--b_from=2024/01/01", "--b_to", "2024/01/31", "--b_type=all", "--b_success=no"],
        ),
        (["-q", "-a"], ["--quiet", "--all"]),
    ],
)
def test_flag_spellings_map_to_the_same_options(spellings):
    parsed = [_params(s) for s in spellings]
    assert all(p == parsed[0] for p in parsed)


@pytest.mark.parametrize(
    ("old", "new"),
    [("nowday", "currday"), ("leftday", "lastday"), ("nowmonth", "currmonth"), ("leftmonth", "lastmonth")],
)
def test_inet_date_presets(old, new):
    today = date(2024, 3, 1)
    assert jobs.billing_range(old, None, None, today)[:2] == jobs.billing_range(new, None, None, today)[:2]


def test_presets():
    today = date(2024, 3, 1)
    assert jobs.billing_range("lastday", None, None, today)[:2] == (date(2024, 2, 29), date(2024, 2, 29))
    assert jobs.billing_range("lastmonth", None, None, today)[:2] == (date(2024, 2, 1), date(2024, 2, 29))
    assert jobs.billing_range("currweek", None, None, today)[:2] == (date(2024, 2, 23), today)
    assert jobs.billing_range(None, None, None, today)[:2] == (today, today)
    assert jobs.billing_range(None, "2024-01-01", "2024/01/31", today)[:2] == (date(2024, 1, 1), date(2024, 1, 31))


def test_help_says_strict():
    from click.testing import CliRunner

    out = CliRunner().invoke(jobs.cli, ["import", "--help"]).output
    assert "Strict" in out and "--test" in out and "--b_date" in out
