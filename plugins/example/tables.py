"""The example plugin's own table (created by its migration under sql/)."""

from sqlalchemy import BigInteger, Column, Integer, MetaData, SmallInteger, String, Table

metadata = MetaData()

example_notes = Table(
    "example_notes",
    metadata,
    Column("customerid", Integer, primary_key=True),
    Column("greeting", String(255), nullable=False),
    Column("blocked", SmallInteger, nullable=False),
    Column("mtime", BigInteger, nullable=False),
)
