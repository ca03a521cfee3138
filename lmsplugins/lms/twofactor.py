"""LMS's two-factor code history (``twofactorauthcodehistory``): wrong codes counted, used codes refused.

LMS's ``Auth::VerifyUser`` keeps one row per code entered: ``success=0`` for a wrong one,
``success=1`` for an accepted one, with ``uts`` (unix seconds) and ``ipaddr`` (the IPv4 address as
``INET_ATON`` gives it, NULL otherwise). Rows older than :data:`HISTORY_SECONDS` no longer count:
ten wrong codes from one address within that time lock the code step, and an accepted code cannot
be used again while it is remembered. Writing the same rows means a lock-out or a used code is the
same in LMS and here, whichever of the two the user tries next.
"""

from __future__ import annotations

import ipaddress

from sqlalchemy import delete, exists, func, insert, or_, select
from sqlalchemy.engine import Connection

from lmsplugins.lms.tables import twofactorauthcodehistory as history
from lmsplugins.lms.tables import users

HISTORY_SECONDS = 3 * 60
MAX_FAILURES = 10
_MYSQL_INT_MAX = 2**31 - 1


def ip_number(conn: Connection, ip: str | None) -> int | None:
    """``INET_ATON(ip)`` for an IPv4 address, else None.

    LMS's MySQL schema declares ``ipaddr`` as a signed ``int``, which cannot hold addresses from
    128.0.0.0 up; those are stored as NULL there rather than failing the login on strict servers.
    """
    try:
        addr = ipaddress.ip_address((ip or "").strip().replace("::ffff:", ""))
    except ValueError:
        return None
    if addr.version != 4:
        return None
    number = int(addr)
    if conn.dialect.name in ("mysql", "mariadb") and number > _MYSQL_INT_MAX:
        return None
    return number


def _same_address(ipaddr: int | None):
    return history.c.ipaddr.is_(None) if ipaddr is None else history.c.ipaddr == ipaddr


def lock_user(conn: Connection, user_id: int) -> None:
    """Hold the user's row until the transaction ends, so two requests cannot both spend one code."""
    conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())


def recent_failures(conn: Connection, user_id: int, ipaddr: int | None, now: int) -> int:
    """Wrong codes from this address still counting; older ones are deleted, as LMS does."""
    conn.execute(
        delete(history).where(
            history.c.userid == user_id,
            history.c.success == 0,
            history.c.uts < now - HISTORY_SECONDS,
            or_(_same_address(ipaddr), history.c.ipaddr.is_(None)),
        )
    )
    return int(
        conn.execute(
            select(func.count())
            .select_from(history)
            .where(history.c.userid == user_id, history.c.success == 0, _same_address(ipaddr))
        ).scalar_one()
    )


def code_used(conn: Connection, user_id: int, code: str, now: int) -> bool:
    """True when *code* was accepted for this user within the remembered time."""
    conn.execute(
        delete(history).where(
            history.c.userid == user_id, history.c.success == 1, history.c.uts < now - HISTORY_SECONDS
        )
    )
    return bool(
        conn.execute(
            select(exists().where(history.c.userid == user_id, history.c.success == 1, history.c.authcode == code))
        ).scalar()
    )


def record_code(conn: Connection, user_id: int, code: str, ipaddr: int | None, now: int, success: bool) -> None:
    conn.execute(
        insert(history).values(userid=user_id, authcode=code[:10], uts=now, ipaddr=ipaddr, success=int(success))
    )
