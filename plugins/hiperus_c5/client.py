"""Client of the Hiperus C5 API (``hiperusapi.php``): one typed method per platform action, no database.

Why it is shaped like this (spec §2, §7):

* Every action is the same RPC ``request(realm, action, args, sessid)``; :meth:`HiperusClient.call` is
  that RPC, and the typed methods only name the fields and shape the answer.
* The session id outlives the process (cron and web share it, as the PHP plugin shared its session
  file), so it lives in a :class:`SessionStore` the caller provides. The client logs in lazily when the
  store is empty, and logs in again when a call fails and ``CheckLogin`` says the session is gone:
  the platform's "not logged in" wording is not documented, so the client asks instead of guessing.
* The platform limits request rates per reseller account, across every process using it. The
  :class:`Throttle` is consulted before each request; :class:`FileThrottle` shares a sliding window
  through an ``fcntl``-locked state file, like the PHP plugin's ``session/lock``.
* Reads are safe to repeat, so their HTTP-level retries include POST; a body cut short or a connection
  reset mid-body is retried once more here, and a CDR stream resumes from its offset.
* Writes (:data:`WRITE_ACTIONS`) are never repeated blindly: they go out once on a session that does
  not retry POST, and when the outcome is unclear (a timeout, a reset, a 5xx page from a proxy) the
  client asks the platform whether the change happened. A create (account, terminal, number) is looked
  up by what makes it unique (the terminal's SIP username, the number, the new account of that name)
  and its id returned if it is there; it is sent again only when the platform shows it is not. Saves
  overwrite every field with the same values, so repeating one cannot duplicate anything.
* One call, its retries, re-login and rate-limit waits included, stays inside the host's retry budget
  (:mod:`lmsplugins.http`, ``lmsplugins.http_retry_budget``), so a silent platform fails a job in
  minutes.
* Passwords and the session id never appear in a message: :meth:`HiperusClient._redact` scrubs them
  from anything the platform echoes back.
"""

from __future__ import annotations

import calendar
import contextlib
import dataclasses
import fcntl
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import requests

from lmsplugins.errors import ProviderError
from lmsplugins.http import HttpPolicy, RetryBudget, call_budget, make_session

from . import soap

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://backend.hiperus.pl:8080/hiperusapi.php"
REALM = "PLATFORM_MNGM"
CALLTYPES = ("incoming", "outgoing", "disa", "forwarded", "internal", "vpbx")
WRITE_ACTIONS = frozenset(
    {
        "AddCustomer",
        "SaveCustomerData",
        "DelCustomer",
        "AddTerminal",
        "SaveTerminalData",
        "DelTerminal",
        "AddExtension",
        "SaveExtensionData",
        "DelExtension",
    }
)
"""Actions that create or change something on the platform: sent once, never retried blindly."""

Record = dict[str, Any]
"""One platform row, keys as on the wire, values as decoded (mostly PostgreSQL-style text)."""


# --------------------------------------------------------------------------------------------------
# Errors


class HiperusError(ProviderError):
    """Base of every Hiperus failure; the message names the action and never carries a secret."""

    def __init__(self, message: str, action: str = ""):
        self.action = action
        super().__init__(message)


class HiperusCallError(HiperusError):
    """The platform answered ``success=false``; ``platform_message`` is its ``error_message``."""

    def __init__(self, action: str, platform_message: str):
        self.platform_message = platform_message
        super().__init__(f"Hiperus {action} failed: {platform_message or 'no error message given'}", action)


class HiperusLoginError(HiperusCallError):
    """``Login`` was refused (wrong username, password or domain, or a locked account)."""


class HiperusRateLimited(HiperusCallError):
    """The platform refused the call for exceeding its request limit, even after waiting."""


class HiperusFault(HiperusError):
    """The platform answered with a SOAP Fault."""

    def __init__(self, action: str, faultcode: str, faultstring: str):
        self.faultcode = faultcode
        self.faultstring = faultstring
        super().__init__(f"Hiperus {action} failed with SOAP Fault {faultcode}: {faultstring}", action)


class HiperusTransportError(HiperusError):
    """No usable answer: connection failures, HTTP errors or cut bodies that outlasted the retries."""


class HiperusProtocolError(HiperusError):
    """An answer that is valid SOAP but not the shape the action promises."""


