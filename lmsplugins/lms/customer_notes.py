"""The customer's notes field (``customers.notes``), written by integrations that own a comment
(UserSide's ``change_user_data type=comment``); ``moddate`` is stamped as LMS's own form does."""

from __future__ import annotations

import time

from sqlalchemy.engine import Connection

from lmsplugins.lms.tables import customers


def set_notes(conn: Connection, customer_id: int, text: str) -> bool:
    """Replace the notes of a non-deleted customer; False when there is no such customer."""
    stmt = (
        customers.update()
        .where(customers.c.id == customer_id, customers.c.deleted == 0)
        .values(notes=text, moddate=int(time.time()))
    )
    return bool(conn.execute(stmt).rowcount)
