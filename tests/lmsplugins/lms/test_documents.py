"""Invoice numbering, snapshots, lines and charges, checked against LMS's own rules and objects.

Pure rules (number templates, period boundaries, rounding) are unit tests. Everything that touches
the database runs on SQLite, PostgreSQL and MariaDB (``lms_host``); on PostgreSQL the totals are also
read back through LMS's ``get_invoice_contents()`` / ``vinvoicecontents`` and the balance through
``customerbalances`` as LMS's trigger keeps it. Concurrent writers run on PostgreSQL and MariaDB,
the two databases LMS runs on.
"""

from __future__ import annotations

import threading
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from lmsplugins.lms import documents as docs
from lmsplugins.lms.documents import InvoiceDraft, InvoiceLine
from lmsplugins.lms.tables import (
    addresses,
    cash,
    countries,
    customer_addresses,
    customerbalances,
    customers,
    divisions,
    documents,
    invoicecontents,
    numberplanassignments,
    numberplans,
    numberplanusers,
    taxes,
    users,
)

WAW = ZoneInfo("Europe/Warsaw")


def ts(y: int, m: int, d: int, hh: int = 0, mm: int = 0, zone: ZoneInfo = WAW) -> int:
    return int(datetime(y, m, d, hh, mm, tzinfo=zone).timestamp())


# --- render_number -------------------------------------------------------------------------------


def test_render_number_codes():
    cdate = ts(2025, 3, 7, 14, 5)
    assert docs.render_number("FV/%N/%m/%Y", 12, cdate) == "FV/12/03/2025"
    assert docs.render_number("%5N/%y/%d", 12, cdate) == "00012/25/07"
    assert docs.render_number("%N/%C/%4C", 3, cdate, customerid=42) == "3/42/0042"
    assert docs.render_number("%I-%N", 3, cdate, extnumber="KOR") == "KOR-3"
    assert docs.render_number("%b %B", 1, cdate) == "mar marzec"
    assert docs.render_number("%b %B", 1, cdate, lang="en") == "Mar March"
    assert docs.render_number("%e %u %a %A %w %j %V", 1, cdate) == "7 5 Fri Friday 5 066 10"
    assert docs.render_number("%H:%M:%S %T %R %k %F %D", 1, cdate) == "14:05:00 14:05:00 14:05 14 2025-03-07 03/07/25"
    assert docs.render_number("%s", 1, cdate) == str(cdate)


def test_render_number_lms_defaults():
    cdate = ts(2025, 6, 1)
    assert docs.render_number(None, 5, cdate) == "5/LMS/2025"
    assert docs.render_number("", 5, cdate) == "5/LMS/2025"
    assert docs.render_number("%N", 0, cdate) == "1"
    assert docs.render_number("%N/%C", 2, cdate) == "2/ID klienta"
    assert docs.render_number("%N/%C", 2, cdate, lang="en") == "2/customer ID"
    assert docs.render_number("%N%%", 2, cdate) == "2%%"


def test_render_number_uses_the_local_zone_and_dst():
    new_year = ts(2024, 12, 31, 23, 30, ZoneInfo("UTC"))
    assert docs.render_number("%N/%Y/%m", 1, new_year) == "1/2025/01"
    assert docs.render_number("%N/%Y/%m", 1, new_year, tz="UTC") == "1/2024/12"
    assert docs.render_number("%H %Z %z", 1, ts(2025, 1, 15, 12)) == "12 CET +0100"
    assert docs.render_number("%H %Z %z", 1, ts(2025, 7, 15, 12)) == "12 CEST +0200"
    after_jump = ts(2025, 3, 30, 1, 30, ZoneInfo("UTC"))
    assert docs.render_number("%H:%M", 1, after_jump) == "03:30"


# --- period boundaries ---------------------------------------------------------------------------


def test_period_bounds_literal_values():
    assert docs.period_bounds(docs.YEARLY, ts(2025, 5, 5)) == (1735686000, 1767222000)
    assert docs.period_bounds(docs.MONTHLY, 1743458400) == (1743458400, 1746050400)


