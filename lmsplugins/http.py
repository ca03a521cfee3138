"""The one HTTP session policy every provider client uses.

Timeouts on every call, retries with exponential backoff for transient faults (connection errors,
timeouts, 429 and 5xx on idempotent requests), TLS verification on unless a setting turns it off (with
a warning). Clients build their session here instead of calling ``requests`` directly, so the policy
is the same for Hiperus, Metroport and whatever comes next.

Why a retry budget: counted retries alone multiply. A silent provider costs a read timeout per
attempt, times the HTTP retries, times the client's own retries of a broken body, plus every
``Retry-After`` wait: a quarter of an hour before a nightly job gives up. So every call also has a
budget in seconds (:class:`RetryBudget`, the host setting ``lmsplugins.http_retry_budget``, default
two minutes) that bounds it as a whole: each attempt's timeout is cut to what is left, no retry starts
(and no wait begins) that could not end inside it, and a client wraps one logical call (its re-login,
its retries of a cut body, its rate-limit waits) in :func:`call_budget` so they share one budget.

Requests that create or change something are not retried blindly: POST is retried only when a
client says its POSTs are safe to repeat (``retry_post``), and a client that sends creates checks
after an unclear outcome whether the provider did it before trying again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from lmsplugins.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (10.0, 60.0)
TRANSIENT_STATUSES = (429, 500, 502, 503, 504)
DEFAULT_RETRY_BUDGET = 120.0
BUDGET_SETTING = "lmsplugins.http_retry_budget"

_configured = {"budget": DEFAULT_RETRY_BUDGET}
_active = threading.local()


def configure(config: Any) -> float:
    """Read ``lmsplugins.http_retry_budget`` (seconds, from lms.ini or uiconfig) for the calls that
    follow in this process; a value that is not a positive number is a ConfigError (exit 2)."""
    raw = config.get(BUDGET_SETTING) if config is not None else None
    if raw is None or str(raw).strip() == "":
        seconds = DEFAULT_RETRY_BUDGET
    else:
        try:
            seconds = float(str(raw).strip())
        except ValueError:
            seconds = -1.0
        if not 0 < seconds <= 86400:
            raise ConfigError(f"setting {BUDGET_SETTING} = {raw!r} must be a number of seconds, above 0 (default 120)")
    _configured["budget"] = seconds
    return seconds


def default_budget() -> float:
    """The budget configured for this process (:func:`configure`), else two minutes."""
    return _configured["budget"]


class RetryBudget:
    """Seconds one call may take, its retries and waits included, counted from its start."""

    def __init__(self, seconds: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.seconds = default_budget() if seconds is None else seconds
        self._clock = clock
        self.deadline = clock() + self.seconds

    def left(self) -> float:
        return max(0.0, self.deadline - self._clock())

    def allows(self, wait: float = 0.0) -> bool:
        """True when a retry after *wait* seconds still starts inside the budget."""
        return self.left() > max(0.0, wait)

    def sleep(self, seconds: float, sleep: Callable[[float], None] = time.sleep) -> None:
        """Wait *seconds*, never past the end of the budget."""
        wait = min(max(0.0, seconds), self.left())
        if wait > 0:
            sleep(wait)

    def spent_message(self) -> str:
        return f"gave up: the retry budget of {self.seconds:g} s ({BUDGET_SETTING}) is spent"


def current_budget() -> RetryBudget | None:
    """The budget of the call in progress in this thread, if a client opened one."""
    return getattr(_active, "budget", None)


@contextlib.contextmanager
def call_budget(seconds: float | None = None, budget: RetryBudget | None = None) -> Iterator[RetryBudget]:
    """Run one logical call under one budget (*budget*, or a new one of *seconds*).

    Nested calls share the outermost budget, so a re-login inside a call does not get a fresh one.
    Do not hold it across a ``yield``: a generator resumed later would lend it to unrelated calls.
    """
    outer = current_budget()
    if outer is not None:
        yield outer
        return
    own = budget if budget is not None else RetryBudget(seconds)
    _active.budget = own
    try:
        yield own
    finally:
        _active.budget = None


@dataclass(frozen=True)
class HttpPolicy:
    """Tunable knobs; defaults suit a cron job talking to a provider over the internet."""

    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    retries: int = 3
    backoff: float = 0.5
    backoff_max: float = 10.0
    verify_tls: bool = True
    retry_post: bool = False
    user_agent: str = "lmsplugins"
    budget: float | None = None
    """Seconds one call may take with its retries; None = the host setting (:func:`default_budget`)."""

    def budget_seconds(self) -> float:
        return default_budget() if self.budget is None else self.budget


class _BudgetRetry(Retry):
    """urllib3's Retry that also stops when the call's budget cannot cover the next wait and attempt,
    and never sleeps past it (a ``Retry-After`` of an hour included)."""

    def _wait_for(self, response: Any) -> float:
        if self.respect_retry_after_header and response is not None:
            after = self.get_retry_after(response)
            if after:
                return float(after)
        return float(self.get_backoff_time())

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # type: ignore[override]
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        budget = current_budget()
        if budget is not None and not budget.allows(new._wait_for(response)):
            reason = error or ResponseError(budget.spent_message())
            raise MaxRetryError(_pool, url or "", reason) from reason  # type: ignore[arg-type]
        return new

    def sleep(self, response: Any = None) -> None:
        wait = self._wait_for(response)
        budget = current_budget()
        if budget is not None:
            wait = min(wait, budget.left())
        if wait > 0:
            time.sleep(wait)


def _cap(timeout: Any, left: float) -> Any:
    if isinstance(timeout, tuple):
        return tuple(left if t is None else min(float(t), left) for t in timeout)
    if isinstance(timeout, int | float):
        return min(float(timeout), left)
    if timeout is None:
        return left
    return timeout


class _CheckedSession(requests.Session):
    """A session that refuses a malformed provider address as a settings error (exit 2), not a network one.

    ``htp:/host`` or ``http:/host`` reach requests as "no connection adapters" or a DNS failure, which
    a client reports as an unreachable provider; the fault is the URL setting, so say that.
    """

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        text = url.decode("utf-8", "replace") if isinstance(url, bytes) else str(url)
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
            raise ConfigError(f"provider URL {text[:200]!r} is not an http:// or https:// address; correct its setting")
        return super().request(method, url, *args, **kwargs)


class _TimeoutAdapter(HTTPAdapter):
    """An adapter that applies the policy timeout when a call does not give its own, and the budget."""

    def __init__(self, timeout: tuple[float, float], policy: HttpPolicy, **kwargs):
        self._timeout = timeout
        self._policy = policy
        super().__init__(**kwargs)

    def send(self, request, **kwargs):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        with call_budget(self._policy.budget_seconds()) as budget:
            left = budget.left()
            if left <= 0:
                raise requests.exceptions.ConnectTimeout(budget.spent_message(), request=request)
            kwargs["timeout"] = _cap(kwargs["timeout"], left)
            return super().send(request, **kwargs)


def make_session(policy: HttpPolicy | None = None) -> requests.Session:
    """Return a ``requests.Session`` obeying *policy*.

    POST is retried only when ``retry_post`` is set: SOAP reads and logins are safe to repeat, but an
    upload or a create is not, so each client decides (and may keep a second session without it).
    """
    policy = policy or HttpPolicy()
    methods = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
    if policy.retry_post:
        methods.add("POST")
    retry = _BudgetRetry(
        total=policy.retries,
        connect=policy.retries,
        read=policy.retries,
        status=policy.retries,
        backoff_factor=policy.backoff,
        backoff_max=policy.backoff_max,
        status_forcelist=TRANSIENT_STATUSES,
        allowed_methods=frozenset(methods),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = _CheckedSession()
    adapter = _TimeoutAdapter(policy.timeout, policy, max_retries=retry, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = policy.user_agent
    session.verify = policy.verify_tls
    if not policy.verify_tls:
        msg = "TLS certificate verification is turned off for provider calls; turn it back on in production"
        warnings.warn(msg, stacklevel=2)
        log.warning(msg)
    return session
