"""lms-notify actions metrotv-locks and metrofsecure-locks through ``lmsplugins notify apply`` (the path
LMS's lms-notify takes through the bridge): MMS changed first, flags after, only what this plugin blocked
is unblocked, deleted licences untouched, billing suspended while locked and resumed on unblock, nothing
sent in debug mode, and a refused login changing nothing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from mms_env import add_customer, make_env

from lmsplugins.cli import main
from lmsplugins.lms import tables as t


@pytest.fixture
def env(sqlite_host):
    e = make_env(sqlite_host, users=24)
    yield e
    e.server.stop()


def notify(env, channel: str, actions: str, ids: list[int], *extra: str):
    args = [
        "-C",
        str(env.ini),
        "notify",
        "apply",
        f"--{channel}",
        "-a",
        actions,
        "--customers",
        ",".join(map(str, ids)),
        *extra,
    ]
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _tariff(env, tag: str) -> int:
    with env.host.engine.begin() as conn:
        tax = conn.execute(t.taxes.insert().values(value=23, taxed=1, label="23%")).inserted_primary_key[0]
        tariff = conn.execute(
            t.tariffs.insert().values(name=f"T {tag}", type=1, value=30, taxid=tax)
        ).inserted_primary_key[0]
        tag_id = conn.execute(t.tarifftags.insert().values(name=tag)).inserted_primary_key[0]
        conn.execute(t.tariffassignments.insert().values(tariffid=tariff, tarifftagid=tag_id))
        return int(tariff)


def _assign(env, cid: int, tariff: int, suspended: int = 0) -> int:
    with env.host.engine.begin() as conn:
        return int(
            conn.execute(
                t.assignments.insert().values(
                    tariffid=tariff,
                    customerid=cid,
                    period=3,
                    at=1,
                    datefrom=0,
                    dateto=0,
                    suspended=suspended,
                    commited=1,
                )
            ).inserted_primary_key[0]
        )


def test_tv_and_fsecure_locks_round_trip(env):
    data = env.sim.data
    tv_user = next(a["userid"] for a in data.accounts.values())
    fs_user = next(s["userid"] for s in data.services.values() if s["status"] == "active")
    deleted = next(s for s in data.services.values() if s["status"] == "deleted")
    tv_cid = add_customer(env.host, "Telewidz")
    fs_cid = add_customer(env.host, "Antywirus")
    del_cid = add_customer(env.host, "Usunięta licencja")
    plain = add_customer(env.host, "Bez MMS")
    for uid, cid in ((tv_user, tv_cid), (fs_user, fs_cid), (deleted["userid"], del_cid)):
        env.sql("INSERT INTO metroport_customers (metroport_user_id, lms_user_id) VALUES (:u, :c)", u=uid, c=cid)
    env.host.set_uiconfig("metroport.metrotv_suspend_billing", "1")
    tv_tariff = _tariff(env, "metroport-metrotv")
    running = _assign(env, tv_cid, tv_tariff)
    by_hand = _assign(env, tv_cid, tv_tariff, suspended=1)
    ids = [tv_cid, fs_cid, del_cid, plain]

    writes = len(env.sim.stats.bodies)
    result = notify(env, "block", "metrotv-locks,metrofsecure-locks", ids, "-d")
    assert result.exit_code == 0 and all(a["active"] == 1 for a in data.accounts.values() if a["userid"] == tv_user)
    assert "METROTV debug: would block the services of 3 paired customer(s)" in result.output
    assert len(env.sim.stats.bodies) == writes

    env.sql("DELETE FROM metroport_settings")  # a login inside the run, after LMS's own action wrote
    result = notify(env, "block", "customer-status,metrotv-locks,metrofsecure-locks", ids)
    assert result.exit_code == 0, result.output
    assert env.sql("SELECT status FROM customers WHERE id = :c", c=tv_cid)[0][0] == 5
    assert all(a["active"] == 0 for a in data.accounts.values() if a["userid"] == tv_user)
    assert f"METROTV BLOKADA - Klient LMS: {tv_cid}" in result.output
    assert all(s["status"] in ("blocked", "deleted") for s in data.services.values() if s["userid"] == fs_user)
    assert deleted["status"] == "deleted"
    flags = {
        r[0]: r[1:]
        for r in env.sql(
            "SELECT lms_user_id, metrotv_suspend, metrotv_suspend_billing, metro_fsecure_suspend"
            " FROM metroport_customers"
        )
    }
    assert flags[tv_cid] == (1, 1, 0) and flags[fs_cid][2] == 1
    assert dict(env.sql("SELECT id, suspended FROM assignments WHERE customerid = :c", c=tv_cid)) == {
        running: 1,
        by_hand: 1,
    }

    writes = len(env.sim.stats.bodies)
    again = notify(env, "block", "metrotv-locks,metrofsecure-locks", ids)
    assert again.exit_code == 0 and len(env.sim.stats.bodies) == writes  # already blocked: nothing sent

    by_hand_account = next(a for a in data.accounts.values() if a["userid"] != tv_user)
    by_hand_account["active"] = 0  # blocked by an operator, not by this plugin
    result = notify(env, "unblock", "metrotv-locks,metrofsecure-locks", ids)
    assert result.exit_code == 0, result.output
    assert all(a["active"] == 1 for a in data.accounts.values() if a["userid"] == tv_user)
    assert by_hand_account["active"] == 0
    assert deleted["status"] == "deleted"
    assert env.sql(
        "SELECT metrotv_suspend, metrotv_suspend_billing FROM metroport_customers WHERE lms_user_id = :c", c=tv_cid
    )[0] == (0, 0)
    assert dict(env.sql("SELECT id, suspended FROM assignments WHERE customerid = :c", c=tv_cid)) == {
        running: 0,
        by_hand: 1,
    }


def test_refused_login_changes_nothing(env):
    uid = next(a["userid"] for a in env.sim.data.accounts.values())
    cid = add_customer(env.host, "Telewidz")
    env.sql("INSERT INTO metroport_customers (metroport_user_id, lms_user_id) VALUES (:u, :c)", u=uid, c=cid)
    env.host.set_uiconfig("metroport.api_pass", "nope")
    result = notify(env, "block", "metrotv-locks", [cid])
    assert result.exit_code == 0 and "metrotv-locks: cannot use MMS, nothing blocked" in result.output
    assert env.sql("SELECT metrotv_suspend FROM metroport_customers")[0][0] == 0
    assert all(a["active"] == 1 for a in env.sim.data.accounts.values())
