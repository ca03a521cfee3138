"""The web face of the host (DESIGN rule 9): app factory, request authentication, error pages.

The host owns the frame (login, single sign-on with LMS, rights, CSRF, layout, admin pages);
plugins only add blueprints, templates, menu entries and customer-card panels (:mod:`.slots`).

Templates and static files live inside this package (``lmsplugins/web/templates``), not in the
top-level ``templates/`` folder DESIGN.md sketches, so that ``pip install lmsplugins`` ships them.

Settings read here (lms.ini ``[lmsplugins]`` or uiconfig, read when the app is created):

- ``secret_key``: Flask's signing key (else one generated and kept in ``lmsplugins_state``);
- ``trusted_proxies`` (default loopback and Unix sockets) and ``proxy_hops`` (default 1): whose and
  how many proxies' ``X-Forwarded-*`` headers to trust (:mod:`.proxy`);
- ``cookie_secure``: force the Secure cookie flag even on plain HTTP requests;
- ``sso`` (default yes): accept a live LMS session (cookie ``SID``);
- ``sso_check_ip`` (default yes): the LMS session must come from the same client address;
- ``phpui.timeout``: LMS's idle timeout, applied to LMS sessions and to our own logins alike;
- ``phpui.two_factor_auth_required``: users without two-factor login are sent to LMS to set it up.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from lmsplugins import http
from lmsplugins.errors import ConfigError
from lmsplugins.host import Host
from lmsplugins.web import auth, i18n, machine, sessions, sso
from lmsplugins.web.context import (
    EXTENSION,
    BoundedIntConverter,
    WebState,
    current_language,
    frame_url,
    gettext,
    has_permission,
    web_state,
)
from lmsplugins.web.proxy import DEFAULT_TRUSTED, TrustedProxyFix
from lmsplugins.web.rights import ADMIN, HOST_PERMISSIONS
from lmsplugins.web.security import SessionInterface, add_security_headers, stored_secret_key

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).parent
PUBLIC_ENDPOINTS = frozenset({"core.login", "core.login_code", "core.healthz", "static"})
USER_CACHE_SECONDS = 5.0
"""How long a checked user (form login or LMS session) is trusted before the database is asked again."""
SEEN_RESOLUTION = 30
"""Our idle timestamp is rewritten at most this often, so most responses send no new cookie."""


def create_app(host: Host | None = None, config_path: str | None = None, **overrides: Any) -> Flask:
    """Build the web app for *host* (or a Host on *config_path*); *overrides* go to ``app.config``."""
    if host is None:
        host = Host(config_path)
    config = host.config()
    try:
        http.configure(config)
    except ConfigError as exc:  # a bad budget must not take the panels down; provider calls keep the default
        log.error("%s; using the default", exc)
    app = Flask(
        __name__,
        template_folder=str(PACKAGE_DIR / "templates"),
        static_folder=str(PACKAGE_DIR / "static"),
    )
    app.config.update(
        SECRET_KEY=config.get("lmsplugins.secret_key") or stored_secret_key(host.engine),
        SESSION_COOKIE_NAME="lmsplugins_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.get_bool("lmsplugins.cookie_secure", False),
        WTF_CSRF_TIME_LIMIT=None,
        LOGIN_FAIL_DELAY=auth.FAIL_DELAY,
        LMS_SESSION_TIMEOUT=sso.session_timeout(config.get("phpui.timeout")),
        SSO_ENABLED=config.get_bool("lmsplugins.sso", True),
        SSO_CHECK_IP=config.get_bool("lmsplugins.sso_check_ip", True),
        TWO_FACTOR_REQUIRED=config.get_bool("phpui.two_factor_auth_required", False),
        PER_PAGE=20,
        USER_CACHE_SECONDS=USER_CACHE_SECONDS,
        SLEEP=time.sleep,
    )
    app.config.update(overrides)
    app.url_map.converters["int"] = BoundedIntConverter
    app.session_interface = SessionInterface()
    app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
        app.wsgi_app,
        config.get_str("lmsplugins.trusted_proxies", DEFAULT_TRUSTED),
        config.get_int("lmsplugins.proxy_hops", 1),
    )
    CSRFProtect(app)
    machine.init_app(app)

    web = WebState(host=host, throttle=auth.LoginThrottle())
    web.permissions.update({p.name: p.description for p in HOST_PERMISSIONS})
    app.extensions[EXTENSION] = web

    from lmsplugins.web.views_admin import blueprint as admin_blueprint
    from lmsplugins.web.views_core import blueprint as core_blueprint

    app.register_blueprint(core_blueprint)
    app.register_blueprint(admin_blueprint)
    from lmsplugins.web.embed import blueprint as embed_blueprint

    app.register_blueprint(embed_blueprint)
    from lmsplugins.web.slots import register_plugins

    register_plugins(app, web)
    i18n.add_plugin_messages(p.name for p in host.registry.found)

    app.before_request(_before_request)
    from lmsplugins.web import audit

    audit.init_app(app)
    app.after_request(add_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _server_error)
    app.jinja_env.globals.update(
        _=gettext,
        can=has_permission,
        frame_url=frame_url,
        current_language=current_language,
        languages=i18n.LANGUAGES,
        ADMIN=ADMIN,
        menu_items=_menu_items,
    )
    return app


def _menu_items() -> list[Any]:
    from lmsplugins.web.slots import user_allowed

    user = g.get("user")
    return [m for m in web_state().menu if user is not None and user_allowed(user, m.entry.permission)]


def client_ip() -> str:
    return auth.normalize_ip(request.remote_addr)


def sid_tag(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()[:16]


def _cached(key: Any, loader: Any) -> Any:
    cache = web_state().user_cache
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = loader()
    if len(cache) > 5000:
        cache.clear()
    cache[key] = (now + current_app.config["USER_CACHE_SECONDS"], value)
    return value


def forget_user_cache() -> None:
    web_state().user_cache.clear()


def _form_user(ip: str) -> auth.User | None:
    uid = session.get("uid")
    if not isinstance(uid, int):
        return None
    now = int(time.time())
    seen = session.get("seen", 0)
    if now - seen > current_app.config["LMS_SESSION_TIMEOUT"]:
        session.clear()
        return None
    engine = web_state().host.engine
    token = session.get("sid")

    def load() -> auth.User | None:
        with engine.connect() as conn:
            if sessions.session_user(conn, token) != uid:
                return None
            return auth.load_user(conn, ip, user_id=uid)

    user = _cached(("uid", uid, ip, token), load)
    if user is None or user.passwd_tag != session.get("pt"):
        session.clear()
        return None
    if now - seen >= SEEN_RESOLUTION:
        session["seen"] = now
    if now - session.get("stamped", 0) >= sessions.TOUCH_SECONDS:
        sessions.touch_session(engine, token, now)
        session["stamped"] = now
    return user


def _sso_user(ip: str) -> auth.User | None:
    if not current_app.config["SSO_ENABLED"]:
        return None
    sid = request.cookies.get("SID")
    if not sid or session.get("sso_off") == sid_tag(sid):
        return None
    agent = request.headers.get("User-Agent", "")
    engine = web_state().host.engine
    timeout = current_app.config["LMS_SESSION_TIMEOUT"]
    check_ip = current_app.config["SSO_CHECK_IP"]

    def load() -> auth.User | None:
        with engine.connect() as conn:
            found = sso.lookup_session(conn, sid, timeout, agent, ip, check_ip)
            if found is None:
                return None
            return auth.load_user(conn, ip, login=found.login, via="sso")

    return _cached(("sid", sid, agent, ip), load)


def _has_nul() -> bool:
    """A NUL byte anywhere in the path, query or form: no LMS value holds one, and PostgreSQL refuses
    it in any text parameter (a 500 otherwise), so such a request is a bad request."""
    if "\x00" in request.path:
        return True
    fields = [request.args]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields.append(request.form)
    return any("\x00" in key or "\x00" in value for data in fields for key, value in data.items(multi=True))


def _before_request() -> Any:
    if _has_nul():
        abort(400)
    g.lang = i18n.best_language(session.get("lang"), request.headers.get("Accept-Language"))
    if request.endpoint == "static" or machine.is_public(current_app, request.endpoint):
        return None
    ip = client_ip()
    g.user = _form_user(ip) or _sso_user(ip)
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        if request.method == "GET":
            return redirect(url_for("core.login", next=request.full_path.rstrip("?")))
        return redirect(url_for("core.login"))
    return None


def _csrf_error(exc: CSRFError) -> Any:
    return render_template(
        "error.html",
        code=400,
        title=gettext("Bad request"),
        message=gettext("The form has expired or was not sent from this site. Reload the page and try again."),
    ), 400


def _http_error(exc: HTTPException) -> Any:
    code = exc.code or 500
    if code == 403:
        title, message = gettext("Access denied"), gettext("You do not have the permission needed for this page.")
    elif code == 404:
        title, message = gettext("Page not found"), ""
    elif code == 400:
        # A view that names what was wrong (``abort(400, text)``) has that text shown; werkzeug's own
        # generic description is not.
        given = exc.description if exc.description != type(exc).description else None
        title, message = gettext("Bad request"), given or ""
    else:
        return exc
    return render_template("error.html", code=code, title=title, message=message), code


def _server_error(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unhandled error on %s", request.path)
    return render_template(
        "error.html",
        code=500,
        title=gettext("Server error"),
        message=gettext("Something went wrong; the details are in the server log."),
    ), 500
