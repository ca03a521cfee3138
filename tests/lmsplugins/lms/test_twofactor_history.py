"""LMS's two-factor code history on each database: old rows forgotten, failures per address, used
codes remembered, addresses stored as INET_ATON does (or NULL where LMS's MySQL column cannot)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError

from lmsplugins.lms import twofactor
from lmsplugins.lms.tables import twofactorauthcodehistory as history
from lmsplugins.lms.tables import users

NOW = 1_800_000_000


def _user(conn, login: str = "jan") -> int:
    return int(conn.execute(insert(users).values(login=login, passwd="x")).inserted_primary_key[0])


def test_failures_count_per_address_within_three_minutes(lms_host):
    with lms_host.engine.begin() as conn:
        uid, other = _user(conn), _user(conn, "ewa")
        here = twofactor.ip_number(conn, "10.0.0.7")
        there = twofactor.ip_number(conn, "10.0.0.8")
        for age in (10, 60, 179):
            twofactor.record_code(conn, uid, "111111", here, NOW - age, success=False)
        twofactor.record_code(conn, uid, "111111", here, NOW - 181, success=False)
        twofactor.record_code(conn, uid, "111111", there, NOW - 5, success=False)
        twofactor.record_code(conn, uid, "222222", here, NOW - 5, success=True)
        twofactor.record_code(conn, other, "111111", here, NOW - 5, success=False)
        assert twofactor.recent_failures(conn, uid, here, NOW) == 3
        assert twofactor.recent_failures(conn, uid, there, NOW) == 1
        assert twofactor.recent_failures(conn, other, here, NOW) == 1
        # The stale failure from this address is gone, as LMS deletes it; the rest stay.
        ages = sorted(
            NOW - r.uts
            for r in conn.execute(select(history.c.uts).where(history.c.userid == uid, history.c.success == 0))
        )
        assert ages == [5, 10, 60, 179]


def test_used_code_is_remembered_for_three_minutes_only(lms_host):
    with lms_host.engine.begin() as conn:
        uid = _user(conn)
        twofactor.record_code(conn, uid, "123456", None, NOW - 100, success=True)
        twofactor.record_code(conn, uid, "654321", None, NOW - 200, success=True)
        twofactor.record_code(conn, uid, "777777", None, NOW - 10, success=False)
        assert twofactor.code_used(conn, uid, "123456", NOW)
        assert not twofactor.code_used(conn, uid, "654321", NOW)
        assert not twofactor.code_used(conn, uid, "777777", NOW)
        assert conn.execute(select(history.c.authcode).where(history.c.success == 1)).scalars().all() == ["123456"]


def test_addresses_are_stored_as_inet_aton(lms_host):
    with lms_host.engine.begin() as conn:
        uid = _user(conn)
        low = twofactor.ip_number(conn, "::ffff:10.1.2.3")
        high = twofactor.ip_number(conn, "192.168.1.10")
        assert low == 10 * 2**24 + 1 * 2**16 + 2 * 2**8 + 3
        assert twofactor.ip_number(conn, "2001:db8::1") is None
        assert twofactor.ip_number(conn, "") is None
        if conn.dialect.name in ("mysql", "mariadb"):
            assert high is None
        else:
            assert high == 3232235786
        twofactor.record_code(conn, uid, "111111", high, NOW, success=False)
        twofactor.record_code(conn, uid, "111111", low, NOW, success=False)
        assert twofactor.recent_failures(conn, uid, high, NOW) == 1
        assert twofactor.recent_failures(conn, uid, low, NOW) == 1


@pytest.mark.parametrize("kind", ["pg_host", "mysql_host"])
def test_lock_user_makes_a_second_code_check_wait(kind, request):
    host = request.getfixturevalue(kind)
    with host.engine.begin() as conn:
        uid = _user(conn)
    with host.engine.connect() as first, host.engine.connect() as second:
        first.begin()
        twofactor.lock_user(first, uid)
        second.begin()
        if kind == "pg_host":
            second.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
        else:
            second.exec_driver_sql("SET SESSION innodb_lock_wait_timeout = 1")
        with pytest.raises(OperationalError):
            twofactor.lock_user(second, uid)
        second.rollback()
        first.rollback()
