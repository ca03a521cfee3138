"""Cookie, header and key policy of the web frame.

- The session cookie is HttpOnly and SameSite=Lax always, and Secure whenever the request came in
  over HTTPS (directly or, through ProxyFix, as nginx's ``X-Forwarded-Proto``); setting
  ``lmsplugins.cookie_secure = yes`` forces it. A fixed Secure flag would make the plain-HTTP demo on
  loopback unusable, and a fixed non-Secure one would leak the cookie in production.
- Every response carries a strict Content-Security-Policy (no inline scripts anywhere in the frame),
  ``nosniff``, a same-origin frame and referrer policy, and pages of a logged-in user are not cached.
- The Flask secret key is ``lmsplugins.secret_key`` when set, else one generated once and kept in
  ``lmsplugins_state``; it is created with an insert that loses gracefully to a concurrent one, so
  every gunicorn worker ends up with the same key.
"""

from __future__ import annotations

import re
import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, Response, g, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from lmsplugins.store import state

SECRET_STATE_NAME = "web.secret_key"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'self'; base-uri 'self'; object-src 'none'"
)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with a per-request Secure flag."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def stored_secret_key(engine: Engine) -> str:
    """The generated key from ``lmsplugins_state``, created on first use."""
    with engine.connect() as conn:
        value = conn.execute(select(state.c.value).where(state.c.name == SECRET_STATE_NAME)).scalar()
    if value:
        return value
    candidate = secrets.token_urlsafe(48)
    try:
        with engine.begin() as conn:
            conn.execute(state.insert().values(name=SECRET_STATE_NAME, value=candidate, mtime=int(time.time())))
    except IntegrityError:
        pass
    with engine.connect() as conn:
        value = conn.execute(select(state.c.value).where(state.c.name == SECRET_STATE_NAME)).scalar()
    return value or candidate


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if g.get("user") is not None or request.endpoint == "core.login":
        headers["Cache-Control"] = "no-store"
    return response


def allow_framing_by(response: Response, lms_url: str | None) -> Response:
    """Let the LMS at *lms_url* (its origin only) frame this response, e.g. the bridge's card box.

    CSP ``frame-ancestors`` names ``'self'`` and that origin; ``X-Frame-Options`` cannot name another
    origin, so it gets the obsolete ``ALLOW-FROM`` form, which browsers that know CSP ignore and
    :func:`add_security_headers` leaves alone. Without a valid http(s) URL nothing changes: the
    response stays same-origin only.
    """
    parts = urlsplit((lms_url or "").strip())
    try:
        port = parts.port
    except ValueError:
        return response
    if parts.scheme not in ("http", "https") or not re.fullmatch(r"[a-z0-9.-]+", parts.hostname or ""):
        return response
    origin = f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")
    response.headers["Content-Security-Policy"] = CSP.replace(
        "frame-ancestors 'self'", f"frame-ancestors 'self' {origin}"
    )
    response.headers["X-Frame-Options"] = f"ALLOW-FROM {origin}"
    return response