class HiperusUnclear(HiperusTransportError):
    """A write got no clear answer (timeout, reset, a proxy's 5xx): the platform may or may not have done it."""


# --------------------------------------------------------------------------------------------------
# Session store


class SessionStore(Protocol):
    """Where the platform session id lives between calls and processes."""

    def get(self) -> str | None: ...

    def set(self, sessid: str) -> None: ...


class MemorySessionStore:
    """A session store for one process (tests, one-off scripts)."""

    def __init__(self, sessid: str | None = None):
        self._sessid = sessid

    def get(self) -> str | None:
        return self._sessid

    def set(self, sessid: str) -> None:
        self._sessid = sessid


# --------------------------------------------------------------------------------------------------
# Throttle


class Throttle(Protocol):
    """Admission control before each request; ``acquire`` blocks until a call may go out."""

    def acquire(self) -> None: ...


class NoThrottle:
    """Lets every call through (tests against a simulator with its limit turned off)."""

    def acquire(self) -> None:
        return None


class FileThrottle:
    """At most *calls* requests in any *period* seconds, shared by every process using *path*.

    The state file holds the send times of the most recent calls, one per line. Each acquire takes an
    exclusive ``fcntl`` lock, drops times older than the window, and if the window is full sleeps
    (still holding the lock, so the processes queue up in order) until the oldest time leaves it.
    Unlike the PHP plugin's fixed window this never lets 2x the limit through at a window boundary.
    *margin* absorbs the difference between our clock and the moment the server counts the request.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        calls: int = 7,
        period: float = 5.0,
        margin: float = 0.1,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if calls < 1 or period <= 0:
            raise ValueError("a throttle needs calls >= 1 and period > 0")
        self.path = Path(path)
        self.calls = calls
        self.period = period
        self.margin = margin
        self._clock = clock
        self._sleep = sleep
        self._local = threading.Lock()

    def acquire(self) -> None:
        with self._local:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o660)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                with os.fdopen(os.dup(fd), "r+", encoding="ascii") as fh:
                    stamps = self._read(fh)
                    now = self._clock()
                    window = self.period + self.margin
                    stamps = [t for t in stamps if now - t < window and t <= now + window]
                    if len(stamps) >= self.calls:
                        wait = stamps[-self.calls] + window - now
                        if wait > 0:
                            self._sleep(wait)
                        now = self._clock()
                        stamps = [t for t in stamps if now - t < window]
                    stamps.append(now)
                    fh.seek(0)
                    fh.truncate()
                    fh.write("".join(f"{t:.6f}\n" for t in stamps[-self.calls :]))
                    fh.flush()
            finally:
                os.close(fd)

    @staticmethod
    def _read(fh: Any) -> list[float]:
        stamps: list[float] = []
        for line in fh.read().split():
            with contextlib.suppress(ValueError):
                stamps.append(float(line))
        return sorted(stamps)


class MemoryThrottle:
    """The same sliding window for one process only (no file)."""

    def __init__(
        self,
        calls: int = 7,
        period: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.calls, self.period = calls, period
        self._clock, self._sleep = clock, sleep
        self._stamps: deque[float] = deque(maxlen=calls)
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            if len(self._stamps) == self.calls:
                wait = self._stamps[0] + self.period - self._clock()
                if wait > 0:
                    self._sleep(wait)
            self._stamps.append(self._clock())


# --------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class LoginStatus:
    """What ``CheckLogin`` reports: whether the session is alive and the platform's capabilities."""

    sessid: str | None
    logged: bool
    voip_services: bool
    wlr_services: bool


@dataclass(frozen=True)
class FreeNumber:
    """``GetFirstFreePlatformNumber``: a free number of the reseller's numbering and its country code."""

    number: str
    country_code: str


