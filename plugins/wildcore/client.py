"""Wildcore DMS REST client (spec §3, §7.15): the calls the customer card needs, no database.

``GET /api/v1/device-interface/search``, ``GET /api/v1/component/diagnostic/interface/{id}/diag?from=``
and ``…/links``, with the key in the ``X-Auth-Key`` header (never in the URL, so it stays out of
Wildcore's and proxies' access logs). Every answer is the envelope ``{statusCode, meta, data}``; a body
carrying ``error`` is a failure even with HTTP 200, and so is anything that is not a JSON object (an
HTML login page from a proxy, a cut body). Each failure is one :class:`WildcoreError` with a line fit
for the panel; the key never appears in it.

The card waits for these calls, so the session policy is short: the ``wildcore.timeout`` per call,
one retry of a GET, and a budget of twice the timeout for a call with its retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError

from lmsplugins.errors import ConfigError
from lmsplugins.http import HttpPolicy, call_budget, make_session

API_PREFIX = "/api/v1"


class WildcoreError(Exception):
    """A call to Wildcore failed; ``str()`` is one line for the operator. ``answered`` tells a reply
    Wildcore actually gave (a 4xx, an ``error`` body) from no usable reply (down, slow, 5xx, HTML)."""

    def __init__(self, message: str, status: int | None = None, answered: bool = False):
        super().__init__(message)
        self.status = status
        self.answered = answered


def _timed_out(exc: BaseException) -> bool:
    """A timeout, also when urllib3's retries wrapped it into a ConnectionError."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (ReadTimeoutError, ConnectTimeoutError))


class WildcoreClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float = 5.0,
        verify_tls: bool = True,
        session: requests.Session | None = None,
    ):
        base = (base_url or "").strip().rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ConfigError("wildcore.api_url must be Wildcore's address starting with http:// or https://")
        if not api_key:
            raise ConfigError("wildcore.api_key is not set (a Wildcore API key, sent as X-Auth-Key)")
        if base.endswith(API_PREFIX):
            base = base[: -len(API_PREFIX)]
        self.base_url = base
        self.timeout = float(timeout)
        self.session = session or make_session(
            HttpPolicy(
                timeout=(min(self.timeout, 5.0), self.timeout),
                retries=1,
                backoff=0.2,
                backoff_max=1.0,
                verify_tls=verify_tls,
                budget=2 * self.timeout,
                user_agent="lmsplugins-wildcore",
            )
        )
        self.session.headers["X-Auth-Key"] = api_key
        self.session.headers["Accept"] = "application/json"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> WildcoreClient:
        timeout = int(settings.get("wildcore.timeout") or 5)
        if not 1 <= timeout <= 120:
            raise ConfigError("wildcore.timeout must be between 1 and 120 seconds")
        return cls(
            settings.get("wildcore.api_url") or "",
            settings.get("wildcore.api_key") or "",
            timeout=timeout,
            verify_tls=bool(settings.get("wildcore.verify_tls", True)),
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> WildcoreClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        url = f"{self.base_url}{API_PREFIX}{path}"
        try:
            with call_budget(2 * self.timeout):
                response = self.session.get(url, params=params)
        except requests.RequestException as exc:
            if _timed_out(exc):
                raise WildcoreError(f"Wildcore did not answer within {self.timeout:g} s") from None
            raise WildcoreError(f"Wildcore is unreachable ({type(exc).__name__})") from None
        return self._data(response)

    @staticmethod
    def _data(response: requests.Response) -> Any:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
            if status >= 500:
                raise WildcoreError(f"Wildcore failed with HTTP {status}", status) from None
            raise WildcoreError(f"Wildcore answered HTTP {status} with {kind} instead of JSON", status) from None
        if not isinstance(body, Mapping):
            raise WildcoreError(f"Wildcore answered HTTP {status} with JSON that is not an object", status)
        error = body.get("error")
        if error or status >= 400:
            text = ""
            if isinstance(error, Mapping):
                text = str(error.get("description") or error.get("message") or error.get("type") or "")
            elif error:
                text = str(error)
            code = body.get("statusCode", status)
            answered = status < 500
            raise WildcoreError(
                f"Wildcore refused (status {code}): {text or 'no reason given'}"[:300], status, answered
            )
        if "data" not in body:
            raise WildcoreError("Wildcore's answer has no data", status)
        return body["data"]

    # ----------------------------------------------------------------------------------------------

    def search(self, **params: str) -> list[dict[str, Any]]:
        """``device-interface/search`` (ont_ident, device_ip + interface_name or interface_bind_key, ...)."""
        data = self._get("/device-interface/search", {k: v for k, v in params.items() if v})
        if isinstance(data, Mapping):
            data = [data]
        if not isinstance(data, list):
            raise WildcoreError("Wildcore's search answer is not a list")
        return [d for d in data if isinstance(d, Mapping)]

    def diag(self, iface_id: int, source: str = "cache") -> dict[str, Any]:
        if source not in ("cache", "device"):
            raise ValueError("source must be cache or device")
        data = self._get(f"/component/diagnostic/interface/{int(iface_id)}/diag", {"from": source})
        if not isinstance(data, Mapping):
            raise WildcoreError("Wildcore's diagnostics answer is not an object")
        return dict(data)

    def links(self, iface_id: int) -> dict[str, str]:
        data = self._get(f"/component/diagnostic/interface/{int(iface_id)}/links")
        if not isinstance(data, Mapping):
            raise WildcoreError("Wildcore's links answer is not an object")
        return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}
