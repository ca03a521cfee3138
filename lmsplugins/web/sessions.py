"""Server-side records behind the session cookie: logins that logout can end, and pending 2FA steps.

Flask's session is a signed cookie: whoever copies it holds the session until it times out, and
anything put in it can be read by base64-decoding it. So the cookie carries only random tokens,
and what they stand for lives in ``lmsplugins_state`` (shared by every worker):

- ``web.session.<digest>`` -> the user id of a form login; logout deletes it, so a copied cookie
  stops working (within the user cache's few seconds in other workers, at once in this one);
- ``web.2fa.<digest>`` -> the login between its password and code steps (user, login, password
  fingerprint, whether the password was right, start time, the page to go to after it) as JSON,
  never sent to the browser.

Only a SHA-256 digest of each token is stored, so reading the table does not yield live cookies.
Expired records are pruned whenever a new one is written.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time

from sqlalchemy import and_, delete, select, update
from sqlalchemy.engine import Connection, Engine

from lmsplugins.store import state
from lmsplugins.web.auth import PENDING_SECONDS, PendingCode

SESSION_PREFIX = "web.session."
PENDING_PREFIX = "web.2fa."
TOUCH_SECONDS = 300
"""A live session's record is re-stamped at most this often, so idle pruning spares it."""


def _name(prefix: str, token: str) -> str:
    return prefix + hashlib.sha256(token.encode("utf-8")).hexdigest()[:40]


def _prune(conn: Connection, prefix: str, older_than: int) -> None:
    conn.execute(delete(state).where(and_(state.c.name.like(prefix + "%"), state.c.mtime < older_than)))


def start_session(engine: Engine, user_id: int, idle_timeout: int, now: int | None = None) -> str:
    """A new login's token; records idle longer than *idle_timeout* are dropped on the way."""
    now = int(time.time()) if now is None else now
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        _prune(conn, SESSION_PREFIX, now - idle_timeout - TOUCH_SECONDS)
        conn.execute(state.insert().values(name=_name(SESSION_PREFIX, token), value=str(user_id), mtime=now))
    return token


def session_user(conn: Connection, token: object) -> int | None:
    """The user id a live session token stands for, or None (unknown, ended, malformed)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    value = conn.execute(select(state.c.value).where(state.c.name == _name(SESSION_PREFIX, token))).scalar()
    try:
        return int(value) if value else None
    except ValueError:
        return None


def touch_session(engine: Engine, token: str, now: int | None = None) -> None:
    now = int(time.time()) if now is None else now
    with engine.begin() as conn:
        conn.execute(update(state).where(state.c.name == _name(SESSION_PREFIX, token)).values(mtime=now))


def end_session(engine: Engine, token: object) -> None:
    if isinstance(token, str) and token:
        with engine.begin() as conn:
            conn.execute(delete(state).where(state.c.name == _name(SESSION_PREFIX, token)))


def put_pending(engine: Engine, pending: PendingCode, target: str = "") -> str:
    """Keep *pending* (and *target*, where the login leads) on the server; the token is all the browser gets."""
    token = secrets.token_urlsafe(32)
    value = json.dumps(
        {
            "u": pending.user_id,
            "l": pending.login,
            "pt": pending.passwd_tag,
            "ok": pending.password_ok,
            "t": pending.started,
            "next": target,
        }
    )
    with engine.begin() as conn:
        _prune(conn, PENDING_PREFIX, pending.started - PENDING_SECONDS)
        conn.execute(state.insert().values(name=_name(PENDING_PREFIX, token), value=value, mtime=pending.started))
    return token


def get_pending(engine: Engine, token: object, now: float | None = None) -> tuple[PendingCode, str] | None:
    """The pending login behind *token* and its target page, or None when unknown, malformed or too old."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    with engine.connect() as conn:
        value = conn.execute(select(state.c.value).where(state.c.name == _name(PENDING_PREFIX, token))).scalar()
    if not value:
        return None
    try:
        data = json.loads(value)
        pending = PendingCode(int(data["u"]), str(data["l"]), str(data["pt"]), data["ok"] is True, int(data["t"]))
        target = str(data.get("next") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    now = time.time() if now is None else now
    if not 0 <= now - pending.started <= PENDING_SECONDS:
        return None
    return pending, target


def drop_pending(engine: Engine, token: object) -> None:
    if isinstance(token, str) and token:
        with engine.begin() as conn:
            conn.execute(delete(state).where(state.c.name == _name(PENDING_PREFIX, token)))
