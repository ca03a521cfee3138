"""Customers as LMS keeps them: identity numbers, external ids per service provider, statuses.

Providers identify a subscriber by NIP, PESEL or ID-card number typed by hand on either side, so
matching must normalise both sides the same way and must *report* a number shared by two LMS
customers instead of picking one. :class:`IdentityIndex` loads the identity columns once and answers
lookups from memory, which is what makes matching 100,000 provider users a matter of seconds.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from lmsplugins.db import bulk_insert
from lmsplugins.lms import syslog
from lmsplugins.lms.syslog import OPER_UPDATE, RES_CUST
from lmsplugins.lms.tables import customerextids, customers, serviceproviders

STATUS_INTERESTED, STATUS_WAITING, STATUS_CONNECTED, STATUS_DISCONNECTED, STATUS_DEBT_COLLECTION = 1, 2, 3, 4, 5
STATUS_ALIASES = {
    "interested": STATUS_INTERESTED,
    "awaiting": STATUS_WAITING,
    "connected": STATUS_CONNECTED,
    "disconnected": STATUS_DISCONNECTED,
    "debtcollection": STATUS_DEBT_COLLECTION,
}
TYPE_PRIVATE, TYPE_COMPANY, TYPE_CONTRACTOR = 0, 1, 2

_NON_DIGITS = re.compile(r"\D+")
_NON_ALNUM = re.compile(r"[^0-9A-Z]+")


def normalize_ten(value: str | None) -> str:
    """NIP: digits only, a leading country code (``PL``) dropped; '' unless ten digits remain."""
    if not value:
        return ""
    text = value.strip().upper()
    if text.startswith("PL"):
        text = text[2:]
    digits = _NON_DIGITS.sub("", text)
    return digits if len(digits) == 10 else ""


def normalize_ssn(value: str | None) -> str:
    """PESEL: eleven digits, separators removed; '' otherwise."""
    digits = _NON_DIGITS.sub("", value or "")
    return digits if len(digits) == 11 else ""


def normalize_icn(value: str | None) -> str:
    """ID document number: upper-case letters and digits only (``abc 123-456`` -> ``ABC123456``)."""
    text = _NON_ALNUM.sub("", (value or "").upper())
    return text if len(text) >= 5 else ""


NORMALIZERS = {"ten": normalize_ten, "ssn": normalize_ssn, "icn": normalize_icn}


@dataclass(frozen=True)
class Match:
    """The outcome of one lookup: a single customer, several (ambiguous), or none."""

    customer_id: int | None = None
    by: str | None = None
    ambiguous: tuple[int, ...] = ()
    value: str = ""

    @property
    def found(self) -> bool:
        return self.customer_id is not None


@dataclass
class IdentityIndex:
    """Normalised NIP / PESEL / ID-card number -> LMS customer ids, for non-deleted customers."""

    by_kind: dict[str, dict[str, set[int]]] = field(default_factory=lambda: {k: defaultdict(set) for k in NORMALIZERS})

    @classmethod
    def load(cls, conn: Connection, customer_ids: Iterable[int] | None = None) -> IdentityIndex:
        c = customers
        query = select(c.c.id, c.c.ten, c.c.ssn, c.c.icn).where(c.c.deleted == 0)
        if customer_ids is not None:
            query = query.where(c.c.id.in_(list(customer_ids)))
        index = cls()
        for row in conn.execute(query.execution_options(yield_per=20000)):
            index.add(row.id, ten=row.ten, ssn=row.ssn, icn=row.icn)
        return index

    def add(self, customer_id: int, **values: str | None) -> None:
        for kind, raw in values.items():
            norm = NORMALIZERS[kind](raw)
            if norm:
                self.by_kind[kind][norm].add(customer_id)

    def duplicates(self) -> dict[str, dict[str, list[int]]]:
        """Identity numbers shared by more than one LMS customer, per kind."""
        return {
            kind: {value: sorted(ids) for value, ids in table.items() if len(ids) > 1}
            for kind, table in self.by_kind.items()
        }

    def find(self, ten: str | None = None, ssn: str | None = None, icn: str | None = None) -> Match:
        """Try NIP, then PESEL, then ID card. A number shared by several customers is ambiguous and
        stops the search: guessing would bind the wrong customer."""
        for kind, raw in (("ten", ten), ("ssn", ssn), ("icn", icn)):
            norm = NORMALIZERS[kind](raw)
            if not norm:
                continue
            ids = self.by_kind[kind].get(norm)
            if not ids:
                continue
            if len(ids) > 1:
                return Match(None, kind, tuple(sorted(ids)), norm)
            return Match(next(iter(ids)), kind, (), norm)
        return Match()


def service_provider_id(conn: Connection, name: str, create: bool = False) -> int | None:
    """The ``serviceproviders`` row named *name* (exact, as the PHP plugins look it up)."""
    found = conn.execute(select(serviceproviders.c.id).where(serviceproviders.c.name == name)).scalar()
    if found is None and create:
        found = conn.execute(serviceproviders.insert().values(name=name)).inserted_primary_key[0]
    return None if found is None else int(found)


def extids(conn: Connection, serviceproviderid: int | None) -> dict[int, list[str]]:
    """customer id -> its external ids with this service provider."""
    e = customerextids
    cond = e.c.serviceproviderid.is_(None) if serviceproviderid is None else e.c.serviceproviderid == serviceproviderid
    result: dict[int, list[str]] = defaultdict(list)
    for row in conn.execute(select(e.c.customerid, e.c.extid).where(cond)):
        result[row.customerid].append(row.extid)
    return dict(result)


def bind_extid(conn: Connection, customer_id: int, extid: str, serviceproviderid: int | None) -> bool:
    """Record *extid* for the customer; returns False when the exact binding already exists."""
    e = customerextids
    cond = e.c.serviceproviderid.is_(None) if serviceproviderid is None else e.c.serviceproviderid == serviceproviderid
    exists = conn.execute(
        select(e.c.customerid).where(and_(e.c.customerid == customer_id, e.c.extid == extid, cond))
    ).first()
    if exists:
        return False
    conn.execute(e.insert().values(customerid=customer_id, extid=extid, serviceproviderid=serviceproviderid))
    _log_extid(conn, customer_id, extid, serviceproviderid)
    return True


def _log_extid(conn: Connection, customer_id: int, extid: str, serviceproviderid: int | None) -> None:
    """LMS logs external ids only inside its customer update message: a customer update naming them."""
    fields = [(RES_CUST, customer_id), ("extid", extid), ("serviceproviderid", serviceproviderid)]
    syslog.record(conn, RES_CUST, OPER_UPDATE, fields)


def unbind_extid(conn: Connection, customer_id: int, serviceproviderid: int | None, extid: str | None = None) -> int:
    e = customerextids
    cond = e.c.serviceproviderid.is_(None) if serviceproviderid is None else e.c.serviceproviderid == serviceproviderid
    stmt = e.delete().where(e.c.customerid == customer_id, cond)
    if extid is not None:
        stmt = stmt.where(e.c.extid == extid)
    removed = conn.execute(stmt).rowcount or 0
    if removed:
        _log_extid(conn, customer_id, "", serviceproviderid)
    return removed


def get_customers(conn: Connection, ids: Iterable[int]) -> dict[int, Mapping]:
    rows = conn.execute(select(customers).where(customers.c.id.in_(list(ids)))).mappings()
    return {r["id"]: r for r in rows}


def display_name(lastname: str, name: str) -> str:
    """``lastname name`` as LMS shows and snapshots it."""
    return f"{lastname} {name}".strip()


def set_status(
    conn: Connection, customer_ids: Iterable[int], status: int, only_from: Iterable[int] | None = None
) -> int:
    """Change ``customers.status``; returns rows changed (each logged as LMS's customer update)."""
    where = [customers.c.id.in_(list(customer_ids)), customers.c.status != status]
    if only_from is not None:
        where.append(customers.c.status.in_(list(only_from)))
    if syslog.active(conn) is not None:
        changed = [r[0] for r in conn.execute(select(customers.c.id).where(*where).order_by(customers.c.id))]
        for cid in changed:
            syslog.record(conn, RES_CUST, OPER_UPDATE, [(RES_CUST, cid), ("status", status)])
    return conn.execute(customers.update().where(*where).values(status=status)).rowcount or 0


def bind_extids(conn: Connection, bindings: Iterable[tuple[int, str]], serviceproviderid: int | None) -> int:
    """Insert many (customer id, extid) bindings with one provider in one bulk statement; the caller
    has checked that none exists yet (matching jobs bind thousands at once). Returns the count."""
    if syslog.active(conn) is not None:
        bindings = list(bindings)
        for cid, extid in bindings:
            _log_extid(conn, cid, extid, serviceproviderid)
    rows = ({"customerid": cid, "extid": extid, "serviceproviderid": serviceproviderid} for cid, extid in bindings)
    return bulk_insert(conn, customerextids, rows, batch_size=20000)


def extid_owners(conn: Connection, serviceproviderid: int) -> dict[str, list[int]]:
    """extid -> the customers holding it with this provider (normally one; more is a data error)."""
    result: dict[str, list[int]] = defaultdict(list)
    for customer_id, values in extids(conn, serviceproviderid).items():
        for value in values:
            result[value].append(customer_id)
    return dict(result)
