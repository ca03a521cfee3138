"""Pure pieces of the Metroport MMS plugin, with plain values: pairing decisions, row typing (MAC, serial,
price, dates), the MetroTV card rules (offered packages, the removal chain), the customer payload, and the
streaming JSON array reader."""

from __future__ import annotations

import json
from datetime import date

import pytest

from lmsplugins.lms.customer_export import Address, CustomerExport
from plugins.metroport_mms import mapping as m
from plugins.metroport_mms.client import MMSUser
from plugins.metroport_mms.jsonstream import StreamError, iter_json_array
from plugins.metroport_mms.tables import STB_COLUMNS


def user(uid: int, pesel: str = "", nip: str = "") -> MMSUser:
    return MMSUser(uid, "", f"U{uid}", "", pesel, nip, {})


def lms(cid: int, type_: int = 0, ssn: str = "", ten: str = "", deleted: bool = False) -> m.LmsCustomer:
    return m.LmsCustomer(cid, type_, f"C{cid}", "", ssn, ten, deleted)


def test_pairing_decisions():
    index = m.UserIndex(
        [
            user(1, pesel="44051401458"),
            user(2, nip="526-000-12-46"),
            user(3, nip="5260001246"),
            user(4, pesel="02070803628"),
            user(5, pesel="85010112345"),
        ]
    )
    plan = m.plan_pairing(
        [
            lms(10, ssn="440514 01458"),
            lms(11, type_=1, ten="PL5260001246"),
            lms(12, type_=1, ten="12-34"),
            lms(13),
            lms(14, ssn="02070803628"),
            lms(15, ssn="02070803628"),
            lms(16, ssn="85010112345"),
            lms(17, type_=2, ten="5260001246"),
            lms(18, ssn="44051401458", deleted=True),
            lms(19, ssn="99999999999"),
        ],
        index,
        {5: [99]},
    )
    result = {o.customer.id: o.result for o in plan.outcomes}
    assert result == {
        10: "paired",
        11: "ambiguous",
        12: "invalid_identifier",
        13: "no_identifier",
        14: "contested",
        15: "contested",
        16: "taken",
        17: "skipped_type",
        18: "skipped_deleted",
        19: "not_found",
    }
    assert plan.pairs == [(1, 10)]
    line = m.describe_outcome(next(o for o in plan.outcomes if o.customer.id == 10))
    assert line.endswith("Powiązano z Metroport ID: 1, PESEL: 44051401458")


def test_row_typing():
    assert m.normalize_mac("00-1a-79-aa-bb-cc") == m.normalize_mac("001A.79AA.BBCC") == "00:1A:79:AA:BB:CC"
    for bad in ("00:11", "zz:zz:zz:zz:zz:zz", "", None):
        with pytest.raises(m.RowError):
            m.normalize_mac(bad)
    with pytest.raises(m.RowError):
        m.normalize_serial("  ")
    assert str(m.parse_price("12,5")) == "12.50" and str(m.parse_price(None)) == "0.00"
    for bad in ("12.345", "abc", "1e3", True):
        with pytest.raises(m.RowError):
            m.parse_price(bad)
    row = m.tv_package_row(
        {
            "id": 7,
            "firmid": 1,
            "firmName": "X",
            "countActive": "3",
            "pkg_valid_from": "",
            "pkg_valid_to": "2030-12-31",
            "pricebrutto": "9.99",
        }
    )
    assert (row["firmname"], row["countactive"], row["pkg_valid_from"], row["pkg_valid_to"]) == (
        "X",
        3,
        None,
        date(2030, 12, 31),
    )
    with pytest.raises(m.RowError, match="pkg_valid_to is not a date"):
        m.tv_package_row({"id": 7, "firmid": 1, "pkg_valid_to": "31.12.2030"})
    stb = m.stb_row({"id": "5", "mac": "aabbccddeeff", "serialnumber": "", "AddressIp": "10.0.0.2", "status": 3})
    assert stb[0] == 5 and stb[1 + STB_COLUMNS.index("serialnumber")] is None
    assert stb[1 + STB_COLUMNS.index("addressip")] == "10.0.0.2" and stb[1 + STB_COLUMNS.index("status")] == 3
    with pytest.raises(m.RowError, match="status is not a number"):
        m.stb_row({"id": 1, "mac": "aabbccddeeff", "status": "x"})


