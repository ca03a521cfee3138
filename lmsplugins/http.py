"""The one HTTP session policy every provider client uses.

Timeouts on every call, retries with exponential backoff for transient faults (connection errors,
timeouts, 429 and 5xx on idempotent requests), TLS verification on unless a setting turns it off (with
a warning). Clients build their session here instead of calling ``requests`` directly, so the policy
is the same for Hiperus, Metroport and whatever comes next.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (10.0, 60.0)
TRANSIENT_STATUSES = (429, 500, 502, 503, 504)


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


class _TimeoutAdapter(HTTPAdapter):
    """An adapter that applies the policy timeout when a call does not give its own."""

    def __init__(self, timeout: tuple[float, float], **kwargs):
        self._timeout = timeout
        super().__init__(**kwargs)

    def send(self, request, **kwargs):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


def make_session(policy: HttpPolicy | None = None) -> requests.Session:
    """Return a ``requests.Session`` obeying *policy*.

    POST is retried only when ``retry_post`` is set: SOAP calls and logins are safe to repeat, but an
    upload or a create is not, so each client decides.
    """
    policy = policy or HttpPolicy()
    methods = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
    if policy.retry_post:
        methods.add("POST")
    retry = Retry(
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
    session = requests.Session()
    adapter = _TimeoutAdapter(policy.timeout, max_retries=retry, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = policy.user_agent
    session.verify = policy.verify_tls
    if not policy.verify_tls:
        msg = "TLS certificate verification is turned off for provider calls; turn it back on in production"
        warnings.warn(msg, stacklevel=2)
        log.warning(msg)
    return session
