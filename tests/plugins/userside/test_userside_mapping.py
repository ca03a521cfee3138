"""UserSide mapping with plain values: states, tariffs, contacts, ip_mac, addresses, types (spec §5, §7)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace as Row
from zoneinfo import ZoneInfo

import pytest

from lmsplugins.lms import addresses as lms_addresses
from plugins.userside import mapping

ZONE = ZoneInfo("Europe/Warsaw")
NOW = 1_780_000_000


def _node(access: int = 1, warning: int = 0, **kw):
    return Row(
        id=kw.get("id", 1),
        access=access,
        warning=warning,
        ipaddr=kw.get("ipaddr", 0),
        mac=kw.get("mac"),
        name="N",
        login="",
        passwd="",
        lastonline=0,
    )


def _assignment(tariffid=1, tariff_type=1, datefrom=NOW - 100, dateto=0, suspended=0, liabilityid=None):
    return Row(
        tariffid=tariffid,
        tariff_type=tariff_type,
        datefrom=datefrom,
        dateto=dateto,
        suspended=suspended,
        liabilityid=liabilityid,
        pdiscount=Decimal("5"),
        tariff_value=Decimal("19.9"),
        tariff_name="TV",
    )


@pytest.mark.parametrize(
    ("status", "nodes", "suspended", "balance", "expected"),
    [
        (3, [_node()], False, Decimal(0), mapping.STATE_WORK),
        (1, [_node()], False, Decimal(0), mapping.STATE_NEW),
        (2, [], False, Decimal(0), mapping.STATE_NEW),
        (4, [_node()], False, Decimal(0), mapping.STATE_DISABLE),
        (5, [_node()], False, Decimal(0), mapping.STATE_NOMONEY),
        (3, [_node(access=0), _node(access=0)], False, Decimal(0), mapping.STATE_DISABLE),
        (3, [_node(access=0), _node()], False, Decimal(0), mapping.STATE_WORK),
        (3, [_node()], True, Decimal(-5), mapping.STATE_PAUSE),
        (3, [_node(warning=1)], False, Decimal(0), mapping.STATE_NOMONEY),
        (3, [], False, Decimal("-0.01"), mapping.STATE_NOMONEY),
    ],
)
def test_state_from_status_nodes_and_balance(status, nodes, suspended, balance, expected):
    assert mapping.state_id(status, nodes, suspended, balance, True) == expected


def test_debt_is_not_nomoney_when_the_setting_says_so():
    assert mapping.state_id(3, [], False, Decimal(-10), False) == mapping.STATE_WORK


def test_suspension_is_a_suspend_all_row_or_every_internet_tariff_suspended():
    internet = frozenset({1})
    assert mapping.is_suspended([_assignment(tariffid=None)], internet, NOW)
    assert mapping.is_suspended([_assignment(suspended=1), _assignment(tariff_type=5)], internet, NOW)
    assert not mapping.is_suspended([_assignment(suspended=1), _assignment()], internet, NOW)
    assert not mapping.is_suspended([_assignment(tariffid=None, datefrom=NOW + 10)], internet, NOW)


def test_tariffs_current_and_next_and_services():
    options = mapping.Options(now=NOW, zone=ZONE)
    rows = [
        _assignment(tariffid=1, dateto=NOW + 86400 * 3),
        _assignment(tariffid=2, datefrom=NOW + 86400 * 3),
        _assignment(tariffid=3, dateto=NOW - 1),
        _assignment(tariffid=9, tariff_type=5),
    ]
    plans = mapping.tariff_plans(rows, options)
    assert [p["id"] for p in plans["current"]] == ["1"] and plans["current"][0]["date_finish"]
    assert plans["new"] == [{"id": "2", "date_start": mapping.date_only(NOW + 86400 * 3, ZONE)}]
    assert mapping.services(rows, options) == {
        "9": [{"cost": "19.90", "date_add": mapping.date_time(NOW - 100, ZONE), "comment": "TV"}]
    }


def test_contacts_skip_disabled_and_mark_the_first_as_main():
    rows = [
        Row(type=1 | 16384, contact="111", name=""),
        Row(type=4, contact=" 222 ", name="dom"),
        Row(type=1, contact="333", name=""),
        Row(type=8, contact="a@b.pl", name=""),
        Row(type=64, contact="PL00", name=""),
    ]
    phones, emails = mapping.contacts(rows)
    assert phones == [{"number": "222", "flag_main": 1, "comment": "dom"}, {"number": "333", "flag_main": 0}]
    assert emails == [{"address": "a@b.pl", "flag_main": 1}]


def test_ip_mac_is_keyed_by_inet_aton_with_the_first_mac():
    nodes = [
        _node(id=1, ipaddr=3232235521, mac="00:1A:2B:3C:4D:5E"),
        _node(id=1, ipaddr=3232235521, mac="11:11:11:11:11:11"),
        _node(id=2, ipaddr=3232235522, mac=None),
        _node(id=3, ipaddr=0, mac="22:22:22:22:22:22"),
    ]
    assert mapping.ip_mac(nodes) == {
        "3232235521": {"ip": 3232235521, "mac": "001a2b3c4d5e"},
        "3232235522": {"ip": 3232235522},
    }
    assert mapping.mac12("zz") == ""


def test_money_and_dates_are_strings_in_the_contract_format():
    assert mapping.money(Decimal("-250.7")) == "-250.70" and mapping.money(None) == "0.00"
    assert mapping.date_time(0, ZoneInfo("UTC")) == "1970-01-01 00:00:00"
    assert mapping.month_start(NOW, ZONE) <= NOW


def test_tariff_element_periods_and_service_type():
    row = Row(id=4, name="Net", value=Decimal("59"), period=5, uprate=1024, downrate=None, type=1)
    element = mapping.tariff_element(row)
    assert element["payment"] == "59.00" and element["payment_interval"] == 365
    assert element["speed"] == {"up": 1024, "down": 0} and element["service_type"] == 0


def _address(address_id, kind, city_id=None, city="Wólka", street_id=None, street="", house="1", building_id=None):
    return Row(
        address_id=address_id,
        type=kind,
        city_id=city_id,
        city=city,
        street_id=street_id,
        street=street,
        house=house,
        flat="",
        building_id=building_id,
    )


def test_address_choice_by_setting():
    rows = [_address(1, 1, house="1"), _address(2, 2, house="2"), _address(3, 3, house="3"), _address(3, 3, house="3")]
    assert [r.address_id for r in mapping.chosen_addresses(rows, "default_location")] == [3]
    assert [r.address_id for r in mapping.chosen_addresses(rows, "all_locations")] == [3, 2]
    assert [r.address_id for r in mapping.chosen_addresses(rows, "billing")] == [1]
    assert [r.address_id for r in mapping.chosen_addresses(rows[:1], "default_location")] == [1]


def test_synthetic_ids_are_stable_and_above_real_ids():
    a = lms_addresses.address_ids(_address(1, 3, city="Wólka ", house="7a"))
    b = lms_addresses.address_ids(_address(9, 3, city="wólka", house="7A"))
    assert a == b and a.house_id >= lms_addresses.SYNTHETIC_BASE
    real = lms_addresses.address_ids(_address(1, 3, city_id=5, street_id=6, house="7", building_id=77))
    assert real == lms_addresses.AddressIds(5, 6, 77)
    other = lms_addresses.address_ids(_address(1, 3, city_id=5, street_id=6, house="8"))
    assert other.house_id != a.house_id and other.house_id >= lms_addresses.SYNTHETIC_BASE
    assert lms_addresses.address_ids(_address(1, 3, city="", house="7")) == lms_addresses.AddressIds(None, None, None)
