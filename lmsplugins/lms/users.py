"""LMS users (``users``, ``userdivisions``): the rows the web login reads and the columns it writes.

LMS's own login updates ``lastlogindate``/``lastloginip`` on success, ``failedlogindate``/
``failedloginip`` on failure, and replaces a legacy MD5 password with bcrypt; our login does the same
through these functions, so LMS's user list shows our logins like its own. The two-factor columns
(``twofactorauth``, ``twofactorauthsecretkey``, ``trustedhosts``) are read with the rest.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.engine import Connection, Row

from lmsplugins.lms.tables import userdivisions, users


def _active_users():
    u = users.c
    return select(
        u.id,
        u.login,
        u.firstname,
        u.lastname,
        u.rights,
        u.hosts,
        u.trustedhosts,
        u.passwd,
        u.access,
        u.accessfrom,
        u.accessto,
        u.twofactorauth,
        u.twofactorauthsecretkey,
        u.passwdforcechange,
        u.passwdexpiration,
        u.passwdlastchange,
    ).where(u.deleted == 0)


def find_user(conn: Connection, *, user_id: int | None = None, login: str | None = None) -> Row[Any] | None:
    """A not-deleted user by id or login, with the columns the login rules need."""
    if user_id is not None:
        return conn.execute(_active_users().where(users.c.id == user_id)).first()
    if login:
        return conn.execute(_active_users().where(users.c.login == login)).first()
    return None


def first_division(conn: Connection, user_id: int) -> int | None:
    """The user's division with the lowest id (the context LMS's settings resolve in)."""
    return conn.execute(
        select(userdivisions.c.divisionid)
        .where(userdivisions.c.userid == user_id)
        .order_by(userdivisions.c.divisionid)
        .limit(1)
    ).scalar()


def has_division(conn: Connection, user_id: int) -> bool:
    return bool(conn.execute(select(exists().where(userdivisions.c.userid == user_id))).scalar())


def record_login(conn: Connection, user_id: int, when: int, ip: str, new_passwd: str | None = None) -> None:
    """A successful login, as LMS records it; *new_passwd* replaces a legacy hash."""
    values: dict[str, Any] = {"lastlogindate": when, "lastloginip": ip[:40]}
    if new_passwd is not None:
        values["passwd"] = new_passwd
    conn.execute(users.update().where(users.c.id == user_id).values(**values))


def set_password(conn: Connection, user_id: int, passwd: str) -> None:
    """Replace a legacy hash after the password was proved, before the login itself is complete."""
    conn.execute(users.update().where(users.c.id == user_id).values(passwd=passwd))


def record_failed_login(conn: Connection, user_id: int, when: int, ip: str) -> None:
    conn.execute(users.update().where(users.c.id == user_id).values(failedlogindate=when, failedloginip=ip[:40]))
