"""The plugin's own tables (SQLAlchemy Core, queries only; created by ``sql/<dialect>/*.sql``).

- ``wildcore_onus``: ONU serials or MACs of customers, for ISPs that keep them outside LMS's network
  devices (the feed and the card read them beside ``netdevices.serialnumber``);
- ``wildcore_misses``: what the diagnostics calls could not find in Wildcore (one row per customer and
  target, refreshed on every call, removed when the target is found again), read by the admin page.
  Only answers Wildcore actually gave are stored: a timeout or a 5xx stores nothing.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, UniqueConstraint, text

metadata = MetaData()

wildcore_onus = Table(
    "wildcore_onus",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customerid", Integer, nullable=False),
    Column("ident", String(64), nullable=False),
    Column("description", String(255), nullable=False, server_default=text("''"), default=""),
    UniqueConstraint("customerid", "ident"),
)

wildcore_misses = Table(
    "wildcore_misses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customerid", Integer, nullable=False),
    Column("target", String(128), nullable=False),
    Column("reason", String(255), nullable=False, server_default=text("''"), default=""),
    Column("seen", BigInteger, nullable=False, server_default=text("0"), default=0),
    UniqueConstraint("customerid", "target"),
)

TABLES = (wildcore_onus, wildcore_misses)
