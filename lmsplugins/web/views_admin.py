"""Admin pages: plugins (with failures), settings (a form generated from declared settings), job runs.

The settings form edits *global* ``uiconfig`` rows (LMS's own config page edits the same rows), so
LMS and every lmsplugins process see one value. Only changed values are written; an emptied field
writes an empty value, which LMS and :class:`~lmsplugins.config.Config` read as "unset" (the ini
value or the default applies again); a field missing from the submission changes nothing. Secrets
are never sent to the browser: their field is empty, an empty submission keeps the stored value,
and only a "clear" tick removes it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import and_, select

from lmsplugins.config import Config
from lmsplugins.errors import ConfigError
from lmsplugins.jobs import recent_runs
from lmsplugins.lms.settings import get_dbinfo, write_uiconfig
from lmsplugins.lms.tables import uiconfig
from lmsplugins.plugin import Setting
from lmsplugins.web.context import (
    add_breadcrumb,
    current_host,
    gettext,
    has_permission,
    require_permission,
    web_state,
)
from lmsplugins.web.proxy import DEFAULT_TRUSTED
from lmsplugins.web.rights import ADMIN

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

HOST_SETTINGS: tuple[Setting, ...] = (
    Setting("lmsplugins.plugins", "list", description="Enabled plugins (Name[:priority], as phpui.plugins)"),
    Setting("lmsplugins.sso", "bool", default=True, description="Accept a live LMS session (SID cookie)"),
    Setting("lmsplugins.sso_check_ip", "bool", default=True, description="LMS session must come from the same IP"),
    Setting("lmsplugins.proxy_hops", "int", default=1, description="Trusted X-Forwarded-* proxies (0: none)"),
    Setting(
        "lmsplugins.trusted_proxies",
        "str",
        default=DEFAULT_TRUSTED,
        description="Peers whose X-Forwarded-* headers count (addresses, networks, unix)",
    ),
    Setting("lmsplugins.cookie_secure", "bool", default=False, description="Force the Secure cookie flag"),
    Setting("lmsplugins.secret_key", "str", secret=True, description="Key signing web sessions"),
    Setting(
        "lmsplugins.metrics_allow",
        "list",
        default="127.0.0.1 ::1",
        description="Addresses and networks allowed to read /metrics (Prometheus)",
    ),
)
"""The host's own settings, edited on the same page (read when the web app starts)."""


class CsrfForm(FlaskForm):
    """No fields: the settings form's inputs are generated, this carries the CSRF token."""


@dataclass
class SettingView:
    setting: Setting
    field: str
    value: str
    source: str
    is_set: bool
    error: str | None = None


@dataclass
class Section:
    name: str
    title: str
    enabled: bool
    settings: list[SettingView]


def _field(setting: Setting) -> str:
    return "s:" + setting.key


def _sections(config: Config) -> list[Section]:
    host = current_host()
    registry = host.registry
    out = [Section("lmsplugins", "lmsplugins", True, [])]
    for plugin in sorted(registry.found, key=lambda p: (not registry.is_enabled(p), p.title)):
        out.append(Section(plugin.name, plugin.title, registry.is_enabled(plugin), []))
    declared = {"lmsplugins": HOST_SETTINGS} | {p.name: tuple(p.settings) for p in registry.found}
    for section in out:
        for setting in declared[section.name]:
            raw = config.get(setting.key)
            source = config.source(setting.key) or "default"
            shown = "" if setting.secret else (raw if raw is not None else "")
            section.settings.append(SettingView(setting, _field(setting), shown, source, raw is not None))
    return [s for s in out if s.settings]


def _global_row_exists(conn: Any, key: str) -> bool:
    section, var = key.split(".", 1)
    t = uiconfig.c
    found = conn.execute(
        select(t.id).where(
            and_(t.section == section, t.var == var, t.userid.is_(None), t.divisionid.is_(None), t.value != "")
        )
    ).first()
    return found is not None


def _same_bool(setting: Setting, a: str, b: str) -> bool:
    try:
        return bool(setting.parse(a)) == bool(setting.parse(b))
    except ConfigError:
        return False


