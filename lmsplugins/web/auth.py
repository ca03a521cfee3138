"""Login as LMS checks it (``Auth::VerifyUser``, specs/lms_core.md 3.2), and login throttling.

The rules, in LMS's order: the user exists with ``deleted=0``; the password matches (bcrypt
``$2y$`` from PHP ``password_hash``, or a legacy MD5 hex digest, which LMS rehashes to bcrypt on
success and so do we); ``access=1``; now is inside ``accessfrom``/``accessto`` (0 = open); the
client address is in ``hosts`` when that is set (IPs or networks, ``/24`` or ``/255.255.255.0``);
and the user belongs to at least one division (``userdivisions``).

The same rules (minus the password) are applied to every request of a logged-in user, so
disabling or deleting a user in LMS locks them out here at once, not at their next login.

A failed login costs the caller at least :data:`FAIL_DELAY` seconds (LMS sleeps 2 s), is written
to ``users.failedlogindate``/``failedloginip`` as LMS does, and is counted per (client address,
login) pair with a growing delay; past :attr:`LoginThrottle.max_failures` in the window, attempts
of that pair are refused unchecked (:class:`LoginThrottle`).

Two-factor login follows LMS (``users.twofactorauth`` on and ``twofactorauthsecretkey`` set, the
client not in ``trustedhosts``): the password step never says whether the password was right; it
leads to the code step, which accepts only the right password *and* a valid TOTP code
(:mod:`lmsplugins.web.totp`). Wrong codes and used codes go through LMS's code history
(:mod:`lmsplugins.lms.twofactor`), so LMS and we lock out and refuse reuse alike. Between the two
steps the password verdict stays on the server (:mod:`lmsplugins.web.sessions`); the browser holds
only a random token. LMS's "trusted
device" cookie is not honoured: it is sealed with LMS's own ``des_key`` for LMS's pages, so here
every login from a 2FA account asks for the code.

The ``users`` reads and writes go through the :mod:`lmsplugins.lms.users` gateway; this module
holds the policy.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import bcrypt
from sqlalchemy.engine import Connection, Engine

from lmsplugins.lms import twofactor
from lmsplugins.lms import users as lms_users
from lmsplugins.web import totp
from lmsplugins.web.rights import Rights

FAIL_DELAY = 2.0
PENDING_SECONDS = 300
"""How long the code step waits after the password step before the login must start again."""
WRONG_LOGIN = "Wrong password or login."
WRONG_CODE = "Wrong authentication code."
CODE_USED = "This code has already been used before the moment."
CODE_LOCKED = "Too many failed login attempts. Try again in a few minutes."
PASSWORD_CHANGE = "Your password has to be changed. Change it in LMS, then log in here."
TWO_FACTOR_SETUP = "Two-factor authentication is required. Set it up in LMS, then log in here."
LMS_ACTION_NEEDED = frozenset({PASSWORD_CHANGE, TWO_FACTOR_SETUP})
"""Refusals that are not failed logins: the user must first do something in LMS itself."""
_MD5_HEX = frozenset("0123456789abcdef")
_LIST_SEPARATORS = re.compile(r"[\s,]+")


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


def in_address_list(addresses: str, client_ip: str | None) -> bool:
    """The client is one of *addresses* (IPs or networks, separated by commas or spaces)."""
    try:
        addr = ipaddress.ip_address(normalize_ip(client_ip))
    except ValueError:
        return False
    for item in _LIST_SEPARATORS.split(addresses):
        if not item:
            continue
        try:
            net = ipaddress.ip_network(item, strict=False)
        except ValueError:
            continue
        if addr.version == net.version and addr in net:
            return True
    return False


def host_allowed(hosts: str | None, client_ip: str | None) -> bool:
    """LMS's ``VerifyHost``: empty *hosts* allows all; else the client must be in one entry."""
    if not hosts or not hosts.strip():
        return True
    return in_address_list(hosts, client_ip)


def trusted_host(trustedhosts: str | None, client_ip: str | None) -> bool:
    """LMS's ``verifyTrustedHost``: a client in ``users.trustedhosts`` skips the code step."""
    return bool(trustedhosts and trustedhosts.strip()) and in_address_list(trustedhosts or "", client_ip)


