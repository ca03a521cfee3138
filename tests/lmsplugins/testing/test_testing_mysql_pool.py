"""The MariaDB pool puts back exactly the template: rows, counters, tables, columns, triggers, views and
functions a test changed (the reused database must be indistinguishable from a fresh load)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from lmsplugins.host import Host
from lmsplugins.testing import databases as dbs
from lmsplugins.testing.mysql_pool import Pool

pytestmark = pytest.mark.mysql


def _dirty_everything(host: Host) -> None:
    with host.engine.begin() as conn:
        conn.execute(text("INSERT INTO uiconfig (section, var, value) VALUES ('pool', 'test', '1')"))
        conn.execute(text("DELETE FROM countries"))
        conn.execute(text("INSERT INTO taxes (value, taxed, label) VALUES (23, 1, '23%')"))
        conn.execute(text("CREATE TABLE pool_extra (id INT PRIMARY KEY)"))
        conn.execute(text("ALTER TABLE customers ADD COLUMN pool_col INT"))
        conn.execute(text("CREATE INDEX pool_idx ON voip_cdr (caller)"))
        conn.execute(text("DROP TRIGGER cash_customerbalances_insert_trigger"))
        conn.execute(text("DROP VIEW vnodes"))
        conn.execute(text("DROP FUNCTION int2txt"))
    dbs.install(host, "metroport_mvno")


def test_reset_undoes_data_and_ddl_and_the_database_is_reused(tmp_path, mysql_pool: Pool):
    name = mysql_pool.acquire()
    host = Host(dbs.write_ini(tmp_path, "mysql", name))
    try:
        _dirty_everything(host)
        left = mysql_pool.differences(name)
        for expected in ("uiconfig", "countries", "pool_extra", "customers", "voip_cdr", "vnodes", "int2txt"):
            assert any(expected in d for d in left), (expected, left)
    finally:
        host.dispose()
        mysql_pool.release(name)
    assert mysql_pool.differences(name) == []
    assert mysql_pool.acquire() == name, "a reset database is handed out again"
    mysql_pool.release(name)


def test_reset_database_behaves_like_a_fresh_one(tmp_path, mysql_pool: Pool):
    """The re-created trigger works: a cash row moves the customer's balance as in LMS."""
    name = mysql_pool.acquire()
    host = Host(dbs.write_ini(tmp_path, "mysql", name))
    try:
        _dirty_everything(host)
    finally:
        host.dispose()
        mysql_pool.release(name)
    name2 = mysql_pool.acquire()
    host = Host(dbs.write_ini(tmp_path / "again", "mysql", name2))
    try:
        with host.engine.begin() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM uiconfig WHERE section = 'pool'")).scalar() == 0
            assert conn.execute(text("SELECT COUNT(*) FROM countries")).scalar() > 0
            tax = conn.execute(text("INSERT INTO taxes (value, taxed, label) VALUES (8, 1, '8%')")).lastrowid
            assert tax == 1, "AUTO_INCREMENT starts where the template's does"
            assert conn.execute(text("SELECT int2txt(5)")).scalar() == "5"
            conn.execute(text("SELECT COUNT(*) FROM vnodes")).scalar()
            trigger = conn.execute(
                text(
                    "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = :db AND trigger_name = :t"
                ),
                {"db": name2, "t": "cash_customerbalances_insert_trigger"},
            ).scalar()
            assert trigger == 1
    finally:
        host.dispose()
        mysql_pool.release(name2)


def test_a_failed_reset_drops_the_database_instead_of_reusing_it(tmp_path, mysql_pool: Pool):
    name = mysql_pool.acquire()
    saved = dict(mysql_pool.template.table_ddl)
    table = next(iter(saved))
    try:
        with Host(dbs.write_ini(tmp_path, "mysql", name)).engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE `{table}` ADD COLUMN broken_col INT"))
        mysql_pool.template.table_ddl[table] = "CREATE TABLE this is not sql"
        mysql_pool.release(name)
    finally:
        mysql_pool.template.table_ddl.clear()
        mysql_pool.template.table_ddl.update(saved)
    other = mysql_pool.acquire()
    mysql_pool.release(other)
    assert other != name


def test_a_new_database_is_made_after_the_pools_own_connection_was_killed(mysql_pool: Pool):
    from lmsplugins.testing.mysql_pool import connect

    with mysql_pool._admin.cursor() as cur:
        cur.execute("SELECT CONNECTION_ID()")
        (admin_id,) = cur.fetchone()
    killer = connect(mysql_pool.params)
    try:
        with killer.cursor() as cur:
            cur.execute(f"KILL {int(admin_id)}")
    finally:
        killer.close()
    free, mysql_pool._free = mysql_pool._free, []  # force a new database, the path that uses the connection
    try:
        name = mysql_pool.acquire()
        assert mysql_pool.differences(name) == []
        mysql_pool.release(name)
    finally:
        mysql_pool._free += free
