"""The embedded SQLite LMS schema, generated from :mod:`lmsplugins.lms.tables`.

The demo and the embedded test tier need an LMS database without a PostgreSQL server. Rather than
maintain a third hand-written schema, we create the tables the host declares and add, as triggers,
the one piece of LMS behaviour the host relies on: ``customerbalances`` kept from ``cash``.

A demo database made by an older release is brought up to the current declarations the same way:
missing tables are created and missing columns added (SQLite's ``ALTER TABLE ... ADD COLUMN``), so
``lmsplugins demo --keep`` style reuse never meets a column the code now reads but the file lacks.
"""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import CreateColumn

from lmsplugins.lms.tables import CORE_DBVERSION, metadata

_BALANCE_TRIGGERS = (
    """
    CREATE TRIGGER IF NOT EXISTS cash_balance_insert AFTER INSERT ON cash
    WHEN NEW.customerid IS NOT NULL BEGIN
        INSERT OR IGNORE INTO customerbalances (customerid, balance) VALUES (NEW.customerid, 0);
        UPDATE customerbalances
           SET balance = round(balance + NEW.value * COALESCE(NEW.currencyvalue, 1), 2)
         WHERE customerid = NEW.customerid;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS cash_balance_delete AFTER DELETE ON cash
    WHEN OLD.customerid IS NOT NULL BEGIN
        UPDATE customerbalances
           SET balance = round(balance - OLD.value * COALESCE(OLD.currencyvalue, 1), 2)
         WHERE customerid = OLD.customerid;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS cash_balance_update AFTER UPDATE OF value, customerid, currencyvalue ON cash
    BEGIN
        UPDATE customerbalances
           SET balance = round(balance - OLD.value * COALESCE(OLD.currencyvalue, 1), 2)
         WHERE customerid = OLD.customerid;
        INSERT OR IGNORE INTO customerbalances (customerid, balance)
            SELECT NEW.customerid, 0 WHERE NEW.customerid IS NOT NULL;
        UPDATE customerbalances
           SET balance = round(balance + NEW.value * COALESCE(NEW.currencyvalue, 1), 2)
         WHERE customerid = NEW.customerid;
    END
    """,
)


def _add_missing_columns(conn: Connection) -> list[str]:
    inspector = inspect(conn)
    added = []
    for table in metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                ddl = CreateColumn(column).compile(dialect=conn.dialect)
                conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN {ddl}')
                added.append(f"{table.name}.{column.name}")
    return added


def create_core_schema(engine: Engine) -> list[str]:
    """Create (or complete) the LMS core tables on an SQLite engine and stamp ``dbinfo.dbversion``.

    Returns the columns added to tables that already existed (empty for a new database).
    """
    if engine.dialect.name != "sqlite":
        raise ValueError("the generated core schema is for the embedded SQLite database only")
    metadata.create_all(engine)
    with engine.begin() as conn:
        added = _add_missing_columns(conn)
        for ddl in _BALANCE_TRIGGERS:
            conn.execute(text(ddl))
        conn.execute(
            text("INSERT OR IGNORE INTO dbinfo (keytype, keyvalue) VALUES ('dbversion', :v)"), {"v": CORE_DBVERSION}
        )
    return added