PACKAGES = [
    {"id": 101, "pkg_group": 1, "active": 1, "pkg_valid_to": "2030-12-31", "pkg_denied": ""},
    {"id": 102, "pkg_group": 1, "active": 1, "pkg_valid_to": "2030-12-31", "pkg_denied": "203, 202"},
    {"id": 103, "pkg_group": 1, "active": 1, "pkg_valid_to": "2019-12-31"},
    {"id": 201, "pkg_group": 2, "active": 1, "pkg_valid_to": "2030-12-31"},
    {"id": 202, "pkg_group": 2, "active": 1, "pkg_valid_to": "2030-12-31"},
    {"id": 203, "pkg_group": 2, "active": 1, "pkg_valid_to": "2030-12-31", "pkg_denied": "102"},
    {"id": 204, "pkg_group": 2, "active": 0, "pkg_valid_to": "2030-12-31"},
    {"id": 205, "pkg_group": 2, "active": 1, "pkg_valid_to": ""},
    {"id": 301, "pkg_group": 3, "active": 1, "pkg_valid_to": "2030-12-31", "pkg_valid_from": "2029-01-01"},
]


def card(main: int | None, extras=(), stb_on=()) -> dict:
    def order(oid, pkg, group):
        return {"id": oid, "pkg_id": pkg, "pkg_group": group, "stb_data": {"mac": "X"} if oid in stb_on else []}

    return {
        "Packages": {
            "MainPackage": order(1, main, 1) if main else None,
            "ExtraPackages": {str(10 + n): order(10 + n, p, 2) for n, p in enumerate(extras)},
            "MultiroomPackages": [],
        }
    }


def test_offered_packages_and_the_removal_chain():
    today = date(2026, 12, 7)
    assert [p["id"] for p in m.offerable_packages(PACKAGES, card(None), today)] == [101, 102]
    assert [p["id"] for p in m.offerable_packages(PACKAGES, card(101), today)] == [201, 202, 203]
    assert [p["id"] for p in m.offerable_packages(PACKAGES, card(102), today)] == [201]  # the BASE's pkg_denied
    full = card(101, extras=(201,), stb_on=(1,))
    assert m.order_removal_refusal(full, 1) == "remove the package's STB first"
    assert m.order_removal_refusal(card(101, extras=(201,)), 1).startswith("remove the extra")
    assert m.order_removal_refusal(card(101, extras=(201,)), 10) is None
    assert m.order_removal_refusal(card(101), 99) == "no such package on this account"
    assert m.account_removal_refusal(card(101)) and m.account_removal_refusal(card(None)) is None


def test_user_payload_sends_the_nip_and_the_street():
    company = CustomerExport(
        1,
        1,
        "Firma",
        "",
        "",
        "PL 526-000-12-46",
        "a@b.pl",
        Address("Gdynia", "81-001", "ul. Morska", "5", "2"),
        False,
        0,
    )
    payload = m.user_payload(company, with_firstname=True)
    assert (payload["customertype"], payload["nip"], payload["pesel"], payload["streetname1"]) == (
        "1",
        "526-000-12-46",
        "",
        "ul. Morska",
    )
    assert payload["firstname"] == "" and m.missing_for_activation(company) == []
    private = CustomerExport(2, 0, "Nowak", "Jan", "123", "", "", Address(), False, 0)
    assert m.missing_for_activation(private) == ["PESEL", "adres", "e-mail"]


def test_json_array_stream():
    rows = [{"i": i, "t": "żółw" * i} for i in range(40)]
    body = json.dumps(rows, ensure_ascii=False).encode()
    for size in (1, 5, 64, len(body)):
        assert list(iter_json_array(body[i : i + size] for i in range(0, len(body), size))) == rows
    got = []
    with pytest.raises(StreamError, match="cut short"):
        got.extend(iter_json_array([body[: len(body) // 2]]))
    assert got == rows[: len(got)] and got
    for bad in (b'{"a": 1}', b"[1]", b"[,{}]", b"[{}{}]", b"[{}] tail"):
        with pytest.raises(StreamError):
            list(iter_json_array([bad]))