@pytest.mark.parametrize(
    ("period", "day", "start", "end"),
    [
        (docs.DAILY, (2025, 5, 31), (2025, 5, 31), (2025, 6, 1)),
        (docs.DAILY, (2025, 12, 31), (2025, 12, 31), (2026, 1, 1)),
        (docs.WEEKLY, (2025, 1, 1), (2024, 12, 30), (2025, 1, 6)),
        (docs.WEEKLY, (2025, 6, 1), (2025, 5, 26), (2025, 6, 2)),
        (docs.WEEKLY, (2025, 6, 2), (2025, 6, 2), (2025, 6, 9)),
        (docs.MONTHLY, (2025, 1, 31), (2025, 1, 1), (2025, 2, 1)),
        (docs.MONTHLY, (2024, 2, 29), (2024, 2, 1), (2024, 3, 1)),
        (docs.MONTHLY, (2025, 12, 31), (2025, 12, 1), (2026, 1, 1)),
        (docs.QUARTERLY, (2025, 1, 1), (2025, 1, 1), (2025, 4, 1)),
        (docs.QUARTERLY, (2025, 6, 30), (2025, 4, 1), (2025, 7, 1)),
        (docs.QUARTERLY, (2025, 8, 15), (2025, 7, 1), (2025, 10, 1)),
        (docs.QUARTERLY, (2025, 11, 20), (2025, 10, 1), (2026, 1, 1)),
        (docs.HALFYEARLY, (2025, 6, 30), (2025, 1, 1), (2025, 7, 1)),
        (docs.HALFYEARLY, (2025, 7, 1), (2025, 7, 1), (2026, 1, 1)),
        (docs.YEARLY, (2025, 12, 31), (2025, 1, 1), (2026, 1, 1)),
        (None, (2025, 3, 3), (2025, 1, 1), (2026, 1, 1)),
        (docs.DISPOSABLE, (2025, 3, 3), (2025, 1, 1), (2026, 1, 1)),
    ],
)
def test_period_bounds(period, day, start, end):
    for hour, minute in ((0, 0), (12, 0), (23, 59)):
        assert docs.period_bounds(period, ts(*day, hour, minute)) == (ts(*start), ts(*end))


def test_period_bounds_follow_cdate_not_today():
    """LMS takes the quarter / half-year from today's month; ours come from cdate's."""
    old = ts(2019, 11, 5)
    assert docs.period_bounds(docs.QUARTERLY, old) == (ts(2019, 10, 1), ts(2020, 1, 1))
    assert docs.period_bounds(docs.HALFYEARLY, old) == (ts(2019, 7, 1), ts(2020, 1, 1))


def test_period_bounds_across_dst():
    spring = docs.period_bounds(docs.DAILY, ts(2025, 3, 30, 12))
    autumn = docs.period_bounds(docs.DAILY, ts(2025, 10, 26, 12))
    assert spring is not None and spring[1] - spring[0] == 23 * 3600
    assert autumn is not None and autumn[1] - autumn[0] == 25 * 3600
    march = docs.period_bounds(docs.MONTHLY, ts(2025, 3, 31, 23, 59))
    assert march == (ts(2025, 3, 1), ts(2025, 4, 1))
    assert march[1] - march[0] == 31 * 86400 - 3600
    just_before_midnight = ts(2025, 6, 30, 21, 59, ZoneInfo("UTC"))
    assert docs.period_bounds(docs.MONTHLY, just_before_midnight) == (ts(2025, 6, 1), ts(2025, 7, 1))
    assert docs.period_bounds(docs.MONTHLY, just_before_midnight + 60) == (ts(2025, 7, 1), ts(2025, 8, 1))


def test_period_bounds_zone_parameter_and_errors():
    utc = ZoneInfo("UTC")
    cdate = ts(2025, 1, 1, 0, 30)
    assert docs.period_bounds(docs.YEARLY, cdate) == (ts(2025, 1, 1), ts(2026, 1, 1))
    assert docs.period_bounds(docs.YEARLY, cdate, tz="UTC") == (ts(2024, 1, 1, zone=utc), ts(2025, 1, 1, zone=utc))
    assert docs.period_bounds(docs.CONTINUOUS, cdate) is None
    with pytest.raises(ValueError):
        docs.period_bounds(9, cdate)


# --- money and addresses -------------------------------------------------------------------------


def test_php_round_is_half_away_from_zero():
    assert docs.php_round(Decimal("0.125")) == Decimal("0.13")
    assert docs.php_round(Decimal("-0.125")) == Decimal("-0.13")
    assert docs.php_round(2.675) == Decimal("2.68")
    assert docs.php_round("1.000005", Decimal("0.00001")) == Decimal("1.00001")


def test_line_gross_matches_lms_formula():
    line = InvoiceLine("x", Decimal("33.333"), taxid=1, count=3)
    assert docs.line_gross(line, net_priced=False, tax_percent=Decimal(23)) == Decimal("100.00")
    net = InvoiceLine("x", Decimal("10.005"), taxid=1, count=1)
    assert docs.line_gross(net, net_priced=True, tax_percent=Decimal(23)) == Decimal("12.31")


