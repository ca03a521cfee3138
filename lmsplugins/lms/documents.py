"""Invoices as LMS writes them: numbered by number plan and period, with snapshots, lines and charges.

An invoice written here must be indistinguishable from one written by LMS's own ``lms-payments`` or
the invoice form, because LMS keeps working on the same rows afterwards: it prints them, corrects
them, counts balances from them and hands out the next number after them. Four LMS conventions
therefore live in this module and nowhere else:

- **Numbering** (spec ``lms_core.md`` §4). There is no sequence: the next number is ``MAX(number)+1``
  over the documents of the same type and plan whose ``cdate`` falls in the plan's numbering period,
  per customer when the template has ``%C``, per corrected document when the plan has ``refflag``.
  Period boundaries are local midnights (PHP ``mktime`` in the server's zone, so the zone is a
  parameter). LMS computes quarterly and half-yearly periods from the *current* month instead of
  ``cdate``'s; we use ``cdate``'s, as the spec asks.
- **Locking**. ``MAX+1`` is only safe while nobody else can number: :class:`InvoiceWriter` takes
  LMS's numbered lock (:func:`lmsplugins.db.lock_for_transaction`, handle 1 for invoices as the LMS
  UI does) inside the caller's transaction and keeps it until the caller commits, so gaps and
  duplicates are impossible among our writers and against the LMS UI: on PostgreSQL it is the UI's
  own ``pg_advisory_xact_lock(1)``; on MySQL it is the UI's own ``GET_LOCK('1')`` (released when our
  transaction ends), plus a row lock on the core ``dbversion`` row that orders our own writers.
  ``lms-payments`` takes no lock anywhere, on either database: do not run our invoicing while it
  runs.
- **Snapshots**. A document carries a copy of the buyer (name, billing address, NIP/PESEL) and of
  the seller division, so reprinting an old invoice after a customer moved shows the old address.
- **Money**. ``invoicecontents.value`` is the unit price (gross, or net when the document has flag
  16); the customer is charged by one negative ``cash`` row per line (type 0, ``docid``/``itemid``
  pointing at the line) and LMS's triggers keep ``customerbalances``. Amounts are :class:`Decimal`
  rounded half away from zero, as PHP ``round()`` does.

The writer never commits: the job runner owns the transaction (DESIGN rule 7), so a ``--test`` run
rolls the invoices back together with everything else the chunk did.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql import Select

from lmsplugins.db import lock_for_transaction
from lmsplugins.errors import LMSPluginsError
from lmsplugins.lms import syslog
from lmsplugins.lms.customers import display_name
from lmsplugins.lms.tables import (
    addresses,
    cash,
    customer_addresses,
    customers,
    divisions,
    documents,
    invoicecontents,
    numberplanassignments,
    numberplans,
    numberplanusers,
    taxes,
)

DOC_INVOICE, DOC_RECEIPT, DOC_CNOTE, DOC_DNOTE, DOC_INVOICE_PRO = 1, 2, 3, 5, 6

DISPOSABLE, DAILY, WEEKLY, MONTHLY, QUARTERLY, YEARLY, CONTINUOUS, HALFYEARLY = 0, 1, 2, 3, 4, 5, 6, 7

PAYTYPE_CASH, PAYTYPE_TRANSFER = 1, 2

DOC_FLAG_NET_ACCOUNT = 16

ADDRESS_POSTAL, ADDRESS_BILLING = 0, 1

DEFAULT_NUMBER_TEMPLATE = "%N/LMS/%Y"
DEFAULT_TZ = "Europe/Warsaw"
DEFAULT_PAYTIME = 14
DEFAULT_CURRENCY = "PLN"
DEFAULT_UNIT = "szt."
FULLNUMBER_LENGTH = 50

LOCK_HANDLES: dict[int, int] = {DOC_INVOICE: 1, DOC_INVOICE_PRO: 1, DOC_CNOTE: 2, DOC_DNOTE: 3, DOC_RECEIPT: 4}
"""Document type -> LMS's ``LockByHandle`` handle (``LOCK_INVOICE_NUMBER`` and friends).

Pro-formas share handle 1 because the LMS invoice form takes that lock for both.
"""

_CUSTOMER_CODE = re.compile(r"%(\d*)C")
_NUMBER_CODE = re.compile(r"%(\d*)N")

_MONTHS = {
    "pl": (
        ("sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru"),
        (
            "styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec",
            "lipiec", "sierpień", "wrzesień", "październik", "listopad", "grudzień",
        ),
    ),
    "en": (
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        (
            "January", "February", "March", "April", "May", "June",
            "July", "August", "September", "October", "November", "December",
        ),
    ),
}  # fmt: skip
_CUSTOMER_ID_LABEL = {"pl": "ID klienta", "en": "customer ID"}
_DAY_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_FULL = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_CENT = Decimal("0.01")
_UNIT_PRICE = Decimal("0.00001")
_COUNT = Decimal("0.001")


class InvoiceError(LMSPluginsError):
    """An invoice cannot be written as asked (unknown customer or plan, no lines, ...)."""


class InvoiceExists(InvoiceError):
    """A document with the draft's ``extid`` already exists for this customer and type."""

    def __init__(self, docid: int, message: str) -> None:
        super().__init__(message)
        self.docid = docid


