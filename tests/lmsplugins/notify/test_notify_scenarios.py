"""lms-notify's block/unblock, run through ``lmsplugins notify``, against tables of customers.

Each table lists customers as lms-notify sees them and the state LMS's own rules leave after each
run (bin/lms-notify.php at chilek/lms d85aeab5, specs/lms_core.md 6). One database per table, on
SQLite, PostgreSQL and MariaDB (the real LMS schemas).
"""

from __future__ import annotations

import time

from click.testing import CliRunner
from notify_scenario_data import Row, build, pay, snapshot
from sqlalchemy import select

from lmsplugins.cli import main
from lmsplugins.lms.tables import logmessagedata, logmessagekeys, logmessages, logtransactions
from lmsplugins.testing.databases import install

N = (1, 0)  # a node with access, no warning
X = (0, 0)  # a node without access
A, E = True, False  # an active assignment, an ended one

# key: the row, then (node access, status, invoice flags) after block, and after unblock once
# "debtor" has paid.
DEFAULT_ACTIONS_TABLE = [
    (Row("debtor", 3, owes=50, nodes=(N, N), assigns=((1, A), (1, E))), ((0, 0), 5, (0, 1)), ((1, 1), 3, (1, 1))),
    # already blocked: the node-access precheck (a node with access, or none) leaves them alone
    (Row("debtor_blocked", 5, owes=50, nodes=(X,), assigns=((0, A),)), ((0,), 5, (0,)), ((0,), 5, (0,))),
    (Row("debtor_half", 3, owes=50, nodes=(X, N), assigns=((1, A),)), ((0, 0), 5, (0,)), ((0, 0), 5, (0,))),
    # customeraddressview: no billing address or a contractor is never a debtor
    (Row("no_address", 3, owes=50, address=False, nodes=(N,), assigns=((1, A),)), ((1,), 3, (1,)), ((1,), 3, (1,))),
    (Row("contractor", 3, ctype=2, owes=50, nodes=(N,), assigns=((1, A),)), ((1,), 3, (1,)), ((1,), 3, (1,))),
    (Row("protected", 3, owes=50, cutoff_days=5, nodes=(N,), assigns=((1, A),)), ((1,), 3, (1,)), ((1,), 3, (1,))),
    (Row("not_yet_due", 3, not_yet_due=50, nodes=(N,), assigns=((1, A),)), ((1,), 3, (1,)), ((1,), 3, (1,))),
    # debtors_deleted_customers is on by default in LMS
    (Row("deleted_debtor", 3, deleted=1, owes=50, nodes=(N,), assigns=((1, A),)), ((0,), 5, (0,)), ((0,), 5, (0,))),
    # never blocked: a deliberately non-invoiced assignment and a node cut by hand stay as they are
    (Row("payer", 3, nodes=(N,), assigns=((1, A), (0, A))), ((1,), 3, (1, 0)), ((1,), 3, (1, 0))),
    (Row("hand_cut", 3, nodes=(X,), assigns=((1, A),)), ((0,), 3, (1,)), ((0,), 3, (1,))),
    # blocked earlier, paid since: everything back, the ended assignment untouched
    (Row("was_blocked", 5, nodes=(X,), assigns=((0, A), (0, E))), ((0,), 5, (0, 0)), ((1,), 3, (1, 0))),
    # as coded: unblock passes status 4 (prechecks want status != 3) but only status 5 is reset
    (Row("disconnected", 4, nodes=(X,), assigns=((0, A),)), ((0,), 4, (0,)), ((1,), 4, (1,))),
]


def _cli(host, *args: str):
    result = CliRunner().invoke(main, ["-C", str(host.ini_config.path), "notify", *args])
    return result


def _project(snap: dict) -> dict:
    return {k: (v[0], v[2], v[3]) for k, v in snap.items()}