def test_format_address_like_vaddresses():
    assert docs.format_address("ul. Polna", "Warszawa", "5", "12") == "ul. Polna 5/12"
    assert docs.format_address("ul. Polna", "Warszawa", "5", None) == "ul. Polna 5"
    assert docs.format_address(None, "Kiełczewice", "17", None) == "Kiełczewice 17"
    assert docs.format_address(None, "Wólka", None, "3") == "Wólka 3"
    assert docs.format_address(None, None, None, None) == ""


# --- database fixtures ---------------------------------------------------------------------------


def _insert(conn, table, **values) -> int:
    return int(conn.execute(table.insert().values(**values)).inserted_primary_key[0])


class World:
    """A small LMS: one country, two divisions, a user, taxes and customers with billing addresses."""

    def __init__(self, conn):
        self.conn = conn
        found = conn.execute(select(countries.c.id).where(countries.c.name == "Poland")).scalar()
        self.poland = found or _insert(conn, countries, name="Poland", ccode="pl_PL")
        div_addr = _insert(
            conn, addresses, street="ul. Sieciowa", house="1", city="Warszawa", zip="00-950", country_id=self.poland
        )
        self.div = _insert(
            conn,
            divisions,
            shortname="NET",
            name="Net sp. z o.o.",
            ten="5252248481",
            regon="012345678",
            account="PL61109010140000071219812874",
            bank="Bank",
            inv_header="Net\nSieciowa 1",
            inv_footer="stopka",
            inv_author="BOK",
            inv_cplace="Warszawa",
            inv_paytime=21,
            inv_paytype=1,
            address_id=div_addr,
        )
        self.div2 = _insert(conn, divisions, shortname="OTHER", name="Other", inv_paytime=None)
        self.user = _insert(conn, users, login="op", firstname="O", lastname="P")
        self.vat23 = _insert(conn, taxes, value=23, taxed=1, label="23%")
        self.vat8 = _insert(conn, taxes, value=8, taxed=1, label="8%")

    def customer(self, division: int | None = None, postal: bool = False, **values) -> int:
        values.setdefault("lastname", "KOWALSKI")
        values.setdefault("name", "Jan")
        cid = _insert(self.conn, customers, divisionid=division if division is not None else self.div, **values)
        addr = _insert(
            self.conn,
            addresses,
            street="ul. Polna",
            house="5",
            flat="12",
            city="Nowa Wieś",
            postoffice="Warszawa",
            zip="02-001",
            country_id=self.poland,
        )
        _insert(self.conn, customer_addresses, customer_id=cid, address_id=addr, type=1)
        if postal:
            post = _insert(self.conn, addresses, street="Skrytka", house="9", city="Kraków", zip="30-001")
            _insert(self.conn, customer_addresses, customer_id=cid, address_id=post, type=0)
        return cid

    def plan(self, template: str, period: int, doctype: int = docs.DOC_INVOICE, **values) -> int:
        return _insert(self.conn, numberplans, template=template, period=period, doctype=doctype, **values)

    def line(self, value="100.00", count=1, **kw) -> InvoiceLine:
        return InvoiceLine(
            kw.pop("description", "Internet"), Decimal(str(value)), self.vat23, Decimal(str(count)), **kw
        )


@pytest.fixture
def world(lms_host):
    with lms_host.engine.begin() as conn:
        yield World(conn)


def _numbers(conn, planid):
    cond = documents.c.numberplanid.is_(None) if planid is None else documents.c.numberplanid == planid
    return [
        tuple(r)
        for r in conn.execute(select(documents.c.number, documents.c.fullnumber).where(cond).order_by(documents.c.id))
    ]


# --- numbering -----------------------------------------------------------------------------------


def test_sequential_numbers_reset_per_period(world):
    conn = world.conn
    plan = world.plan("FV/%N/%m/%Y", docs.MONTHLY, isdefault=1)
    cid = world.customer()
    for day in (3, 10, 28):
        docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2025, 1, day, 10)))
    docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2025, 2, 1, 0, 0)))
    late = docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2025, 1, 31, 23, 59)))
    assert late.numberplanid == plan and late.number == 4
    assert _numbers(conn, plan) == [
        (1, "FV/1/01/2025"),
        (2, "FV/2/01/2025"),
        (3, "FV/3/01/2025"),
        (1, "FV/1/02/2025"),
        (4, "FV/4/01/2025"),
    ]