def _planned_change(view: SettingView, config: Config, form: Any) -> tuple[str | None, str | None]:
    """(value to write or None, error or None) for one submitted field.

    A field missing from the submission (a form built before a plugin added the setting, a script
    posting part of the form) leaves the setting alone: only a field sent empty clears it.
    """
    setting = view.setting
    if view.field not in form:
        if setting.secret and form.get("clear:" + setting.key) and config.get(setting.key) is not None:
            return "", None
        return None, None
    submitted = (form.get(view.field) or "").strip()
    current = config.get(setting.key)
    if setting.secret:
        if form.get("clear:" + setting.key):
            return ("", None) if current is not None else (None, None)
        if not submitted or submitted == current:
            return None, None
    elif submitted == (current or "") or (
        setting.type == "bool" and submitted and current is not None and _same_bool(setting, submitted, current)
    ):
        return None, None
    if submitted == "":
        return "", None
    try:
        setting.parse(submitted)
    except ConfigError as exc:
        return None, str(exc)
    if setting.type == "bool":
        submitted = "true" if setting.parse(submitted) else "false"
    return submitted, None


FULL_ACCESS_SUFFIXES = ("_full_access", "_manage", "_admin")
"""A plugin's full-access right is the declared permission named like LMS's ``*_full_access`` (or
``*_manage`` / ``*_admin``): its holders may edit that plugin's settings without the host admin right."""


def full_access_right(plugin: Any) -> str | None:
    return next((p.name for p in plugin.permissions if p.name.endswith(FULL_ACCESS_SUFFIXES)), None)


def _allowed_sections() -> set[str] | None:
    """None: every section (host admin); else the plugins whose full-access right the user holds."""
    if has_permission(ADMIN):
        return None
    allowed = {
        p.name
        for p in current_host().registry.found
        if (right := full_access_right(p)) is not None and has_permission(right)
    }
    if not allowed:
        abort(403)
    return allowed


@blueprint.route("/settings", methods=["GET", "POST"])
def settings() -> Any:
    allowed = _allowed_sections()
    host = current_host()
    host.refresh_settings()
    config = host.config()
    sections = [s for s in _sections(config) if allowed is None or s.name in allowed]
    form = CsrfForm()
    add_breadcrumb(gettext("Administration"))
    add_breadcrumb(gettext("Settings"), url_for("admin.settings"))
    if form.validate_on_submit():
        changes: list[tuple[Setting, str]] = []
        errors = 0
        for section in sections:
            for view in section.settings:
                value, error = _planned_change(view, config, request.form)
                if error:
                    view.error = error
                    errors += 1
                    if not view.setting.secret:
                        view.value = (request.form.get(view.field) or "").strip()
                elif value is not None:
                    changes.append((view.setting, value))
        if errors:
            flash(gettext("Nothing saved: correct the marked fields."), "error")
            return render_template("admin_settings.html", sections=sections, form=form), 422
        if changes:
            with host.engine.begin() as conn:
                for setting, value in changes:
                    if value == "" and not _global_row_exists(conn, setting.key):
                        continue
                    write_uiconfig(conn, setting.key, value, description=setting.description)
            host.refresh_settings()
            flash(gettext("Settings saved.") + " (" + ", ".join(s.key for s, _ in changes) + ")", "success")
        else:
            flash(gettext("No changes."), "info")
        return redirect(url_for("admin.settings"))
    return render_template("admin_settings.html", sections=sections, form=form)


@blueprint.route("/plugins")
def plugins() -> Any:
    require_permission(ADMIN)
    host = current_host()
    registry = host.registry
    db_versions: dict[str, str | None] = {}
    db_error = None
    try:
        with host.engine.connect() as conn:
            db_versions = {p.name: get_dbinfo(conn, p.dbinfo_key) for p in registry.found if p.db_version}
    except Exception as exc:
        db_error = type(exc).__name__
    add_breadcrumb(gettext("Administration"))
    add_breadcrumb(gettext("Plugins"), url_for("admin.plugins"))
    return render_template(
        "admin_plugins.html",
        plugins=sorted(registry.found, key=lambda p: p.name),
        registry=registry,
        db_versions=db_versions,
        db_error=db_error,
        web_failures=web_state().web_failures,
        permissions=sorted(web_state().permissions.items()),
    )


JOB_STATUSES = ("running", "done", "failed", "error")


@blueprint.route("/jobs")
def jobs() -> Any:
    require_permission(ADMIN)
    job = request.args.get("job", "").strip()[:100] or None
    status = request.args.get("status", "")
    status = status if status in JOB_STATUSES else None
    try:
        limit = min(500, max(1, int(request.args.get("limit", 50))))
    except ValueError:
        limit = 50
    runs = recent_runs(current_host(), limit=limit, job=job, status=status)
    totals = Counter(run["status"] for run in runs)
    add_breadcrumb(gettext("Administration"))
    add_breadcrumb(gettext("Job runs"), url_for("admin.jobs"))
    return render_template(
        "admin_jobs.html",
        runs=runs,
        totals=totals,
        job=job or "",
        status=status or "",
        limit=limit,
        statuses=JOB_STATUSES,
    )
