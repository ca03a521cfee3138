"""LMS core tables of the address dictionaries (TERYT: cities, street types, streets, buildings) and
other customer-side tables the served APIs read (``stats``, the per-node traffic counters).

Declared on the same ``metadata`` as :mod:`lmsplugins.lms.tables` (which imports this module before it
lists ``CORE_TABLES``), so the embedded SQLite schema and the schema compatibility test cover them
too. Split off only to keep one module a readable size; the rules are those of ``tables.py``.

Only the columns the host reads are declared. Foreign keys to tables the host never declares
(``location_city_types``, ``location_boroughs``, ``nodesessions``) are left out: on the embedded SQLite
database those columns are plain integers. ``stats`` has no primary key in LMS and none here.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, Numeric, SmallInteger, String, Table, UniqueConstraint

from lmsplugins.lms.tables import _c, _fk, _id, metadata

location_cities = Table(
    "location_cities",
    metadata,
    _id(),
    Column("ident", String(8), nullable=False),
    Column("name", String(64), nullable=False),
    Column("cityid", Integer, nullable=True),
    Column("type", Integer, nullable=True),
    Column("boroughid", Integer, nullable=True),
)

location_street_types = Table(
    "location_street_types",
    metadata,
    _id(),
    Column("name", String(8), nullable=False),
)

location_streets = Table(
    "location_streets",
    metadata,
    _id(),
    Column("name", String(128), nullable=False),
    Column("name2", String(128), nullable=True),
    Column("ident", String(8), nullable=False),
    Column("typeid", Integer, _fk("location_street_types.id", "SET NULL"), nullable=True),
    Column("cityid", Integer, _fk("location_cities.id"), nullable=False),
    UniqueConstraint("cityid", "name", "ident"),
)

location_buildings = Table(
    "location_buildings",
    metadata,
    _id(),
    Column("city_id", Integer, _fk("location_cities.id"), nullable=False),
    Column("street_id", Integer, _fk("location_streets.id"), nullable=True),
    Column("building_num", String(20), nullable=True),
    Column("zip", String(10), nullable=True),
    Column("latitude", Numeric(10, 6), nullable=True),
    Column("longitude", Numeric(10, 6), nullable=True),
    _c("updated", SmallInteger, 0, nullable=True),
    Column("extid", String(128), nullable=True),
    UniqueConstraint("extid", name="location_buildings_extid_ukey"),
    Index("location_cityid_index", "city_id"),
)

stats = Table(
    "stats",
    metadata,
    Column("nodeid", Integer, _fk("nodes.id", "SET NULL"), nullable=True),
    _c("dt", BigInteger, 0),
    _c("upload", BigInteger, 0, nullable=True),
    _c("download", BigInteger, 0, nullable=True),
    UniqueConstraint("nodeid", "dt", name="stats_nodeid_dt_key"),
)