def test_no_plan_numbers_yearly_with_lms_template(world):
    conn = world.conn
    cid = world.customer()
    world.plan("OTHER/%N", docs.MONTHLY, isdefault=1, doctype=docs.DOC_INVOICE_PRO)
    first = docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2025, 12, 31, 23, 0)))
    second = docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2026, 1, 1, 0, 30)))
    third = docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2026, 5, 1), numberplanid=0))
    assert (first.numberplanid, first.fullnumber) == (None, "1/LMS/2025")
    assert (second.fullnumber, third.fullnumber) == ("1/LMS/2026", "2/LMS/2026")


def test_numbers_count_only_same_type_and_plan(world):
    conn = world.conn
    cid = world.customer()
    plan = world.plan("%N/A", docs.YEARLY)
    other = world.plan("%N/B", docs.YEARLY)
    cdate = ts(2025, 4, 4)
    _insert(conn, documents, type=docs.DOC_INVOICE, number=50, numberplanid=other, cdate=cdate, customerid=cid)
    _insert(conn, documents, type=docs.DOC_INVOICE_PRO, number=70, numberplanid=plan, cdate=cdate, customerid=cid)
    _insert(conn, documents, type=docs.DOC_INVOICE, number=9, numberplanid=plan, cdate=ts(2024, 12, 31, 23, 59))
    _insert(conn, documents, type=docs.DOC_INVOICE, number=4, numberplanid=plan, cdate=cdate)
    assert docs.next_number(conn, docs.DOC_INVOICE, plan, cdate) == 5
    assert docs.next_number(conn, docs.DOC_INVOICE, other, cdate) == 51
    assert docs.next_number(conn, docs.DOC_INVOICE_PRO, plan, cdate) == 71
    assert docs.next_number(conn, docs.DOC_INVOICE, None, cdate) == 1
    continuous = world.plan("%N", docs.CONTINUOUS)
    _insert(conn, documents, type=docs.DOC_INVOICE, number=41, numberplanid=continuous, cdate=ts(2001, 1, 1))
    assert docs.next_number(conn, docs.DOC_INVOICE, continuous, cdate) == 42
    with pytest.raises(docs.InvoiceError):
        docs.next_number(conn, docs.DOC_INVOICE, 999_999, cdate)


def test_per_customer_numbering_with_C(world):
    conn = world.conn
    plan = world.plan("%N/%C/%Y", docs.YEARLY)
    a, b = world.customer(), world.customer(lastname="NOWAK")
    got = [
        docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2025, 3, 1), numberplanid=plan)).fullnumber
        for cid in (a, a, b, a, b)
    ]
    assert got == [f"1/{a}/2025", f"2/{a}/2025", f"1/{b}/2025", f"3/{a}/2025", f"2/{b}/2025"]


def test_refflag_numbers_per_reference(world):
    conn = world.conn
    cid = world.customer()
    cdate = ts(2025, 3, 1)
    inv1 = _insert(conn, documents, type=docs.DOC_INVOICE, number=1, cdate=cdate, customerid=cid)
    inv2 = _insert(conn, documents, type=docs.DOC_INVOICE, number=2, cdate=cdate, customerid=cid)
    per_ref = world.plan("KOR/%N", docs.YEARLY, doctype=docs.DOC_CNOTE, refflag=1)
    shared = world.plan("KOR2/%N", docs.YEARLY, doctype=docs.DOC_CNOTE, refflag=0)
    for plan in (per_ref, shared):
        for number, ref in ((1, inv1), (2, inv1), (3, inv2)):
            _insert(conn, documents, type=docs.DOC_CNOTE, number=number, numberplanid=plan, cdate=cdate, reference=ref)
    assert docs.next_number(conn, docs.DOC_CNOTE, per_ref, cdate, reference=inv1) == 3
    assert docs.next_number(conn, docs.DOC_CNOTE, per_ref, cdate, reference=inv2) == 4
    assert docs.next_number(conn, docs.DOC_CNOTE, per_ref, cdate, reference=999) == 1
    assert docs.next_number(conn, docs.DOC_CNOTE, per_ref, cdate) == 4
    assert docs.next_number(conn, docs.DOC_CNOTE, shared, cdate, reference=inv2) == 4