def needs_code(row: Any, client_ip: str | None) -> bool:
    """Whether this user's login from *client_ip* takes a two-factor code, as LMS decides it."""
    return (
        bool(row.twofactorauth)
        and bool((row.twofactorauthsecretkey or "").strip())
        and not trusted_host(row.trustedhosts, client_ip)
    )


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
class PendingCode:
    """A login between its two steps; *password_ok* must never reach the browser readable."""

    user_id: int
    login: str
    passwd_tag: str
    password_ok: bool
    started: int


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str | None = None
    user_id: int | None = None
    pending: PendingCode | None = None


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


def change_required(row: Any, now: int, two_factor_required: bool) -> str | None:
    """What LMS would make this user do before anything else, or None.

    LMS sends a user whose password is forced to change (``passwdforcechange``) or has expired
    (``passwdexpiration`` days since ``passwdlastchange``) to its password page, and one without
    two-factor login while ``phpui.two_factor_auth_required`` is on to its two-factor page, and
    lets them nowhere else. We have neither page, so we let them nowhere and say where to go.
    """
    expiration = row.passwdexpiration or 0
    if row.passwdforcechange or (expiration and (now - (row.passwdlastchange or 0)) / 86400 >= expiration):
        return PASSWORD_CHANGE
    if two_factor_required and not row.twofactorauth:
        return TWO_FACTOR_SETUP
    return None


def authenticate(
    engine: Engine, login: str, password: str, client_ip: str | None, two_factor_required: bool = False
) -> LoginResult:
    """Check a login form; on success record the login, on failure record the failure (as LMS).

    *two_factor_required* is LMS's ``phpui.two_factor_auth_required``.
    """
    now = int(time.time())
    ip = normalize_ip(client_ip)
    with engine.begin() as conn:
        row = lms_users.find_user(conn, login=login) if login else None
        if row is None:
            return LoginResult(None, WRONG_LOGIN)
        password_ok = verify_password(password, row.passwd)
        if not password_ok:
            error: str | None = WRONG_LOGIN
        else:
            error = check_rules(conn, row, client_ip)
        if needs_code(row, ip) and (error is None or not password_ok):
            return LoginResult(None, None, row.id, _pending(conn, row, password, password_ok, now))
        if error:
            lms_users.record_failed_login(conn, row.id, now, ip)
            return LoginResult(None, error, row.id)
        needed = change_required(row, now, two_factor_required)
        if needed:
            return LoginResult(None, needed, row.id)
        rehashed = hash_password(password) if is_legacy_md5(row.passwd) else None
        lms_users.record_login(conn, row.id, now, ip, rehashed)
        if rehashed is not None:
            row = lms_users.find_user(conn, user_id=row.id)
        return LoginResult(_build_user(row, lms_users.first_division(conn, row.id), "form"), None, row.id)


def _pending(conn: Connection, row: Any, password: str, password_ok: bool, now: int) -> PendingCode:
    """The code step for *row*; a proved legacy MD5 password is rehashed now, while we hold it."""
    stored = row.passwd or ""
    if password_ok and is_legacy_md5(stored):
        stored = hash_password(password)
        lms_users.set_password(conn, row.id, stored)
    return PendingCode(row.id, row.login, password_tag(stored), password_ok, now)


