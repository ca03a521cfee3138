"""Pure functions: a platform record (as :mod:`client` yields it) -> an ``hv_*`` row. No I/O.

The platform hands everything over as PostgreSQL-style text: ``t``/``f`` flags, decimal money,
``YYYY-MM-DD HH:MM:SS`` local times. Rows here are what the PHP plugin stored, with the bugs of spec §7
that touch the import fixed:

* ``charge_internal_call`` is taken from the record (the PHP typo stored 'f' always, bug 7);
* a CDR's ``start_time_unix`` is computed in the configured zone (PHP used the server's zone);
* CDRs without a terminal name, or with one no local terminal has, are kept and *reported* by the job
  (PHP dropped the first kind with a message lost in cron mail and never matched by anything else);
* the ``hv_assign`` invoice choice made locally is not overwritten on every import (bugs 2 and 3),
  see :func:`assign_value`.

Text longer than its column is cut to the column's length: one over-long street number must not
abort an import of thousands of accounts (PostgreSQL refuses it, MySQL strict mode too).
"""

from __future__ import annotations

import calendar
import operator
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table
from sqlalchemy.types import String

from .tables import (
    TERMINAL_LOCAL_COLUMNS,
    hv_billing,
    hv_customers,
    hv_enduserlist,
    hv_pricelist,
    hv_pstn,
    hv_pstnrange,
    hv_pstnusage,
    hv_subscriptionlist,
    hv_terminal,
)

Record = Mapping[str, Any]
Row = dict[str, Any]

_TRUE = frozenset({"t", "true", "1", "y", "yes", "on"})

BILLING_COLUMNS: tuple[str, ...] = tuple(c.name for c in hv_billing.columns)
"""hv_billing columns in table order; :func:`cdr_row` returns them in this order."""


def flag(value: Any, default: str = "f") -> str:
    """A platform flag (bool, 't'/'f', 0/1, None) as the ``hv_bool`` text."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return "t" if value else "f"
    return "t" if str(value).strip().lower() in _TRUE else "f"


def opt_flag(value: Any) -> str | None:
    """A nullable ``hv_bool`` column: None stays None."""
    return None if value is None or value == "" else flag(value)


def to_int(value: Any) -> int | None:
    """An integer column: '' and None are NULL; '12.0' is 12; anything else non-numeric is NULL."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        try:
            return int(float(str(value).strip()))
        except ValueError:
            return None


def money(value: Any) -> str:
    """A NOT NULL numeric column as decimal text ('0' for missing); the database rounds to its scale."""
    if value is None or value == "":
        return "0"
    text = str(value).strip().replace(",", ".")
    try:
        float(text)
    except ValueError:
        return "0"
    return text


def opt_money(value: Any) -> str | None:
    return None if value is None or value == "" else money(value)


@cache
def _lengths(table: Table) -> dict[str, int]:
    return {c.name: c.type.length for c in table.columns if isinstance(c.type, String) and c.type.length}


