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
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, and_, bindparam, func, literal, or_, select, union_all
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


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name_prefixes(last: str) -> list[str]:
    """The stored spellings a typed surname may start: LMS's upper case (customers.capitalize_names),
    then, for installations that keep names as typed, Capitalised and exactly as typed."""
    found: list[str] = []
    for variant in (last.upper(), last[:1].upper() + last[1:].lower(), last):
        if variant not in found:
            found.append(variant)
    return found


@dataclass(frozen=True)
class Search:
    """A search box entry taken apart: the *shape* of its where-clause and the values to bind.

    Pages are built per shape once (:func:`_page_statements`) and executed with the values, because
    building and compiling the statement cost more than running it.
    """

    shape: tuple[Any, ...]
    values: dict[str, Any]


def parse_search(q: str) -> Search | None:
    """id, NIP, PESEL (digits, separators allowed) or a surname prefix with an optional first-name one."""
    q = _SPACES.sub(" ", q.strip())
    if not q:
        return None
    digits = re.sub(r"[\s-]", "", q)
    if digits.isascii() and digits.isdigit():
        values: dict[str, Any] = {}
        if len(digits) <= 10 and int(digits) <= _MAX_INT:
            values["id"] = int(digits)
        ten = normalize_ten(q)
        if ten:
            values.update(ten0=ten, ten1=f"{ten[:3]}-{ten[3:6]}-{ten[6:8]}-{ten[8:]}", ten2=f"PL{ten}")
        ssn = normalize_ssn(q)
        if ssn:
            values["ssn"] = ssn
        if values:
            return Search(("digits", "id" in values, "ten0" in values, "ssn" in values), values)
    last, _, first = q.partition(" ")
    values = {}
    prefixes = _name_prefixes(last)
    for i, prefix in enumerate(prefixes):
        values.update({f"lo{i}": prefix, f"hi{i}": prefix + _TOP, f"like{i}": _like_escape(prefix) + "%"})
    if first:
        values["first"] = _like_escape(first.lower()) + "%"
    return Search(("name", len(prefixes), bool(first)), values)


def _branches(shape: tuple[Any, ...], dialect: str, values: dict[str, Any] | None = None) -> list[ColumnElement[bool]]:
    """The where-clauses of a search shape, any of which may match, bound to *values* when given.

    On PostgreSQL a name search has one clause per spelling, each a range of ``customers_lastname_idx``
    (a range, so the index serves whatever the collation; the LIKE keeps it exact). The ranges are
    disjoint, so :func:`list_customers` reads each in index order and merges them: an ``OR`` of the
    ranges makes the server fetch and sort every match (78 ms instead of 0.3 ms for a two-letter
    prefix among 100,000 customers).
    """
    c = customers.c

    def bound(name: str) -> Any:
        return bindparam(name, values[name]) if values is not None else bindparam(name)

    if shape[0] == "digits":
        _, has_id, has_ten, has_ssn = shape
        options: list[ColumnElement[bool]] = []
        if has_id:
            options.append(c.id == bound("id"))
        if has_ten:
            options.append(c.ten.in_([bound("ten0"), bound("ten1"), bound("ten2")]))
        if has_ssn:
            options.append(c.ssn == bound("ssn"))
        return [or_(*options)]
    _, count, has_first = shape
    branches = []
    for i in range(count):
        cond = c.lastname.like(bound(f"like{i}"), escape="\\")
        if dialect == "postgresql":
            cond = and_(c.lastname >= bound(f"lo{i}"), c.lastname < bound(f"hi{i}"), cond)
        if has_first:
            cond = and_(cond, func.lower(c.name).like(bound("first"), escape="\\"))
        branches.append(cond)
    return branches


def search_condition(q: str, dialect: str) -> ColumnElement[bool] | None:
    """Where-clause for a search box entry, with its values bound.

    ``"kowal"`` matches ``KOWALSKI`` (and ``Kowalski`` where names are not capitalised);
    ``"kowalski an"`` also needs the first name to start with ``An``. Digits match the id exactly and
    NIP/PESEL with or without separators.
    """
    search = parse_search(q)
    if search is None:
        return None
    branches = _branches(search.shape, dialect, search.values)
    return branches[0] if len(branches) == 1 else or_(*branches)