def test_default_plan_choice(world):
    conn = world.conn
    cdate = ts(2025, 6, 15)
    inv = docs.DOC_INVOICE
    assert docs.default_plan(conn, inv, cdate, world.div, 0) is None
    unbound = world.plan("U/%N", docs.MONTHLY, isdefault=1)
    world.plan("NOTDEFAULT/%N", docs.MONTHLY, isdefault=0)
    world.plan("EXPIRED/%N", docs.MONTHLY, isdefault=1, datefrom=ts(2024, 1, 1), dateto=ts(2025, 1, 1))
    world.plan("FUTURE/%N", docs.MONTHLY, isdefault=1, datefrom=ts(2025, 7, 1))
    world.plan("PROFORMA/%N", docs.MONTHLY, isdefault=1, doctype=docs.DOC_INVOICE_PRO)
    assert docs.default_plan(conn, inv, cdate, world.div, 0) == unbound
    assert docs.default_plan(conn, inv, cdate, None, None) == unbound

    company = world.plan("F/%N", docs.MONTHLY, isdefault=1, customertype=1)
    assert docs.default_plan(conn, inv, cdate, world.div, 1) == company
    assert docs.default_plan(conn, inv, cdate, world.div, 0) == unbound

    other_div = world.plan("D2/%N", docs.MONTHLY, isdefault=1)
    _insert(conn, numberplanassignments, planid=other_div, divisionid=world.div2)
    div_plan = world.plan("D1/%N", docs.MONTHLY, isdefault=1)
    _insert(conn, numberplanassignments, planid=div_plan, divisionid=world.div)
    assert docs.default_plan(conn, inv, cdate, world.div, 0) == div_plan
    assert docs.default_plan(conn, inv, cdate, world.div, 1) == div_plan
    assert docs.default_plan(conn, inv, cdate, world.div2, 0) == other_div

    user_plan = world.plan("USR/%N", docs.MONTHLY, isdefault=1)
    conn.execute(numberplanusers.insert().values(planid=user_plan, userid=world.user))
    assert docs.default_plan(conn, inv, cdate, world.div, 0, userid=world.user) == user_plan
    stranger = _insert(conn, users, login="other")
    assert docs.default_plan(conn, inv, cdate, world.div, 0, userid=stranger) == div_plan
    assert docs.default_plan(conn, inv, cdate, world.div, 0) == div_plan

    both = world.plan("BOTH/%N", docs.MONTHLY, isdefault=1)
    conn.execute(numberplanusers.insert().values(planid=both, userid=world.user))
    _insert(conn, numberplanassignments, planid=both, divisionid=world.div)
    assert docs.default_plan(conn, inv, cdate, world.div, 0, userid=world.user) == both
    assert docs.default_plan(conn, inv, cdate, world.div2, 0, userid=world.user) == user_plan


def test_writer_uses_default_plan_of_customer_division(world):
    conn = world.conn
    world.plan("U/%N", docs.YEARLY, isdefault=1)
    div2_plan = world.plan("D2/%N/%Y", docs.YEARLY, isdefault=1)
    _insert(conn, numberplanassignments, planid=div2_plan, divisionid=world.div2)
    cid = world.customer(division=world.div2)
    written = docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2025, 2, 2)))
    assert (written.numberplanid, written.fullnumber) == (div2_plan, "D2/1/2025")


# --- snapshots, lines, charges -------------------------------------------------------------------


def test_snapshots_and_defaults(world):
    conn = world.conn
    cid = world.customer(postal=True, ten="1234563218", ssn="85010112345")
    written = docs.write_invoice(
        conn,
        InvoiceDraft(cid, [world.line()], cdate=ts(2025, 5, 5, 9), userid=world.user, comment="auto", extid="k:1"),
    )
    d = conn.execute(select(documents).where(documents.c.id == written.id)).mappings().one()
    assert d["name"] == "KOWALSKI Jan"
    assert d["address"] == "Nowa Wieś, ul. Polna 5/12"
    assert (d["zip"], d["city"], d["countryid"]) == ("02-001", "Warszawa", world.poland)
    assert (d["ten"], d["ssn"]) == ("1234563218", "85010112345")
    assert (d["divisionid"], d["div_name"], d["div_shortname"]) == (world.div, "Net sp. z o.o.", "NET")
    assert (d["div_address"], d["div_city"], d["div_zip"], d["div_countryid"]) == (
        "ul. Sieciowa 1",
        "Warszawa",
        "00-950",
        world.poland,
    )
    assert (d["div_ten"], d["div_regon"], d["div_bank"]) == ("5252248481", "012345678", "Bank")
    assert (d["div_inv_header"], d["div_inv_footer"], d["div_inv_author"], d["div_inv_cplace"]) == (
        "Net\nSieciowa 1",
        "stopka",
        "BOK",
        "Warszawa",
    )
    assert d["div_account"] == "PL61109010140000071219812874"
    assert (d["paytime"], d["paytype"]) == (21, 1)
    assert (d["currency"], Decimal(d["currencyvalue"])) == ("PLN", Decimal(1))
    assert (d["cdate"], d["sdate"], d["userid"], d["comment"], d["extid"]) == (
        written.cdate,
        written.cdate,
        world.user,
        "auto",
        "k:1",
    )
    post = conn.execute(select(addresses).where(addresses.c.id == d["post_address_id"])).mappings().one()
    assert (post["street"], post["house"], post["city"]) == ("Skrytka", "9", "Kraków")
    owned = {r[0] for r in conn.execute(select(customer_addresses.c.address_id))}
    assert d["post_address_id"] not in owned


