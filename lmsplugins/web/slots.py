"""The slots plugins fill: blueprints, menu entries, customer-card panels (DESIGN rules 9 and 10).

Each enabled plugin's blueprint factory runs inside a try: one that raises is recorded as a web
failure (shown on the plugins page) and its menu entries are dropped, since they would point at
routes that do not exist; its panels stay, because they do not depend on the blueprint. A panel
that raises while rendering becomes an error box and the rest of the card renders. Error texts
shown on a page have every secret setting value of every plugin replaced by ``***``: exception
messages from HTTP clients routinely quote URLs and payloads.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import Flask
from markupsafe import Markup
from sqlalchemy import select

from lmsplugins.host import Host
from lmsplugins.lms.tables import dbinfo
from lmsplugins.secrets import mask_text, secret_values
from lmsplugins.web.auth import User
from lmsplugins.web.context import MenuItem, PanelSlot, WebFailure, WebState

log = logging.getLogger(__name__)


def register_plugins(app: Flask, web: WebState) -> None:
    host = web.host
    for plugin in host.registry.enabled:
        for permission in plugin.permissions:
            web.permissions.setdefault(permission.name, permission.description)
        blueprint_ok = True
        if plugin.blueprint is not None:
            try:
                app.register_blueprint(plugin.blueprint())
            except Exception as exc:  # a broken plugin must not break the frame
                blueprint_ok = False
                reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
                web.web_failures.append(WebFailure(plugin.name, mask_secrets(host, reason)))
                log.exception("web part of plugin %s failed to load", plugin.name)
        if blueprint_ok:
            web.menu.extend(MenuItem(plugin, entry) for entry in plugin.menu)
        web.panels.extend(PanelSlot(plugin, panel) for panel in plugin.panels)
    web.menu.sort(key=lambda m: (m.entry.order, m.entry.title))
    web.panels.sort(key=lambda p: (p.panel.order, p.panel.title))


def mask_secrets(host: Host, text: str) -> str:
    """*text* with every secret setting's value masked (:mod:`lmsplugins.secrets`, shared with jobs)."""
    return mask_text(text, secret_values(host))


def user_allowed(user: User, permission: str | tuple[str, ...] | None) -> bool:
    """A menu entry's or panel's permission: None lets everyone in, a tuple any one of its names."""
    if not permission:
        return True
    if isinstance(permission, str):
        return user.can(permission)
    return any(user.can(name) for name in permission)


@dataclass
class RenderedPanel:
    id: str
    title: str
    html: Markup | None
    error: str | None
    notice: str | None = None


NOT_INSTALLED = "This plugin's tables are not installed yet: run 'lmsplugins db upgrade'."
INSTALLED_CHECK_SECONDS = 30.0
"""How long the list of installed plugin schemas is trusted before ``dbinfo`` is read again."""


def installed_versions(web: WebState) -> dict[str, str]:
    """``dbinfo``'s ``dbversion_*`` rows, re-read at most every :data:`INSTALLED_CHECK_SECONDS`.

    A plugin enabled in the settings but whose migration has not run yet has no row: its panel would
    only fail on a missing table, so the card says what to do instead."""
    now = time.monotonic()
    cached = web.user_cache.get(_INSTALLED_KEY)
    if cached is not None and cached[0] > now:
        return cached[1]
    with web.host.engine.connect() as conn:
        rows = conn.execute(select(dbinfo.c.keytype, dbinfo.c.keyvalue).where(dbinfo.c.keytype.like("dbversion_%")))
        versions = {key: value for key, value in rows}
    web.user_cache[_INSTALLED_KEY] = (now + INSTALLED_CHECK_SECONDS, versions)
    return versions


_INSTALLED_KEY = ("lmsplugins", "installed_versions")


def render_panels(web: WebState, customer_id: int, user: User) -> list[RenderedPanel]:
    out: list[RenderedPanel] = []
    installed: dict[str, str] | None = None
    for slot in web.panels:
        panel = slot.panel
        if not user_allowed(user, panel.permission):
            continue
        if slot.plugin.db_version:
            installed = installed_versions(web) if installed is None else installed
            if slot.plugin.dbinfo_key not in installed:
                out.append(RenderedPanel(panel.id, panel.title, None, None, NOT_INSTALLED))
                continue
        try:
            html = Markup(panel.render(web.host, customer_id))
            out.append(RenderedPanel(panel.id, panel.title, html, None))
        except Exception as exc:
            log.exception("panel %s of plugin %s failed for customer %s", panel.id, slot.plugin.name, customer_id)
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            out.append(RenderedPanel(panel.id, panel.title, None, mask_secrets(web.host, reason)))
    return out
