"""What ``hiperus-c5 invoice`` bills: one plan per account and month, computed from the hv_* tables.

Kept apart from the writing (which goes through the host's invoice writer, ``lmsplugins.lms.documents``)
so the rules of spec §5 can be tested on their own, with the §7.13 bugs fixed:

* every terminal of the account is billed, not only those with a subscription: a terminal without one
  (or outside its dates) still bills its calls;
* the call line is ``cost + init_charge`` (PHP ignored connection charges);
* each line's gross is rounded to grosze as LMS stores money, so the invoice total and the cash rows
  (``cash.value`` is numeric(9,2)) agree to the grosz;
* calls of a month are those whose local ``start_time`` text falls in it, the platform's own month,
  independent of the server's zone.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from lmsplugins.config import Config
from lmsplugins.errors import ConfigError

from .tables import hv_assign, hv_billing, hv_customers, hv_pstn, hv_subscriptionlist, hv_terminal

if TYPE_CHECKING:
    from lmsplugins.lms.documents import InvoiceWriter

MONTHS_PL = (
    "styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec",
    "lipiec", "sierpień", "wrzesień", "październik", "listopad", "grudzień",
)  # fmt: skip
GROSZ = Decimal("0.01")


def billed_month(now: date, leftmonth: int) -> tuple[int, int]:
    """The month *leftmonth* months before *now*'s (0 counts as 1, as in the PHP script)."""
    back = leftmonth if leftmonth > 0 else 1
    index = now.year * 12 + now.month - 1 - back
    return index // 12, index % 12 + 1


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def gross(net: Decimal, rate: Decimal) -> Decimal:
    """Gross of a net amount at *rate* percent, rounded half-up to grosze."""
    return (net * (Decimal(100) + rate) / Decimal(100)).quantize(GROSZ, rounding=ROUND_HALF_UP)


def render(template: str, *, pricelist: str, subscription: str, numbers: Sequence[str], year: int, month: int) -> str:
    """The PHP placeholders: %pricelist, %subscription, %numbers ("(n1, n2)" or empty), %month_name, %year."""
    text = template.replace("%pricelist", pricelist or "").replace("%subscription", subscription or "")
    text = text.replace("%numbers", f"({', '.join(numbers)})" if numbers else "")
    text = text.replace("%month_name", MONTHS_PL[month - 1]).replace("%year", str(year))
    return " ".join(text.split())


@dataclass(frozen=True)
class Line:
    description: str
    net: Decimal
    gross: Decimal
    kind: str
    """'subscription' or 'calls'."""


@dataclass
class AccountPlan:
    account_id: int
    account_name: str
    customer_id: int | None
    lines: list[Line] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.gross for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class Options:
    year: int
    month: int
    rate: Decimal
    subscription_comment: str
    call_comment: str
    subscription_in_advance: bool = False


