"""Client of the greeting service: HTTP through the host's session policy, typed results, no database."""

from __future__ import annotations

from collections.abc import Sequence

import requests

from lmsplugins.errors import ProviderError
from lmsplugins.http import HttpPolicy, make_session


class GreetingClient:
    def __init__(self, base_url: str, token: str = "", policy: HttpPolicy | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = make_session(policy or HttpPolicy(backoff=0.05))
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def greetings(self, customer_ids: Sequence[int]) -> dict[int, str]:
        try:
            response = self.session.get(f"{self.base_url}/greetings", params={"ids": ",".join(map(str, customer_ids))})
        except requests.RequestException as exc:
            reason = type(exc).__name__
            raise ProviderError(f"greeting service at {self.base_url} cannot be reached ({reason})") from None
        if response.status_code != 200:
            raise ProviderError(f"greeting service answered HTTP {response.status_code} to GET /greetings")
        try:
            data = response.json()["greetings"]
            return {int(k): str(v) for k, v in data.items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ProviderError("greeting service sent a reply without a 'greetings' object") from None
