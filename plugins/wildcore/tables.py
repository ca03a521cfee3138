"""The plugin's own tables, declared once: the code queries them and the migration step
``sql/<dialect>/2026120700.tables`` creates them from these declarations in each dialect's DDL.

- ``wildcore_onus``: ONU serials or MACs of customers, for ISPs that keep them outside LMS's network
  devices (the feed and the card read them beside ``netdevices.serialnumber``);
- ``wildcore_misses``: what the diagnostics calls could not find in Wildcore (one row per customer and
  target, refreshed on every call, removed when the target is found again), read by the admin page.
  Only answers Wildcore actually gave are stored: a timeout or a 5xx stores nothing.

Where the dialects truly differ the declaration says so: the ONU lookup matches ``UPPER(ident)``, an
expression index on PostgreSQL and SQLite; MariaDB has no expression indexes but compares
case-insensitively, so a plain index on ``ident`` serves the same lookup there.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)

from lmsplugins.lms.tables import customers

metadata = MetaData()
_TABLE_OPTIONS = {"sqlite_autoincrement": True, "mysql_engine": "InnoDB"}


def _customer_fk() -> ForeignKey:
    return ForeignKey(customers.c.id, ondelete="CASCADE", onupdate="CASCADE")


wildcore_onus = Table(
    "wildcore_onus",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customerid", Integer, _customer_fk(), nullable=False),
    Column("ident", String(64), nullable=False),
    Column("description", String(255), nullable=False, server_default=text("''"), default=""),
    UniqueConstraint("customerid", "ident", name="wildcore_onus_customerid_ident_key"),
    **_TABLE_OPTIONS,
)
Index("wildcore_onus_ident_idx", func.upper(wildcore_onus.c.ident)).ddl_if(dialect=("postgresql", "sqlite"))
Index("wildcore_onus_ident", wildcore_onus.c.ident).ddl_if(dialect="mysql")

wildcore_misses = Table(
    "wildcore_misses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customerid", Integer, _customer_fk(), nullable=False),
    Column("target", String(128), nullable=False),
    Column("reason", String(255), nullable=False, server_default=text("''"), default=""),
    Column("seen", BigInteger, nullable=False, server_default=text("0"), default=0),
    UniqueConstraint("customerid", "target", name="wildcore_misses_customerid_target_key"),
    **_TABLE_OPTIONS,
)

TABLES = (wildcore_onus, wildcore_misses)
