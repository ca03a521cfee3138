"""The Wildcore web part: the MikBill feed (``feed.py``), the diagnostics panel on the customer card with
its "poll now" button, and the admin page of matching problems.

Rights: the panel, the poll and the admin page need ``wildcore_read`` (LMS's ``full_access`` grants
it). The feed needs no login, only its key (a machine endpoint).

Why the panel catches every Wildcore failure itself: the card must open while Wildcore is down, slow
or misconfigured; each target shows Wildcore's error line instead, and the rest of the card renders.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from lmsplugins.errors import ConfigError
from lmsplugins.host import Host
from lmsplugins.lms import network
from lmsplugins.lms.customer_card import display_name
from lmsplugins.lms.tables import customers
from lmsplugins.web.context import (
    add_breadcrumb,
    current_host,
    current_settings,
    gettext,
    read_engine,
    require_permission,
)
from lmsplugins.web.i18n import add_messages
from lmsplugins.web.machine import recent_requests
from lmsplugins.web.slots import mask_secrets
from lmsplugins.web.views_core import safe_next

from . import diagnostics, feed
from .client import WildcoreClient
from .messages import EN, PL
from .plugin import READ, plugin
from .tables import wildcore_misses, wildcore_onus

add_messages("pl", PL)
add_messages("en", EN)

blueprint = Blueprint("wildcore", __name__, template_folder="templates", url_prefix="/wildcore")
feed.register(blueprint)


def _panel_context(host: Host, customer_id: int, poll: bool = False) -> dict[str, Any]:
    settings = current_settings(plugin)
    with host.engine.connect() as conn:
        targets = diagnostics.customer_targets(conn, customer_id)
    context: dict[str, Any] = {"customer_id": customer_id, "targets": targets or [], "results": [], "error": ""}
    if not targets:
        return context
    try:
        client = WildcoreClient.from_settings(settings)
    except ConfigError as exc:
        context["error"] = str(exc)
        return context
    with client:
        max_age = max(0, int(settings.get("wildcore.cache_seconds") or 0))
        context["results"] = diagnostics.panel_results(host.engine, client, customer_id, targets, max_age, poll)
    return context


def customer_panel(host: Host, customer_id: int) -> str:
    """The Wildcore box on the customer card (called by the frame inside the card's request)."""
    context = _panel_context(host, customer_id)
    context["error"] = mask_secrets(host, context["error"])
    context["back"] = request.full_path.rstrip("?")
    return render_template("wildcore/panel.html", **context)


@blueprint.route("/poll/<int:customer_id>", methods=["POST"])
def poll(customer_id: int) -> Any:
    """ "Poll now": ask the devices through Wildcore (``from=device``) and keep the answers for the card."""
    require_permission(READ)
    context = _panel_context(current_host(), customer_id, poll=True)
    failed = [r for r in context["results"] if r.error]
    if context["error"]:
        flash(gettext("Wildcore could not be asked") + ": " + mask_secrets(current_host(), context["error"]), "error")
    elif failed:
        flash(gettext("Wildcore could not poll everything") + ": " + failed[0].error, "error")
    else:
        flash(gettext("Polled the devices through Wildcore"), "success")
    back = request.form.get("next") or ""
    return redirect(safe_next(back) if back else url_for("core.customer", customer_id=customer_id))


@blueprint.route("/problems")
def problems() -> Any:
    """Customers whose ONU or port Wildcore could not match, and LMS data Wildcore would skip."""
    require_permission(READ)
    add_breadcrumb(gettext("Wildcore: unmatched and duplicates"), url_for("wildcore.problems"))
    engine = read_engine()
    with engine.connect() as conn:
        misses = conn.execute(
            select(
                wildcore_misses.c.customerid,
                wildcore_misses.c.target,
                wildcore_misses.c.reason,
                wildcore_misses.c.seen,
                customers.c.lastname,
                customers.c.name,
            )
            .join(customers, customers.c.id == wildcore_misses.c.customerid)
            .order_by(wildcore_misses.c.seen.desc(), wildcore_misses.c.customerid)
            .limit(500)
        ).all()
        serials = network.shared_serials(conn)
        ports = network.shared_ports(conn)
        ident = func.upper(wildcore_onus.c.ident)
        shared_own = conn.execute(
            select(ident.label("ident"), func.count(func.distinct(wildcore_onus.c.customerid)).label("n"))
            .group_by(ident)
            .having(func.count(func.distinct(wildcore_onus.c.customerid)) > 1)
            .order_by(ident)
        ).all()
        names = _names(conn, {c for s in serials for c in s.customer_ids} | {c for p in ports for c in p.customer_ids})
    return render_template(
        "wildcore/problems.html",
        misses=misses,
        serials=serials,
        ports=ports,
        shared_own=shared_own,
        names=names,
        display_name=display_name,
        requests=recent_requests(engine, feed.API)[:20],
    )


def _names(conn: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = conn.execute(select(customers.c.id, customers.c.lastname, customers.c.name).where(customers.c.id.in_(ids)))
    return {r.id: display_name(r.lastname, r.name) for r in rows}
