"""What the start page shows: each enabled plugin's jobs with their health, then what needs a human.

The host knows no plugin by name: a plugin's jobs are the ones named ``<plugin>.<job>``, and its
attention items come from its :attr:`~lmsplugins.plugin.Plugin.attention` extension point. The host
adds its own items: jobs whose latest run failed, jobs overdue by their learnt period, and plugins
that failed to load (or whose web part or attention items failed). A plugin whose items raise is
itself an item, so a broken plugin never takes the start page down.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from sqlalchemy.engine import Engine
from werkzeug.routing import BuildError

from lmsplugins.jobstatus import JobHealth, job_health
from lmsplugins.plugin import AttentionItem
from lmsplugins.web.auth import User
from lmsplugins.web.context import WebState, gettext
from lmsplugins.web.rights import ADMIN
from lmsplugins.web.slots import installed_versions, user_allowed

log = logging.getLogger(__name__)
NOT_INSTALLED_ITEM = "Plugins enabled but not installed: run 'lmsplugins db upgrade'"

HOST_GROUP = "lmsplugins"


@dataclass
class JobGroup:
    """The jobs of one plugin (or of the host: ``notify.*`` and any job no enabled plugin owns)."""

    name: str
    title: str
    jobs: list[JobHealth] = field(default_factory=list)


@dataclass
class ShownItem:
    title: str
    count: int
    url: str | None
    severity: str


def job_groups(web: WebState) -> list[JobGroup]:
    """Each enabled plugin's jobs, in the plugins' order, then the host's. A plugin with commands but
    no run yet has an empty group: a cron line never installed shows as "no runs recorded"."""
    registry = web.host.registry
    groups = {p.name: JobGroup(p.name, p.title) for p in registry.enabled}
    host_group = JobGroup(HOST_GROUP, "lmsplugins")
    for health in job_health(web.host):
        groups.get(health.plugin, host_group).jobs.append(health)
    keep = {p.name for p in registry.enabled if p.cli is not None}
    return [g for g in [*groups.values(), host_group] if g.jobs or g.name in keep]


def _host_items(web: WebState, groups: list[JobGroup], now: float) -> list[AttentionItem]:
    jobs = [h for g in groups for h in g.jobs]
    items: list[AttentionItem] = []
    failed = [h for h in jobs if h.failed]
    if failed:
        link: dict[str, Any] = (
            {"endpoint": "admin.job", "params": {"run_id": failed[0].last_id}}
            if len(failed) == 1
            else {"endpoint": "admin.jobs", "params": {"status": failed[0].last_status}}
        )
        items.append(
            AttentionItem("Jobs whose latest run failed", len(failed), severity="error", permission=ADMIN, **link)
        )
    overdue = [h for h in jobs if h.overdue(now)]
    if overdue:
        items.append(
            AttentionItem(
                "Jobs without a success in their usual period",
                len(overdue),
                severity="error",
                endpoint="admin.jobs",
                params={"job": overdue[0].job} if len(overdue) == 1 else {},
                permission=ADMIN,
            )
        )
    registry = web.host.registry
    broken = len(registry.failed_named) + len(web.web_failures)
    if broken:
        items.append(
            AttentionItem(
                "Plugins that failed to load", broken, severity="error", endpoint="admin.plugins", permission=ADMIN
            )
        )
    return items


def _plugin_items(web: WebState, engine: Engine) -> tuple[list[AttentionItem], list[str], int]:
    """Each enabled plugin's items, each plugin on a connection of its own (a failed query on
    PostgreSQL spoils its transaction, which must not spoil the next plugin's). Plugins enabled but
    not installed yet are counted, not asked: their queries could only fail on missing tables."""
    items: list[AttentionItem] = []
    failed: list[str] = []
    not_installed = 0
    for plugin in web.host.registry.enabled:
        if plugin.db_version and plugin.dbinfo_key not in installed_versions(web):
            not_installed += 1
            continue
        if plugin.attention is None:
            continue
        try:
            with engine.connect() as conn:
                items.extend(plugin.attention(web.host, conn))
        except Exception as exc:
            log.exception("attention items of plugin %s failed", plugin.name)
            failed.append(f"{plugin.title}: {type(exc).__name__}")
    return items, failed, not_installed


def _url(item: AttentionItem) -> str | None:
    if item.url:
        return item.url
    if not item.endpoint:
        return None
    try:
        return url_for(item.endpoint, **dict(item.params))
    except BuildError:
        return None


def attention(
    web: WebState, engine: Engine, user: User, groups: list[JobGroup], now: float | None = None
) -> list[ShownItem]:
    """Items for *user* (permissions applied), errors first, each with a count and a link."""
    now = time.time() if now is None else now
    plugin_items, failed, not_installed = _plugin_items(web, engine)
    items = _host_items(web, groups, now) + plugin_items
    if failed:
        items.append(
            AttentionItem(
                "Plugins whose start-page items failed",
                len(failed),
                severity="error",
                endpoint="admin.plugins",
                permission=ADMIN,
            )
        )
    if not_installed:
        items.append(
            AttentionItem(
                NOT_INSTALLED_ITEM, not_installed, severity="warning", endpoint="admin.plugins", permission=ADMIN
            )
        )
    order = {"error": 0, "warning": 1, "info": 2}
    shown = [
        ShownItem(gettext(i.title), i.count, _url(i), i.severity)
        for i in items
        if i.count and user_allowed(user, i.permission)
    ]
    return sorted(shown, key=lambda s: order.get(s.severity, 3))