def _end_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def plan_invoices(conn: Connection, opts: Options) -> list[AccountPlan]:
    """Accounts set to LMS invoicing ('2') that existed by the month's end, with their non-zero lines."""
    end = _end_of_month(opts.year, opts.month)
    day = end.isoformat()
    cutoff = f"{day} 23:59:59"
    c, a, t, s, p, b = hv_customers, hv_assign, hv_terminal, hv_subscriptionlist, hv_pstn, hv_billing
    accounts = conn.execute(
        select(c.c.id, c.c.name, c.c.ext_billing_id)
        .join(a, a.c.customerid == c.c.id)
        .where(a.c.keytype == "issue_invoice", a.c.keyvalue == "2")
        .where(or_(c.c.create_date.is_(None), c.c.create_date <= cutoff))
        .order_by(c.c.id)
    ).all()
    if not accounts:
        return []
    ids = [r.id for r in accounts]
    terminals: dict[int, list] = defaultdict(list)
    for r in conn.execute(
        select(
            t.c.customerid,
            t.c.username,
            t.c.pricelist_name,
            t.c.subscription_from,
            t.c.subscription_to,
            s.c.name.label("sub_name"),
            s.c.invoice_value,
        )
        .outerjoin(s, s.c.id == t.c.id_subscription)
        .where(t.c.customerid.in_(ids))
        .order_by(t.c.customerid, t.c.id)
    ):
        terminals[r.customerid].append(r)
    numbers: dict[str, list[str]] = defaultdict(list)
    for r in conn.execute(
        select(p.c.terminal_name, p.c.number)
        .where(p.c.customerid.in_(ids), or_(p.c.create_date.is_(None), p.c.create_date <= cutoff))
        .order_by(p.c.id)
    ):
        numbers[r.terminal_name].append(r.number)
    month_prefix = f"{opts.year:04d}-{opts.month:02d}-%"
    costs: dict[tuple[int, str], Decimal] = {}
    for r in conn.execute(
        select(b.c.customerid, b.c.terminal_name, func.sum(b.c.cost + b.c.init_charge).label("total"))
        .where(b.c.customerid.in_(ids), b.c.start_time.like(month_prefix))
        .group_by(b.c.customerid, b.c.terminal_name)
    ):
        costs[(r.customerid, r.terminal_name)] = Decimal(str(r.total or 0))
    label_year, label_month = (
        next_month(opts.year, opts.month) if opts.subscription_in_advance else (opts.year, opts.month)
    )
    plans = []
    for acc in accounts:
        plan = AccountPlan(acc.id, acc.name or "", acc.ext_billing_id)
        for term in terminals.get(acc.id, []):
            active = (term.subscription_from in (None, "") or term.subscription_from[:10] <= day) and (
                term.subscription_to in (None, "") or term.subscription_to[:10] >= day
            )
            nums = numbers.get(term.username, [])
            sub_net = Decimal(str(term.invoice_value or 0)) if active and term.sub_name is not None else Decimal(0)
            call_net = costs.get((acc.id, term.username), Decimal(0))
            if gross(sub_net, opts.rate) > 0:
                text = render(
                    opts.subscription_comment,
                    pricelist=term.pricelist_name,
                    subscription=term.sub_name,
                    numbers=nums,
                    year=label_year,
                    month=label_month,
                )
                plan.lines.append(Line(text, sub_net, gross(sub_net, opts.rate), "subscription"))
            if gross(call_net, opts.rate) > 0:
                text = render(
                    opts.call_comment,
                    pricelist=term.pricelist_name,
                    subscription=term.sub_name or "",
                    numbers=nums,
                    year=opts.year,
                    month=opts.month,
                )
                plan.lines.append(Line(text, call_net, gross(call_net, opts.rate), "calls"))
        if plan.total > 0:
            plans.append(plan)
    return plans


def now_for(fakedate: str | None, zone: str) -> datetime:
    """'Now' of the run: the given day at 00:00 (``--fakedate``), else the current time, in *zone*."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    if fakedate is None:
        return datetime.now(tz)
    for fmt in ("%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(fakedate.strip(), fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    raise ValueError(f"--fakedate {fakedate!r} is not a valid date; use YYYY/MM/DD")


def tax_rate(settings: Mapping[str, object], default_taxrate: str | None) -> Decimal:
    raw = str(settings.get("hiperus_c5.taxrate") or default_taxrate or "23").strip().replace(",", ".")
    return Decimal(raw)


PAYTYPES = range(1, 12)
"""LMS's payment types (``PAYTYPE_CASH`` 1 ... ``PAYTYPE_BANK_LOAN`` 11, lib/definitions.php)."""


def invoice_writer(config: Config) -> InvoiceWriter:
    """The host's invoice writer with LMS's defaults for a new invoice: ``invoices.paytime`` and
    ``invoices.paytype``, and ``phpui.default_currency``. The customer's own paytime and paytype (then
    the division's) still come first, as in LMS's invoicenew; unset keys keep LMS's 14 days, transfer
    and PLN. A value LMS would refuse is a ConfigError naming the key, before anything is written."""
    from lmsplugins.lms.documents import DEFAULT_CURRENCY, DEFAULT_PAYTIME, PAYTYPE_TRANSFER, InvoiceWriter

    paytime_raw = (config.get("invoices.paytime") or "").strip()
    try:
        paytime = int(paytime_raw) if paytime_raw else DEFAULT_PAYTIME
    except ValueError:
        raise ConfigError(f"setting invoices.paytime = {paytime_raw!r} is not a number of days") from None
    if paytime < 0:
        raise ConfigError(f"setting invoices.paytime = {paytime_raw!r} must be 0 or more days")
    paytype_raw = (config.get("invoices.paytype") or "").strip()
    try:
        paytype = int(paytype_raw) if paytype_raw else PAYTYPE_TRANSFER
    except ValueError:
        paytype = -1
    if paytype not in PAYTYPES:
        raise ConfigError(
            f"setting invoices.paytype = {paytype_raw!r} is not an LMS payment type "
            f"(1 cash, 2 transfer, 3 transfer/cash, 4 card, ... 11 bank loan)"
        )
    currency = (config.get("phpui.default_currency") or "").strip().upper() or DEFAULT_CURRENCY
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ConfigError(f"setting phpui.default_currency = {currency!r} is not a currency code like PLN")
    return InvoiceWriter(default_paytime=paytime, default_paytype=paytype, default_currency=currency)
