"""Customer identity matching, external ids, VoIP accounts/numbers and CDR writes on all three databases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from lmsplugins.lms import customers as cust
from lmsplugins.lms import voip
from lmsplugins.lms.tables import customers, voip_cdr, voip_numbers, voipaccounts


@pytest.mark.parametrize(
    ("raw", "ten"),
    [("525-224-84-81", "5252248481"), ("PL 5252248481", "5252248481"), ("pl5252248481", "5252248481"), ("123", "")],
)
def test_normalize_ten(raw, ten):
    assert cust.normalize_ten(raw) == ten


def test_normalize_ssn_and_icn():
    assert cust.normalize_ssn(" 850101 12345") == "85010112345"
    assert cust.normalize_ssn("8501011234") == ""
    assert cust.normalize_icn("abc 123-456") == "ABC123456"
    assert cust.normalize_icn("a-1") == ""


def _customer(conn, **values):
    return conn.execute(customers.insert().values(lastname="X", name="Y", **values)).inserted_primary_key[0]


def test_identity_index_reports_duplicates_and_skips_deleted(lms_host):
    with lms_host.engine.begin() as conn:
        a = _customer(conn, ten="525-224-84-81")
        b = _customer(conn, ten="5252248481")
        c = _customer(conn, ssn="85010112345", icn="ABC123456")
        _customer(conn, ssn="85010112345", deleted=1)
        index = cust.IdentityIndex.load(conn)
    assert index.duplicates()["ten"] == {"5252248481": sorted([a, b])}
    amb = index.find(ten="PL5252248481")
    assert amb.customer_id is None and set(amb.ambiguous) == {a, b}
    assert index.find(ssn="85010112345").customer_id == c
    assert index.find(ssn="00000000000", icn="abc-123456") == cust.Match(c, "icn", (), "ABC123456")
    assert not index.find(ten="", ssn="", icn="").found


def test_extids_per_service_provider(lms_host):
    with lms_host.engine.begin() as conn:
        cid = _customer(conn)
        sp = cust.service_provider_id(conn, "Metroport MVNO", create=True)
        assert cust.service_provider_id(conn, "Metroport MVNO") == sp
        assert cust.bind_extid(conn, cid, "U17", sp) is True
        assert cust.bind_extid(conn, cid, "U17", sp) is False
        assert cust.bind_extid(conn, cid, "LOCAL", None) is True
        assert cust.extids(conn, sp) == {cid: ["U17"]}
        assert cust.extids(conn, None) == {cid: ["LOCAL"]}
        assert cust.unbind_extid(conn, cid, sp) == 1
        assert cust.extids(conn, sp) == {}


def test_set_numbers_keeps_rows_that_stay(lms_host):
    with lms_host.engine.begin() as conn:
        cid = _customer(conn)
        acc = voip.create_account(conn, ownerid=cid, login="48221234567", phones=["48221234567", "48221234568"])
        kept_id = conn.execute(select(voip_numbers.c.id).where(voip_numbers.c.phone == "48221234568")).scalar()
        added, removed = voip.set_numbers(conn, acc, ["48221234568", "48221234569"])
        assert (added, removed) == (1, 1)
        rows = conn.execute(
            select(voip_numbers.c.id, voip_numbers.c.phone, voip_numbers.c.number_index)
            .where(voip_numbers.c.voip_account_id == acc)
            .order_by(voip_numbers.c.number_index)
        ).all()
        assert [(r.phone, r.number_index) for r in rows] == [("48221234568", 1), ("48221234569", 2)]
        assert rows[0].id == kept_id
        assert voip.number_accounts(conn, ["48221234569"]) == {"48221234569": (acc, cid)}
        with pytest.raises(ValueError):
            voip.create_account(conn, ownerid=cid, login="x", phones=[])
        voip.update_account(conn, acc, description="note")
        assert conn.execute(select(voipaccounts.c.description).where(voipaccounts.c.id == acc)).scalar() == "note"


def _cdrs(n, price="0.12", start=1_700_000_000):
    return [
        voip.cdr_row(
            caller="48221234567",
            callee=f"4860000{i:04d}",
            call_start_time=start + i,
            totaltime=60 + i,
            billedtime=60,
            price=price,
            status=voip.STATUS_ANSWERED,
            direction=voip.DIRECTION_OUTGOING,
            uniqueid=f"call-{i}",
        )
        for i in range(n)
    ]


def test_write_cdrs_is_idempotent_and_updates(lms_host):
    with lms_host.engine.begin() as conn:
        assert voip.write_cdrs(conn, _cdrs(25), batch_size=10) == 25
    with lms_host.engine.begin() as conn:
        voip.write_cdrs(conn, _cdrs(30, price="0.5"), batch_size=10)
        count = conn.execute(select(func.count()).select_from(voip_cdr)).scalar()
        total = conn.execute(select(func.sum(voip_cdr.c.price))).scalar()
    assert count == 30
    assert Decimal(total) == Decimal("15.00000")
    with lms_host.engine.begin() as conn:
        voip.write_cdrs(conn, _cdrs(30, price="9"), update=False)
        assert Decimal(conn.execute(select(func.sum(voip_cdr.c.price))).scalar()) == Decimal("15.00000")
        assert voip.delete_cdrs(conn, 1_700_000_000, 1_700_000_009) == 10


def test_write_cdrs_takes_ordered_tuples_like_mappings(lms_host):
    def ordered(rows):
        return (tuple(r[c] for c in voip.CDR_COLUMNS) for r in rows)

    with lms_host.engine.begin() as conn:
        assert voip.write_cdrs(conn, ordered(_cdrs(25)), batch_size=10, ordered=True) == 25
        # A batch meeting existing keys goes through the staging/upsert path with the same tuples.
        voip.write_cdrs(conn, ordered(_cdrs(30, price="0.5")), batch_size=10, ordered=True)
        voip.write_cdrs(conn, ordered(_cdrs(30, price="9")), update=False, ordered=True)
        rows = conn.execute(select(voip_cdr.c.uniqueid, voip_cdr.c.price, voip_cdr.c.totaltime)).all()
    assert len(rows) == 30 and {r.price for r in rows} == {Decimal("0.5")}
    assert {r.uniqueid: r.totaltime for r in rows}["call-29"] == 89


def test_cdr_row_rejects_bad_records():
    with pytest.raises(ValueError, match="lacks uniqueid"):
        voip.cdr_row(
            caller="1", callee="2", call_start_time=1, totaltime=1, billedtime=1, price=0, status=2, direction=2
        )
    with pytest.raises(ValueError, match="longer than 20"):
        voip.cdr_row(
            caller="1" * 21,
            callee="2",
            call_start_time=1,
            totaltime=1,
            billedtime=1,
            price=0,
            status=2,
            direction=2,
            uniqueid="u",
        )


def test_bulk_paths_keep_awkward_text_and_nulls(lms_host):
    awkward = "tab\there\\back\nnew line ł€ 'quote' \"dq\""
    row = voip.cdr_row(
        caller="48221234567",
        callee="0048600",
        call_start_time=1,
        totaltime=1,
        billedtime=1,
        price="0.1",
        status=2,
        direction=1,
        uniqueid="odd-1",
        prefixname=awkward,
        fraction=None,
    )
    with lms_host.engine.begin() as conn:
        voip.write_cdrs(conn, [row])
        voip.write_cdrs(conn, [dict(row, prefix="\\N")])
        got = conn.execute(select(voip_cdr.c.prefixname, voip_cdr.c.fraction, voip_cdr.c.prefix)).one()
    assert got.prefixname == awkward
    assert got.fraction is None
    assert got.prefix == "\\N"
