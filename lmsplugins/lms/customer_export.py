"""What a provider is told about an LMS customer: name, identifiers, e-mail and one address.

Providers that keep their own customer register (Metroport MMS, for instance) want one address and one
e-mail. LMS keeps several of each; which one is meant is decided here once, by LMS's address types
rather than by the alphabetical order ``getCustomerAddresses`` happens to return: the billing address,
else the postal one, else the default location, else any location. The street is LMS's full street
name (``addresses.street``), never empty when LMS has one. Read-only; streams for bulk pushes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from lmsplugins.lms.tables import addresses, customer_addresses, customercontacts, customers

ADDRESS_PREFERENCE = (1, 0, 3, 2)
"""LMS address types in the order a provider's single address is taken: billing, postal, default
location, location (``BILLING_ADDRESS``, ``POSTAL_ADDRESS``, ``DEFAULT_LOCATION_ADDRESS``,
``LOCATION_ADDRESS``)."""
CONTACT_EMAIL = 8
CONTACT_DISABLED = 16384


@dataclass(frozen=True)
class Address:
    city: str = ""
    zip: str = ""
    street: str = ""
    house: str = ""
    flat: str = ""


@dataclass(frozen=True)
class CustomerExport:
    id: int
    type: int
    lastname: str
    name: str
    ssn: str
    ten: str
    email: str
    address: Address
    deleted: bool
    moddate: int


def _clean(value: object) -> str:
    return "" if value is None else str(value).strip()


def export_customers(conn: Connection, ids: Iterable[int]) -> Iterator[CustomerExport]:
    """The customers *ids* (in id order) with their chosen address and first enabled e-mail."""
    wanted = sorted(set(int(i) for i in ids))
    for start in range(0, len(wanted), 1000):
        chunk = wanted[start : start + 1000]
        yield from _chunk(conn, chunk)


def _chunk(conn: Connection, ids: list[int]) -> Iterator[CustomerExport]:
    rank = {t: n for n, t in enumerate(ADDRESS_PREFERENCE)}
    best: dict[int, tuple[int, Address]] = {}
    ca, a = customer_addresses, addresses
    rows = conn.execute(
        select(ca.c.customer_id, ca.c.type, a.c.id, a.c.city, a.c.zip, a.c.street, a.c.house, a.c.flat)
        .join(a, a.c.id == ca.c.address_id)
        .where(ca.c.customer_id.in_(ids))
        .order_by(ca.c.customer_id, a.c.id)
    )
    for r in rows:
        order = rank.get(r.type if r.type is not None else -1, len(rank))
        if r.customer_id not in best or order < best[r.customer_id][0]:
            best[r.customer_id] = (
                order,
                Address(_clean(r.city), _clean(r.zip), _clean(r.street), _clean(r.house), _clean(r.flat)),
            )
    emails: dict[int, str] = {}
    cc = customercontacts
    for r in conn.execute(
        select(cc.c.customerid, cc.c.contact, cc.c.type).where(cc.c.customerid.in_(ids)).order_by(cc.c.id)
    ):
        bits = r.type or 0
        if bits & CONTACT_EMAIL and not bits & CONTACT_DISABLED and _clean(r.contact):
            emails.setdefault(r.customerid, _clean(r.contact))
    c = customers
    for r in conn.execute(
        select(c.c.id, c.c.type, c.c.lastname, c.c.name, c.c.ssn, c.c.ten, c.c.deleted, c.c.moddate)
        .where(c.c.id.in_(ids))
        .order_by(c.c.id)
    ):
        yield CustomerExport(
            id=r.id,
            type=int(r.type or 0),
            lastname=_clean(r.lastname),
            name=_clean(r.name),
            ssn=_clean(r.ssn),
            ten=_clean(r.ten),
            email=emails.get(r.id, ""),
            address=best.get(r.id, (0, Address()))[1],
            deleted=bool(r.deleted),
            moddate=int(r.moddate or 0),
        )
