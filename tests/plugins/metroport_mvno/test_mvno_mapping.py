"""Unit tests of the Metroport MVNO mapping and flag parsing: plain values, no I/O."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from lmsplugins.errors import UsageError
from lmsplugins.lms.customers import IdentityIndex
from plugins.metroport_mvno import jobs, mapping
from plugins.metroport_mvno.client import BillingRecord, MetroportUser, MobileAccount

WAW = ZoneInfo("Europe/Warsaw")


def rec(**kw) -> BillingRecord:
    base = dict(
        id=7,
        src="48510000000",
        dst="48600111222",
        ano="510000000",
        calldate=datetime(2023, 7, 1, 12),
        billingfield="duration",
        duration=61,
        datatransfer=None,
        msg=None,
        retail_totalnetto=Decimal("0.10"),
        retail_vat=Decimal("1.23"),
        traffic_types_id=11,
        category_name="Krajowe",
    )
    base.update(kw)
    return BillingRecord(**base)


@pytest.mark.parametrize("vat", ["1.23", "0.23", "23"])
def test_vat_as_multiplier_fraction_or_percentage_gives_the_same_gross(vat):
    assert mapping.price(rec(retail_vat=Decimal(vat)), net=False) == Decimal("0.12300")
    assert mapping.price(rec(retail_vat=Decimal(vat)), net=True) == Decimal("0.10000")


def test_vat_out_of_range_is_an_error():
    with pytest.raises(ValueError):
        mapping.vat_multiplier(Decimal("-1"))
    with pytest.raises(ValueError):
        mapping.vat_multiplier(Decimal("123"))


def test_quantities_and_unknown_billingfield():
    assert mapping.quantity(rec(billingfield="datatransfer", datatransfer=Decimal("1.5"))) == 1536
    assert mapping.quantity(rec(billingfield="msg", msg=2)) == 2
    with pytest.raises(ValueError, match="billingfield"):
        mapping.quantity(rec(billingfield="minutes"))
    with pytest.raises(ValueError, match="no duration"):
        mapping.quantity(rec(duration=None))


def test_cdr_row_direction_accounts_time_zone_and_type():
    mapper = mapping.CdrMapper({11: "call", 14: "data", 99: "fax"}, {"48510000000": (5, 1)}, WAW)
    assert mapper.unknown_types == ["fax"]
    out = mapper.row(rec(), net=False)
    assert out["direction"] == 2 and out["callervoipaccountid"] == 5 and out["calleevoipaccountid"] is None
    assert out["call_start_time"] == int(datetime(2023, 7, 1, 10, tzinfo=ZoneInfo("UTC")).timestamp())
    assert out["type"] == 0 and out["status"] == 5 and out["uniqueid"] == "7" and out["fraction"] == "Krajowe"
    incoming = mapper.row(rec(src="48600111222", dst="48510000000", calldate=datetime(2023, 1, 1, 12)), net=True)
    assert incoming["direction"] == 1 and incoming["calleevoipaccountid"] == 5
    assert incoming["call_start_time"] == int(datetime(2023, 1, 1, 11, tzinfo=ZoneInfo("UTC")).timestamp())
    with pytest.raises(ValueError, match="traffic type"):
        mapper.row(rec(traffic_types_id=99), net=False)
    with pytest.raises(ValueError, match="longer than 20"):
        mapper.row(rec(dst="4" * 21), net=False)


def user(uid, nip=None, pesel=None, card=None) -> MetroportUser:
    return MetroportUser(id=uid, name=f"U{uid}", nip=nip, pesel=pesel, idcardno=card)


def test_plan_bindings_reports_ambiguity_on_both_sides_and_never_binds_twice():
    index = IdentityIndex()
    index.add(1, ten="1234563218")
    index.add(2, ssn="44051401458")
    index.add(3, ssn="44051401458")
    index.add(4, icn="ABC123456")
    index.add(5, icn="XYZ987654")
    users = [
        user(10, nip="PL 123-456-32-18"),
        user(11, pesel="44051401458"),
        user(12, card="abc 123456"),
        user(13, card="ABC123456"),
        user(14),
        user(15, nip="9999999999"),
        user(16, card="xyz987654"),
        user(17, nip="123-456-32-18", card="QQQ000000"),
    ]
    plan = mapping.plan_bindings(users, index, {5: ["99"]})
    assert [(c, u.id) for c, u, _ in plan.bindings] == []
    assert [u.id for u, _ in plan.ambiguous_lms] == [11]
    assert sorted(u.id for u, _, _ in plan.ambiguous_users) == [10, 12, 13, 17]
    assert [u.id for u in plan.insufficient] == [14]
    assert [u.id for u in plan.unmatched] == [15]
    assert [(u.id, c) for u, c, _ in plan.customer_taken] == [(16, 5)]
    clean = mapping.plan_bindings([user(10, nip="1234563218"), user(20, card="ABC123456")], index, {})
    assert [(c, u.id, by) for c, u, by in clean.bindings] == [(1, 10, "ten"), (4, 20, "icn")]
    assert mapping.plan_bindings([user(10, nip="1234563218")], index, {1: ["10"]}).already_bound == 1
    assert mapping.plan_bindings([user(10, nip="1234563218")], index, {}, only_customer=4).bindings == []


def mobile(status="active", confirmed=True, ano="510000000", mid=77) -> MobileAccount:
    return MobileAccount(id=mid, userid=1, ano=ano, status=status, status_confirmed=confirmed)


def acc(aid=1, owner=1, extid=None, numbers=("48510000000",), access=1, login="510000000"):
    return {
        "id": aid,
        "ownerid": owner,
        "extid": extid,
        "access": access,
        "login": login,
        "numbers": [(aid * 10 + i, p) for i, p in enumerate(numbers)],
    }


def test_plan_account_bind_create_update_delete_and_unknown_status():
    assert mapping.plan_account(mobile(), 1, [acc()], {}).kind == "bind"
    assert mapping.plan_account(mobile(), 1, [acc(numbers=("48510000000", "48222"))], {}).kind == "create"
    assert mapping.plan_account(mobile(status="deleted"), 1, [], {}).kind == "skip"
    own = acc(extid="77")
    assert mapping.plan_account(mobile(), 1, [own], {"77": own}).kind == "keep"
    blocked = mapping.plan_account(mobile(status="blocked"), 1, [own], {"77": own})
    assert blocked.kind == "update" and blocked.values == {"access": 0}
    unconfirmed = mapping.plan_account(mobile(status="blocked", confirmed=False), 1, [own], {"77": own})
    assert unconfirmed.kind == "keep"
    moved = mapping.plan_account(mobile(ano="510999999"), 1, [own], {"77": own})
    assert moved.kind == "update" and moved.old_phone == "48510000000" and moved.values == {"login": "510999999"}
    assert mapping.plan_account(mobile(status="deleted"), 1, [own], {"77": own}).kind == "delete"
    foreign = acc(aid=9, owner=2, extid="77")
    assert mapping.plan_account(mobile(), 1, [], {"77": foreign}).kind == "skip"
    with pytest.raises(mapping.UnknownStatus):
        mapping.plan_account(mobile(status="suspended"), 1, [own], {"77": own})


NOW = datetime(2024, 3, 15, 10, 30)


def test_default_period_is_the_previous_month_and_january_wraps():
    assert jobs.default_period(NOW) == (datetime(2024, 2, 1), datetime(2024, 2, 29, 23, 59, 59))
    assert jobs.default_period(datetime(2024, 1, 10))[0] == datetime(2023, 12, 1)
    assert jobs.default_period(datetime(2024, 3, 1, 0, 5))[1] == datetime(2024, 2, 29, 23, 59, 59)


def test_end_capped_at_yesterday_only_when_not_given():
    opts = jobs.parse_options({"billings": True, "start_date": "2024-03-01"}, NOW)
    assert opts.end == datetime(2024, 3, 14, 23, 59, 59)
    opts = jobs.parse_options({"billings": True, "start_date": "2024-03-01", "end_date": "2024-03-31"}, NOW)
    assert opts.end == datetime(2024, 3, 31)


def test_subperiods_last_piece_up_to_one_and_a_half():
    pieces = jobs.subperiods(datetime(2024, 1, 1), datetime(2024, 1, 4, 11), True, 1)
    assert [p[0].day for p in pieces] == [1, 2, 3] and pieces[-1] == (datetime(2024, 1, 3), datetime(2024, 1, 4, 11))
    assert pieces[0][1] == datetime(2024, 1, 1, 23, 59, 59)
    assert len(jobs.subperiods(datetime(2024, 1, 1), datetime(2024, 1, 4, 23, 59, 59), False, 1)) == 1


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        ({"billings": True, "start_date": "tomorrowish"}, "invalid --start-date format"),
        ({"billings": True, "end_date": "31.01.2024"}, "invalid --end-date format"),
        ({"billings": True, "start_date": "2024-02-02", "end_date": "2024-02-01"}, "empty interval"),
        ({"billings": True, "mode": "reseller"}, 'unsupported mode "reseller"'),
        ({"billings": True, "use_last_id": True}, "requires --incremental"),
        ({"billings": True, "incremental": True, "use_last_id": True, "use_call_start_time": True}, "together"),
        ({"billings": True, "customerid": "1 OR 1=1"}, "not a customer id"),
        ({"billings": True, "customerid": "0"}, "not a customer id"),
        ({"billings": True, "chunk_size": "two"}, "chunk-size"),
        ({"pricelist_file": "/nonexistent/prices.csv"}, "does not exist"),
        ({}, "nothing to do"),
    ],
)
def test_bad_flags_are_usage_errors(opts, message):
    with pytest.raises(UsageError, match=message) as caught:
        jobs.parse_options(opts, NOW)
    assert caught.value.exit_code == 2


def test_dates_accepted():
    assert jobs.parse_when("2024/2/3 10:00", NOW) == datetime(2024, 2, 3, 10)
    assert jobs.parse_when("yesterday", NOW) == datetime(2024, 3, 14)
    assert jobs.parse_when("-2 days", NOW) == datetime(2024, 3, 13, 10, 30)
    opts = jobs.parse_options({"billings": True, "incremental": True, "chunk_size": "0"}, NOW)
    assert opts.incremental == "last-id" and opts.chunking and opts.chunk_size == 1
    assert not jobs.parse_options({"billings": True, "incremental": True, "no_chunking": True}, NOW).chunking