def php_round(value: Decimal | int | str | float, places: Decimal = _CENT) -> Decimal:
    """Round half away from zero to *places*, as PHP ``round()`` does (Python's default is to even)."""
    return to_decimal(value).quantize(places, rounding=ROUND_HALF_UP)


def to_decimal(value: Decimal | int | str | float) -> Decimal:
    """A float goes through its shortest repr, so ``19.99`` stays 19.99 and not 19.989999..."""
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


@lru_cache(maxsize=32)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _as_zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else _zone(tz)


def _local_midnight(day: date, zone: ZoneInfo) -> int:
    """The unix time of *day*'s 00:00 in *zone*, like PHP ``mktime(0, 0, 0, m, d, y)``.

    A midnight skipped by a DST jump resolves to the first instant after the jump, as ``mktime`` does.
    """
    return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_bounds(period: int | None, cdate: int, tz: str | ZoneInfo = DEFAULT_TZ) -> tuple[int, int] | None:
    """The numbering period containing *cdate* as ``(start, end)`` unix times, ``end`` exclusive.

    ``None`` for :data:`CONTINUOUS` (numbers never reset). A missing period or 0 (disposable, which
    the number plan form does not offer) counts as yearly, as ``lms-payments`` treats it. Weeks
    start on Monday. Quarters and half-years are those of *cdate*'s month (LMS uses the month of
    the day the code runs, a bug the spec tells us not to copy).
    """
    if period == CONTINUOUS:
        return None
    zone = _as_zone(tz)
    day = datetime.fromtimestamp(cdate, zone).date()
    if period in (None, DISPOSABLE, YEARLY):
        start, end = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    elif period == DAILY:
        start, end = day, day + timedelta(days=1)
    elif period == WEEKLY:
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    elif period == MONTHLY:
        start = day.replace(day=1)
        end = _add_months(start, 1)
    elif period == QUARTERLY:
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        end = _add_months(start, 3)
    elif period == HALFYEARLY:
        start = date(day.year, 1 if day.month <= 6 else 7, 1)
        end = _add_months(start, 6)
    else:
        raise ValueError(f"unknown numbering period {period!r}")
    return _local_midnight(start, zone), _local_midnight(end, zone)


