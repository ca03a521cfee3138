"""The example plugin's own table, declared once: the code queries it and the migration step
``sql/<dialect>/2026112300.tables`` creates it from this declaration in each dialect's DDL."""

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, MetaData, SmallInteger, String, Table, text

from lmsplugins.lms.tables import customers

metadata = MetaData()

example_notes = Table(
    "example_notes",
    metadata,
    Column(
        "customerid", Integer, ForeignKey(customers.c.id, ondelete="CASCADE"), primary_key=True, autoincrement=False
    ),
    Column("greeting", String(255), nullable=False, server_default=text("''")),
    Column("blocked", SmallInteger, nullable=False, server_default=text("0")),
    Column("mtime", BigInteger, nullable=False, server_default=text("0")),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

TABLES = (example_notes,)