@lru_cache(maxsize=256)
def _page_statements(
    dialect: str, shape: tuple[Any, ...] | None, sort: str, desc: bool, include_deleted: bool
) -> tuple[Select[Any], Select[Any]]:
    """(page, count) statements for one search shape and sort; values come as bind parameters:
    the search's, ``limit`` and ``offset`` (and ``need`` = offset + limit for merged ranges).

    The page is found on the sort keys alone, which the host's indexes on active customers serve
    without reading the table (``lmsplugins_customers_active_*_idx``), and only its rows are fetched
    in full: a page deep in the list no longer reads every customer before it. The same statement
    brings each row's billing address and the capped count, because on a busy list page the round
    trips cost more than the server's work.
    """
    c = customers.c
    branches = _branches(shape, dialect) if shape is not None else []
    where: list[ColumnElement[bool]] = [] if include_deleted else [c.deleted == 0]
    names = ["id"] if sort == "id" else ["lastname", "name", "id"]
    keys = [c[k] for k in names]
    limit, offset = bindparam("limit", type_=Integer), bindparam("offset", type_=Integer)

    def ordered(cols: Any) -> list[Any]:
        return [cols[k].desc() if desc else cols[k] for k in names]

    if len(branches) > 1 and dialect == "postgresql":
        # Each spelling's range in index order, just deep enough for this page, then merged.
        need = bindparam("need", type_=Integer)
        merged = union_all(*(select(*keys).where(b, *where).order_by(*ordered(c)).limit(need) for b in branches))
        found = merged.subquery()
        paged = select(*found.c).order_by(*ordered(found.c)).limit(limit).offset(offset).subquery("page")
        counted = union_all(
            *(select(literal(1)).select_from(customers).where(b, *where).limit(COUNT_CAP + 1) for b in branches)
        ).subquery()
    else:
        if branches:
            where.append(branches[0] if len(branches) == 1 else or_(*branches))
        paged = select(*keys).where(*where).order_by(*ordered(c)).limit(limit).offset(offset).subquery("page")
        counted = select(literal(1)).select_from(customers).where(*where).limit(COUNT_CAP + 1).subquery()
    count_query = select(func.count()).select_from(counted)
    row = customers.alias("row")
    ca, a, r = customer_addresses.c, addresses.c, row.c
    page_query = (
        select(
            r.id,
            r.lastname,
            r.name,
            r.status,
            r.type,
            r.ten,
            r.ssn,
            r.deleted,
            a.street,
            a.house,
            a.flat,
            a.zip,
            a.city,
            count_query.scalar_subquery().label("total"),
        )
        .select_from(
            paged.join(row, r.id == paged.c.id)
            .outerjoin(customer_addresses, and_(ca.customer_id == r.id, ca.type == 1))
            .outerjoin(addresses, a.id == ca.address_id)
        )
        .order_by(*ordered(paged.c), ca.id)
    )
    return page_query, count_query


def list_customers(
    conn: Connection,
    q: str = "",
    page: int = 1,
    per_page: int = 20,
    sort: str = "name",
    desc: bool = False,
    include_deleted: bool = False,
) -> CustomerPage:
    """One page of customers (search *q* if given), sorted by an indexed column, with the billing
    address of each and a count capped at :data:`COUNT_CAP`."""
    page = max(1, page)
    offset = (page - 1) * per_page
    search = parse_search(q)
    if sort not in SORTS:
        sort = "name"
    page_query, count_query = _page_statements(
        conn.dialect.name, search.shape if search else None, sort, desc, include_deleted
    )
    values = dict(search.values) if search else {}
    values.update(limit=per_page + 1, offset=offset, need=offset + per_page + 1)
    rows: list[CustomerRow] = []
    total = 0
    for r in conn.execute(page_query, values):
        if rows and rows[-1].id == r.id:
            continue  # a second billing address: the first one is shown
        total = r.total
        rows.append(
            CustomerRow(
                id=r.id,
                name=display_name(r.lastname, r.name),
                status=r.status,
                type=r.type,
                ten=r.ten or "",
                ssn=r.ssn or "",
                deleted=bool(r.deleted),
                address=format_address(r) if r.city is not None or r.street is not None else "",
            )
        )
    if not rows and page > 1:
        total = int(conn.execute(count_query, values).scalar() or 0)
    has_next = len(rows) > per_page
    return CustomerPage(rows[:per_page], page, per_page, min(total, COUNT_CAP), total > COUNT_CAP, has_next)


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
