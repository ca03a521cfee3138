"""Address dictionaries for APIs that export them (UserSide's city, street and house lists) and the
ids that tie a customer's address to them.

LMS keeps an address twice over: free text in ``addresses`` (city, street, house, flat) and, when the
operator picked it from the TERYT dictionaries, ids (``city_id``, ``street_id``) into
``location_cities`` and ``location_streets``. Buildings (``location_buildings``) have no link from
``addresses`` at all; a building is *matched* on (city id, street id, building number).

A consumer such as usm_billing creates a house object for every house id it is sent and links
customers to it, so ids must be the same on every run. Real dictionary rows keep their LMS id; where
LMS has no row (free-text city or street, a house number with no building row) the id is synthetic: a
hash of the normalised names, offset above any serial id (``SYNTHETIC_BASE``) so it can never take a
real row's id, and 47 bits wide, so 100,000 houses collide with a chance of about one in 30,000. The
same address text gives the same id whatever else the database holds.

Only addresses used by non-deleted customers are exported (a TERYT import holds the whole country).
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from lmsplugins.lms.tables import addresses, customer_addresses, customers
from lmsplugins.lms.tables_location import location_buildings, location_cities, location_street_types, location_streets

POSTAL, BILLING, LOCATION, DEFAULT_LOCATION = 0, 1, 2, 3
SYNTHETIC_BASE = 2**31
_SYNTHETIC_BITS = 47


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def synthetic_id(kind: str, *parts: object) -> int:
    """A stable id for a dictionary entry LMS has no row for, above every real serial id."""
    key = "\x1f".join([kind, *(_norm(str(p)) if p is not None else "" for p in parts)])
    digest = int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "big")
    return SYNTHETIC_BASE + digest % (2**_SYNTHETIC_BITS)


def city_id(lms_city_id: int | None, city: str | None) -> int | None:
    if lms_city_id:
        return int(lms_city_id)
    return synthetic_id("city", city) if _norm(city) else None


def street_id(city: int | None, lms_street_id: int | None, street: str | None) -> int | None:
    if lms_street_id:
        return int(lms_street_id)
    return synthetic_id("street", city, street) if _norm(street) else None


def house_id(building_id: int | None, city: int | None, street: int | None, house: str | None) -> int | None:
    """The building's id, or a synthetic one for (city, street, number); None without a number."""
    if building_id:
        return int(building_id)
    if city is None or not _norm(house):
        return None
    return synthetic_id("house", city, street, (house or "").upper())


@dataclass(frozen=True)
class AddressIds:
    city_id: int | None
    street_id: int | None
    house_id: int | None


def address_ids(row: Any) -> AddressIds:
    """Ids of an address row carrying ``city_id, city, street_id, street, house, building_id``."""
    c = city_id(row.city_id, row.city)
    s = street_id(c, row.street_id, row.street)
    return AddressIds(c, s, house_id(row.building_id, c, s, row.house))


def building_join() -> ColumnElement[bool]:
    """The match of an ``addresses`` row to a ``location_buildings`` row, as LMS's own forms match them."""
    b, a = location_buildings, addresses
    return and_(
        b.c.city_id == a.c.city_id,
        func.coalesce(b.c.street_id, 0) == func.coalesce(a.c.street_id, 0),
        b.c.building_num == a.c.house,
    )


def address_columns() -> list[Any]:
    a = addresses
    return [a.c.id.label("address_id"), a.c.city_id, a.c.city, a.c.street_id, a.c.street, a.c.house, a.c.flat, a.c.zip]


class BuildingIndex:
    """Address id -> the building it matches, for the addresses of given types, in two sorted arrays.

    Matching in each chunk's query made PostgreSQL sort or scan ``location_buildings`` once per chunk
    (a TERYT import holds millions of rows, and LMS indexes only ``city_id``); one hash join for the
    whole export, kept as 16 bytes per matched address, costs one scan.
    """

    def __init__(self, pairs: Iterable[tuple[int, int]] = ()):
        self._addresses = array("q")
        self._buildings = array("q")
        for address_id, building_id in pairs:
            self._addresses.append(address_id)
            self._buildings.append(building_id)

    @classmethod
    def load(cls, conn: Connection, types: Iterable[int], customer_id: int | None = None) -> BuildingIndex:
        a, ca, b = addresses, customer_addresses, location_buildings
        query = (
            select(a.c.id, func.min(b.c.id))
            .select_from(ca.join(a, a.c.id == ca.c.address_id).join(b, building_join()))
            .where(ca.c.type.in_(list(types)))
            .where(ca.c.customer_id == customer_id if customer_id is not None else ca.c.type.is_not(None))
            .group_by(a.c.id)
            .order_by(a.c.id)
        )
        return cls((int(r[0]), int(r[1])) for r in conn.execute(query.execution_options(yield_per=20000)))

    def get(self, address_id: int) -> int | None:
        i = bisect_left(self._addresses, address_id)
        if i < len(self._addresses) and self._addresses[i] == address_id:
            return int(self._buildings[i])
        return None

    def __len__(self) -> int:
        return len(self._addresses)


def used_addresses(conn: Connection, types: Iterable[int]) -> Iterator[Any]:
    """Every address of a non-deleted customer with one of *types*, with its dictionary names and its
    matched building (zip and coordinates), by customer (so a caller can choose per customer which of
    them it sends), highest address type first."""
    a, ca, b = addresses, customer_addresses, location_buildings
    lc, ls, lt = location_cities, location_streets, location_street_types
    query = (
        select(
            ca.c.customer_id,
            ca.c.type,
            *address_columns(),
            b.c.id.label("building_id"),
            b.c.zip.label("building_zip"),
            b.c.latitude,
            b.c.longitude,
            lc.c.name.label("city_name"),
            ls.c.name.label("street_name"),
            ls.c.name2.label("street_name2"),
            lt.c.name.label("street_type"),
        )
        .select_from(
            ca.join(a, a.c.id == ca.c.address_id)
            .join(customers, customers.c.id == ca.c.customer_id)
            .outerjoin(b, building_join())
            .outerjoin(lc, lc.c.id == a.c.city_id)
            .outerjoin(ls, ls.c.id == a.c.street_id)
            .outerjoin(lt, lt.c.id == ls.c.typeid)
        )
        .where(customers.c.deleted == 0, ca.c.type.in_(list(types)))
        .order_by(ca.c.customer_id, ca.c.type.desc(), a.c.id, b.c.id)
    )
    yield from conn.execute(query.execution_options(yield_per=5000))
