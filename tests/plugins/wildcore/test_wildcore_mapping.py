"""Wildcore mapping with plain values: MAC and serial spelling, feed elements, hit ranking, diagnostics."""

from __future__ import annotations

import pytest

from lmsplugins.lms.network import CustomerNetwork, NodePoint, OwnedDevice
from plugins.wildcore import mapping


def _customer(**kw) -> CustomerNetwork:
    values = dict(
        id=7,
        lastname="Kowalski",
        name="Jan",
        status=3,
        contract="",
        city="Kraków",
        street="ul. Polna",
        house="5",
        flat="2",
    )
    values.update(kw)
    return CustomerNetwork(**values)


@pytest.mark.parametrize(
    "raw",
    ["50:0f:f5:a3:98:70", "50-0F-F5-A3-98-70", "500FF5A39870", "500f.f5a3.9870", " 50:0F:F5:A3:98:70 "],
)
def test_mac_spellings_become_wildcores(raw):
    assert mapping.normalize_mac(raw) == "50:0F:F5:A3:98:70"


@pytest.mark.parametrize("raw", ["", "50:0F:F5:A3:98", "ZTEGC69EF036", "50:0F:F5:A3:98:7G", "hello"])
def test_not_macs(raw):
    assert mapping.normalize_mac(raw) is None


def test_serials():
    assert mapping.normalize_serial("ztegc69ef036") == "ZTEGC69EF036"
    assert mapping.normalize_serial("ELTX-12AB34CD") == "ELTX-12AB34CD"
    assert mapping.normalize_serial("500FF5A39870") is None  # a MAC, not a serial
    assert mapping.normalize_serial("abc") is None
    assert mapping.normalize_serial("ONU w piwnicy") is None
    assert mapping.onu_ident("e0:67:b3:00:00:04") == "E0:67:B3:00:00:04"


def test_elements_split_so_a_wrong_switch_never_hides_the_onu():
    customer = _customer(
        nodes=[NodePoint(1, "pc", "jk", 3, "10.9.9.9", 2, ["50:0f:f5:00:00:01"])],
        devices=[OwnedDevice(9, "ONU", "ztegc69ef036", "F660")],
        contract="UM/1/2026",
    )
    elements = mapping.feed_elements(customer)
    assert [e["search"] for e in elements] == [
        {"client_mac": "50:0F:F5:00:00:01", "switch": "10.9.9.9", "port": "2", "onu_ident": ""},
        {"client_mac": "", "switch": "", "port": "", "onu_ident": "ZTEGC69EF036"},
    ]
    data = elements[0]["data"]
    assert data == {
        "uid": "7",
        "billing_link": "/customer/7",
        "agreement": "UM/1/2026",
        "login": "jk",
        "name": "Kowalski Jan",
        "address": {
            "full": "Kraków, ul. Polna 5/2",
            "settlement": "Kraków",
            "lane": "ul. Polna",
            "house": "5",
            "app": "2",
        },
    }


def _strings_only(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _strings_only(v) for k, v in value.items())
    return isinstance(value, str)


def test_every_value_a_string_and_unknown_port_sends_no_switch():
    customer = _customer(
        id=12,
        city="",
        street="",
        house="",
        flat="",
        nodes=[
            NodePoint(1, "n1", "", 4, "10.2.0.1", 0, ["AA-BB-CC-DD-EE-01", "junk"]),
            NodePoint(2, "n2", "", None, "", 0, []),
        ],
        devices=[OwnedDevice(3, "CPE", "", ""), OwnedDevice(4, "ONU", "note: in the attic", "")],
    )
    elements = mapping.feed_elements(customer, extra_idents=["hwtc1a2b3c4d", "HWTC1A2B3C4D"])
    assert [e["search"] for e in elements] == [
        {"client_mac": "AA:BB:CC:DD:EE:01", "switch": "", "port": "", "onu_ident": ""},
        {"client_mac": "", "switch": "", "port": "", "onu_ident": "HWTC1A2B3C4D"},
    ]
    assert all(_strings_only(e) for e in elements)
    assert elements[0]["data"]["agreement"] == "12" and elements[0]["data"]["login"] == "n1"
    assert elements[0]["data"]["address"]["full"] == ""


def test_customer_without_anything_to_search_has_no_element():
    assert mapping.feed_elements(_customer(nodes=[NodePoint(1, "n", "", None, "", 0, [])])) == []


