"""Single sign-on with a live LMS session: the ``SID`` cookie and LMS's ``sessions`` table.

Facts about LMS's ``lib/Session.class.php`` (chilek/lms) this module relies on:

- the browser carries cookie ``SID``; the row ``sessions.id = SID`` holds ``ctime``/``mtime``/
  ``atime`` (unix seconds), ``vdata`` and ``content``;
- ``content`` is PHP ``serialize()`` of an array; a logged-in session has ``session_login`` (and
  ``session_id``, the user id) in it;
- ``vdata`` is ``serialize()`` of the request's ``REMOTE_ADDR``, ``REMOTE_HOST``, ``HTTP_USER_AGENT``,
  ``HTTP_VIA``, ``HTTP_X_FORWARDED_FOR``, ``SERVER_NAME`` and ``SERVER_PORT`` (those present); LMS drops
  a session whose vdata differs, so a cookie copied to another browser is worthless;
- a session is expired when *both* ``mtime`` and ``atime`` are older than ``phpui.timeout`` seconds
  (600 when the setting is unset or 0).

A session LMS has not finished logging in is refused: one still waiting for its two-factor code
(``session_authcoderequired``), and one LMS holds on its password or two-factor set-up page until
the user complies (``session_passwdrequiredchange``, ``session_twofactorauthrequiredchange``).

We check the user agent and the client address from vdata (not server name and port: we are a
different server), never write the LMS row, and never create LMS sessions. The PHP parser below
reads only data types (no objects are instantiated; an object becomes a dict) and refuses anything
malformed, because the input comes from a cookie-selected database row.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from lmsplugins.lms.tables import sessions

DEFAULT_TIMEOUT = 600
_MAX_SID = 100


class PHPSerializeError(ValueError):
    """The text is not a PHP ``serialize()`` value we can read."""


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def expect(self, token: bytes) -> None:
        if self.data[self.pos : self.pos + len(token)] != token:
            raise PHPSerializeError(f"expected {token!r} at byte {self.pos}")
        self.pos += len(token)

    def until(self, stop: bytes) -> bytes:
        end = self.data.find(stop, self.pos)
        if end < 0:
            raise PHPSerializeError(f"missing {stop!r} after byte {self.pos}")
        chunk = self.data[self.pos : end]
        self.pos = end + len(stop)
        return chunk

    def integer(self, stop: bytes) -> int:
        raw = self.until(stop)
        try:
            return int(raw)
        except ValueError:
            raise PHPSerializeError(f"bad integer {raw[:20]!r}") from None

    def string(self) -> str:
        length = self.integer(b":")
        if length < 0 or self.pos + length + 2 > len(self.data):
            raise PHPSerializeError("string length out of range")
        self.expect(b'"')
        raw = self.data[self.pos : self.pos + length]
        self.pos += length
        self.expect(b'"')
        return raw.decode("utf-8", errors="replace")

    def entries(self, depth: int) -> dict[Any, Any]:
        count = self.integer(b":")
        self.expect(b"{")
        out: dict[Any, Any] = {}
        for _ in range(count):
            key = self.value(depth + 1)
            if not isinstance(key, int | str):
                raise PHPSerializeError("array key must be int or string")
            out[key] = self.value(depth + 1)
        self.expect(b"}")
        return out

    def value(self, depth: int = 0) -> Any:
        if depth > 64:
            raise PHPSerializeError("nesting too deep")
        if self.pos >= len(self.data):
            raise PHPSerializeError("unexpected end of data")
        kind = self.data[self.pos : self.pos + 1]
        if kind == b"N":
            self.expect(b"N;")
            return None
        self.pos += 1
        self.expect(b":")
        if kind == b"b":
            return self.integer(b";") != 0
        if kind in (b"i", b"r", b"R"):
            return self.integer(b";")
        if kind == b"d":
            raw = self.until(b";").decode("ascii", errors="replace")
            try:
                return float(raw.replace("INF", "inf").replace("NAN", "nan"))
            except ValueError:
                raise PHPSerializeError(f"bad float {raw[:20]!r}") from None
        if kind == b"s":
            text = self.string()
            self.expect(b";")
            return text
        if kind == b"a":
            return self.entries(depth)
        if kind == b"O":
            class_name = self.string()
            self.expect(b":")
            obj = self.entries(depth)
            obj.setdefault("__class__", class_name)
            return obj
        raise PHPSerializeError(f"unsupported type {kind!r} at byte {self.pos - 1}")


def php_unserialize(text: str | bytes) -> Any:
    """Parse a PHP ``serialize()`` string (lengths are in bytes, as PHP counts them)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    reader = _Reader(data)
    result = reader.value()
    if reader.pos != len(data):
        raise PHPSerializeError(f"trailing data at byte {reader.pos}")
    return result


