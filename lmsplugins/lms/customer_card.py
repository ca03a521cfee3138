"""Read gateway for the web frame: the customer list, the customer search and the customer card.

Every query here is shaped for an LMS with 100,000 customers on PostgreSQL, where the core schema
offers few indexes (``customers`` has its primary key and ``(lastname, name)``; ``ten``/``ssn`` and
``customerbalances`` have none):

- a name search is a *prefix* search on ``lastname`` (LMS stores it upper-case), written as a range
  so PostgreSQL walks ``customers_lastname_idx`` whatever the database collation (a plain ``LIKE
  'X%'`` uses a b-tree only under the ``C`` collation);
- lists sort only by indexed columns (id, name) and fetch one page plus one row;
- counts stop at :data:`COUNT_CAP`, so a page never counts 100,000 rows to print "1000+";
- addresses of a page are fetched in one query for the page's ids, not per row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from lmsplugins.lms.customers import normalize_ssn, normalize_ten
from lmsplugins.lms.tables import (
    addresses,
    countries,
    customer_addresses,
    customerbalances,
    customercontacts,
    customers,
)

COUNT_CAP = 1000
"""Counts above this are reported as "more than" (``CustomerPage.total_capped``)."""

SORTS = ("id", "name")
ADDRESS_TYPES = {0: "postal", 1: "billing", 2: "location", 3: "default location", 4: "recipient"}
STATUSES = {1: "interested", 2: "waiting", 3: "connected", 4: "disconnected", 5: "debt collection"}
CUSTOMER_TYPES = {0: "private", 1: "company", 2: "contractor"}
CONTACT_BITS = (
    (1, "mobile"),
    (2, "fax"),
    (4, "landline"),
    (8, "email"),
    (16, "invoices"),
    (32, "notifications"),
    (64, "bank account"),
    (128, "technical"),
    (256, "URL"),
    (32768, "documents"),
)
CONTACT_DISABLED = 16384

_MAX_INT = 2**31 - 1
_SPACES = re.compile(r"\s+")
# The highest code point sorts after any prefix extension in code point collations (C, C.UTF-8) and
# after every letter in the usual linguistic ones; the LIKE filter below keeps the result exact.
_TOP = "\U0010ffff"


@dataclass(frozen=True)
class CustomerRow:
    id: int
    name: str
    status: int
    type: int
    ten: str
    ssn: str
    deleted: bool
    address: str = ""


@dataclass
class CustomerPage:
    rows: list[CustomerRow]
    page: int
    per_page: int
    total: int
    total_capped: bool
    has_next: bool

    @property
    def pages(self) -> int | None:
        """Number of pages, or None when the count was capped."""
        if self.total_capped:
            return None
        return max(1, -(-self.total // self.per_page))


@dataclass
class CustomerCard:
    id: int
    lastname: str
    name: str
    status: int
    type: int
    ten: str
    ssn: str
    icn: str
    regon: str
    info: str
    notes: str
    message: str
    creationdate: int
    deleted: bool
    divisionid: int | None
    balance: Decimal
    addresses: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.lastname} {self.name}".strip()


def display_name(lastname: str | None, name: str | None) -> str:
    return f"{lastname or ''} {name or ''}".strip()


def format_address(row: Any) -> str:
    """``street house/flat, zip city`` as LMS's ``vaddresses.location`` prints it, empty parts left out."""
    street = " ".join(p for p in (row.street or "", row.house or "") if p)
    if row.flat:
        street = f"{street}/{row.flat}"
    town = " ".join(p for p in (row.zip or "", row.city or "") if p)
    return ", ".join(p for p in (street, town) if p)


def _prefix(column: Any, text: str, dialect: str) -> ColumnElement[bool]:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = column.like(f"{escaped}%", escape="\\")
    if dialect == "postgresql":
        return and_(column >= text, column < text + _TOP, like)
    return like


def search_condition(q: str, dialect: str) -> ColumnElement[bool] | None:
    """Where-clause for a search box entry: id, NIP, PESEL (digits) or a name prefix.

    ``"kowal"`` matches ``KOWALSKI``; ``"kowalski an"`` also needs the first name to start with
    ``An``. Digits match the id exactly and NIP/PESEL with or without separators.
    """
    q = _SPACES.sub(" ", q.strip())
    if not q:
        return None
    c = customers.c
    options: list[ColumnElement[bool]] = []
    digits = re.sub(r"[\s-]", "", q)
    if digits.isdigit():
        if len(digits) <= 10 and int(digits) <= _MAX_INT:
            options.append(c.id == int(digits))
        ten = normalize_ten(q)
        if ten:
            dashed = f"{ten[:3]}-{ten[3:6]}-{ten[6:8]}-{ten[8:]}"
            options.append(c.ten.in_([ten, dashed, f"PL{ten}"]))
        ssn = normalize_ssn(q)
        if ssn:
            options.append(c.ssn == ssn)
        if options:
            return or_(*options)
    last, _, first = q.partition(" ")
    cond = _prefix(c.lastname, last.upper(), dialect)
    if first:
        first_cond = func.lower(c.name).like(f"{first.lower()}%")
        cond = and_(cond, first_cond)
    # Names typed in mixed case by LMS installations with customers.capitalize_names = false.
    if last.upper() != last:
        alt = _prefix(c.lastname, last, dialect)
        cond = or_(cond, and_(alt, func.lower(c.name).like(f"{first.lower()}%")) if first else alt)
    return cond