def test_search_params():
    assert mapping.search_param("mac", "500ff5a39870") == ("mac", "50:0F:F5:A3:98:70")
    assert mapping.search_param("serial", "ztegc69ef036") == ("serial", "ZTEGC69EF036")
    for param, value, message in [
        ("ip", "1.2.3.4", "param must be mac or serial"),
        (None, "x", "param must be mac or serial"),
        ("mac", "", "value is empty"),
        ("mac", "ZTEGC69EF036", "value is not a MAC address"),
        ("serial", "50:0F:F5:A3:98:70", "value is not an ONU serial number"),
        ("serial", "x!", "value is not an ONU serial number"),
    ]:
        with pytest.raises(ValueError, match=message):
            mapping.search_param(param, value)


def test_hits_ranked_online_then_newest():
    hits = [
        {"id": 1, "status": "Offline", "updated_at": "2026-12-07 10:00:00"},
        {"id": 2, "status": "Online", "updated_at": "2026-01-01 00:00:00"},
        {"id": 3, "status": "Online", "updated_at": "2026-12-01 00:00:00"},
        {"id": 4, "status": None, "updated_at": None},
    ]
    assert [h["id"] for h in mapping.rank_hits(hits)] == [3, 2, 1, 4]


def test_targets_from_feed_searches():
    customer = _customer(
        nodes=[
            NodePoint(1, "pc", "", 3, "10.2.0.1", 3, ["50:0f:f5:00:00:01"]),
            NodePoint(2, "tv", "", 3, "10.2.0.1", 3, []),
        ],
        devices=[OwnedDevice(9, "ONU", "ZTEGC69EF036", "")],
    )
    assert [t.key for t in mapping.customer_targets(customer)] == ["port:10.2.0.1:3", "onu:ZTEGC69EF036"]


def test_diagnosis_of_an_onu_and_a_port_and_of_junk():
    onu = mapping.diagnosis(
        {
            "diagnostic": {
                "data": {
                    "status": {"online": True, "admin": "enabled", "_onu_disabled": False},
                    "optical": {"rx": "-21.5", "tx": 2.3, "oltRx": None, "distance": 1200},
                    "reasons": {"lastDownReason": "dying-gasp", "lastDereg": "2026-11-30 23:41:10"},
                    "uni": [{"num": 1, "admin_state": "enabled", "status": "Up"}],
                    "fdb": [{"vlan_id": 100, "mac_address": "AA:BB:CC:00:00:01"}],
                }
            },
            "device_status": {"error": None},
        },
        "onu",
    )
    assert (onu.online, onu.rx, onu.tx, onu.olt_rx, onu.distance) == (True, -21.5, 2.3, None, 1200.0)
    assert (onu.last_down_reason, onu.last_down_time) == ("dying-gasp", "2026-11-30 23:41:10")
    assert onu.uni == [{"num": "1", "admin": "enabled", "status": "Up"}]
    assert onu.macs == [{"vlan": "100", "mac": "AA:BB:CC:00:00:01"}]
    port = mapping.diagnosis(
        {
            "diagnostic": {"data": {"link_info": [{"operStatus": "Down", "adminState": "Up"}]}},
            "device_status": {"error": "unreachable"},
        },
        "port",
    )
    assert (port.online, port.status_text, port.device_error) == (False, "Down", "unreachable")
    junk = mapping.diagnosis({"diagnostic": "nope", "device_status": []}, "onu")
    assert (junk.online, junk.rx, junk.uni) == (None, None, [])


def test_encoded_elements_are_the_elements_as_json():
    import json

    customer = _customer(
        lastname='Sklep "Groszek" \\ Ąę',
        nodes=[NodePoint(1, "pc", "", 3, "10.2.0.1", 3, ["50:0f:f5:00:00:01", "500ff5000002"])],
        devices=[OwnedDevice(9, "ONU", "ztegc69ef036", "F660")],
    )
    assert json.loads("[" + mapping.encoded_elements(customer, ["E0-67-B3-00-00-04"]) + "]") == mapping.feed_elements(
        customer, ["E0-67-B3-00-00-04"]
    )
    assert mapping.encoded_elements(_customer()) == ""


@pytest.mark.parametrize(
    "values",
    [
        dict(city="", street="", house="", flat=""),
        dict(city="Gdańsk", street="", house="", flat="", name=""),
        dict(city="", street="ul. Długa", house="7", flat="", lastname=""),
        dict(contract="UM/1\\2026 \u2028", nodes=[NodePoint(1, "", "jk", 1, "10.0.0.1", 1, [])]),
        dict(nodes=[NodePoint(1, "", "", 1, "10.0.0.1", 1, []), NodePoint(2, "tv", "", 1, "10.0.0.1", 2, [])]),
    ],
)
def test_encoded_data_equals_customer_data_for_every_shape(values):
    import json

    customer = _customer(**{"devices": [OwnedDevice(9, "ONU", "ZTEGC69EF036", "")], **values})
    elements = json.loads("[" + mapping.encoded_elements(customer) + "]")
    assert all(e["data"] == mapping.customer_data(customer) for e in elements) and elements