def php_serialize(value: Any) -> str:
    """PHP ``serialize()`` of plain data; used to write sessions the way LMS does (tests, demo)."""
    if value is None:
        return "N;"
    if isinstance(value, bool):
        return f"b:{int(value)};"
    if isinstance(value, int):
        return f"i:{value};"
    if isinstance(value, float):
        return f"d:{value!r};"
    if isinstance(value, str):
        return f's:{len(value.encode("utf-8"))}:"{value}";'
    if isinstance(value, Mapping):
        items = "".join(php_serialize(k) + php_serialize(v) for k, v in value.items())
        return f"a:{len(value)}:{{{items}}}"
    if isinstance(value, list | tuple):
        return php_serialize(dict(enumerate(value)))
    raise TypeError(f"cannot serialize {type(value).__name__}")


@dataclass(frozen=True)
class LMSSession:
    sid: str
    login: str
    user_id: int | None


def session_timeout(raw: str | None) -> int:
    """``phpui.timeout`` as LMS's Session applies it: 0, empty or garbage means 600 seconds."""
    try:
        value = int(str(raw).strip()) if raw is not None else 0
    except ValueError:
        value = 0
    return value if value > 0 else DEFAULT_TIMEOUT


def _vdata_matches(vdata: str, user_agent: str | None, client_ip: str | None, check_ip: bool) -> bool:
    if not vdata:
        return True
    try:
        parsed = php_unserialize(vdata)
    except PHPSerializeError:
        return False
    if parsed is None:
        return True
    if not isinstance(parsed, dict):
        return False
    agent = parsed.get("HTTP_USER_AGENT")
    if agent is not None and agent != (user_agent or ""):
        return False
    if check_ip and client_ip:
        # LMS itself may sit behind the same proxy: its REMOTE_ADDR is then the proxy and the
        # client is in X-Forwarded-For; either one matching the client we see is the same client.
        seen = {str(parsed.get("REMOTE_ADDR", "")).replace("::ffff:", "")}
        forwarded = str(parsed.get("HTTP_X_FORWARDED_FOR", ""))
        seen.update(p.strip().replace("::ffff:", "") for p in forwarded.split(",") if p.strip())
        if "REMOTE_ADDR" in parsed and client_ip.replace("::ffff:", "") not in seen:
            return False
    return True


def lookup_session(
    conn: Connection,
    sid: str,
    timeout: int,
    user_agent: str | None,
    client_ip: str | None,
    check_ip: bool = True,
    now: int | None = None,
) -> LMSSession | None:
    """The logged-in LMS session named by cookie *sid*, or None (unknown, expired, foreign, anonymous)."""
    if not sid or len(sid) > _MAX_SID or not sid.isalnum():
        return None
    row = conn.execute(
        select(sessions.c.mtime, sessions.c.atime, sessions.c.vdata, sessions.c.content).where(sessions.c.id == sid)
    ).first()
    if row is None:
        return None
    now = int(time.time()) if now is None else now
    if (row.mtime or 0) < now - timeout and (row.atime or 0) < now - timeout:
        return None
    if not _vdata_matches(row.vdata or "", user_agent, client_ip, check_ip):
        return None
    try:
        content = php_unserialize(row.content or "")
    except PHPSerializeError:
        return None
    if not isinstance(content, dict):
        return None
    login = content.get("session_login")
    if not isinstance(login, str) or not login:
        return None
    if content.get("session_authcoderequired"):
        return None
    if content.get("session_passwdrequiredchange") or content.get("session_twofactorauthrequiredchange"):
        return None
    user_id = content.get("session_id")
    return LMSSession(sid=sid, login=login, user_id=user_id if isinstance(user_id, int) else None)
