"""The Metroport MVNO web part: a customer-card panel, the unbound-users page with manual binding,
and the billing list of one SIM account (issue 5 item 6; the PHP plugin had no pages, spec §7).

Why the unbound page asks Metroport live instead of reading what the last sync saw: the sync keeps no
copy of the user list (it would need a new plugin table, and the PHP plugin's schema has none to take
over), and the operator opens this page precisely to act on what Metroport says *now*; a stale list
would offer users already bound or deleted there. The call runs with a short timeout, and a failure is
an error box on the page, never a crash. The panel and the billing list read only the database, so a
customer card opens at once even while the provider is down.

Rights: the read views need ``metroportmvno_read`` (or ``metroportmvno_manage``, which implies
reading); the binding needs ``metroportmvno_manage``; LMS's ``full_access`` grants both.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from lmsplugins.errors import ConfigError
from lmsplugins.host import Host
from lmsplugins.jobs import recent_runs
from lmsplugins.lms import customers as lms_customers
from lmsplugins.web.context import (
    add_breadcrumb,
    current_host,
    current_settings,
    gettext,
    has_permission,
    int_arg,
    require_any_permission,
    require_permission,
)
from lmsplugins.web.i18n import add_messages
from lmsplugins.web.slots import mask_secrets
from lmsplugins.web.views_core import safe_next

from . import formatting, webdata
from .client import MetroportError
from .messages import EN, PL
from .plugin import plugin

READ, MANAGE = "metroportmvno_read", "metroportmvno_manage"
TYPE_CODES = {name: code for code, name in formatting.TYPE_NAMES.items()}
DIRECTIONS = {"in": 1, "out": 2}

add_messages("pl", PL)
add_messages("en", EN)

blueprint = Blueprint("metroport_mvno", __name__, template_folder="templates", url_prefix="/metroport-mvno")


class BindForm(FlaskForm):
    """Manual binding: which LMS customer gets which Metroport user (CSRF token included)."""

    customer_id = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    user_id = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    next = HiddenField()


def _require_read() -> None:
    require_any_permission(READ, MANAGE)


def _settings() -> Any:
    return current_settings(plugin)


def _provider_error(exc: Exception) -> str:
    return mask_secrets(current_host(), str(exc).splitlines()[0][:400])


# --------------------------------------------------------------------------------------------------
# Customer-card panel


def customer_panel(host: Host, customer_id: int) -> str:
    """The MVNO box on the customer card (called by the frame, inside the card's request)."""
    settings = _settings()
    zone = webdata.zone_of(settings)
    with host.engine.connect() as conn:
        data = webdata.panel_data(conn, customer_id, zone, datetime.now(zone).date())
    run = webdata.last_billing_run(recent_runs(host, limit=50, job=webdata.SYNC_JOB))
    return render_template(
        "metroport_mvno/panel.html",
        data=data,
        run=run,
        zone=zone,
        customer_id=customer_id,
        can_manage=has_permission(MANAGE),
        fmt=formatting,
    )


# --------------------------------------------------------------------------------------------------
# Unbound and ambiguous users


@blueprint.route("/unbound")
def unbound() -> Any:
    _require_read()
    kind = request.args.get("kind", "")
    kind = kind if kind in webdata.KINDS else ""
    q = request.args.get("q", "").strip()[:100]
    page_no = _int_arg("page", 1)
    per_page = current_app.config["PER_PAGE"]
    add_breadcrumb(gettext("Metroport MVNO: unbound users"), url_for("metroport_mvno.unbound"))
    error = None
    report = None
    rows: list[webdata.UserRow] = []
    page = _Page(1, per_page, 0)
    customers: dict[int, Any] = {}
    try:
        users = webdata.fetch_users(_settings())
    except (MetroportError, ConfigError) as exc:
        error = _provider_error(exc)
    else:
        with current_host().engine.connect() as conn:
            try:
                report = webdata.unbound_report(conn, users)
            except LookupError as exc:
                error = str(exc)
            else:
                selected = webdata.filter_rows(report.rows, kind, q)
                page = _Page(page_no, per_page, len(selected))
                rows = selected[(page.page - 1) * per_page : page.page * per_page]
                ids = {cid for r in rows for cid in r.candidates}
                customers = lms_customers.get_customers(conn, ids) if ids else {}
    return render_template(
        "metroport_mvno/unbound.html",
        error=error,
        report=report,
        rows=rows,
        page=page,
        customers=customers,
        kind=kind,
        kinds=webdata.KINDS,
        q=q,
        can_manage=has_permission(MANAGE),
        next_url=request.full_path.rstrip("?"),
        fmt=formatting,
    )


@blueprint.route("/bind", methods=["POST"])
def bind() -> Any:
    require_permission(MANAGE)
    form = BindForm()
    target = safe_next(form.next.data) if form.next.data else url_for("metroport_mvno.unbound")
    if not form.validate_on_submit():
        if form.errors.get("csrf_token"):
            abort(400)
        flash(gettext("Give an LMS customer number and a Metroport user number."), "error")
        return redirect(target)
    customer_id, user_id = int(form.customer_id.data or 0), int(form.user_id.data or 0)
    try:
        users = webdata.fetch_users(_settings())
    except (MetroportError, ConfigError) as exc:
        flash(gettext("Nothing bound: Metroport did not answer ({error}).", error=_provider_error(exc)), "error")
        return redirect(target)
    try:
        webdata.manual_bind(current_host().engine, customer_id, user_id, (u.id for u in users))
    except webdata.BindRefused as exc:
        flash(gettext("Nothing bound: ") + gettext(exc.message, **exc.values), "error")
        return redirect(target)
    current_app.logger.info("Metroport user #%s bound to customer #%s by hand", user_id, customer_id)
    flash(
        gettext("Customer #{customer} is now bound to Metroport user #{user}.", customer=customer_id, user=user_id),
        "success",
    )
    return redirect(target)


# --------------------------------------------------------------------------------------------------
# Billing list of one account


@blueprint.route("/accounts/<int:account_id>/billing")
def billing(account_id: int) -> Any:
    _require_read()
    zone = webdata.zone_of(_settings())
    today = datetime.now(zone).date()
    errors: dict[str, str] = {}
    first_day = today.replace(day=1)
    last_day = (first_day + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    start_day = _date_arg("from", first_day, errors)
    end_day = _date_arg("to", last_day, errors)
    if end_day < start_day:
        errors["to"] = gettext("The end is before the start.")
        end_day = start_day
    type_name = request.args.get("type", "")
    direction = request.args.get("direction", "")
    number = "".join(ch for ch in request.args.get("number", "") if ch.isdigit())[:20]
    flt = webdata.BillingFilter(
        start=webdata.day_start(start_day, zone),
        end=webdata.day_start(end_day + timedelta(days=1), zone) - 1,
        type=TYPE_CODES.get(type_name),
        direction=DIRECTIONS.get(direction),
        number=number,
    )
    with current_host().engine.connect() as conn:
        account = webdata.provider_account(conn, account_id)
        if account is None:
            abort(404)
        owner = lms_customers.get_customers(conn, [account["ownerid"]]).get(account["ownerid"])
        page = webdata.billing_page(conn, account_id, flt, _int_arg("page", 1), current_app.config["PER_PAGE"])
    owner_name = lms_customers.display_name(owner["lastname"], owner["name"]) if owner else ""
    if owner is not None:
        add_breadcrumb(gettext("Customers"), url_for("core.customers"))
        add_breadcrumb(f"{owner_name} (#{owner['id']})", url_for("core.customer", customer_id=owner["id"]))
    add_breadcrumb(gettext("Billing records of {login}", login=account["login"]))
    args = {
        "from": start_day.isoformat(),
        "to": end_day.isoformat(),
        "type": type_name if type_name in TYPE_CODES else "",
        "direction": direction if direction in DIRECTIONS else "",
        "number": number,
    }
    return render_template(
        "metroport_mvno/billing.html",
        account=account,
        owner=owner,
        owner_name=owner_name,
        page=page,
        args=args,
        errors=errors,
        zone=zone,
        type_names=list(TYPE_CODES),
        fmt=formatting,
    )


# --------------------------------------------------------------------------------------------------
# Request helpers


class _Page:
    """What ``macros.pager`` needs for an in-memory list."""

    def __init__(self, page: int, per_page: int, total: int):
        self.total = total
        self.total_capped = False
        self.pages = max(1, -(-total // per_page))
        self.page = min(max(1, page), self.pages)
        self.has_next = self.page < self.pages


def _int_arg(name: str, default: int) -> int:
    return int_arg(name, default)


def _date_arg(name: str, default: date, errors: dict[str, str]) -> date:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = gettext("Not a date (YYYY-MM-DD): {value}", value=raw[:20])
        return default