def test_post_address_falls_back_to_billing_copy_and_recipient_is_copied(world):
    conn = world.conn
    cid = world.customer()
    billing = conn.execute(
        select(customer_addresses.c.address_id).where(customer_addresses.c.customer_id == cid)
    ).scalar_one()
    written = docs.write_invoice(
        conn, InvoiceDraft(cid, [world.line()], cdate=ts(2025, 5, 5), recipient_address_id=billing)
    )
    d = conn.execute(select(documents).where(documents.c.id == written.id)).mappings().one()
    for key in ("post_address_id", "recipient_address_id"):
        copy = conn.execute(select(addresses).where(addresses.c.id == d[key])).mappings().one()
        assert copy["id"] != billing
        assert (copy["street"], copy["flat"], copy["name"]) == ("ul. Polna", "12", "KOWALSKI Jan")


@pytest.mark.parametrize(
    ("customer_paytime", "division_paytime", "draft_paytime", "expected"),
    [(-1, 21, None, 21), (7, 21, None, 7), (0, 21, None, 0), (-1, None, None, 14), (7, 21, 30, 30)],
)
def test_paytime_precedence(world, customer_paytime, division_paytime, draft_paytime, expected):
    conn = world.conn
    conn.execute(divisions.update().where(divisions.c.id == world.div).values(inv_paytime=division_paytime))
    cid = world.customer(paytime=customer_paytime, paytype=None)
    written = docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2025, 5, 5), paytime=draft_paytime))
    assert conn.execute(select(documents.c.paytime).where(documents.c.id == written.id)).scalar() == expected


def test_paytype_precedence(world):
    conn = world.conn
    with_own = world.customer(paytype=4)
    plain = world.customer()
    no_div = world.customer(division=world.div2)
    got = [
        docs.write_invoice(conn, InvoiceDraft(cid, [world.line()], cdate=ts(2025, 5, 5), paytype=pt)).id
        for cid, pt in ((with_own, None), (plain, None), (no_div, None), (plain, 3))
    ]
    rows = conn.execute(select(documents.c.id, documents.c.paytype).where(documents.c.id.in_(got))).all()
    assert [dict(rows)[i] for i in got] == [4, 1, 2, 3]