def list_customers(
    conn: Connection,
    q: str = "",
    page: int = 1,
    per_page: int = 20,
    sort: str = "name",
    desc: bool = False,
    include_deleted: bool = False,
) -> CustomerPage:
    """One page of customers (search *q* if given), sorted by an indexed column."""
    c = customers.c
    page = max(1, page)
    where: list[ColumnElement[bool]] = []
    cond = search_condition(q, conn.dialect.name)
    if cond is not None:
        where.append(cond)
    if not include_deleted:
        where.append(c.deleted == 0)
    if sort not in SORTS:
        sort = "name"
    keys = [c.id] if sort == "id" else [c.lastname, c.name, c.id]
    order = [k.desc() for k in keys] if desc else list(keys)
    query = (
        select(c.id, c.lastname, c.name, c.status, c.type, c.ten, c.ssn, c.deleted)
        .where(*where)
        .order_by(*order)
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    fetched = conn.execute(query).all()
    has_next = len(fetched) > per_page
    fetched = fetched[:per_page]
    # Most pages are not the last one, so counting costs one capped scan, not a full count.
    if page == 1 and not has_next:
        total, capped = len(fetched), False
    else:
        sub = select(literal(1)).select_from(customers).where(*where).limit(COUNT_CAP + 1).subquery()
        total = int(conn.execute(select(func.count()).select_from(sub)).scalar() or 0)
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
    found = billing_addresses(conn, [r.id for r in fetched])
    rows = [
        CustomerRow(
            id=r.id,
            name=display_name(r.lastname, r.name),
            status=r.status,
            type=r.type,
            ten=r.ten or "",
            ssn=r.ssn or "",
            deleted=bool(r.deleted),
            address=found.get(r.id, ""),
        )
        for r in fetched
    ]
    return CustomerPage(rows, page, per_page, total, capped, has_next)


def billing_addresses(conn: Connection, ids: list[int]) -> dict[int, str]:
    """Billing (type 1) address of each customer in *ids*, formatted; one query for the page."""
    if not ids:
        return {}
    ca, a = customer_addresses.c, addresses.c
    rows = conn.execute(
        select(ca.customer_id, a.street, a.house, a.flat, a.zip, a.city)
        .select_from(customer_addresses.join(addresses, a.id == ca.address_id))
        .where(ca.customer_id.in_(ids), ca.type == 1)
    ).all()
    return {r.customer_id: format_address(r) for r in rows}


def contact_kinds(bits: int | None) -> list[str]:
    value = bits or 0
    return [label for bit, label in CONTACT_BITS if value & bit]


def get_card(conn: Connection, customer_id: int) -> CustomerCard | None:
    """The customer, its addresses, contacts and balance (``customerbalances``, 0 when absent)."""
    c = customers.c
    row = conn.execute(select(customers).where(c.id == customer_id)).first()
    if row is None:
        return None
    balance = conn.execute(
        select(customerbalances.c.balance).where(customerbalances.c.customerid == customer_id)
    ).scalar()
    ca, a = customer_addresses.c, addresses.c
    addr_rows = conn.execute(
        select(
            ca.type, a.name, a.street, a.house, a.flat, a.zip, a.city, a.postoffice, countries.c.name.label("country")
        )
        .select_from(
            customer_addresses.join(addresses, a.id == ca.address_id).outerjoin(
                countries, countries.c.id == a.country_id
            )
        )
        .where(ca.customer_id == customer_id)
        .order_by(ca.type, ca.id)
    ).all()
    contact_rows = conn.execute(
        select(customercontacts).where(customercontacts.c.customerid == customer_id).order_by(customercontacts.c.id)
    ).all()
    return CustomerCard(
        id=row.id,
        lastname=row.lastname or "",
        name=row.name or "",
        status=row.status,
        type=row.type,
        ten=row.ten or "",
        ssn=row.ssn or "",
        icn=row.icn or "",
        regon=row.regon or "",
        info=row.info or "",
        notes=row.notes or "",
        message=row.message or "",
        creationdate=row.creationdate or 0,
        deleted=bool(row.deleted),
        divisionid=row.divisionid,
        balance=Decimal(balance) if balance is not None else Decimal("0.00"),
        addresses=[
            {
                "type": ADDRESS_TYPES.get(r.type if r.type is not None else -1, "address"),
                "name": r.name or "",
                "text": format_address(r),
                "country": r.country or "",
            }
            for r in addr_rows
        ],
        contacts=[
            {
                "contact": r.contact,
                "name": r.name or "",
                "kinds": contact_kinds(r.type),
                "disabled": bool((r.type or 0) & CONTACT_DISABLED),
            }
            for r in contact_rows
        ],
    )