def _truthy(value: Any) -> bool:
    """Platform flags come as booleans, 't'/'f' text or 0/1."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in ("t", "true", "1", "y", "yes")


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_chunks(date_from: date, date_to: date, months: int) -> Iterator[tuple[date, date]]:
    """Cut the inclusive range into consecutive inclusive pieces of at most *months* months.

    The platform slows down badly on long CDR ranges (README: six months recommended, nine the most
    that worked), so long imports go piece by piece.
    """
    if months < 1:
        raise ValueError("chunk_months must be at least 1")
    if date_to < date_from:
        raise ValueError("the billing range ends before it starts")
    start = date_from
    while start <= date_to:
        end = min(date.fromordinal(_add_months(start, months).toordinal() - 1), date_to)
        yield start, end
        start = date.fromordinal(end.toordinal() + 1)


_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    soap.SoapDecodeError,
)
_RATE_LIMIT_RE = re.compile(r"limit|too many|za du[żz]o|przekroczon", re.IGNORECASE)


class _Truncated(Exception):
    """A streamed answer broke off after *rows* rows (wraps the transport or parse error)."""

    def __init__(self, rows: int, cause: BaseException):
        self.rows = rows
        self.cause = cause
        super().__init__(str(cause))


# --------------------------------------------------------------------------------------------------
# The client


class HiperusClient:
    """Talks to one reseller account. Thread-safe as far as ``requests.Session`` is (one per thread)."""

    def __init__(
        self,
        username: str,
        password: str,
        domain: str,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        session_store: SessionStore | None = None,
        throttle: Throttle | None = None,
        policy: HttpPolicy | None = None,
        call_retries: int = 2,
        retry_backoff: float = 1.0,
        rate_limit_wait: float = 5.0,
        uri: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.endpoint = endpoint
        self.uri = uri or endpoint
        self._username = username
        self._password = password
        self._domain = domain
        self.sessions: SessionStore = session_store if session_store is not None else MemorySessionStore()
        self.throttle: Throttle = throttle if throttle is not None else MemoryThrottle()
        self.policy = policy or HttpPolicy(retry_post=True)
        self.http = make_session(self.policy)
        self._http_once = make_session(dataclasses.replace(self.policy, retry_post=False))
        self.call_retries = call_retries
        self.retry_backoff = retry_backoff
        self.rate_limit_wait = rate_limit_wait
        self._sleep = sleep
        self.calls_made = 0

    # -- plumbing ----------------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        for secret in (self._password, self.sessions.get()):
            if secret and len(secret) >= 3:
                text = text.replace(secret, "***")
        return text

    def _post(self, action: str, args: Mapping[str, Any], sessid: str | None, stream: bool) -> requests.Response:
        body = soap.build_request(self.uri, REALM, action, args, sessid)
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{self.uri}#request"'}
        self.throttle.acquire()
        self.calls_made += 1
        log.debug("Hiperus %s", action)
        write = action in WRITE_ACTIONS
        http = self._http_once if write else self.http
        response = http.post(self.endpoint, data=body, headers=headers, stream=stream)
        if response.status_code >= 400 and not _looks_like_soap(response):
            status = response.status_code
            response.close()
            error = HiperusUnclear if write else HiperusTransportError
            raise error(f"Hiperus {action} failed: HTTP {status} from the endpoint", action)
        return response

    def _exchange(self, action: str, args: Mapping[str, Any], sessid: str | None) -> Any:
        """One request, read whole, with call-level retries for cut bodies and resets (reads only:
        a write with no clear answer raises :class:`HiperusUnclear` for its caller to check)."""
        attempt = 0
        with call_budget(self.policy.budget_seconds()) as budget:
            while True:
                try:
                    response = self._post(action, args, sessid, stream=False)
                    return soap.parse_response(response.content)
                except soap.SoapFault as fault:
                    raise HiperusFault(action, self._redact(fault.faultcode), self._redact(fault.faultstring)) from None
                except _TRANSIENT as exc:
                    attempt += 1
                    what = f"{type(exc).__name__}: {self._redact(str(exc))[:300]}"
                    if action in WRITE_ACTIONS:
                        raise HiperusUnclear(f"Hiperus {action}: no clear answer ({what})", action) from None
                    wait = self.retry_backoff * attempt
                    if attempt > self.call_retries or not budget.allows(wait):
                        spent = "" if attempt > self.call_retries else f"; {budget.spent_message()}"
                        raise HiperusTransportError(f"Hiperus {action} failed: {what}{spent}", action) from None
                    log.warning(
                        "Hiperus %s: %s, retrying (%d/%d)", action, type(exc).__name__, attempt, self.call_retries
                    )
                    budget.sleep(wait, self._sleep)

    def _check(self, action: str, ret: Any) -> Mapping[str, Any]:
        if not isinstance(ret, Mapping) or "success" not in ret:
            raise HiperusProtocolError(f"Hiperus {action} answered without a success flag", action)
        if not _truthy(ret["success"]):
            message = self._redact(str(ret.get("error_message") or ""))
            if action == "Login":
                raise HiperusLoginError(action, message)
            if _RATE_LIMIT_RE.search(message):
                raise HiperusRateLimited(action, message)
            raise HiperusCallError(action, message)
        return ret

    def login(self) -> str:
        """``Login``: open a new platform session, store and return its id."""
        args = {"username": self._username, "password": self._password, "domain": self._domain}
        ret = self._check("Login", self._exchange("Login", args, None))
        sessid = ret.get("sessid")
        if not sessid:
            raise HiperusProtocolError("Hiperus Login answered without a session id", "Login")
        self.sessions.set(str(sessid))
        return str(sessid)

    def _session(self) -> str:
        return self.sessions.get() or self.login()

    def _session_alive(self) -> bool:
        try:
            return self.check_login().logged
        except HiperusCallError:
            return False

    def call(self, action: str, args: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        """Run *action* with *args* and return the decoded ``return`` Struct (success checked).

        On ``success=false`` the client asks ``CheckLogin`` whether the session is still alive; if it
        is not, it logs in and repeats the call once. A rate-limit refusal waits out the window and
        repeats up to ``call_retries`` times.
        """
        args = dict(args or {})
        relogged = False
        limited = 0
        with call_budget(self.policy.budget_seconds()) as budget:
            while True:
                sessid = self._session()
                try:
                    return self._check(action, self._exchange(action, args, sessid))
                except HiperusRateLimited:
                    limited += 1
                    if limited > self.call_retries or not budget.allows(self.rate_limit_wait):
                        raise
                    budget.sleep(self.rate_limit_wait, self._sleep)
                except HiperusCallError:
                    if relogged or action in ("CheckLogin", "Logout") or self._session_alive():
                        raise
                    log.info("Hiperus session expired, logging in again")
                    self.login()
                    relogged = True

    def _create(self, action: str, args: Mapping[str, Any], key: str, find: Callable[[], int | None]) -> int:
        """A create sent once; after an unclear outcome *find* asks the platform whether it happened.

        Found: its id is returned (nothing is created twice). Certainly not there: sent again, as long as
        the call's budget and ``call_retries`` allow. The check itself failing: an error that says the
        outcome is unknown, so nobody repeats it blindly by hand either.
        """
        attempt = 0
        with call_budget(self.policy.budget_seconds()) as budget:
            while True:
                try:
                    return self._id(action, args, key)
                except HiperusUnclear as unclear:
                    try:
                        found = find()
                    except HiperusError as exc:
                        raise HiperusUnclear(
                            f"Hiperus {action}: no clear answer, and checking whether it was done failed too "
                            f"({exc}); look on the platform before trying again",
                            action,
                        ) from None
                    if found is not None:
                        log.warning("Hiperus %s: no clear answer, but the platform holds it (id %s)", action, found)
                        return found
                    attempt += 1
                    wait = self.retry_backoff * attempt
                    if attempt > self.call_retries or not budget.allows(wait):
                        raise HiperusTransportError(f"{unclear} (checked: not done)", action) from None
                    log.warning("Hiperus %s: no clear answer and not done; sending it again", action)
                    budget.sleep(wait, self._sleep)

    def _change(self, action: str, args: Mapping[str, Any], done: Callable[[], bool] | None = None) -> None:
        """A save or delete sent once; after an unclear outcome it is checked (*done*) or, for a save,
        repeated: a save overwrites the same fields with the same values, so twice is the same as once."""
        attempt = 0
        with call_budget(self.policy.budget_seconds()) as budget:
            while True:
                try:
                    self.call(action, args)
                    return
                except HiperusUnclear:
                    if done is not None:
                        try:
                            if done():
                                return
                        except HiperusError as exc:
                            raise HiperusUnclear(
                                f"Hiperus {action}: no clear answer, and checking whether it was done failed too "
                                f"({exc}); look on the platform before trying again",
                                action,
                            ) from None
                    attempt += 1
                    wait = self.retry_backoff * attempt
                    if not action.startswith("Save") or attempt > self.call_retries or not budget.allows(wait):
                        raise
                    budget.sleep(wait, self._sleep)

    def _rows(self, action: str, args: Mapping[str, Any] | None = None) -> list[Record]:
        ret = self.call(action, args)
        rows = ret.get("result_set")
        if rows is None:
            return []
        if not isinstance(rows, list):
            raise HiperusProtocolError(f"Hiperus {action} answered a result_set that is not an array", action)
        return [dict(row) if isinstance(row, Mapping) else {"value": row} for row in rows]

    def _first(self, action: str, args: Mapping[str, Any] | None = None) -> Record | None:
        rows = self._rows(action, args)
        return rows[0] if rows else None

    def _id(self, action: str, args: Mapping[str, Any], key: str) -> int:
        row = self._first(action, args)
        if not row or row.get(key) in (None, ""):
            raise HiperusProtocolError(f"Hiperus {action} answered without {key}", action)
        try:
            return int(row[key])
        except (TypeError, ValueError):
            raise HiperusProtocolError(f"Hiperus {action} answered a non-numeric {key}", action) from None

    # -- session -----------------------------------------------------------------------------------

    def check_login(self) -> LoginStatus:
        """``CheckLogin``: is the stored session alive, and which services the platform offers."""
        ret = self._check("CheckLogin", self._exchange("CheckLogin", {}, self._session()))
        rows = ret.get("result_set") or []
        row = rows[0] if rows and isinstance(rows[0], Mapping) else {}
        return LoginStatus(
            sessid=ret.get("sessid"),
            logged=_truthy(row.get("logged")),
            voip_services=_truthy(row.get("voip_services")),
            wlr_services=_truthy(row.get("wlr_services")),
        )

    def logout(self) -> None:
        """``Logout``: close the platform session (the store keeps the id; the next call logs in anew)."""
        sessid = self.sessions.get()
        if sessid:
            self._check("Logout", self._exchange("Logout", {}, sessid))

    # -- customers ---------------------------------------------------------------------------------

    def get_customer_list(
        self, offset: int | None = None, limit: int | None = None, query: str | None = None
    ) -> list[Record]:
        """``GetCustomerList``: accounts of the reseller (all of them with the defaults)."""
        return self._rows("GetCustomerList", {"offset": offset, "limit": limit, "query": query})

    def get_customer_data(self, id_customer: int) -> Record | None:
        """``GetCustomerData``: one account, or None when the platform returns no row."""
        return self._first("GetCustomerData", {"id_customer": id_customer})

    def get_customer_id_by_ext_billing_id(self, ext_billing_id: int) -> int | None:
        """``GetCustomerIDByExtBillingID``: the account linked to an LMS customer id, if any."""
        row = self._first("GetCustomerIDByExtBillingID", {"ext_billing_id": ext_billing_id})
        return int(row["id"]) if row and row.get("id") not in (None, "") else None

    def search_customer(self, name: str) -> list[Record]:
        """``SearchCustomer``: rows of ``search_type`` and ``customer_id``."""
        return self._rows("SearchCustomer", {"name": name})

    def add_customer(self, fields: Mapping[str, Any]) -> int:
        """``AddCustomer``: create an account (``name`` is required) and return its platform id."""
        if not fields.get("name"):
            raise ValueError("AddCustomer needs a name")
        name = str(fields["name"])
        ext = fields.get("ext_billing_id")
        before = self._accounts_named(name, ext)

        def find() -> int | None:
            new = self._accounts_named(name, ext) - before
            if len(new) > 1:
                raise HiperusProtocolError(f"{len(new)} new accounts named {name!r} appeared", "AddCustomer")
            return new.pop() if new else None

        return self._create("AddCustomer", fields, "id", find)

    def _accounts_named(self, name: str, ext_billing_id: Any) -> set[int]:
        """Ids of the accounts called exactly *name* (and linked to *ext_billing_id*, when given)."""
        ext = "" if ext_billing_id in (None, "") else str(ext_billing_id)
        return {
            int(row["id"])
            for row in self.get_customer_list(query=name)
            if row.get("name") == name
            and (not ext or str(row.get("ext_billing_id") or "") == ext)
            and str(row.get("id") or "").isdigit()
        }

    def save_customer_data(self, id_customer: int, fields: Mapping[str, Any]) -> None:
        """``SaveCustomerData``: overwrite the account's fields with *fields*."""
        self._change("SaveCustomerData", {**fields, "id_customer": id_customer})

    def del_customer(self, id_customer: int) -> None:
        """``DelCustomer``: delete the account; the platform frees its terminals and numbers."""

        def done() -> bool:
            try:
                return self.get_customer_data(id_customer) is None
            except HiperusCallError:
                return True

        self._change("DelCustomer", {"id_customer": id_customer}, done)

    # -- terminals ---------------------------------------------------------------------------------

    def get_terminal_list(self, id_customer: int, offset: int | None = None, limit: int | None = None) -> list[Record]:
        """``GetTerminalList``: the SIP terminals of one account."""
        args: dict[str, Any] = {"id_customer": id_customer}
        if offset is not None or limit is not None:
            args.update(offset=offset, limit=limit)
        return self._rows("GetTerminalList", args)

    def add_terminal(
        self,
        id_customer: int,
        username: str,
        password: str,
        id_pricelist: int,
        *,
        screen_numbers: bool = True,
        t38_fax: bool = False,
        id_subscription: int | None = None,
        subscription_from: date | str | None = None,
        subscription_to: date | str | None = None,
        id_terminal_location: int | None = None,
    ) -> int:
        """``AddTerminal``: create a SIP terminal and return its id (dates go out as ``YYYY-MM-DD``)."""
        args: dict[str, Any] = {
            "id_customer": id_customer,
            "username": username,
            "password": password,
            "id_pricelist": id_pricelist,
            "screen_numbers": screen_numbers,
            "t38_fax": t38_fax,
        }
        optional = {
            "id_subscription": id_subscription,
            "subscription_from": _wire_date(subscription_from),
            "subscription_to": _wire_date(subscription_to),
            "id_terminal_location": id_terminal_location,
        }
        args.update({k: v for k, v in optional.items() if v is not None})

        def find() -> int | None:
            for row in self.get_terminal_list(id_customer):
                if row.get("username") == username and str(row.get("id") or "").isdigit():
                    return int(row["id"])
            return None

        return self._create("AddTerminal", args, "id_terminal", find)

    def save_terminal_data(self, id_terminal: int, fields: Mapping[str, Any]) -> None:
        """``SaveTerminalData``: overwrite the terminal's fields (dates normalised to ``YYYY-MM-DD``)."""
        args = {k: (_wire_date(v) if k in ("subscription_from", "subscription_to") else v) for k, v in fields.items()}
        self._change("SaveTerminalData", {**args, "id_terminal": id_terminal})

    def del_terminal(self, id_terminal: int) -> None:
        """``DelTerminal``."""
        self._change("DelTerminal", {"id_terminal": id_terminal})

    # -- numbers -----------------------------------------------------------------------------------

    def get_extension_list(self, id_customer: int, offset: int | None = None, limit: int | None = None) -> list[Record]:
        """``GetExtensionList``: the PSTN numbers of one account."""
        args: dict[str, Any] = {"id_customer": id_customer}
        if offset is not None or limit is not None:
            args.update(offset=offset, limit=limit)
        return self._rows("GetExtensionList", args)

    def get_extension_data(self, id_extension: int) -> Record | None:
        """``GetExtensionData``: one number, or None."""
        return self._first("GetExtensionData", {"id_extension": id_extension})

    def add_extension(
        self,
        id_customer: int,
        number: str,
        *,
        country_code: str = "48",
        is_main: bool = True,
        clir: bool = False,
        virtual_fax: bool = False,
        id_terminal: int | None = None,
        create_terminal: bool = False,
        id_pricelist: int | None = None,
        id_auth: int | None = None,
        useremail: str | None = None,
        userpassword: str | None = None,
        id_subscription: int | None = None,
        disa_enabled: bool | None = None,
        voicemail_enabled: bool | None = None,
    ) -> int:
        """``AddExtension``: attach a number to a terminal (or to a new one) and return ``id_extension``.

        Unlike the PHP plugin (spec §7 bug 8) ``clir`` is sent as given, and ``disa_enabled`` and
        ``voicemail_enabled`` go out when set.
        """
        if id_terminal is None and not (create_terminal and id_pricelist is not None):
            raise ValueError("AddExtension needs id_terminal, or create_terminal with id_pricelist")
        args: dict[str, Any] = {
            "number": number,
            "country_code": country_code,
            "id_customer": id_customer,
            "is_main": is_main,
            "clir": clir,
            "virtual_fax": virtual_fax,
        }
        if id_terminal is not None:
            args["id_terminal"] = id_terminal
        else:
            args.update(create_terminal=True, id_pricelist=id_pricelist)
        args.update(id_auth=id_auth, useremail=useremail, userpassword=userpassword, id_subscription=id_subscription)
        if disa_enabled is not None:
            args["disa_enabled"] = disa_enabled
        if voicemail_enabled is not None:
            args["voicemail_enabled"] = voicemail_enabled

        def find() -> int | None:
            for row in self.get_extension_list(id_customer):
                if str(row.get("number") or "") == number and str(row.get("id") or "").isdigit():
                    return int(row["id"])
            return None

        return self._create("AddExtension", args, "id_extension", find)

    def save_extension_data(self, id_extension: int, fields: Mapping[str, Any]) -> None:
        """``SaveExtensionData``: extension, country_code, number, is_main, disa_enabled, clir, ..."""
        self._change("SaveExtensionData", {**fields, "id_extension": id_extension})

    def del_extension(self, id_extension: int) -> None:
        """``DelExtension``."""

        def done() -> bool:
            try:
                return self.get_extension_data(id_extension) is None
            except HiperusCallError:
                return True

        self._change("DelExtension", {"id_extension": id_extension}, done)

    def get_first_free_platform_number(self, sn: str | None = None) -> FreeNumber | None:
        """``GetFirstFreePlatformNumber`` in numbering zone *sn* (None = any); None when all are taken."""
        row = self._first("GetFirstFreePlatformNumber", {"sn": sn})
        if not row or not row.get("free_number"):
            return None
        return FreeNumber(str(row["free_number"]), str(row.get("country_code") or "48"))

    def get_platform_numbering_range(self) -> list[Record]:
        """``GetPlatformNumberingRange``: the reseller's number ranges."""
        return self._rows("GetPlatformNumberingRange")

    def get_platform_numbering_usage(self, id_platform_numbering: int) -> list[Record]:
        """``GetPlatformNumberingUsage``: every number of one range, with its account when taken."""
        return self._rows("GetPlatformNumberingUsage", {"id_platform_numbering": id_platform_numbering})

    # -- catalogues --------------------------------------------------------------------------------

    def get_customer_pricelist_list(self) -> list[Record]:
        """``GetCustomerPricelistList``: id, name, charge_internal_call."""
        return self._rows("GetCustomerPricelistList")

    def get_subscription_list(self) -> list[Record]:
        """``GetSubscriptionList``: id, name, value, f_dld, f_mobile, f_ild, id_reseller, invoice_value."""
        return self._rows("GetSubscriptionList")

    def get_end_user_auth_list(self, id_customer: int) -> list[Record]:
        """``GetEndUserAuthList``: end-user panel logins of one account."""
        return self._rows("GetEndUserAuthList", {"id_customer": id_customer})

    def get_invoice_list(self) -> list[Record]:
        """``GetInvoiceList``: defined by the platform, unused by the PHP plugin."""
        return self._rows("GetInvoiceList")

    # -- billing -----------------------------------------------------------------------------------

    @staticmethod
    def _billing_args(
        date_from: date,
        date_to: date,
        success_calls: bool,
        calltype: str | None,
        id_customer: int | None,
        offset: int | None,
        limit: int | None,
    ) -> dict[str, Any]:
        if calltype is not None and calltype not in (*CALLTYPES, "all"):
            raise ValueError(f"unknown calltype {calltype!r}")
        return {
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "offset": offset,
            "limit": limit,
            "compress": False,
            "success_calls": success_calls,
            "calltype": calltype,
            "id_customer": id_customer,
        }

    def get_billing(
        self,
        date_from: date,
        date_to: date,
        *,
        success_calls: bool = True,
        calltype: str | None = "outgoing",
        id_customer: int | None = None,
        offset: int | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        """``GetBilling`` as one call, read whole. For big ranges use :meth:`iter_billing`."""
        return list(
            self._stream_billing(
                self._billing_args(date_from, date_to, success_calls, calltype, id_customer, offset, limit)
            )
        )

    def iter_billing(
        self,
        date_from: date,
        date_to: date,
        *,
        success_calls: bool = True,
        calltype: str | None = "outgoing",
        id_customer: int | None = None,
        chunk_months: int = 6,
        page_size: int | None = None,
    ) -> Iterator[Record]:
        """Stream the CDRs of an inclusive date range, one ``GetBilling`` per chunk of months (and page).

        Records are yielded as they are parsed; memory stays flat whatever the count. A body cut short
        is requested again from the offset reached, so no record is lost or yielded twice (this relies
        on the platform returning a range in a stable order, which offset/limit paging needs anyway).
        """
        if page_size is not None and page_size < 1:
            raise ValueError("page_size must be at least 1")
        for start, end in month_chunks(date_from, date_to, chunk_months):
            offset = 0
            while True:
                args = self._billing_args(
                    start, end, success_calls, calltype, id_customer, offset if page_size else None, page_size
                )
                got = 0
                for record in self._stream_billing(args):
                    got += 1
                    yield record
                if not page_size or got < page_size:
                    break
                offset += got

    def _stream_billing(self, args: dict[str, Any]) -> Iterator[Record]:
        action = "GetBilling"
        base_offset = args["offset"] or 0
        limit = args["limit"]
        delivered = 0
        failures = 0
        relogged = False
        limited = 0
        budget = RetryBudget(self.policy.budget_seconds())
        while True:
            current = dict(args)
            if delivered:
                current["offset"] = base_offset + delivered
                if limit is not None:
                    current["limit"] = limit - delivered
                    if current["limit"] <= 0:
                        return
            try:
                for record in self._stream_once(action, current, self._session(), budget):
                    delivered += 1
                    yield record
                return
            except _Truncated as cut:
                failures += 1
                if cut.rows:
                    budget = RetryBudget(self.policy.budget_seconds())
                wait = self.retry_backoff * failures
                if failures > self.call_retries or not budget.allows(wait):
                    spent = "" if failures > self.call_retries else f"; {budget.spent_message()}"
                    raise HiperusTransportError(
                        f"Hiperus {action} failed: the answer broke off after {delivered} records "
                        f"({type(cut.cause).__name__}){spent}",
                        action,
                    ) from None
                log.warning("Hiperus %s broke off after %d records, resuming", action, delivered)
                budget.sleep(wait, self._sleep)
            except HiperusRateLimited:
                limited += 1
                if limited > self.call_retries or not budget.allows(self.rate_limit_wait):
                    raise
                budget.sleep(self.rate_limit_wait, self._sleep)
            except HiperusCallError:
                if relogged or delivered or self._session_alive():
                    raise
                self.login()
                relogged = True

    def _stream_once(
        self, action: str, args: Mapping[str, Any], sessid: str, budget: RetryBudget | None = None
    ) -> Iterator[Record]:
        rows = 0
        try:
            with call_budget(budget=budget):
                response = self._post(action, args, sessid, stream=True)
        except _TRANSIENT as exc:
            raise _Truncated(0, exc) from None
        try:
            response.raw.decode_content = True
            fields: dict[str, Any] = {}
            for part in soap.iter_response(response.raw):
                if isinstance(part, soap.Row):
                    rows += 1
                    value = part.value
                    if type(value) is not dict:
                        value = dict(value) if isinstance(value, Mapping) else {"value": value}
                    yield value
                else:
                    fields[part.name] = part.value
            self._check(action, fields)
        except soap.SoapFault as fault:
            raise HiperusFault(action, self._redact(fault.faultcode), self._redact(fault.faultstring)) from None
        except (*_TRANSIENT, requests.RequestException) as exc:
            raise _Truncated(rows, exc) from None
        except Exception as exc:
            if _is_protocol_error(exc):
                raise _Truncated(rows, exc) from None
            raise
        finally:
            response.close()


def _is_protocol_error(exc: BaseException) -> bool:
    """urllib3 raises its own errors (ProtocolError, ReadTimeoutError) when reading ``raw`` directly."""
    import urllib3.exceptions

    return isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | OSError)


def _looks_like_soap(response: requests.Response) -> bool:
    """PHP's SoapServer sends Faults with HTTP 500; those carry a message worth reading."""
    return "xml" in response.headers.get("Content-Type", "")


def _wire_date(value: date | str | None) -> str | None:
    """The platform wants ``YYYY-MM-DD``; the PHP forms sometimes sent ``YYYY/MM/DD`` (spec §7 bug 10)."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value.isoformat()
    return value.replace("/", "-")