def verify_code(engine: Engine, pending: PendingCode, code: str, client_ip: str | None) -> LoginResult:
    """The code step: the right password and a fresh valid code log in; the rest is LMS's history.

    Ten wrong codes (or wrong passwords, which look the same) from one address within three
    minutes lock the step; a code accepted once is refused while it is remembered. The user's row
    is locked for the check, so two requests racing with one code cannot both log in.
    """
    now = int(time.time())
    ip = normalize_ip(client_ip)
    code = code.strip()
    with engine.begin() as conn:
        twofactor.lock_user(conn, pending.user_id)
        row = lms_users.find_user(conn, user_id=pending.user_id)
        if row is None or row.login != pending.login or not needs_code(row, ip):
            return LoginResult(None, WRONG_LOGIN)
        error = check_rules(conn, row, client_ip)
        if error:
            return LoginResult(None, error, row.id)
        ipaddr = twofactor.ip_number(conn, ip)
        if twofactor.recent_failures(conn, row.id, ipaddr, now) >= twofactor.MAX_FAILURES:
            return LoginResult(None, CODE_LOCKED, row.id)
        proved = pending.password_ok and hmac.compare_digest(pending.passwd_tag, password_tag(row.passwd or ""))
        if proved and totp.verify(row.twofactorauthsecretkey or "", code, now):
            if twofactor.code_used(conn, row.id, code, now):
                return LoginResult(None, CODE_USED, row.id)
            twofactor.record_code(conn, row.id, code, ipaddr, now, success=True)
            needed = change_required(row, now, two_factor_required=False)
            if needed:
                return LoginResult(None, needed, row.id)
            lms_users.record_login(conn, row.id, now, ip)
            return LoginResult(_build_user(row, lms_users.first_division(conn, row.id), "form"), None, row.id)
        twofactor.record_code(conn, row.id, code, ipaddr, now, success=False)
        lms_users.record_failed_login(conn, row.id, now, ip)
    return LoginResult(None, WRONG_CODE, pending.user_id)


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
    """Failed logins per (client address, login) pair in a sliding window, with a growing delay.

    The pair, not the login alone, is what gets slowed down and then refused, so failures typed
    from one address never lock the same user out at another. After :attr:`free` failures a pair
    must wait ``2 ** failures`` seconds (up to the window) after its last failure before the next
    attempt is even checked, and at :attr:`max_failures` it is refused until the window slides
    past. One address trying many logins (password spraying) is refused at
    :attr:`max_address_failures`, which locks out no one elsewhere either. Per process: with
    several workers each keeps its own counts, so the limits multiply by the worker count at most.

    Memory stays bounded: keys without failures in the window are dropped as they are touched, and
    the table is pruned when it grows past *max_keys*.
    """

    def __init__(
        self,
        max_failures: int = 10,
        window: float = 900.0,
        max_keys: int = 10000,
        free: int = 3,
        max_address_failures: int = 50,
    ):
        self.max_failures = max_failures
        self.window = window
        self.max_keys = max_keys
        self.free = free
        self.max_address_failures = max_address_failures
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.total_failures = 0

    @staticmethod
    def _keys(ip: str | None, login: str | None) -> tuple[str, str]:
        return f"pair:{ip}|{(login or '').lower()}", f"ip:{ip}"

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
        """Failures of this login from this address within the window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return len(self._recent(self._keys(ip, login)[0], now))

    def delay(self, failures: int) -> float:
        """How long a pair with *failures* waits after its last failure (0 while still free)."""
        if failures < self.free:
            return 0.0
        return float(min(self.window, 2**failures))

    def wait(self, ip: str | None, login: str | None, now: float | None = None) -> float:
        """Seconds until this login may be tried again from this address (0: now)."""
        now = time.monotonic() if now is None else now
        pair_key, ip_key = self._keys(ip, login)
        with self._lock:
            pair = self._recent(pair_key, now)
            by_address = self._recent(ip_key, now)
            waits = [0.0]
            if len(pair) >= self.max_failures:
                waits.append(pair[0] + self.window - now)
            elif pair:
                waits.append(pair[-1] + self.delay(len(pair)) - now)
            if len(by_address) >= self.max_address_failures:
                waits.append(by_address[0] + self.window - now)
        return max(waits)

    def blocked(self, ip: str | None, login: str | None, now: float | None = None) -> bool:
        return self.wait(ip, login, now) > 0

    def record_failure(self, ip: str | None, login: str | None, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self.total_failures += 1
            if len(self._failures) > self.max_keys:
                for key in list(self._failures):
                    self._recent(key, now)
            for key in self._keys(ip, login):
                self._failures.setdefault(key, deque()).append(now)

    def reset(self, ip: str | None, login: str | None) -> None:
        with self._lock:
            self._failures.pop(self._keys(ip, login)[0], None)