def test_default_actions_block_then_unblock_as_lms(lms_host):
    install(lms_host, "example")
    lms_host.set_uiconfig("logs.enabled", "1")
    now = int(time.time())
    rows = [r for r, _b, _u in DEFAULT_ACTIONS_TABLE]
    with lms_host.engine.begin() as conn:
        ids = build(conn, now, rows)
        conn.exec_driver_sql(
            f"INSERT INTO example_notes (customerid, greeting, blocked, mtime) VALUES ({ids['debtor']}, 'hi', 0, 0)"
        )
        before = snapshot(conn, ids)

    result = _cli(lms_host, "-c", "block", "-a", "node-access,customer-status,assignment-invoice,example-flag", "-d")
    assert result.exit_code == 0, result.output
    assert "[block/node-access] Customer: DEBTOR Jan" in result.output
    assert "example-flag] debug: Example not called" in result.output
    with lms_host.engine.connect() as conn:
        assert snapshot(conn, ids) == before
        assert conn.exec_driver_sql("SELECT blocked FROM example_notes").scalar() == 0
        assert conn.execute(select(logmessages.c.id)).first() is None

    result = _cli(
        lms_host, "-t", "debtors", "-c", "block", "-a", "node-access,customer-status,assignment-invoice,example-flag"
    )
    assert result.exit_code == 0, result.output
    with lms_host.engine.connect() as conn:
        assert _project(snapshot(conn, ids)) == {r.key: b for r, b, _u in DEFAULT_ACTIONS_TABLE}
        assert conn.exec_driver_sql("SELECT blocked FROM example_notes").scalar() == 1
        logged = conn.execute(select(logmessages.c.resource, logmessages.c.operation)).all()
        assert sorted(logged) == sorted([(2, 3)] * 3 + [(5, 3)] * 4 + [(7, 3)] * 3)
        assert len(conn.execute(select(logtransactions.c.id)).all()) == 10  # a transaction per change, as LMS
        node_msg = conn.execute(select(logmessages.c.id).where(logmessages.c.resource == 5)).scalars().first()
        keys = dict(
            conn.execute(
                select(logmessagekeys.c.name, logmessagekeys.c.value).where(logmessagekeys.c.logmessageid == node_msg)
            ).all()
        )
        data = dict(
            conn.execute(
                select(logmessagedata.c.name, logmessagedata.c.value).where(logmessagedata.c.logmessageid == node_msg)
            ).all()
        )
        assert keys["customerid"] in (ids["debtor"], ids["debtor_half"], ids["deleted_debtor"]) and "nodeid" in keys
        assert data == {"access": "0"}
        module = conn.execute(select(logtransactions.c.module, logtransactions.c.userid)).first()
        assert tuple(module) == ("lmsplugins-notify", None)

    with lms_host.engine.begin() as conn:
        pay(conn, ids["debtor"], 50, now)
    result = _cli(lms_host, "-c", "unblock", "-q")  # the default actions
    assert result.exit_code == 0, result.output
    assert "[unblock/" not in result.output
    with lms_host.engine.connect() as conn:
        assert _project(snapshot(conn, ids)) == {r.key: u for r, _b, u in DEFAULT_ACTIONS_TABLE}


GROUP = "Blocked"
OTHER_ACTIONS = "node-warning,all-assignment-suspension,customer-group(Blocked),node-group(Cut),teleport"
W0, W1 = (1, 0), (1, 1)
# (row, after block, after unblock) as (warning, suspensions, groups, node groups), with the run
# filtered by -g '!VIP' --customer-types private.
OTHER_ACTIONS_TABLE = [
    (
        Row("d1", owes=50, nodes=(W0,), assigns=((1, A),)),
        ((1,), 1, ("Blocked",), ("Cut",)),
        ((1,), 1, ("Blocked",), ("Cut",)),
    ),
    (Row("vip", owes=50, nodes=(W0,), groups=("VIP",)), ((0,), 0, ("VIP",), ()), ((0,), 0, ("VIP",), ())),
    (Row("company", ctype=1, owes=50, nodes=(W0,)), ((0,), 0, (), ()), ((0,), 0, (), ())),
    (
        Row("paid", nodes=(W1,), assigns=((1, A),), suspended_days_ago=70, groups=(GROUP,), node_groups=("Cut",)),
        ((1,), 1, ("Blocked",), ("Cut",)),
        ((0,), 0, (), ()),
    ),
    (Row("clean", nodes=(W0,), assigns=((1, A),)), ((0,), 0, (), ()), ((0,), 0, (), ())),
]


def _other(snap: dict) -> dict:
    return {k: (v[1], v[4], v[5], v[6]) for k, v in snap.items()}


