"""Mapping of platform records to hv_* rows: flags, lengths, the §7 fixes, time zones, invoice choice."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from plugins.hiperus_c5 import mapping

CDR = {
    "id": "118222430019999",
    "start_time": "2024-07-01 12:00:00",
    "duration": "75",
    "rel_cause": "16",
    "customer_name": "Nowak Jan",
    "terminal_name": "1001t1",
    "ext_billing_id": "14",
    "caller": "227002026",
    "bill_cpb": "48791940550",
    "calltype": "outgoing",
    "country": "Polska",
    "description": "Polska - komórkowe",
    "operator": "Play",
    "type": "mobile",
    "price": "0.4300",
    "cost": "0.5375",
    "init_charge": "0.0500",
    "reseller_price": "0.2580",
    "reseller_cost": "0.3225",
    "reseller_init_charge": "0.0300",
    "margin": "0.2150",
    "subscription_used": "f",
    "platform_type": "VOIP",
}


def test_pricelist_keeps_charge_internal_call():
    assert mapping.pricelist_row({"id": "1", "name": "Standard", "charge_internal_call": "t"}) == {
        "id": 1,
        "name": "Standard",
        "charge_internal_call": "t",
    }
    assert mapping.pricelist_row({"id": 2, "name": "B", "charge_internal_call": False})["charge_internal_call"] == "f"


def test_customer_row_flags_defaults_and_lengths():
    row = mapping.customer_row(
        {
            "id": "1001",
            "name": "Firma",
            "street_number": "12345678901234",
            "active": None,
            "issue_invoice": True,
            "payment_type": "weird",
            "ext_billing_id": "",
        }
    )
    assert row["id"] == 1001 and row["street_number"] == "1234567890"
    assert (row["active"], row["issue_invoice"], row["is_removed"]) == ("t", "t", "f")
    assert row["payment_type"] == "postpaid" and row["ext_billing_id"] is None
    with pytest.raises(ValueError):
        mapping.customer_row({"name": "no id"})


@pytest.mark.parametrize(
    ("platform", "current", "source", "expected"),
    [
        ("t", None, "2", "2"),
        ("f", None, "2", "0"),
        ("t", None, "0", "0"),
        ("f", "2", "0", "2"),
        ("t", "2", "1", "2"),
        ("f", "1", "2", "0"),
        ("t", "1", "2", "1"),
        ("t", "0", "2", "2"),
        ("f", "0", "2", "0"),
    ],
)
def test_assign_value_keeps_local_choice(platform, current, source, expected):
    assert mapping.assign_value(platform, current, source) == expected


def test_usage_row_free_number_is_customer_zero():
    row = mapping.usage_row(
        {"extension": "48221234567", "number": "221234567", "id_customer": None, "country_code": "48"}, 3
    )
    assert row == {
        "extension": 48221234567,
        "number": 221234567,
        "customerid": 0,
        "country_code": "48",
        "customer_name": None,
        "idrange": 3,
    }
    assert mapping.usage_row({"number": "221234568", "country_code": "48"}, 1)["extension"] == 48221234568


def test_terminal_row_has_no_local_columns():
    row = mapping.terminal_row({"id": "5001", "username": "u", "screen_numbers": "f", "balance_value": "1.50"}, 1001)
    assert row["customerid"] == 1001 and row["screen_numbers"] == "f" and row["t38_fax"] == "f"
    assert not set(row) & {"location", "location_city", "location_street", "location_house", "location_flat"}


def test_cdr_row_columns_time_zone_and_flags():
    row = mapping.cdr_row(CDR, True, "Europe/Warsaw", {"1001t1": 1001})
    assert list(row) == list(mapping.BILLING_COLUMNS)
    assert row["start_time_unix"] == int(datetime(2024, 7, 1, 10, 0, tzinfo=ZoneInfo("UTC")).timestamp())
    assert row["customerid"] == 1001 and row["success_call"] == "t" and row["init_charge"] == "0.0500"
    assert mapping.cdr_row(CDR, False, "UTC", {})["start_time_unix"] == 1719835200
    assert mapping.cdr_row({**CDR, "start_time": "2024-01-15 12:00:00"}, True)["start_time_unix"] == 1705316400


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-31 01:59:59",
        "2024-03-31 03:00:00",
        "2024-10-27 01:30:00",
        "2024-10-27 03:00:00",
        "2023-12-31 23:59:59",
        "2024-02-29 00:00:00",
    ],
)
def test_local_time_matches_zoneinfo(text):
    expected = int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Warsaw")).timestamp())
    assert mapping.LocalTime("Europe/Warsaw").unix(text) == expected


def test_local_time_ambiguous_hour_is_first_occurrence_and_garbage_is_none():
    clock = mapping.LocalTime("Europe/Warsaw")
    assert clock.unix("2024-10-27 02:30:00") == 1729989000  # 00:30 UTC, the CEST reading
    assert clock.unix("") is None and clock.unix("yesterday") is None and clock.unix("2024-13-01 00:00:00") is None


def test_cdr_without_terminal_is_counted_not_dropped():
    mapper = mapping.CdrMapper("Europe/Warsaw", {"known": 7})
    a = mapper.dict_row({**CDR, "terminal_name": ""}, True)
    b = mapper.dict_row({**CDR, "id": "2", "terminal_name": "ghost"}, False)
    assert a["customerid"] is None and a["terminal_name"] is None
    assert b["customerid"] is None and b["success_call"] == "f"
    assert (mapper.no_terminal, mapper.unknown_terminal) == (1, 1)
    assert "Nowak Jan" in mapper.no_terminal_samples[0] and "ghost" in mapper.unknown_terminal_samples[0]
    with pytest.raises(ValueError):
        mapper.row({**CDR, "id": "x"}, True)


def test_cdr_money_and_lengths():
    row = mapping.cdr_row({**CDR, "cost": None, "price": "1,25", "caller": "1" * 30, "subscription_used": None}, True)
    assert row["cost"] == "0" and row["price"] == "1.25" and len(row["caller"]) == 20
    assert row["subscription_used"] is None
