"""Take-over of a PostgreSQL LMS where the PHP plugin was installed, and the invoicing path: numbers
linked to the MVNO-tagged tariff assignment, checked with lms-payments' own VoIP-cost query."""

from __future__ import annotations

from decimal import Decimal

import pytest
from mvno_env import PERIOD, assign, make_env, seed_customers

from lmsplugins.checks import check_database
from lmsplugins.testing import databases as dbs

PAYMENTS_QUERY = """
SELECT va.assignment_id, ROUND(SUM(c.price), 2) AS price, SUM(c.billedtime) AS billedtime, COUNT(*) AS calls
FROM voip_cdr c
JOIN voip_numbers vn ON (c.direction = 2 AND vn.phone = c.caller AND vn.voip_account_id = c.callervoipaccountid)
                     OR (c.direction = 1 AND vn.phone = c.callee AND vn.voip_account_id = c.calleevoipaccountid)
JOIN voip_number_assignments va ON va.number_id = vn.id
WHERE COALESCE(c.creationdate, c.call_start_time) >= :start AND COALESCE(c.creationdate, c.call_start_time) < :end
GROUP BY va.assignment_id ORDER BY va.assignment_id
"""


@pytest.fixture
def php_env(pg_host):
    with pg_host.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO taxes (value, taxed, label, validfrom, validto) VALUES (23, 1, '23%%', 0, 0)")
    dbs.load_php_plugin_schema(pg_host, "LMSMetroportMVNOPlugin")
    env = make_env(pg_host, install=False, settings={"link_numbers": "1"})
    yield env
    env.server.stop()


def test_php_install_is_taken_over_and_placeholders_flagged(php_env):
    env = php_env
    dbs.install(env.host, "metroport_mvno")
    assert env.sql("SELECT COUNT(*) FROM serviceproviders")[0][0] == 1
    assert env.sql("SELECT COUNT(*) FROM tariffs")[0][0] == 1  # PHP's "METROPOPRT MVNO", not a second one
    env.sql("UPDATE uiconfig SET value = 'api_login' WHERE section = 'metroportmvno' AND var = 'api_login'")
    env.host.refresh_settings()
    warnings = check_database(env.host).warnings
    row = env.sql("SELECT id FROM uiconfig WHERE section = 'metroportmvno' AND var = 'api_login'")[0][0]
    assert any(f"#{row}" in w for w in warnings)


def test_lms_payments_bills_the_imported_records(php_env):
    env = php_env
    tariff = env.sql("SELECT id FROM tariffs")[0][0]
    ids = seed_customers(env, assign_tariff=False)
    assignments = {cid: assign(env.host, cid, tariff) for cid in set(ids.values())}
    assert env.run("--customers").exit_code == 0
    result = env.run("--accounts")
    assert result.exit_code == 0, result.output
    linked = env.sql("SELECT COUNT(*) FROM voip_number_assignments")[0][0]
    assert linked == env.sql("SELECT COUNT(*) FROM voip_numbers")[0][0] > 0
    assert env.run("--accounts").exit_code == 0
    assert env.sql("SELECT COUNT(*) FROM voip_number_assignments")[0][0] == linked
    result = env.run("--billings", *PERIOD)
    assert result.exit_code == 0, result.output
    # lms-payments' window is on COALESCE(creationdate, call_start_time): the import's time here.
    bounds = env.sql(
        "SELECT MIN(COALESCE(creationdate, call_start_time)), MAX(COALESCE(creationdate, call_start_time)) "
        "FROM voip_cdr"
    )[0]
    billed = {r[0]: (r[1], r[2]) for r in env.sql(PAYMENTS_QUERY, start=bounds[0], end=bounds[1] + 1)}
    expected: dict[int, list] = {}
    for owner, _direction, price, seconds in env.sql(
        "SELECT a.ownerid, c.direction, c.price, c.billedtime FROM voip_cdr c JOIN voipaccounts a ON a.id = "
        "CASE WHEN c.direction = 2 THEN c.callervoipaccountid ELSE c.calleevoipaccountid END"
    ):
        total = expected.setdefault(assignments[owner], [Decimal(0), 0])
        total[0] += price
        total[1] += seconds
    assert billed and billed == {a: (round(p, 2), s) for a, (p, s) in expected.items()}
    assert sum(p for p, _ in billed.values()) > 0