def test_other_core_actions_and_filters_as_lms(lms_host):
    now = int(time.time())
    rows = [r for r, _b, _u in OTHER_ACTIONS_TABLE]
    with lms_host.engine.begin() as conn:
        ids = build(conn, now, rows, cgroups=(GROUP, "VIP"), ngroups=("Cut",))
        before = snapshot(conn, ids)

    strict = _cli(lms_host, "-c", "block", "-a", OTHER_ACTIONS, "--strict")
    assert strict.exit_code == 2 and "unknown action 'teleport'" in strict.output
    filters = ["-g", "!VIP", "--customer-types", "private"]
    result = _cli(lms_host, "-c", "block", "-a", OTHER_ACTIONS, *filters)
    assert result.exit_code == 0, result.output
    assert "unknown action 'teleport' skipped" in result.output
    with lms_host.engine.connect() as conn:
        after_block = snapshot(conn, ids)
    assert _other(after_block) == {r.key: b for r, b, _u in OTHER_ACTIONS_TABLE}
    assert after_block["paid"] == before["paid"]

    result = _cli(lms_host, "-c", "unblock", "-a", OTHER_ACTIONS, *filters)
    assert result.exit_code == 0, result.output
    with lms_host.engine.connect() as conn:
        after = snapshot(conn, ids)
        assert _other(after) == {r.key: u for r, _b, u in OTHER_ACTIONS_TABLE}
        from lmsplugins.lms.tables import assignments

        redated = conn.execute(
            select(assignments.c.settlement, assignments.c.datefrom).where(assignments.c.customerid == ids["paid"])
        ).all()
    # the suspension began in an earlier month: the active assignment is re-dated to now, settled
    assert redated[0][0] == 1 and redated[0][1] >= now


FILTERS_TABLE = [
    # (row, blocked by the filtered run)
    (Row("in_scope", owes=50, nodes=(N,)), True),
    (Row("other_division", owes=50, nodes=(N,)), False),
    (Row("awaiting", 2, owes=50, nodes=(N,)), False),  # --customer-status connected
    (Row("deleted", deleted=1, owes=50, nodes=(N,)), False),  # debtors_deleted_customers = 0 in the section
    (Row("due_later", not_yet_due=50, nodes=(N,)), True),  # due by the fake date
    (Row("was_blocked_deleted", 5, deleted=1, nodes=(X,)), False),
]


def test_filters_section_and_fakedate_as_lms(sqlite_host):
    from lmsplugins.lms.tables import customers, divisions

    now = int(time.time())
    with sqlite_host.engine.begin() as conn:
        ids = build(conn, now, [r for r, _b in FILTERS_TABLE])
        north = conn.execute(divisions.insert().values(name="North", shortname="north")).inserted_primary_key[0]
        south = conn.execute(divisions.insert().values(name="South", shortname="south")).inserted_primary_key[0]
        conn.execute(customers.update().where(customers.c.id.in_(list(ids.values()))).values(divisionid=north))
        conn.execute(customers.update().where(customers.c.id == ids["other_division"]).values(divisionid=south))
    sqlite_host.set_uiconfig("bokada.debtors_deleted_customers", "0")
    fake = time.strftime("%Y/%m/%d", time.localtime(now + 30 * 86400))
    args = ["-s", "bokada", "-c", "block,unblock", "-a", "node-access", "--division", "north"]
    result = _cli(sqlite_host, *args, "--customer-status", "connected,debtcollection", "-f", fake)
    assert result.exit_code == 0, result.output
    with sqlite_host.engine.connect() as conn:
        snap = snapshot(conn, ids)
    assert {k: snap[k][0] == (0,) for k in ids} == {
        "in_scope": True,
        "other_division": False,
        "awaiting": False,
        "deleted": False,
        "due_later": True,
        # unblock in the same run: status filter (5 is allowed) passes it, but with debtors found
        # and deleted customers off, LMS's unblock skips deleted customers, as coded
        "was_blocked_deleted": True,
    }
    only = _cli(sqlite_host, "-c", "unblock", "-a", "node-access", "--customerid", str(ids["was_blocked_deleted"]))
    assert only.exit_code == 0, only.output
    with sqlite_host.engine.connect() as conn:
        assert snapshot(conn, ids)["was_blocked_deleted"][0] == (1,)  # notify's default section: deleted included
        assert snapshot(conn, ids)["in_scope"][0] == (0,)  # --customerid: nobody else touched
