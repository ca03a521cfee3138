"""What a view (host or plugin) asks the frame for: the host, the user, permissions, language.

This is the public API for plugin views; keep it small and stable:

- :func:`current_host` -> the :class:`~lmsplugins.host.Host` of this app;
- :func:`read_engine` -> its engine in autocommit, for views that only read;
- :func:`current_user` -> the logged-in :class:`~lmsplugins.web.auth.User` (None on the login page);
- :func:`require_permission` -> aborts with 403 unless the user holds the permission;
- :func:`has_permission` -> the same as a boolean (templates get it as ``can(...)``);
- :func:`current_settings` -> a plugin's settings resolved for the user's division and user;
- :func:`gettext` (``_`` in templates) and :func:`current_language`;
- :func:`add_breadcrumb` -> extra crumbs after "Home" and the plugin's section;
- :func:`parse_id` and :func:`int_arg` -> numbers from query strings and forms that never raise and
  never exceed what a database column holds (``"²".isdigit()`` is true, but ``int("²")`` raises).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import abort, current_app, g, request, url_for
from werkzeug.routing import IntegerConverter

from lmsplugins.web.i18n import DEFAULT_LANGUAGE, translate

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from lmsplugins.host import Host
    from lmsplugins.plugin import MenuEntry, Panel, Plugin, PluginSettings
    from lmsplugins.web.auth import LoginThrottle, User

EXTENSION = "lmsplugins"
MAX_ID = 2**31 - 1
"""The largest id any route or helper passes on: LMS's ids are 32-bit (``serial``, ``int(11)``), and
PostgreSQL refuses a larger bound value for such a column ("integer out of range") instead of finding
no row."""
MAX_PAGE = 1_000_000


@dataclass
class WebFailure:
    """A plugin whose web part failed to load; listed on the plugins page."""

    plugin: str
    reason: str


@dataclass
class MenuItem:
    plugin: Plugin | None
    entry: MenuEntry


@dataclass
class PanelSlot:
    plugin: Plugin
    panel: Panel


@dataclass
class WebState:
    """Per-app state of the frame, kept in ``app.extensions["lmsplugins"]``."""

    host: Host
    throttle: LoginThrottle
    menu: list[MenuItem] = field(default_factory=list)
    panels: list[PanelSlot] = field(default_factory=list)
    web_failures: list[WebFailure] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)
    user_cache: dict[Any, tuple[float, Any]] = field(default_factory=dict)
    reader: Engine | None = None
    frame_urls: dict[tuple[str, str], str] = field(default_factory=dict)


def web_state() -> WebState:
    return current_app.extensions[EXTENSION]


def current_host() -> Host:
    """The Host this app serves (config, engine, registry, settings)."""
    return web_state().host


def read_engine() -> Engine:
    """The host's engine in autocommit (sharing its pool), for views that only read.

    Each statement reads its own snapshot and no BEGIN/ROLLBACK goes to the server: on a busy list
    page those two round trips were a third of the request's database time. Views that write use
    :func:`current_host` ``.engine`` and its transactions.
    """
    web = web_state()
    if web.reader is None:
        web.reader = web.host.engine.execution_options(isolation_level="AUTOCOMMIT")
    return web.reader


def frame_url(endpoint: str) -> str:
    """``url_for(endpoint)`` without arguments, remembered per script root (``frame_url`` in templates).

    The frame links to the same dozen pages on every request; building each URL anew was a tenth of
    a list page's time.
    """
    cache = web_state().frame_urls
    key = (request.script_root, endpoint)
    url = cache.get(key)
    if url is None:
        if len(cache) > 1000:
            cache.clear()
        url = cache[key] = url_for(endpoint)
    return url


def current_user() -> User | None:
    return g.get("user")


def has_permission(name: str) -> bool:
    user = current_user()
    return user is not None and user.can(name)


def require_permission(name: str) -> None:
    """Abort with 403 (the frame's "access denied" page) unless the user holds *name*."""
    if not has_permission(name):
        abort(403)


def require_any_permission(*names: str) -> None:
    if not any(has_permission(n) for n in names):
        abort(403)


def current_settings(plugin: Plugin) -> PluginSettings:
    """*plugin*'s settings for the current user's division and user, as LMS resolves them."""
    user = current_user()
    host = current_host()
    if user is None:
        return host.plugin_settings(plugin)
    return host.plugin_settings(plugin, user.divisionid, user.id)


def current_language() -> str:
    return g.get("lang", DEFAULT_LANGUAGE)


def gettext(message: str, **values: Any) -> str:
    text = translate(message, current_language())
    return text.format(**values) if values else text


def add_breadcrumb(title: str, url: str | None = None) -> None:
    crumbs: list[tuple[str, str | None]] = g.setdefault("breadcrumbs", [])
    crumbs.append((title, url))


def parse_id(text: object, maximum: int = MAX_ID) -> int | None:
    """*text* as a non-negative whole number written in ASCII digits, or None.

    ``str.isdigit`` accepts superscripts and other scripts' digits, and ``int`` accepts a sign,
    spaces and underscores: neither is an id. A number above *maximum* is no id a table can hold.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= maximum else None


def int_arg(name: str, default: int, minimum: int = 1, maximum: int = MAX_PAGE) -> int:
    """The query parameter *name* as a whole number clamped to [minimum, maximum], else *default*."""
    raw = request.args.get(name)
    text = raw.strip() if isinstance(raw, str) else ""
    negative = text.startswith("-")
    value = parse_id(text[1:] if negative else text)
    if value is None:
        return default
    return min(maximum, max(minimum, -value if negative else value))


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` in every route of the app: ASCII digits only, and at most :data:`MAX_ID`.

    Werkzeug's own accepts any length (SQLite then raises OverflowError, a 500) and, through
    ``\\d``, other scripts' digits; such a path is simply not found here.
    """

    regex = r"[0-9]+"

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:  # fmt: skip
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)
