"""``uiconfig`` and ``dbinfo``: LMS's settings rows and its schema-version rows.

Writes follow what LMS's own UI does, so LMS shows the same values: one row per (section, var, user,
division), ``configid`` linking an override to its global row, and the value stored as text.
"""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from lmsplugins.lms.tables import dbinfo, uiconfig


def _scope(userid: int | None, divisionid: int | None):
    t = uiconfig
    return and_(
        t.c.userid.is_(None) if userid is None else t.c.userid == userid,
        t.c.divisionid.is_(None) if divisionid is None else t.c.divisionid == divisionid,
    )


def write_uiconfig(
    conn: Connection,
    key: str,
    value: str,
    *,
    description: str = "",
    userid: int | None = None,
    divisionid: int | None = None,
    disabled: int = 0,
) -> int:
    """Create or update the ``uiconfig`` row for *key* in the given scope; returns its id."""
    section, var = key.split(".", 1)
    t = uiconfig
    where = and_(t.c.section == section, t.c.var == var, _scope(userid, divisionid))
    row_id = conn.execute(select(t.c.id).where(where)).scalar()
    if row_id is not None:
        conn.execute(t.update().where(t.c.id == row_id).values(value=value, disabled=disabled))
        return int(row_id)
    configid = None
    if userid is not None or divisionid is not None:
        configid = conn.execute(
            select(t.c.id).where(t.c.section == section, t.c.var == var, _scope(None, None))
        ).scalar()
    result = conn.execute(
        t.insert().values(
            section=section,
            var=var,
            value=value,
            description=description,
            disabled=disabled,
            userid=userid,
            divisionid=divisionid,
            configid=configid,
        )
    )
    return int(result.inserted_primary_key[0])


def read_uiconfig(conn: Connection, key: str) -> list[dict]:
    """Every row of *key* (all scopes, enabled or not), for diagnostics and the settings page."""
    section, var = key.split(".", 1)
    t = uiconfig
    rows = conn.execute(select(t).where(t.c.section == section, t.c.var == var).order_by(t.c.id)).mappings()
    return [dict(r) for r in rows]


def get_dbinfo(conn: Connection, key: str) -> str | None:
    return conn.execute(select(dbinfo.c.keyvalue).where(dbinfo.c.keytype == key)).scalar()


def set_dbinfo(conn: Connection, key: str, value: str) -> None:
    updated = conn.execute(dbinfo.update().where(dbinfo.c.keytype == key).values(keyvalue=value)).rowcount
    if not updated:
        conn.execute(dbinfo.insert().values(keytype=key, keyvalue=value))
