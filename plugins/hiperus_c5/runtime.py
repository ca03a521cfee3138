"""Building a :class:`HiperusClient` from the plugin's settings, for cron jobs and web views alike.

Why here and not in ``client.py``: the client knows no database and no settings. What makes cron and
web share one platform session and one request budget (as the PHP plugin's ``session/session`` and
``session/lock`` files did) is host state: the session id lives in the host's ``lmsplugins_state``
table (one row per endpoint, domain and user), and the throttle is a :class:`FileThrottle` in the
``hiperus_c5.state_dir`` directory, a file every process on this machine locks before a request.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lmsplugins.errors import ConfigError
from lmsplugins.host import Host
from lmsplugins.store import DbState

from .client import FileThrottle, HiperusClient


class DbSessionStore:
    """The platform session id in ``lmsplugins_state``, shared by every process using this database."""

    def __init__(self, state: DbState):
        self._state = state

    def get(self) -> str | None:
        return self._state.get()

    def set(self, sessid: str) -> None:
        self._state.set(sessid)


def account_key(settings: Mapping[str, Any]) -> str:
    """A short stable name for one reseller account on one endpoint (no secret in it)."""
    raw = f"{settings['hiperus_c5.api_url']}|{settings['hiperus_c5.domain']}|{settings['hiperus_c5.username']}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def require_credentials(settings: Mapping[str, Any]) -> None:
    """Raise ConfigError (exit 2) naming what is missing, before any request goes out."""
    missing = [k for k in ("hiperus_c5.username", "hiperus_c5.password", "hiperus_c5.domain") if not settings[k]]
    if missing:
        raise ConfigError(f"Hiperus C5: {', '.join(missing)} not set; add them to lms.ini [hiperus_c5] or to uiconfig")
    if settings["hiperus_c5.throttle_calls"] < 1 or settings["hiperus_c5.throttle_period"] < 1:
        raise ConfigError("Hiperus C5: hiperus_c5.throttle_calls and hiperus_c5.throttle_period must be at least 1")


def throttle_path(settings: Mapping[str, Any]) -> Path:
    """The throttle file; its directory is created group-writable (web server and cron share it)."""
    folder = Path(settings["hiperus_c5.state_dir"])
    try:
        folder.mkdir(mode=0o2770, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Hiperus C5: cannot create hiperus_c5.state_dir {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"Hiperus C5: hiperus_c5.state_dir {folder} is not writable by this user")
    return folder / f"hiperus_c5-{account_key(settings)}.throttle"


def make_client(host: Host, settings: Mapping[str, Any], **options: Any) -> HiperusClient:
    """A client for the configured reseller account with the shared session and throttle."""
    require_credentials(settings)
    throttle = FileThrottle(
        throttle_path(settings),
        calls=settings["hiperus_c5.throttle_calls"],
        period=float(settings["hiperus_c5.throttle_period"]),
    )
    store = DbSessionStore(DbState(host.engine, f"hiperus_c5.session.{account_key(settings)}"))
    return HiperusClient(
        settings["hiperus_c5.username"],
        settings["hiperus_c5.password"],
        settings["hiperus_c5.domain"],
        settings["hiperus_c5.api_url"],
        session_store=store,
        throttle=throttle,
        **options,
    )