def test_lines_cash_and_balance(world):
    conn = world.conn
    cid = world.customer()
    _insert(conn, cash, time=ts(2025, 1, 1), type=1, value=Decimal("50.00"), customerid=cid, comment="wpłata")
    lines = [
        world.line("69.99", description="Internet 300"),
        InvoiceLine("Telefon", Decimal("0.333335"), world.vat8, Decimal("3"), content="min", tariffid=None),
        world.line("12.345", count="2.5", description="Usługa", prodid="61.10", taxcategory=5, period=docs.YEARLY),
    ]
    written = docs.write_invoice(conn, InvoiceDraft(cid, lines, cdate=ts(2025, 3, 3, 8), extnumber="A"))
    assert written.total == Decimal("69.99") + Decimal("1.00") + Decimal("30.86")
    items = (
        conn.execute(
            select(invoicecontents).where(invoicecontents.c.docid == written.id).order_by(invoicecontents.c.itemid)
        )
        .mappings()
        .all()
    )
    assert [r["itemid"] for r in items] == [1, 2, 3]
    assert [Decimal(r["value"]) for r in items] == [Decimal("69.99"), Decimal("0.33334"), Decimal("12.345")]
    assert [Decimal(r["count"]) for r in items] == [Decimal(1), Decimal(3), Decimal("2.5")]
    assert [r["content"] for r in items] == ["szt.", "min", "szt."]
    assert [r["taxid"] for r in items] == [world.vat23, world.vat8, world.vat23]
    assert (items[2]["prodid"], items[2]["taxcategory"], items[2]["period"]) == ("61.10", 5, docs.YEARLY)
    assert all(Decimal(r["pdiscount"]) == 0 and Decimal(r["vdiscount"]) == 0 for r in items)
    charges = conn.execute(select(cash).where(cash.c.docid == written.id).order_by(cash.c.itemid)).mappings().all()
    assert [c["id"] for c in charges] == list(written.cash_ids)
    assert [Decimal(c["value"]) for c in charges] == [Decimal("-69.99"), Decimal("-1.00"), Decimal("-30.86")]
    assert [c["itemid"] for c in charges] == [1, 2, 3]
    assert [c["taxid"] for c in charges] == [world.vat23, world.vat8, world.vat23]
    assert {(c["type"], c["customerid"], c["time"], c["currency"]) for c in charges} == {(0, cid, written.cdate, "PLN")}
    assert [c["comment"] for c in charges] == ["Internet 300", "Telefon", "Usługa"]
    balance = conn.execute(select(customerbalances.c.balance).where(customerbalances.c.customerid == cid)).scalar()
    assert Decimal(balance) == Decimal("50.00") - written.total


def test_net_priced_invoice_charges_gross(world):
    conn = world.conn
    cid = world.customer()
    net = docs.write_invoice(
        conn,
        InvoiceDraft(cid, [world.line("100.00", count=2)], cdate=ts(2025, 3, 3), flags=docs.DOC_FLAG_NET_ACCOUNT),
    )
    assert net.total == Decimal("246.00")
    value = conn.execute(select(cash.c.value).where(cash.c.docid == net.id)).scalar()
    assert Decimal(value) == Decimal("-246.00")
    stored = conn.execute(select(invoicecontents.c.value).where(invoicecontents.c.docid == net.id)).scalar()
    assert Decimal(stored) == Decimal("100.00")


def test_extid_makes_invoicing_idempotent(world):
    conn = world.conn
    cid = world.customer()
    draft = InvoiceDraft(cid, [world.line()], cdate=ts(2025, 3, 3), extid="voip:2025-02")
    assert docs.find_invoice(conn, cid, "voip:2025-02") is None
    first = docs.write_invoice(conn, draft)
    assert docs.find_invoice(conn, cid, "voip:2025-02") == first.id
    assert docs.find_invoice(conn, cid, "voip:2025-02", cdate_from=ts(2025, 3, 4)) is None
    assert docs.find_invoice(conn, cid, "voip:2025-02", doctype=docs.DOC_INVOICE_PRO) is None
    with pytest.raises(docs.InvoiceExists) as caught:
        docs.write_invoice(conn, draft)
    assert caught.value.docid == first.id
    assert conn.execute(select(documents.c.id).where(documents.c.customerid == cid)).all() == [(first.id,)]
    conn.execute(documents.update().where(documents.c.id == first.id).values(cancelled=1))
    assert docs.find_invoice(conn, cid, "voip:2025-02") is None
    assert docs.find_invoice(conn, cid, "voip:2025-02", include_cancelled=True) == first.id
    again = docs.write_invoice(conn, draft)
    assert again.number == 2


def test_refuses_customers_lms_cannot_show(world):
    conn = world.conn
    bare = _insert(conn, customers, lastname="BEZ", name="Adresu")
    with pytest.raises(docs.InvoiceError, match="billing address"):
        docs.write_invoice(conn, InvoiceDraft(bare, [world.line()], cdate=ts(2025, 1, 1)))
    with pytest.raises(docs.InvoiceError, match="does not exist"):
        docs.write_invoice(conn, InvoiceDraft(999_999, [world.line()], cdate=ts(2025, 1, 1)))
    long_plan = world.plan("%N/" + "X" * 60, docs.YEARLY)
    with pytest.raises(docs.InvoiceError, match="longer than"):
        docs.write_invoice(conn, InvoiceDraft(world.customer(), [world.line()], cdate=1, numberplanid=long_plan))
    with pytest.raises(docs.InvoiceError, match="no lines"):
        docs.write_invoice(conn, InvoiceDraft(world.customer(), [], cdate=ts(2025, 1, 1)))


