"""The UserSide admin page (right ``userside_admin``): what to paste into usm_billing, the key, the
allow-list, the last requests and a preview of one customer as ``get_user_list`` sends it.

The key is generated here (``secrets.token_urlsafe``), never typed, and shown masked; after a rotation
the new key is shown once in full so it can be copied into usm_billing. Rotation writes the global
``uiconfig`` row, as LMS's own settings page would; another web worker picks the new key up when it
reloads its settings (as for every setting of the host).
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from lmsplugins.errors import ConfigError
from lmsplugins.web.context import add_breadcrumb, current_host, gettext, require_permission
from lmsplugins.web.i18n import add_messages
from lmsplugins.web.machine import recent_requests

from . import api
from .messages import EN, PL
from .plugin import ADMIN, ALLOWED, API_KEY, plugin

add_messages("pl", PL)
add_messages("en", EN)
_SEPARATORS = re.compile(r"[,;\s]+")


def mask_key(key: str) -> str:
    """``abcd…wxyz`` style: enough to recognise a key, not enough to use it."""
    if not key:
        return ""
    if len(key) <= 8:
        return "•" * len(key)
    return f"{key[:4]}{'•' * 8}{key[-4:]}"


def parse_allow_list(text: str) -> tuple[str, list[str]]:
    """(normalised list, bad items) of addresses and networks separated by commas or spaces."""
    good, bad = [], []
    for item in _SEPARATORS.split(text.strip()):
        if not item:
            continue
        try:
            good.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            bad.append(item)
    return ", ".join(good), bad


def _local_time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def _preview(customer_id: str) -> tuple[str | None, str | None]:
    try:
        settings = current_host().plugin_settings(plugin)
        # Not the autocommit reader: the customer query streams through a server-side cursor,
        # which PostgreSQL opens only inside a transaction.
        with current_host().engine.connect() as conn:
            ctx = api.Context(conn, settings, {"customer_id": customer_id}, api.now())
            cid = api.customer_id_arg(ctx.args)
            elements = list(api.user_elements(ctx, cid))
    except (api.ApiError, ConfigError) as exc:
        return None, str(exc)
    if not elements:
        return None, gettext("Customer not found.")
    return json.dumps(elements[0][1], ensure_ascii=False, indent=2), None


def register_admin(blueprint: Blueprint) -> None:
    @blueprint.route("/", methods=["GET", "POST"])
    def admin() -> Any:
        require_permission(ADMIN)
        host = current_host()
        if request.method == "POST":
            action = request.form.get("action")
            if action == "rotate":
                key = secrets.token_urlsafe(24)
                host.set_uiconfig(API_KEY, key, description="UserSide universal API key")
                flash(gettext("New key (shown once, copy it into usm_billing):") + f" {key}", "success")
            elif action == "allow":
                value, bad = parse_allow_list(request.form.get("allowed", ""))
                if bad:
                    flash(gettext("Not an address or network:") + " " + ", ".join(bad[:5]), "error")
                else:
                    host.set_uiconfig(ALLOWED, value, description="UserSide universal API allow-list")
                    flash(gettext("Allow-list saved."), "success")
            return redirect(url_for("userside.admin"))
        try:
            settings = host.plugin_settings(plugin)
        except ConfigError as exc:
            flash(str(exc), "error")
            settings = {s.key: s.default for s in plugin.settings}
        add_breadcrumb(gettext("UserSide API"), url_for("userside.admin"))
        preview, preview_error = None, None
        customer = request.args.get("customer_id", "").strip()
        if customer:
            preview, preview_error = _preview(customer)
        base = url_for("userside.universal_api", _external=True)
        return render_template(
            "userside/admin.html",
            billing_url=f"{base}?key={mask_key(settings[API_KEY]) or '…'}",
            base_url=base,
            key_masked=mask_key(settings[API_KEY]),
            allowed=settings[ALLOWED],
            writeback=settings["userside.writeback"],
            requests=[(_local_time(r.time), r) for r in recent_requests(host.engine, "userside")],
            customer=customer,
            preview=preview,
            preview_error=preview_error,
        )