def _time_codes(cdate: int, zone: ZoneInfo, lang: str) -> list[tuple[str, str]]:
    """LMS's ``Utils::strftime`` codes, in the order LMS substitutes them (PHP ``date()`` meanings)."""
    dt = datetime.fromtimestamp(cdate, zone)
    short, full = _MONTHS.get(lang, _MONTHS["en"])
    hour12 = dt.hour % 12 or 12
    return [
        ("%Y", f"{dt.year:04d}"),
        ("%m", f"{dt.month:02d}"),
        ("%d", f"{dt.day:02d}"),
        ("%e", str(dt.day)),
        ("%u", str(dt.isoweekday())),
        ("%a", _DAY_SHORT[dt.weekday()]),
        ("%A", _DAY_FULL[dt.weekday()]),
        ("%w", str(dt.isoweekday() % 7)),
        ("%b", short[dt.month - 1]),
        ("%B", full[dt.month - 1]),
        ("%y", f"{dt.year % 100:02d}"),
        ("%H", f"{dt.hour:02d}"),
        ("%I", f"{hour12:02d}"),
        ("%M", f"{dt.minute:02d}"),
        ("%S", f"{dt.second:02d}"),
        ("%T", f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"),
        ("%F", f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"),
        ("%D", f"{dt.month:02d}/{dt.day:02d}/{dt.year % 100:02d}"),
        ("%s", str(cdate)),
        ("%Z", dt.tzname() or ""),
        ("%z", dt.strftime("%z")),
        ("%k", str(dt.hour)),
        ("%R", f"{dt.hour:02d}:{dt.minute:02d}"),
        ("%V", f"{dt.isocalendar().week:02d}"),
        ("%j", f"{dt.timetuple().tm_yday:03d}"),
    ]


def _padded(value: int):
    def replace(match: re.Match[str]) -> str:
        width = match.group(1)
        return f"{value:0{int(width)}d}" if width else str(value)

    return replace


def render_number(
    template: str | None,
    number: int,
    cdate: int,
    customerid: int | None = None,
    extnumber: str = "",
    tz: str | ZoneInfo = DEFAULT_TZ,
    lang: str = "pl",
) -> str:
    """The printed document number (``documents.fullnumber``) as LMS's ``docnumber()`` renders it.

    ``%N`` / ``%<k>N`` is the number (zero-padded to k digits), ``%C`` / ``%<k>C`` the customer id,
    ``%I`` the extended number, then the date codes of LMS's own ``strftime`` (``%Y %m %d %e %u %a
    %A %w %b %B %y %H %I %M %S %T %F %D %s %Z %z %k %R %V %j``, nothing else) from *cdate* in *tz*.
    Codes are replaced one after another in LMS's order, so odd templates come out as LMS's would.
    An empty template is LMS's ``%N/LMS/%Y``; number 0 prints as 1, as in LMS. Without a customer,
    ``%C`` prints the "customer ID" label as LMS does (in *lang*: ``pl`` or ``en``).
    """
    zone = _as_zone(tz)
    result = template or DEFAULT_NUMBER_TEMPLATE
    if customerid:
        result = _CUSTOMER_CODE.sub(_padded(customerid), result)
    else:
        result = _CUSTOMER_CODE.sub(_CUSTOMER_ID_LABEL.get(lang, _CUSTOMER_ID_LABEL["en"]), result)
    result = result.replace("%I", extnumber)
    result = _NUMBER_CODE.sub(_padded(number or 1), result)
    for code, value in _time_codes(cdate, zone, lang):
        result = result.replace(code, value)
    return result


def is_per_customer(template: str | None) -> bool:
    """A template with ``%C`` numbers each customer's documents separately."""
    return bool(template) and _CUSTOMER_CODE.search(template or "") is not None


@dataclass(frozen=True)
class NumberPlan:
    """One ``numberplans`` row, as numbering needs it."""

    id: int
    template: str
    period: int
    doctype: int
    refflag: int = 0

    @classmethod
    def load(cls, conn: Connection, planid: int) -> NumberPlan:
        n = numberplans
        row = conn.execute(
            select(n.c.id, n.c.template, n.c.period, n.c.doctype, n.c.refflag).where(n.c.id == planid)
        ).first()
        if row is None:
            raise InvoiceError(f"number plan {planid} does not exist")
        return cls(int(row.id), row.template or "", int(row.period or 0), int(row.doctype), int(row.refflag or 0))


def _locking(conn: Connection, query: Select) -> Select:
    """On MySQL, read the newest committed rows instead of the transaction's snapshot.

    InnoDB's REPEATABLE READ pins a snapshot at the transaction's first plain read. A job that read
    anything before taking the numbering lock would otherwise compute ``MAX+1`` from a snapshot that
    misses the invoices other writers committed while it waited for the lock, and hand out their
    numbers again. A locking read (``LOCK IN SHARE MODE``) always sees the latest committed rows.
    PostgreSQL's READ COMMITTED takes a fresh snapshot per statement, and refuses ``FOR SHARE`` with
    aggregates, so it gets the plain query.
    """
    return query.with_for_update(read=True) if conn.dialect.name == "mysql" else query


def next_number(
    conn: Connection,
    doctype: int,
    planid: int | None,
    cdate: int,
    customerid: int | None = None,
    reference: int | None = None,
    tz: str | ZoneInfo = DEFAULT_TZ,
) -> int:
    """The number LMS would give the next document (``GetNewDocumentNumber``): ``MAX(number)+1`` or 1.

    Counted over documents of *doctype* in plan *planid* (``None`` or 0: documents without a plan,
    numbered yearly) whose ``cdate`` is in the period around *cdate*; only *customerid*'s when the
    plan's template has ``%C``; only those correcting *reference* when the plan has ``refflag=1``
    and a reference is given. Call it under the numbering lock (:func:`lock_numbering`), in the
    transaction that inserts the document, or two writers can draw the same number.
    """
    plan = NumberPlan.load(conn, planid) if planid else None
    d = documents
    conds = [d.c.type == doctype, d.c.numberplanid == plan.id if plan else d.c.numberplanid.is_(None)]
    bounds = period_bounds(plan.period if plan else YEARLY, cdate, tz)
    if bounds is not None:
        conds += [d.c.cdate >= bounds[0], d.c.cdate < bounds[1]]
    if plan and customerid and is_per_customer(plan.template):
        conds.append(d.c.customerid == customerid)
    if plan and reference and plan.refflag == 1:
        conds.append(d.c.reference == reference)
    current = conn.execute(_locking(conn, select(func.max(d.c.number)).where(and_(*conds)))).scalar()
    return int(current or 0) + 1


def default_plan(
    conn: Connection,
    doctype: int,
    cdate: int,
    divisionid: int | None = None,
    customertype: int | None = None,
    userid: int | None = None,
) -> int | None:
    """The default number plan for a new document, or ``None`` (then LMS numbers without a plan).

    Candidates are plans of *doctype* with ``isdefault=1`` valid at *cdate* (``datefrom <= cdate``,
    ``dateto`` 0 or ``>= cdate``) whose ``customertype`` is NULL (any) or *customertype* (no filter
    when *customertype* is None).

    Bindings restrict and rank, as LMS's ``getDefaultNumberPlanID``: a plan bound to divisions is a
    candidate only for those divisions, a plan bound to users only for those users; the best is the
    one bound to both the user and the division, then to the user, then to the division, then
    unbound. Without *divisionid* division bindings are not looked at (as the LMS UI); without
    *userid* (cron) user bindings are not looked at (as ``lms-payments``). Unlike ``lms-payments``,
    an unbound default plan applies to customers of every division, not only to division 0. Within
    a rank a plan for exactly *customertype* beats one for any type; then the lowest id wins so the
    choice is stable.
    """
    n = numberplans
    query = select(n.c.id, n.c.customertype).where(
        n.c.doctype == doctype,
        n.c.isdefault == 1,
        n.c.datefrom <= cdate,
        (n.c.dateto == 0) | (n.c.dateto >= cdate),
    )
    if customertype is not None:
        query = query.where(n.c.customertype.is_(None) | (n.c.customertype == customertype))
    plans = {int(r.id): r.customertype for r in conn.execute(query)}
    if not plans:
        return None
    plan_divisions: dict[int, set[int]] = {}
    for r in conn.execute(
        select(numberplanassignments.c.planid, numberplanassignments.c.divisionid).where(
            numberplanassignments.c.planid.in_(list(plans))
        )
    ):
        plan_divisions.setdefault(int(r.planid), set()).add(int(r.divisionid))
    plan_users: dict[int, set[int]] = {}
    for r in conn.execute(
        select(numberplanusers.c.planid, numberplanusers.c.userid).where(numberplanusers.c.planid.in_(list(plans)))
    ):
        plan_users.setdefault(int(r.planid), set()).add(int(r.userid))

    ranked: list[tuple[int, int, int]] = []
    for planid, ptype in plans.items():
        div_bound = user_bound = False
        if divisionid is not None and planid in plan_divisions:
            if divisionid not in plan_divisions[planid]:
                continue
            div_bound = True
        if userid is not None and planid in plan_users:
            if userid not in plan_users[planid]:
                continue
            user_bound = True
        rank = (0 if div_bound else 1) if user_bound else (2 if div_bound else 3)
        ranked.append((rank, 0 if ptype is not None else 1, planid))
    return min(ranked)[2] if ranked else None


def lock_numbering(conn: Connection, doctype: int) -> None:
    """Take LMS's numbering lock for *doctype* until the caller's transaction ends."""
    lock_for_transaction(conn, LOCK_HANDLES.get(doctype, 1))


def format_address(street: str | None, city: str | None, house: str | None, flat: str | None) -> str:
    """One-line street address as LMS's ``vaddresses.address`` builds it: ``street house/flat``.

    The street falls back to the city (villages without streets); only NULL counts as missing,
    exactly like the view's ``IS NOT NULL`` tests.
    """
    base = street if street is not None else (city or "")
    if house is not None:
        tail = f" {house}/{flat}" if flat is not None else f" {house}"
    else:
        tail = f" {flat}" if flat is not None else ""
    return (base + tail).strip(" ")


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice position.

    *value* is the unit price after discounts: gross, or net when the draft's flags include
    :data:`DOC_FLAG_NET_ACCOUNT` (16); it is stored with 5 decimals. *content* is the unit
    (the writer's default, ``szt.``, when None). *period* is the tariff period code shown on the
    invoice (LMS's column default is monthly).
    """

    description: str
    value: Decimal | int | str
    taxid: int
    count: Decimal | int | str = 1
    content: str | None = None
    tariffid: int | None = None
    prodid: str = ""
    taxcategory: int = 0
    period: int | None = MONTHLY
    pdiscount: Decimal | int | str = 0
    vdiscount: Decimal | int | str = 0
    servicetype: int | None = None


@dataclass(frozen=True)
class InvoiceDraft:
    """What a job wants invoiced; everything else comes from the database at write time.

    *numberplanid*: ``None`` picks :func:`default_plan` for the customer's division and type, 0
    numbers without a plan (``%N/LMS/%Y``, yearly), as LMS uses 0. *divisionid* defaults to the
    customer's. *paytime* / *paytype* default as in ``lms-payments`` (customer, then division, then
    the writer's default). *extid* is stored in ``documents.extid`` and is the idempotency key of
    automated invoicing: see :func:`find_invoice`.
    """

    customerid: int
    lines: Sequence[InvoiceLine]
    cdate: int
    sdate: int | None = None
    doctype: int = DOC_INVOICE
    numberplanid: int | None = None
    divisionid: int | None = None
    userid: int | None = None
    paytime: int | None = None
    paytype: int | None = None
    currency: str | None = None
    currencyvalue: Decimal | int | str = 1
    flags: int = 0
    extnumber: str = ""
    comment: str | None = None
    extid: str | None = None
    reference: int | None = None
    recipient_address_id: int | None = None


@dataclass(frozen=True)
class WrittenInvoice:
    """The outcome of :meth:`InvoiceWriter.write`. *total* is the gross amount charged (positive)."""

    id: int
    number: int
    fullnumber: str
    numberplanid: int | None
    cdate: int
    total: Decimal
    cash_ids: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class AppendedLines:
    """The outcome of :meth:`InvoiceWriter.append`: the new item ids and the gross amount added."""

    docid: int
    itemids: tuple[int, ...]
    total: Decimal
    cash_ids: tuple[int, ...] = field(default=())


def _for_update(conn: Connection, query: Select) -> Select:
    return query if conn.dialect.name == "sqlite" else query.with_for_update()


def latest_invoice(
    conn: Connection,
    customerid: int,
    sdate_from: int,
    sdate_to: int,
    numberplanid: int | None = None,
    doctype: int = DOC_INVOICE,
) -> int | None:
    """The customer's newest not-cancelled document of *doctype* and plan with ``sdate`` in
    [*sdate_from*, *sdate_to*], or ``None``: the invoice an append-mode job adds its lines to.
    *numberplanid* ``None`` matches documents numbered without a plan."""
    d = documents
    plan = d.c.numberplanid.is_(None) if not numberplanid else d.c.numberplanid == numberplanid
    query = (
        select(d.c.id)
        .where(d.c.customerid == customerid, d.c.type == doctype, d.c.cancelled == 0, plan)
        .where(d.c.sdate >= sdate_from, d.c.sdate <= sdate_to)
        .order_by(d.c.cdate.desc(), d.c.id.desc())
        .limit(1)
    )
    found = conn.execute(_locking(conn, query)).scalar()
    return None if found is None else int(found)


def find_invoice(
    conn: Connection,
    customerid: int,
    extid: str,
    doctype: int = DOC_INVOICE,
    cdate_from: int | None = None,
    cdate_to: int | None = None,
    include_cancelled: bool = False,
) -> int | None:
    """The id of the customer's document of *doctype* carrying *extid*, or ``None``.

    The idempotency check for invoicing jobs: a job gives every invoice it creates a stable key in
    ``documents.extid`` naming what it bills, for instance ``hiperus:2026-10`` for October's calls,
    and asks here before building an invoice, so a re-run (or a run after a crash between chunks)
    bills nobody twice. ``extid`` is the column LMS reserves for an external system's id of the
    document, so the key needs no schema change and is visible in LMS. The optional ``cdate`` window
    (``cdate_to`` exclusive) narrows the search when one key is reused across periods. Cancelled
    documents do not count unless asked, so cancelling an invoice in LMS lets the job issue it again.
    :meth:`InvoiceWriter.write` repeats this check under the numbering lock, which makes it race-free.
    """
    d = documents
    query = select(d.c.id).where(d.c.customerid == customerid, d.c.type == doctype, d.c.extid == extid)
    if cdate_from is not None:
        query = query.where(d.c.cdate >= cdate_from)
    if cdate_to is not None:
        query = query.where(d.c.cdate < cdate_to)
    if not include_cancelled:
        query = query.where(d.c.cancelled == 0)
    found = conn.execute(_locking(conn, query.order_by(d.c.id).limit(1))).scalar()
    return None if found is None else int(found)


def _copy_address(conn: Connection, address_id: int) -> int | None:
    """A private copy of an address for a document, as LMS's ``CopyAddress`` makes one.

    Documents point at copies so that later edits of the customer's addresses leave issued
    documents alone. A customer's billing address gets the customer's name, as in LMS.
    """
    a = addresses
    row = conn.execute(select(a).where(a.c.id == address_id)).mappings().first()
    if row is None:
        return None
    values = {k: v for k, v in row.items() if k != "id"}
    owner = conn.execute(
        select(customers.c.lastname, customers.c.name)
        .select_from(customer_addresses.join(customers, customers.c.id == customer_addresses.c.customer_id))
        .where(customer_addresses.c.address_id == address_id, customer_addresses.c.type == ADDRESS_BILLING)
    ).first()
    if owner is not None:
        values["name"] = f"{owner.lastname} {owner.name}"
    return int(conn.execute(a.insert().values(**values)).inserted_primary_key[0])


def _customer_address_id(conn: Connection, customerid: int, kind: int) -> int | None:
    ca = customer_addresses
    found = conn.execute(
        select(ca.c.address_id).where(ca.c.customer_id == customerid, ca.c.type == kind).order_by(ca.c.id).limit(1)
    ).scalar()
    return None if found is None else int(found)


@dataclass(frozen=True)
class Buyer:
    """The buyer columns of ``documents`` (*columns*) and the customer fields invoicing decides by."""

    columns: dict[str, Any]
    type: int
    divisionid: int | None
    paytime: int | None
    paytype: int | None


def customer_snapshot(conn: Connection, customerid: int) -> Buyer:
    """The buyer snapshot for *customerid*, from the billing address.

    Mirrors LMS: ``name`` is "lastname name"; ``address`` is the street line, prefixed with the
    city when the post office differs from the city; ``city`` is the post office, else the city.
    Raises :class:`InvoiceError` without a billing address: LMS would not even show such a customer.
    """
    c, a, ca = customers, addresses, customer_addresses
    row = conn.execute(
        select(
            c.c.id, c.c.lastname, c.c.name, c.c.ten, c.c.ssn, c.c.type, c.c.divisionid, c.c.paytime, c.c.paytype,
            a.c.street, a.c.city, a.c.house, a.c.flat, a.c.zip, a.c.postoffice, a.c.country_id,
        )
        .select_from(
            c.join(ca, and_(ca.c.customer_id == c.c.id, ca.c.type == ADDRESS_BILLING)).outerjoin(
                a, a.c.id == ca.c.address_id
            )
        )
        .where(c.c.id == customerid)
        .order_by(ca.c.id)
        .limit(1)
    ).first()  # fmt: skip
    if row is None:
        exists = conn.execute(select(c.c.id).where(c.c.id == customerid)).first()
        if exists is None:
            raise InvoiceError(f"customer {customerid} does not exist")
        raise InvoiceError(f"customer {customerid} has no billing address (customer_addresses type 1)")
    address = format_address(row.street, row.city, row.house, row.flat)
    if row.postoffice and row.postoffice != row.city and row.street:
        address = f"{row.city}, {address}"
    columns = {
        "name": display_name(row.lastname or "", row.name or ""),
        "address": address,
        "zip": row.zip or None,
        "city": row.postoffice or row.city or None,
        "countryid": row.country_id or None,
        "ten": row.ten or "",
        "ssn": row.ssn or "",
    }
    return Buyer(columns, int(row.type), row.divisionid, row.paytime, row.paytype)


def division_snapshot(conn: Connection, divisionid: int | None) -> tuple[dict[str, Any], Row | None]:
    """The seller columns (``div_*``) of ``documents`` for *divisionid*, and the division row."""
    empty: dict[str, Any] = {
        "div_name": "", "div_shortname": "", "div_address": "", "div_city": "", "div_zip": "",
        "div_countryid": None, "div_ten": "", "div_regon": "", "div_bank": None, "div_account": "",
        "div_inv_header": "", "div_inv_footer": "", "div_inv_author": "", "div_inv_cplace": "",
    }  # fmt: skip
    if divisionid is None:
        return empty, None
    dv, a = divisions, addresses
    row = conn.execute(
        select(dv, a.c.street, a.c.city, a.c.house, a.c.flat, a.c.zip, a.c.country_id)
        .select_from(dv.outerjoin(a, a.c.id == dv.c.address_id))
        .where(dv.c.id == divisionid)
    ).first()
    if row is None:
        raise InvoiceError(f"division {divisionid} does not exist")
    return {
        "div_name": row.name or "",
        "div_shortname": row.shortname or "",
        "div_address": format_address(row.street, row.city, row.house, row.flat) if row.address_id else "",
        "div_city": row.city or "",
        "div_zip": row.zip or "",
        "div_countryid": row.country_id or None,
        "div_ten": row.ten or "",
        "div_regon": row.regon or "",
        "div_bank": row.bank or None,
        "div_account": row.account or "",
        "div_inv_header": row.inv_header or "",
        "div_inv_footer": row.inv_footer or "",
        "div_inv_author": row.inv_author or "",
        "div_inv_cplace": row.inv_cplace or "",
    }, row


def line_gross(line: InvoiceLine, net_priced: bool, tax_percent: Decimal) -> Decimal:
    """The gross amount of a line, computed as LMS's ``get_invoice_contents()`` computes it."""
    value = php_round(to_decimal(line.value), _UNIT_PRICE)
    amount = php_round(value * php_round(to_decimal(line.count), _COUNT))
    if net_priced:
        return php_round(amount * (1 + tax_percent / 100))
    return amount


@dataclass(frozen=True)
class InvoiceWriter:
    """Writes invoices on the caller's connection; holds the defaults LMS takes from settings.

    *tz* is the zone of numbering periods and of the date codes in numbers (LMS uses PHP's server
    zone). *default_paytime* / *default_paytype* are ``payments.deadline`` / ``payments.paytype``
    (14 days, transfer). *lang* picks the month names of ``%b`` / ``%B`` (LMS translates them).
    """

    tz: str = DEFAULT_TZ
    default_paytime: int = DEFAULT_PAYTIME
    default_paytype: int = PAYTYPE_TRANSFER
    default_currency: str = DEFAULT_CURRENCY
    default_unit: str = DEFAULT_UNIT
    lang: str = "pl"

    def write(self, conn: Connection, draft: InvoiceDraft) -> WrittenInvoice:
        """Lock, number, snapshot and insert the document, its lines and its charges; never commits.

        Raises :class:`InvoiceExists` when ``draft.extid`` is already on a (not cancelled) document
        of this customer and type; the check runs under the lock, so concurrent runs cannot both
        write it.
        """
        if not draft.lines:
            raise InvoiceError(f"invoice for customer {draft.customerid} has no lines")
        lock_numbering(conn, draft.doctype)
        if draft.extid is not None:
            existing = find_invoice(conn, draft.customerid, draft.extid, draft.doctype)
            if existing is not None:
                raise InvoiceExists(
                    existing, f"customer {draft.customerid} already has document {existing} with extid {draft.extid!r}"
                )

        buyer = customer_snapshot(conn, draft.customerid)
        divisionid = draft.divisionid if draft.divisionid is not None else buyer.divisionid
        seller, division = division_snapshot(conn, divisionid)

        if draft.numberplanid is None:
            planid = default_plan(conn, draft.doctype, draft.cdate, divisionid, buyer.type, draft.userid)
        else:
            planid = draft.numberplanid or None
        plan = NumberPlan.load(conn, planid) if planid else None
        number = next_number(conn, draft.doctype, planid, draft.cdate, draft.customerid, draft.reference, self.tz)
        fullnumber = render_number(
            plan.template if plan else None, number, draft.cdate, draft.customerid, draft.extnumber, self.tz, self.lang
        )

        if len(fullnumber) > FULLNUMBER_LENGTH:
            raise InvoiceError(
                f"number {fullnumber!r} is longer than documents.fullnumber ({FULLNUMBER_LENGTH}); shorten the template"
            )
        currency = draft.currency or self.default_currency
        currencyvalue = to_decimal(draft.currencyvalue)
        post_source = _customer_address_id(conn, draft.customerid, ADDRESS_POSTAL) or _customer_address_id(
            conn, draft.customerid, ADDRESS_BILLING
        )
        values: dict[str, Any] = {
            "type": draft.doctype,
            "number": number,
            "numberplanid": planid,
            "extnumber": draft.extnumber,
            "cdate": draft.cdate,
            "sdate": draft.sdate if draft.sdate is not None else draft.cdate,
            "customerid": draft.customerid,
            "userid": draft.userid,
            "divisionid": divisionid,
            **buyer.columns,
            **seller,
            "paytime": self._paytime(draft, buyer, division),
            "paytype": self._paytype(draft, buyer, division),
            "reference": draft.reference,
            "fullnumber": fullnumber,
            "comment": draft.comment,
            "recipient_address_id": _copy_address(conn, draft.recipient_address_id)
            if draft.recipient_address_id
            else None,
            "post_address_id": _copy_address(conn, post_source) if post_source else None,
            "currency": currency,
            "currencyvalue": currencyvalue,
            "flags": draft.flags,
            "extid": draft.extid,
        }
        docid = int(conn.execute(documents.insert().values(**values)).inserted_primary_key[0])

        contents, charges, total = self._line_rows(
            conn,
            docid,
            1,
            draft.lines,
            draft.flags,
            draft.cdate,
            draft.customerid,
            draft.userid,
            currency,
            currencyvalue,
        )
        conn.execute(invoicecontents.insert(), contents)
        cash_ids = tuple(int(conn.execute(cash.insert().values(**row)).inserted_primary_key[0]) for row in charges)
        log_invoice(conn, docid, values, contents, charges, cash_ids)
        return WrittenInvoice(docid, number, fullnumber, planid, draft.cdate, total, cash_ids)

    def append(
        self, conn: Connection, docid: int, lines: Sequence[InvoiceLine], userid: int | None = None
    ) -> AppendedLines:
        """Add *lines* to an issued invoice, as LMS's ``add_new_invoices=false`` mode of the Hiperus
        script did: item ids continue after the last one, and each line's charge is booked at the
        invoice's ``cdate`` in its currency, so the balance and the document stay consistent. The
        document row is locked for the rest of the transaction; a cancelled document is refused.
        """
        if not lines:
            raise InvoiceError(f"nothing to append to document {docid}")
        d = documents
        doc = conn.execute(
            _for_update(
                conn,
                select(
                    d.c.id, d.c.customerid, d.c.cdate, d.c.flags, d.c.cancelled, d.c.currency, d.c.currencyvalue
                ).where(d.c.id == docid),
            )
        ).first()
        if doc is None:
            raise InvoiceError(f"document {docid} does not exist")
        if doc.cancelled:
            raise InvoiceError(f"document {docid} is cancelled; lines cannot be added to it")
        last = conn.execute(select(func.max(invoicecontents.c.itemid)).where(invoicecontents.c.docid == docid)).scalar()
        first = int(last or 0) + 1
        currency = doc.currency or self.default_currency
        currencyvalue = to_decimal(doc.currencyvalue if doc.currencyvalue is not None else 1)
        contents, charges, total = self._line_rows(
            conn,
            docid,
            first,
            lines,
            int(doc.flags or 0),
            int(doc.cdate),
            int(doc.customerid),
            userid,
            currency,
            currencyvalue,
        )
        conn.execute(invoicecontents.insert(), contents)
        cash_ids = tuple(int(conn.execute(cash.insert().values(**row)).inserted_primary_key[0]) for row in charges)
        log_invoice(conn, docid, None, contents, charges, cash_ids)
        return AppendedLines(docid, tuple(range(first, first + len(lines))), total, cash_ids)

    def _line_rows(
        self,
        conn: Connection,
        docid: int,
        first_itemid: int,
        lines: Sequence[InvoiceLine],
        flags: int,
        cdate: int,
        customerid: int,
        userid: int | None,
        currency: str,
        currencyvalue: Decimal,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Decimal]:
        """``invoicecontents`` rows and their ``cash`` charges for *lines*, and the gross total."""
        net_priced = bool(flags & DOC_FLAG_NET_ACCOUNT)
        rates = self._tax_rates(conn, {line.taxid for line in lines}) if net_priced else {}
        contents: list[dict[str, Any]] = []
        charges: list[dict[str, Any]] = []
        total = Decimal(0)
        for itemid, line in enumerate(lines, start=first_itemid):
            gross = line_gross(line, net_priced, rates.get(line.taxid, Decimal(0)))
            total += gross
            contents.append(
                {
                    "docid": docid,
                    "itemid": itemid,
                    "value": php_round(to_decimal(line.value), _UNIT_PRICE),
                    "taxid": line.taxid,
                    "prodid": line.prodid,
                    "content": line.content if line.content is not None else self.default_unit,
                    "count": php_round(to_decimal(line.count), _COUNT),
                    "description": line.description,
                    "tariffid": line.tariffid,
                    "pdiscount": php_round(to_decimal(line.pdiscount)),
                    "vdiscount": php_round(to_decimal(line.vdiscount), _COUNT),
                    "taxcategory": line.taxcategory,
                    "period": line.period,
                }
            )
            charges.append(
                {
                    "time": cdate,
                    "type": 0,
                    "servicetype": line.servicetype,
                    "userid": userid,
                    "value": -gross,
                    "taxid": line.taxid,
                    "customerid": customerid,
                    "comment": line.description,
                    "docid": docid,
                    "itemid": itemid,
                    "currency": currency,
                    "currencyvalue": currencyvalue,
                }
            )
        return contents, charges, total

    def _paytime(self, draft: InvoiceDraft, buyer: Buyer, division: Row | None) -> int:
        if draft.paytime is not None:
            return draft.paytime
        if buyer.paytime is not None and buyer.paytime >= 0:
            return int(buyer.paytime)
        if division is not None and division.inv_paytime is not None:
            return int(division.inv_paytime)
        return self.default_paytime

    def _paytype(self, draft: InvoiceDraft, buyer: Buyer, division: Row | None) -> int:
        if draft.paytype:
            return draft.paytype
        if buyer.paytype:
            return int(buyer.paytype)
        if division is not None and division.inv_paytype:
            return int(division.inv_paytype)
        return self.default_paytype

    @staticmethod
    def _tax_rates(conn: Connection, taxids: set[int]) -> dict[int, Decimal]:
        rows = conn.execute(select(taxes.c.id, taxes.c.value).where(taxes.c.id.in_(sorted(taxids))))
        return {int(r.id): to_decimal(r.value) for r in rows}


_DOC_RESOURCES = {
    "customerid": syslog.RES_CUST,
    "numberplanid": syslog.RES_NUMPLAN,
    "countryid": syslog.RES_COUNTRY,
    "divisionid": syslog.RES_DIV,
    "taxid": syslog.RES_TAX,
    "tariffid": syslog.RES_TARIFF,
    "docid": syslog.RES_DOC,
}


def log_invoice(
    conn: Connection,
    docid: int,
    document: dict[str, Any] | None,
    contents: Sequence[dict[str, Any]],
    charges: Sequence[dict[str, Any]],
    cash_ids: Sequence[int],
) -> None:
    """LMS's ``AddInvoice`` log: the document (when new), each item and each charge, one transaction."""
    log = syslog.active(conn)
    if log is None:
        return
    log.new_transaction()
    if document is not None:
        fields = [*syslog.row_fields(document, _DOC_RESOURCES, skip=("userid",)), (syslog.RES_DOC, docid)]
        log.add(syslog.RES_DOC, syslog.OPER_ADD, fields, keys=("div_countryid",))
    for item, charge, cash_id in zip(contents, charges, cash_ids, strict=True):
        fields = [*syslog.row_fields(item, _DOC_RESOURCES), (syslog.RES_CUST, charge["customerid"])]
        log.add(syslog.RES_INVOICECONT, syslog.OPER_ADD, fields)
        fields = [*syslog.row_fields(charge, _DOC_RESOURCES, skip=("userid",)), (syslog.RES_CASH, cash_id)]
        log.add(syslog.RES_CASH, syslog.OPER_ADD, fields)


def write_invoice(conn: Connection, draft: InvoiceDraft, writer: InvoiceWriter | None = None) -> WrittenInvoice:
    """Write *draft* with *writer*'s defaults (LMS's own when None) inside the caller's transaction."""
    return (writer or InvoiceWriter()).write(conn, draft)


def append_lines(
    conn: Connection,
    docid: int,
    lines: Sequence[InvoiceLine],
    userid: int | None = None,
    writer: InvoiceWriter | None = None,
) -> AppendedLines:
    """Append *lines* to invoice *docid* inside the caller's transaction (see :meth:`InvoiceWriter.append`)."""
    return (writer or InvoiceWriter()).append(conn, docid, lines, userid)
