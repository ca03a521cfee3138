"""``lmsplugins metroport-mvno sync`` against the simulator on loopback, on SQLite, PostgreSQL and MariaDB.

Each part, ambiguity, never binding twice, manual bindings, account bind/create/update/delete, billing
idempotency, --update, incremental last id with no loss, orphan records, --test, bad input, install.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from mvno_env import PERIOD, add_customer, make_env, seed_customers

from lmsplugins.lms.settings import read_uiconfig


@pytest.fixture
def env(lms_host):
    e = make_env(lms_host)
    yield e
    e.server.stop()


def test_install_is_rerunnable_and_seeds_credentials_disabled(env):
    from lmsplugins.testing import databases as dbs

    with env.host.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM dbinfo WHERE keytype = 'dbversion_LMSMetroportMVNOPlugin'")
    dbs.install(env.host, "metroport_mvno")
    assert env.sql("SELECT COUNT(*) FROM serviceproviders WHERE name = 'Metroport MVNO'")[0][0] == 1
    assert env.sql("SELECT COUNT(*) FROM tarifftags WHERE name = 'metroport-mvno'")[0][0] == 1
    with env.host.engine.connect() as conn:
        rows = read_uiconfig(conn, "metroportmvno.api_password")
        assert len(rows) == 1
    assert (
        env.sql("SELECT keyvalue FROM dbinfo WHERE keytype = 'dbversion_LMSMetroportMVNOPlugin'")[0][0] == "2023050400"
    )


def test_customers_bind_by_identity_report_ambiguity_and_respect_existing(env):
    ids = seed_customers(env)
    # two LMS customers share the first bindable user's PESEL-less NIP or PESEL: make an LMS duplicate
    first = next(u for u in env.sim.data.users if u["_pesel"])
    twin = add_customer(env.host, "TWIN", ssn=first["_pesel"])
    # a customer with another provider's extid is still a candidate; a manual binding is respected
    env.sql("INSERT INTO serviceproviders (name) VALUES ('Other')")
    other = env.sql("SELECT id FROM serviceproviders WHERE name = 'Other'")[0][0]
    manual_user = next(u for u in env.sim.data.users if u["id"] in ids and u["id"] != first["id"])
    with_other = next(c for u, c in ids.items() if u not in (first["id"], manual_user["id"]))
    env.sql(
        "INSERT INTO customerextids (customerid, extid, serviceproviderid) VALUES (:c, 'X1', :p)", c=with_other, p=other
    )
    env.sql(
        "INSERT INTO customerextids (customerid, extid, serviceproviderid) VALUES (:c, :e, :p)",
        c=ids[manual_user["id"]],
        e="424242",
        p=env.provider_id(),
    )
    for quiet in ([], ["-q"]):
        result = env.run("--customers", *quiet)
        assert result.exit_code == 0, result.output
        assert f"#{ids[first['id']]}, #{twin}" in result.output  # reported even with -q
    rows = env.sql("SELECT customerid, extid FROM customerextids WHERE serviceproviderid = :p", p=env.provider_id())
    bound = {int(e): c for c, e in rows}
    assert bound[424242] == ids[manual_user["id"]] and manual_user["id"] not in bound
    assert first["id"] not in bound and twin not in bound.values()
    assert str(with_other) in {str(c) for c in bound.values()}
    per_customer = [c for c, _ in rows]
    assert len(per_customer) == len(set(per_customer)), "a customer got two Metroport users"
    shared = [u["id"] for u in env.sim.data.users if u["id"] in ids and list(ids.values()).count(ids[u["id"]]) > 1]
    assert shared and not set(shared) & set(bound), "users sharing identifiers were bound"
    assert "Synchronized: 0" in env.run("--customers").output


def test_accounts_bind_create_update_delete(env):
    ids = seed_customers(env)
    env.bind_all()
    sp = env.provider_id()
    mobiles = [m for m in env.sim.data.mobiles if m["userid"] in ids]
    # an existing LMS account of the right customer with the SIM's number gets bound, not duplicated;
    # one of ANOTHER customer with the same kind of number is never bound
    bindable = next(m for m in mobiles if m["status"] == "active")
    owner = ids[bindable["userid"]]
    env.sql(
        "INSERT INTO voipaccounts (ownerid, login, passwd, access, creationdate, moddate, balance, flags, "
        "description, address_id) VALUES (:o, 'mine', '', 1, 0, 0, 0, 0, '', NULL)",
        o=owner,
    )
    mine = env.sql("SELECT id FROM voipaccounts WHERE login = 'mine'")[0][0]
    env.sql(
        "INSERT INTO voip_numbers (voip_account_id, phone, number_index) VALUES (:a, :p, 1)",
        a=mine,
        p="48" + bindable["ano"],
    )
    result = env.run("--accounts")
    assert result.exit_code == 0, result.output
    accounts = {
        r[0]: r
        for r in env.sql(
            "SELECT extid, ownerid, id, access, login FROM voipaccounts WHERE serviceproviderid = :p", p=sp
        )
    }
    assert accounts[str(bindable["id"])][2] == mine
    expected = {
        str(m["id"])
        for m in mobiles
        if m["status"] != "deleted"
        and m["userid"]
        in {int(e) for (e,) in env.sql("SELECT extid FROM customerextids WHERE serviceproviderid = :p", p=sp)}
    }
    assert set(accounts) == expected
    # the bound account takes the SIM's login on the next run (as in PHP), then nothing changes
    assert "accounts_update=1" in env.run("--accounts").output
    again = env.run("--accounts")
    assert "accounts_create" not in again.output and "accounts_update" not in again.output
    # Metroport blocks one (confirmed), renumbers another, deletes a third; manual extra number is kept
    victims = [m for m in mobiles if str(m["id"]) in accounts and str(m["id"]) != str(bindable["id"])][:3]
    blocked, renumbered, deleted = victims
    blocked.update(status="blocked", status_confirmed=1)
    acc_id = accounts[str(renumbered["id"])][2]
    env.sql("INSERT INTO voip_numbers (voip_account_id, phone, number_index) VALUES (:a, '48221234567', 2)", a=acc_id)
    env.sql("UPDATE voipaccounts SET address_id = NULL, description = 'keep me' WHERE id = :a", a=acc_id)
    old = renumbered["ano"]
    renumbered["ano"] = "519999999"
    deleted.update(status="deleted", status_confirmed=1)
    unknown = next(m for m in mobiles if str(m["id"]) in accounts and m not in victims and m is not bindable)
    unknown["status"] = "suspended"
    result = env.run("--accounts")
    assert result.exit_code == 0, result.output
    assert "unknown status 'suspended'" in result.output
    rows = {r[0]: r for r in env.sql("SELECT extid, access, login, description, id FROM voipaccounts")}
    assert rows[str(blocked["id"])][1] == 0
    assert rows[str(renumbered["id"])][2] == "519999999" and rows[str(renumbered["id"])][3] == "keep me"
    numbers = sorted(p for (p,) in env.sql("SELECT phone FROM voip_numbers WHERE voip_account_id = :a", a=acc_id))
    assert numbers == ["48221234567", "48519999999"] and "48" + old not in numbers
    assert str(deleted["id"]) not in rows


def _billing_ready(env):
    ids = seed_customers(env)
    env.bind_all()
    assert env.run("--accounts").exit_code == 0
    return ids


def test_billings_idempotent_update_and_orphans(env):
    _billing_ready(env)
    first = env.run("--billings", *PERIOD)
    assert first.exit_code == 0, first.output
    assert "not imported" in first.output  # deleted SIMs have no LMS account: reported, not stored
    rows = env.sql("SELECT id, uniqueid, direction, price FROM voip_cdr ORDER BY uniqueid, direction")
    assert rows and all(r[3] is not None for r in rows)
    assert (
        env.sql("SELECT COUNT(*) FROM voip_cdr WHERE callervoipaccountid IS NULL AND calleevoipaccountid IS NULL")[0][0]
        == 0
    )
    again = env.run("--billings", *PERIOD)
    assert again.exit_code == 0, again.output
    rows2 = env.sql("SELECT id, uniqueid, direction, price FROM voip_cdr ORDER BY uniqueid, direction")
    assert [r[1:] for r in rows2] == [r[1:] for r in rows]
    assert {r[0] for r in rows2}.isdisjoint({r[0] for r in rows})  # replaced (delete + insert)
    # --update keeps row ids, changes what changed, deletes what the API no longer returns
    stale = rows2[0]
    env.sql("UPDATE voip_cdr SET price = 99 WHERE id = :i", i=rows2[1][0])
    env.sql(
        "INSERT INTO voip_cdr (caller, callee, call_start_time, totaltime, billedtime, price, status, direction, "
        "type, callervoipaccountid, uniqueid) SELECT caller, callee, call_start_time, 1, 1, 1, 5, direction, 0, "
        "callervoipaccountid, '69999999' FROM voip_cdr WHERE id = :i",
        i=stale[0],
    )
    updated = env.run("--billings", "-u", *PERIOD)
    assert updated.exit_code == 0, updated.output
    rows3 = env.sql("SELECT id, uniqueid, direction, price FROM voip_cdr ORDER BY uniqueid, direction")
    assert rows3 == rows2
    # provider mode gives the same rows
    assert env.run("--billings", "-m", "provider", *PERIOD).exit_code == 0
    rows4 = env.sql(
        "SELECT uniqueid, direction, price, callervoipaccountid, calleevoipaccountid FROM voip_cdr "
        "ORDER BY uniqueid, direction"
    )
    assert [r[:3] for r in rows4] == [r[1:] for r in rows3]


def test_incremental_last_id_is_numeric_and_loses_nothing(lms_host):
    epoch = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=6)
    env = make_env(lms_host, epoch=epoch, billings=24)
    try:
        _billing_ready(env)
        start = (epoch + timedelta(days=1)).strftime("%Y-%m-%d")
        end = (epoch + timedelta(days=3, hours=23, minutes=59, seconds=59)).strftime("%Y-%m-%d %H:%M:%S")
        assert env.run("--billings", "-s", start, "-e", end).exit_code == 0
        before = {r[0] for r in env.sql("SELECT uniqueid FROM voip_cdr")}
        top = max(int(u) for u in before)
        # a shorter id sorts above every real one as text ("9999999" > "70000123")
        acc = env.sql("SELECT id FROM voipaccounts WHERE serviceproviderid = :p", p=env.provider_id())[0][0]
        env.sql(
            "INSERT INTO voip_cdr (caller, callee, call_start_time, totaltime, billedtime, price, status, "
            "direction, type, callervoipaccountid, uniqueid) VALUES ('1', '2', :t, 1, 1, 0, 5, 2, 0, :a, "
            "'9999999')",
            t=int((epoch + timedelta(days=2)).timestamp()),
            a=acc,
        )
        env.sim.stats.queries.clear()
        result = env.run("--billings", "-i", "-s", start)
        assert result.exit_code == 0, result.output
        afters = {int(q["id_after"]) for q in env.sim.stats.queries if "id_after" in q}
        assert afters and max(afters) <= top and min(afters) > 9999999
        after = {r[0] for r in env.sql("SELECT uniqueid FROM voip_cdr")}
        assert before <= after and "9999999" in after and len(after) > len(before) + 1
        assert env.run("--billings", "-i", "-s", start).exit_code == 0
        assert {r[0] for r in env.sql("SELECT uniqueid FROM voip_cdr")} == after
    finally:
        env.server.stop()


def test_test_mode_changes_nothing_and_uploads_nothing(env, tmp_path):
    seed_customers(env)
    csv = tmp_path / "prices.csv"
    csv.write_text("prefix;name;price\n48;Polska;0,10\n", encoding="utf-8")
    snap = env.snapshot()
    result = env.run("-t", "--customers", "--pricelist-file", str(csv))
    assert result.exit_code == 0, result.output
    assert "would be changed" in result.output and "customerextids" in result.output
    assert env.snapshot() == snap and env.sim.uploads == []
    env.bind_all()
    assert env.run("--accounts").exit_code == 0
    snap = env.snapshot()
    result = env.run("--test", "--billings", *PERIOD)
    assert result.exit_code == 0 and "voip_cdr" in result.output and "uniqueid=" in result.output
    assert env.snapshot() == snap
    assert env.run("--pricelist-file", str(csv)).exit_code == 0
    assert len(env.sim.uploads) == 1 and env.sim.uploads[0].accepted


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--billings", "-s", "soon"], "invalid --start-date format"),
        (["--billings", "-s", "2023-01-05", "-e", "2023-01-04"], "empty interval"),
        (["--billings", "-m", "bulk"], 'unsupported mode "bulk"'),
        (["--billings", "--use-call-start-time"], "requires --incremental"),
        (["--billings", "-i", "--use-last-id", "--use-call-start-time"], "together"),
        (["--billings", "--customerid", "1;DROP TABLE x"], "not a customer id"),
        (["--pricelist-file", "/nope.csv"], "does not exist"),
    ],
)
def test_bad_flags_exit_2_and_touch_nothing(env, args, needle):
    snap = env.snapshot()
    result = env.run(*args)
    assert result.exit_code == 2 and needle in result.output
    assert env.snapshot() == snap and env.sim.stats.logins == 0


def test_malformed_price_list_is_refused_before_sending(env, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("prefix;name;price\n48;Polska\n", encoding="utf-8")
    result = env.run("--pricelist-file", str(csv), "--customers")
    assert result.exit_code == 2 and "line 2" in result.output
    assert env.sim.uploads == [] and env.sim.stats.logins == 0


def test_refused_login_and_malformed_answers(env):
    seed_customers(env)
    snap = env.snapshot()
    env.host.set_uiconfig("metroportmvno.api_password", "wrong")
    result = env.run("--customers")
    assert result.exit_code == 1 and "login refused" in result.output and "wrong" not in result.output
    env.host.set_uiconfig("metroportmvno.api_password", "api-secret")
    env.sim.faults.malformed = 5
    result = env.run("--customers")
    assert result.exit_code == 1 and "Metroport users answered" in result.output
    assert env.snapshot() == snap
    assert env.sim.uploads == []


def test_placeholder_rows_are_refused_and_flagged_by_db_check(env):
    from lmsplugins.checks import check_database

    env.sql("UPDATE uiconfig SET value = 'api_login' WHERE section = 'metroportmvno' AND var = 'api_login'")
    row = env.sql("SELECT id FROM uiconfig WHERE section = 'metroportmvno' AND var = 'api_login'")[0][0]
    env.host.refresh_settings()
    warnings = check_database(env.host).warnings
    assert any(f"#{row}" in w and "placeholder" in w for w in warnings), warnings
    result = env.run("--customers")
    assert result.exit_code == 2 and "placeholder" in result.output
