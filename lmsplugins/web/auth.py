"""Login as LMS checks it (``Auth::VerifyUser``, specs/lms_core.md 3.2), and login throttling.

The rules, in LMS's order: the user exists with ``deleted=0``; the password matches (bcrypt
``$2y$`` from PHP ``password_hash``, or a legacy MD5 hex digest, which LMS rehashes to bcrypt on
success and so do we); ``access=1``; now is inside ``accessfrom``/``accessto`` (0 = open); the
client address is in ``hosts`` when that is set (IPs or networks, ``/24`` or ``/255.255.255.0``);
and the user belongs to at least one division (``userdivisions``).

The same rules (minus the password) are applied to every request of a logged-in user, so
disabling or deleting a user in LMS locks them out here at once, not at their next login.

A failed login costs the caller at least :data:`FAIL_DELAY` seconds (LMS sleeps 2 s), is written
to ``users.failedlogindate``/``failedloginip`` as LMS does, and is counted per client address and
per login; past :attr:`LoginThrottle.max_failures` in the window, attempts are refused unchecked.

The ``users`` reads and writes go through the :mod:`lmsplugins.lms.users` gateway; this module
holds the policy.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import bcrypt
from sqlalchemy.engine import Connection, Engine

from lmsplugins.lms import users as lms_users
from lmsplugins.web.rights import Rights

FAIL_DELAY = 2.0
_MD5_HEX = frozenset("0123456789abcdef")


def hash_password(password: str) -> str:
    """bcrypt as PHP's ``password_hash(PASSWORD_DEFAULT)`` writes it (``$2y$`` prefix)."""
    hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=10)).decode("ascii")
    return "$2y$" + hashed[4:]


def is_legacy_md5(stored: str) -> bool:
    return len(stored) == 32 and set(stored.lower()) <= _MD5_HEX


def verify_password(password: str, stored: str | None) -> bool:
    """True when *password* matches the ``users.passwd`` value (bcrypt 2y/2a/2b or MD5 hex)."""
    if not stored or not password:
        return False
    if stored.startswith(("$2y$", "$2a$", "$2b$")):
        try:
            return bcrypt.checkpw(password.encode("utf-8"), ("$2b$" + stored[4:]).encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            return False
    if is_legacy_md5(stored):
        digest = hashlib.md5(password.encode("utf-8")).hexdigest()  # LMS legacy format, verify only
        return hmac.compare_digest(digest, stored.lower())
    return False


def normalize_ip(ip: str | None) -> str:
    return (ip or "").strip().replace("::ffff:", "")


def host_allowed(hosts: str | None, client_ip: str | None) -> bool:
    """LMS's ``VerifyHost``: empty *hosts* allows all; else the client must be in one entry."""
    if not hosts or not hosts.strip():
        return True
    try:
        addr = ipaddress.ip_address(normalize_ip(client_ip))
    except ValueError:
        return False
    for item in hosts.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            net = ipaddress.ip_network(item, strict=False)
        except ValueError:
            continue
        if addr.version == net.version and addr in net:
            return True
    return False


def in_access_window(accessfrom: int | None, accessto: int | None, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    if accessfrom and accessfrom > now:
        return False
    return not (accessto and accessto < now)


@dataclass(frozen=True)
class User:
    """A logged-in LMS user as the web frame needs it."""

    id: int
    login: str
    name: str
    rights: Rights
    divisionid: int | None
    passwd_tag: str = field(repr=False, default="")
    via: str = "form"

    def can(self, permission: str) -> bool:
        return self.rights.has(permission)


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str | None = None
    user_id: int | None = None


def password_tag(stored: str) -> str:
    """A short fingerprint of the stored hash: a password change in LMS ends our sessions."""
    return hashlib.sha256(stored.encode("utf-8")).hexdigest()[:16]


def _build_user(row: Any, division: int | None, via: str) -> User:
    name = f"{row.firstname or ''} {row.lastname or ''}".strip() or row.login
    return User(
        id=row.id,
        login=row.login,
        name=name,
        rights=Rights.parse(row.rights),
        divisionid=division,
        passwd_tag=password_tag(row.passwd or ""),
        via=via,
    )


def check_rules(conn: Connection, row: Any, client_ip: str | None, now: float | None = None) -> str | None:
    """Why *row* may not use the panels now (LMS's messages), or None."""
    if not row.access:
        return "Account is disabled"
    if not in_access_window(row.accessfrom, row.accessto, now):
        return "Account is not active"
    if not host_allowed(row.hosts, client_ip):
        return "Access denied!"
    if not lms_users.has_division(conn, row.id):
        return "Account is not assigned to any division"
    return None


def authenticate(engine: Engine, login: str, password: str, client_ip: str | None) -> LoginResult:
    """Check a login form; on success record the login, on failure record the failure (as LMS)."""
    now = int(time.time())
    ip = normalize_ip(client_ip)
    with engine.begin() as conn:
        row = lms_users.find_user(conn, login=login) if login else None
        if row is None:
            return LoginResult(None, "Wrong password or login.")
        if not verify_password(password, row.passwd):
            error: str | None = "Wrong password or login."
        else:
            error = check_rules(conn, row, client_ip)
        if error:
            lms_users.record_failed_login(conn, row.id, now, ip)
            return LoginResult(None, error, row.id)
        rehashed = hash_password(password) if is_legacy_md5(row.passwd) else None
        lms_users.record_login(conn, row.id, now, ip, rehashed)
        if rehashed is not None:
            row = lms_users.find_user(conn, user_id=row.id)
        return LoginResult(_build_user(row, lms_users.first_division(conn, row.id), "form"), None, row.id)


def load_user(
    conn: Connection,
    client_ip: str | None,
    *,
    user_id: int | None = None,
    login: str | None = None,
    via: str = "form",
) -> User | None:
    """The user by id or login if they may still use the panels (deleted, disabled... -> None)."""
    row = lms_users.find_user(conn, user_id=user_id, login=login)
    if row is None or check_rules(conn, row, client_ip) is not None:
        return None
    return _build_user(row, lms_users.first_division(conn, row.id), via)


class LoginThrottle:
    """Failed logins per client address and per login in a sliding window (per process).

    Memory stays bounded: keys without failures in the window are dropped as they are touched, and
    the table is pruned when it grows past *max_keys*.
    """

    def __init__(self, max_failures: int = 10, window: float = 900.0, max_keys: int = 10000):
        self.max_failures = max_failures
        self.window = window
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.total_failures = 0

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def failures(self, ip: str | None, login: str | None, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        with self._lock:
            return max(len(self._recent(f"ip:{ip}", now)), len(self._recent(f"login:{(login or '').lower()}", now)))

    def blocked(self, ip: str | None, login: str | None, now: float | None = None) -> bool:
        return self.failures(ip, login, now) >= self.max_failures

    def record_failure(self, ip: str | None, login: str | None, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self.total_failures += 1
            if len(self._failures) > self.max_keys:
                for key in list(self._failures):
                    self._recent(key, now)
            for key in (f"ip:{ip}", f"login:{(login or '').lower()}"):
                self._failures.setdefault(key, deque()).append(now)

    def reset(self, ip: str | None, login: str | None) -> None:
        with self._lock:
            self._failures.pop(f"login:{(login or '').lower()}", None)
            self._failures.pop(f"ip:{ip}", None)