def test_writer_never_commits(lms_host):
    with lms_host.engine.begin() as conn:
        w = World(conn)
        cid = w.customer()
        line = w.line()
    with lms_host.engine.connect() as conn:
        docs.write_invoice(conn, InvoiceDraft(cid, [line], cdate=ts(2025, 1, 1)))
        conn.rollback()
    with lms_host.engine.connect() as conn:
        assert conn.execute(select(documents.c.id)).all() == []
        assert conn.execute(select(cash.c.id).where(cash.c.customerid == cid)).all() == []


# --- PostgreSQL: LMS's own function, view and trigger --------------------------------------------


def test_totals_through_lms_invoice_contents_and_trigger(pg_host):
    with pg_host.engine.begin() as conn:
        w = World(conn)
        cid = w.customer()
        gross = docs.write_invoice(
            conn,
            InvoiceDraft(
                cid,
                [w.line("69.99"), InvoiceLine("Telefon", Decimal("12.345"), w.vat8, Decimal(3))],
                cdate=ts(2025, 3, 3),
            ),
        )
        net = docs.write_invoice(
            conn,
            InvoiceDraft(cid, [w.line("10.005", count=7)], cdate=ts(2025, 3, 4), flags=docs.DOC_FLAG_NET_ACCOUNT),
        )
    with pg_host.engine.connect() as conn:
        assert conn.execute(text("SELECT current_setting('lms.current_user')")).scalar() == "0"
        for written in (gross, net):
            total = conn.execute(
                text("SELECT SUM(grossvalue) FROM get_invoice_contents(:c) WHERE docid = :d"),
                {"c": cid, "d": written.id},
            ).scalar()
            assert Decimal(total) == written.total
            view_total = conn.execute(
                text("SELECT SUM(grossvalue) FROM vinvoicecontents WHERE docid = :d"), {"d": written.id}
            ).scalar()
            assert Decimal(view_total) == written.total
        parts = conn.execute(
            text("SELECT itemid, netvalue, taxvalue FROM vinvoicecontents WHERE docid = :d ORDER BY itemid"),
            {"d": gross.id},
        ).all()
        assert [(i, Decimal(n), Decimal(t)) for i, n, t in parts] == [
            (1, Decimal("56.90"), Decimal("13.09")),
            (2, Decimal("34.30"), Decimal("2.74")),
        ]
        assert gross.total == Decimal("69.99") + Decimal("37.04")
        assert net.total == Decimal("86.15")
        balance = conn.execute(text("SELECT balance FROM customerbalances WHERE customerid = :c"), {"c": cid}).scalar()
        assert Decimal(balance) == -(gross.total + net.total)
        trigger = conn.execute(
            text("SELECT COUNT(*) FROM pg_trigger WHERE tgname = 'cash_customerbalances_update_trigger'")
        ).scalar()
        assert trigger == 1
        shown = conn.execute(text("SELECT COUNT(*) FROM customeraddressview WHERE id = :c"), {"c": cid}).scalar()
        assert shown == 1


# --- concurrent writers --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pg_host", "mysql_host"])
def test_concurrent_writers_get_gapless_unique_numbers(request, kind):
    """8 writers x 25 invoices, each invoice its own transaction on its own connection.

    Each transaction reads ``documents`` before writing, which pins MySQL's REPEATABLE READ snapshot
    before the lock is taken: numbering must still see every invoice committed in between.
    """
    host = request.getfixturevalue(kind)
    with host.engine.begin() as conn:
        w = World(conn)
        plan = w.plan("FV/%4N/%Y", docs.YEARLY, isdefault=1)
        cids = [w.customer() for _ in range(8)]
        line = w.line("10.00")
    cdate = ts(2025, 6, 1, 12)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(cid: int) -> None:
        try:
            start.wait()
            for _ in range(25):
                with host.engine.begin() as conn:
                    conn.execute(select(documents.c.id).limit(1)).all()
                    docs.write_invoice(conn, InvoiceDraft(cid, [line], cdate=cdate))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(cid,)) for cid in cids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:3]
    with host.engine.connect() as conn:
        rows = conn.execute(select(documents.c.number, documents.c.fullnumber, documents.c.numberplanid)).all()
        balances = dict(conn.execute(select(customerbalances.c.customerid, customerbalances.c.balance)).all())
    assert sorted(r.number for r in rows) == list(range(1, 201))
    assert len({r.fullnumber for r in rows}) == 200
    assert {r.numberplanid for r in rows} == {plan}
    assert "FV/0200/2025" in {r.fullnumber for r in rows}
    assert {Decimal(balances[c]) for c in cids} == {Decimal("-250.00")}