def _text(table: Table, column: str, value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    limit = _lengths(table).get(column)
    return text[:limit] if limit and len(text) > limit else text


def customer_row(rec: Record) -> Row:
    """``GetCustomerList`` / ``GetCustomerData`` record -> hv_customers row."""
    t = hv_customers
    row: Row = {"id": to_int(rec.get("id"))}
    for col in (
        "name",
        "email",
        "address",
        "street_number",
        "apartment_number",
        "postcode",
        "city",
        "country",
        "b_name",
        "b_address",
        "b_street_number",
        "b_apartment_number",
        "b_postcode",
        "b_city",
        "b_country",
        "b_nip",
        "b_regon",
        "create_date",
        "platform_user_add_stamp",
    ):
        row[col] = _text(t, col, rec.get(col))
    for col in ("id_reseller", "ext_billing_id", "id_default_pricelist", "id_default_balance"):
        row[col] = to_int(rec.get(col))
    for col, default in (
        ("issue_invoice", "f"),
        ("is_wlr", "f"),
        ("active", "t"),
        ("consent_data_processing", "f"),
        ("open_registration", "f"),
        ("is_removed", "f"),
    ):
        row[col] = flag(rec.get(col), default)
    payment = str(rec.get("payment_type") or "postpaid").strip().lower()
    row["payment_type"] = payment if payment in ("prepaid", "postpaid") else "postpaid"
    if row["id"] is None:
        raise ValueError("customer record without an id")
    return row


def assign_value(platform_issue_invoice: str, current: str | None, invoice_source: str) -> str:
    """The ``hv_assign`` issue_invoice value after an import ('0' none, '1' Hiperus, '2' LMS).

    The PHP import set it to '0' when the platform flag was 'f' and to ``invoice_source`` otherwise,
    on every run, overwriting the choice made in the account form and, with the default
    ``invoice_source=0``, switching LMS invoicing off for everyone (spec §7 bugs 2, 3). Here:

    * a new account gets what PHP gave it ('0' for 'f', else ``invoice_source``);
    * '2' (LMS invoices) is a local decision and stays: the account form writes the platform flag
      't' only for choice 1, so an LMS-invoiced account reads 'f' on the platform;
    * '1' (Hiperus invoices) becomes '0' when the platform no longer issues invoices;
    * '0' becomes ``invoice_source`` when the platform starts issuing invoices.
    """
    current = (current or "").strip() or None
    if current is None:
        return "0" if platform_issue_invoice != "t" else invoice_source
    if current == "2":
        return "2"
    if current == "1":
        return "1" if platform_issue_invoice == "t" else "0"
    return invoice_source if platform_issue_invoice == "t" else current


def terminal_row(rec: Record, id_customer: int | None = None) -> Row:
    """``GetTerminalList`` record -> hv_terminal row, without the local-only location columns."""
    t = hv_terminal
    row: Row = {"id": to_int(rec.get("id")), "customerid": to_int(rec.get("id_customer", id_customer))}
    if row["customerid"] is None:
        row["customerid"] = id_customer
    for col in (
        "username",
        "password",
        "customer_name",
        "pricelist_name",
        "subscription_from",
        "subscription_to",
        "area_code",
        "borough",
        "county",
        "province",
        "sip_proxy",
        "subscriptions",
        "extensions",
    ):
        row[col] = _text(t, col, rec.get(col))
    for col in ("id_pricelist", "id_auth", "id_subscription", "id_terminal_location"):
        row[col] = to_int(rec.get(col))
    row["screen_numbers"] = flag(rec.get("screen_numbers"), "t")
    row["t38_fax"] = flag(rec.get("t38_fax"), "f")
    row["balance_value"] = opt_money(rec.get("balance_value"))
    row["value_left"] = opt_money(rec.get("value_left"))
    if row["id"] is None:
        raise ValueError("terminal record without an id")
    return row


TERMINAL_UPDATE = tuple(c.name for c in hv_terminal.columns if c.name not in ("id", *TERMINAL_LOCAL_COLUMNS))


def pstn_row(rec: Record, id_customer: int | None = None) -> Row:
    """``GetExtensionList`` record -> hv_pstn row."""
    t = hv_pstn
    country = rec.get("country_code") or "48"
    row: Row = {
        "id": to_int(rec.get("id") if rec.get("id") not in (None, "") else rec.get("id_extension")),
        "customerid": to_int(rec.get("id_customer")) if rec.get("id_customer") not in (None, "") else id_customer,
        "extension": _text(t, "extension", rec.get("extension")),
        "country_code": _text(t, "country_code", country),
        "number": _text(t, "number", rec.get("number")),
        "terminal_name": _text(t, "terminal_name", rec.get("terminal_name")),
        "id_auth": to_int(rec.get("id_auth")),
        "create_date": _text(t, "create_date", rec.get("create_date")),
    }
    for col, default in (
        ("is_main", "t"),
        ("disa_enabled", "f"),
        ("clir", "f"),
        ("virtual_fax", "f"),
        ("voicemail_enabled", "t"),
    ):
        row[col] = flag(rec.get(col), default)
    if row["id"] is None:
        raise ValueError("number record without an id")
    return row


def range_row(rec: Record) -> Row:
    """``GetPlatformNumberingRange`` record -> hv_pstnrange row; ``ussage`` (local) starts as 't'."""
    t = hv_pstnrange
    row: Row = {
        "id": to_int(rec.get("id")),
        "range_start": to_int(rec.get("range_start")),
        "range_end": to_int(rec.get("range_end")),
        "description": _text(t, "description", rec.get("description")),
        "id_reseller": to_int(rec.get("id_reseller")),
        "country_code": _text(t, "country_code", rec.get("country_code")),
        "open_registration": flag(rec.get("open_registration"), "f"),
        "ussage": "t",
    }
    if row["id"] is None:
        raise ValueError("numbering range record without an id")
    return row


def usage_row(rec: Record, idrange: int) -> Row:
    """``GetPlatformNumberingUsage`` record -> hv_pstnusage row (customerid 0 when the number is free)."""
    t = hv_pstnusage
    country = str(rec.get("country_code") or "")
    number = str(rec.get("number") or "")
    extension = to_int(rec.get("extension")) or to_int(country + number)
    if extension is None:
        raise ValueError(f"numbering usage record of range {idrange} without a number")
    return {
        "extension": extension,
        "number": to_int(number),
        "customerid": to_int(rec.get("id_customer")) or 0,
        "country_code": _text(t, "country_code", country or None),
        "customer_name": _text(t, "customer_name", rec.get("customer_name")),
        "idrange": idrange,
    }


def enduser_row(rec: Record, id_customer: int) -> Row:
    """``GetEndUserAuthList`` record -> hv_enduserlist row."""
    t = hv_enduserlist
    row: Row = {
        "id": to_int(rec.get("id")),
        "customerid": to_int(rec.get("id_customer")) or id_customer,
        "password": _text(t, "password", rec.get("password")),
        "email": _text(t, "email", rec.get("email")),
        "admin": flag(rec.get("admin"), "t"),
    }
    for col in ("vm_count", "fax_count", "exten_count", "vexten_count"):
        row[col] = to_int(rec.get(col))
    if row["id"] is None:
        raise ValueError("end-user record without an id")
    return row


def pricelist_row(rec: Record) -> Row:
    """``GetCustomerPricelistList`` record -> hv_pricelist row (``charge_internal_call`` as sent)."""
    row: Row = {
        "id": to_int(rec.get("id")),
        "name": _text(hv_pricelist, "name", rec.get("name")),
        "charge_internal_call": flag(rec.get("charge_internal_call"), "f"),
    }
    if row["id"] is None:
        raise ValueError("price list record without an id")
    return row


def subscription_row(rec: Record) -> Row:
    """``GetSubscriptionList`` record -> hv_subscriptionlist row."""
    t = hv_subscriptionlist
    row: Row = {
        "id": to_int(rec.get("id")),
        "name": _text(t, "name", rec.get("name")),
        "value": money(rec.get("value")),
        "f_dld": _text(t, "f_dld", rec.get("f_dld")),
        "f_mobile": _text(t, "f_mobile", rec.get("f_mobile")),
        "f_ild": _text(t, "f_ild", rec.get("f_ild")),
        "id_reseller": to_int(rec.get("id_reseller")),
        "invoice_value": money(rec.get("invoice_value")),
    }
    if row["id"] is None:
        raise ValueError("subscription record without an id")
    return row


# --------------------------------------------------------------------------------------------------
# CDRs: the hot path (a million rows per run is normal), so no per-row datetime parsing.


class LocalTime:
    """``YYYY-MM-DD HH:MM:SS`` in a zone -> unix time, fast.

    The UTC offset is constant within an hour of local time except at the two DST switches, so it is
    computed once per distinct ``YYYY-MM-DD HH`` with :mod:`zoneinfo` and cached. An hour that occurs
    twice (autumn) resolves to its first occurrence (``fold=0``), as PHP's ``strtotime`` does; an hour
    that does not exist (spring) is read with the offset before the switch.
    """

    def __init__(self, zone: str):
        self.zone = ZoneInfo(zone)
        self._offsets: dict[str, int] = {}
        self._hours: dict[str, int | None] = {}

    def _offset(self, hour_key: str) -> int:
        naive = datetime(int(hour_key[0:4]), int(hour_key[5:7]), int(hour_key[8:10]), int(hour_key[11:13]))
        offset = naive.replace(tzinfo=self.zone).utcoffset() or timedelta(0)
        seconds = int(offset.total_seconds())
        if len(self._offsets) > 100_000:
            self._offsets.clear()
        self._offsets[hour_key] = seconds
        return seconds

    def _hour_start(self, hour_key: str) -> int | None:
        """Unix time of ``YYYY-MM-DD HH:00:00`` local, or None when that hour is not a date."""
        try:
            start = calendar.timegm(
                (int(hour_key[0:4]), int(hour_key[5:7]), int(hour_key[8:10]), int(hour_key[11:13]), 0, 0, 0, 0, 0)
            ) - self._offset(hour_key)
        except ValueError:
            start = None
        if len(self._hours) > 100_000:
            self._hours.clear()
        self._hours[hour_key] = start
        return start

    def unix(self, text: str | None) -> int | None:
        """Unix time of a local timestamp, or None when it is not one.

        ``calendar.timegm`` is linear in minutes and seconds (it does not range-check them), so the
        start of the hour, zone offset applied, is cached and the rest added: a CDR costs two ``int``
        calls here instead of a time tuple.
        """
        if not text or len(text) < 19 or text[4] != "-" or text[10] not in " T":
            return None
        key = text[:13]
        try:
            start = self._hours[key]
        except KeyError:
            start = self._hour_start(key)
        if start is None:
            return None
        try:
            return start + int(text[14:16]) * 60 + int(text[17:19])
        except ValueError:
            return None


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return to_int(value)


def _num(value: Any) -> Any:
    """Money for a NOT NULL numeric column; the common well-formed text passes through untouched."""
    if value is None or value == "":
        return "0"
    if isinstance(value, str) and value[-1:].isdigit() and "," not in value:
        return value
    return money(value)


def _clip(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[:limit]


_CDR_KEYS = (
    "id",
    "rel_cause",
    "start_time",
    "customer_name",
    "terminal_name",
    "ext_billing_id",
    "caller",
    "bill_cpb",
    "duration",
    "calltype",
    "country",
    "description",
    "operator",
    "type",
    "cost",
    "price",
    "init_charge",
    "reseller_price",
    "reseller_cost",
    "reseller_init_charge",
    "margin",
    "subscription_used",
    "platform_type",
)
_CDR_FETCH = operator.itemgetter(*_CDR_KEYS)


class CdrMapper:
    """``GetBilling`` record -> hv_billing row (a tuple in :data:`BILLING_COLUMNS` order).

    ``terminals`` maps ``hv_terminal.username`` to its account id (``customerid``), as the PHP import
    matched rows. Counters say how many rows had no terminal name and how many named a terminal
    unknown here; the job reports both.
    """

    def __init__(self, zone: str, terminals: Mapping[str, int | None]):
        self.clock = LocalTime(zone)
        self.terminals = terminals
        self.no_terminal = 0
        self.unknown_terminal = 0
        self.no_terminal_samples: list[str] = []
        self.unknown_terminal_samples: list[str] = []

    def row(self, rec: Record, success: bool) -> tuple[Any, ...]:
        """The hv_billing row of one record.

        Written out long-hand because it runs a million times per import: one C call fetches every
        field, and each column takes the common case (text that needs nothing, well-formed money) in
        an inline test, calling the general helper only for anything else.
        """
        try:
            values = _CDR_FETCH(rec)
        except KeyError:
            values = tuple(rec.get(key) for key in _CDR_KEYS)
        (
            raw_id,
            rel_cause,
            start_time,
            customer_name,
            terminal_name,
            ext_billing_id,
            caller,
            bill_cpb,
            duration,
            calltype,
            country,
            description,
            carrier,
            kind,
            cost,
            price,
            init_charge,
            reseller_price,
            reseller_cost,
            reseller_init_charge,
            margin,
            sub_used,
            platform_type,
        ) = values
        cdr_id = _int_or_none(raw_id)
        if cdr_id is None:
            raise ValueError(f"CDR without a numeric id: {raw_id!r}")
        terminal = terminal_name or None
        customerid = None
        if terminal is None:
            self.no_terminal += 1
            if len(self.no_terminal_samples) < 5:
                self.no_terminal_samples.append(f"{cdr_id} ({customer_name or '?'})")
        else:
            customerid = self.terminals.get(terminal)
            if customerid is None and terminal not in self.terminals:
                self.unknown_terminal += 1
                if len(self.unknown_terminal_samples) < 5:
                    self.unknown_terminal_samples.append(f"{cdr_id} ({terminal})")
        s = str
        return (
            cdr_id,
            customerid,
            _int_or_none(rel_cause),
            start_time if start_time.__class__ is s and len(start_time) <= 30 else _clip(start_time, 30),
            self.clock.unix(start_time),
            customer_name if customer_name.__class__ is s and len(customer_name) <= 255 else _clip(customer_name, 255),
            terminal if terminal.__class__ is s and len(terminal) <= 255 else _clip(terminal, 255),
            _int_or_none(ext_billing_id),
            caller if caller.__class__ is s and len(caller) <= 20 else _clip(caller, 20),
            bill_cpb if bill_cpb.__class__ is s and len(bill_cpb) <= 20 else _clip(bill_cpb, 20),
            _int_or_none(duration),
            calltype if calltype.__class__ is s and len(calltype) <= 50 else _clip(calltype, 50),
            country if country.__class__ is s and len(country) <= 255 else _clip(country, 255),
            description if description.__class__ is s and len(description) <= 255 else _clip(description, 255),
            carrier if carrier.__class__ is s and len(carrier) <= 255 else _clip(carrier, 255),
            kind if kind.__class__ is s and len(kind) <= 30 else _clip(kind, 30),
            cost if cost.__class__ is s and cost[-1:].isdigit() and "," not in cost else _num(cost),
            price if price.__class__ is s and price[-1:].isdigit() and "," not in price else _num(price),
            init_charge
            if init_charge.__class__ is s and init_charge[-1:].isdigit() and "," not in init_charge
            else _num(init_charge),
            reseller_price
            if reseller_price.__class__ is s and reseller_price[-1:].isdigit() and "," not in reseller_price
            else _num(reseller_price),
            reseller_cost
            if reseller_cost.__class__ is s and reseller_cost[-1:].isdigit() and "," not in reseller_cost
            else _num(reseller_cost),
            reseller_init_charge
            if reseller_init_charge.__class__ is s
            and reseller_init_charge[-1:].isdigit()
            and "," not in reseller_init_charge
            else _num(reseller_init_charge),
            margin if margin.__class__ is s and margin[-1:].isdigit() and "," not in margin else _num(margin),
            "f"
            if sub_used == "f"
            else None
            if sub_used is None or sub_used == ""
            else ("t" if sub_used in ("t", True) else flag(sub_used)),
            platform_type if platform_type.__class__ is s and len(platform_type) <= 20 else _clip(platform_type, 20),
            "t" if success else "f",
        )

    def dict_row(self, rec: Record, success: bool) -> Row:
        return dict(zip(BILLING_COLUMNS, self.row(rec, success), strict=True))


def cdr_row(
    rec: Record, success: bool, zone: str = "Europe/Warsaw", terminals: Mapping[str, int | None] | None = None
) -> Row:
    """One CDR as a dict (convenience for tests and single rows; the job uses :class:`CdrMapper`)."""
    return CdrMapper(zone, terminals or {}).dict_row(rec, success)
