"""What lms-payments bills after a Metroport MVNO import: records carry ``creationdate`` (the import time,
kept by a re-import), so lms-payments' VoIP query (``COALESCE(creationdate, call_start_time)`` in the
billing window) bills records imported after its monthly run in the next period; a binding whose extid
is not a number is reported and skipped while the rest of the import goes on."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from mvno_env import PERIOD, make_env, seed_customers

# lms-payments' VoIP totals (bin/lms-payments.php at the pinned LMS version) for monthly assignments,
# reduced to what decides which records count: the window on COALESCE(creationdate, call_start_time),
# the account on the right side of the record's direction, the number linked to the assignment.
LMS_PAYMENTS_VOIP = """
SELECT a2.id AS assignmentid, COUNT(*) AS records, ROUND(SUM(vc.price), 2) AS value
FROM voip_cdr vc
JOIN voipaccounts va ON va.id = vc.callervoipaccountid AND vc.direction = 2
                     OR va.id = vc.calleevoipaccountid AND vc.direction = 1
JOIN voip_numbers vn ON vn.voip_account_id = va.id
     AND ((vn.voip_account_id = vc.callervoipaccountid AND vn.phone = vc.caller AND vc.direction = 2)
       OR (vn.voip_account_id = vc.calleevoipaccountid AND vn.phone = vc.callee AND vc.direction = 1))
JOIN voip_number_assignments vna ON vna.number_id = vn.id
JOIN assignments a2 ON a2.id = vna.assignment_id
JOIN tariffs t ON t.id = a2.tariffid AND t.type = 4
WHERE COALESCE(vc.creationdate, vc.call_start_time) >= :window_start
  AND COALESCE(vc.creationdate, vc.call_start_time) < :window_end
GROUP BY a2.id
"""


def _month(moment: datetime) -> tuple[int, int]:
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    return int(start.timestamp()), int(end.timestamp())


def _billed(env, window: tuple[int, int]) -> int:
    rows = env.sql(LMS_PAYMENTS_VOIP, window_start=window[0], window_end=window[1])
    return sum(int(r[1]) for r in rows)


@pytest.fixture
def env(lms_host):
    e = make_env(lms_host, settings={"link_numbers": "1"})
    seed_customers(e)
    e.bind_all()
    assert e.run("--accounts").exit_code == 0
    yield e
    e.server.stop()


def test_late_import_is_billed_in_the_next_period_and_a_reimport_keeps_its_date(env):
    calls_month = _month(datetime(2023, 1, 3))
    before = int(time.time())
    result = env.run("--billings", *PERIOD)
    assert result.exit_code == 0, result.output
    after = int(time.time())
    stamps = env.sql("SELECT MIN(creationdate), MAX(creationdate), COUNT(*) FROM voip_cdr")[0]
    assert stamps[2] > 0 and before <= stamps[0] <= stamps[1] <= after

    # The January run of lms-payments happened long ago: the late records belong to the import's period.
    assert _billed(env, calls_month) == 0
    assert _billed(env, _month(datetime.fromtimestamp(stamps[0]))) > 0

    # Billed in an earlier period already: a re-import (replace, then --update) must not move them.
    env.sql("UPDATE voip_cdr SET creationdate = 1600000000")
    for extra in ([], ["-u"]):
        again = env.run("--billings", *extra, *PERIOD)
        assert again.exit_code == 0, again.output
        assert env.sql("SELECT DISTINCT creationdate FROM voip_cdr") == [(1600000000,)]
    assert _billed(env, _month(datetime.fromtimestamp(stamps[0]))) == 0


def test_non_numeric_extid_is_reported_and_skipped(env):
    pid = env.provider_id()
    bound = env.sql(
        "SELECT customerid, extid FROM customerextids WHERE serviceproviderid = :p ORDER BY customerid", p=pid
    )
    assert len(bound) >= 2
    legacy = bound[0][0]
    env.sql(
        "UPDATE customerextids SET extid = 'MP-OLD-1' WHERE customerid = :c AND serviceproviderid = :p", c=legacy, p=pid
    )
    result = env.run("--billings", "-m", "customer", *PERIOD)
    assert "ValueError" not in result.output and "Traceback" not in result.output
    assert f"#{legacy} ('MP-OLD-1')" in result.output and "not a numeric user id" in result.output
    owners = {
        r[0]
        for r in env.sql(
            "SELECT va.ownerid FROM voip_cdr c JOIN voipaccounts va ON va.id IN "
            "(c.callervoipaccountid, c.calleevoipaccountid)"
        )
    }
    assert owners and legacy not in owners, "the rest of the import went on, the legacy customer was skipped"
