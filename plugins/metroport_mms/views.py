"""The Metroport MMS web part (spec §9): the MMS user list, the connection test, and the customer-card
panel with pairing, F-Secure licences and MetroTV accounts.

Why it is shaped like this:

* Like the PHP pages, lists are read live from MMS (the provider is the truth; the PHP plugin's cache
  tables are for the cron mirrors), but in ONE call per list: the LMS names of a page of MMS users come
  from one query on the pairing table, never a ``GET /Users/users/{id}`` per row (PHP's N+1).
* Every write is provider-first (as the Hiperus panels do): MMS is asked, and only when it accepts does
  anything change locally (a pairing, an LMS assignment); a refusal is a flash with the provider's
  message and nothing local changes. Every form carries the frame's CSRF token.
* Rights are LMS's names of spec §9 (``metroport_readonly`` for the lists and the card, the per-module
  rights for the rest) plus ``metroport_metrotv_read`` / ``metroport_metrotv_write``, which the PHP
  plugin lacked (MetroTV needed full access there).
* The connection test logs in afresh and reports success or the refusal, never the token.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from lmsplugins.errors import ConfigError, LMSPluginsError
from lmsplugins.host import Host
from lmsplugins.lms.assignments import assign_tariff
from lmsplugins.lms.suspensions import end_assignment
from lmsplugins.lms.tables import customers, tariffs
from lmsplugins.web.context import (
    add_breadcrumb,
    current_host,
    current_settings,
    gettext,
    has_permission,
    require_any_permission,
    require_permission,
)
from lmsplugins.web.i18n import add_messages
from lmsplugins.web.slots import mask_secrets

from . import service, store
from .client import MemoryTokenStore, MMSClient, MMSError
from .messages import EN, PL
from .plugin import (
    PERM_FSECURE_ACTION,
    PERM_READ,
    PERM_TEST,
    PERM_TV_READ,
    PERM_TV_WRITE,
    PERM_WRITE,
    plugin,
)

add_messages("pl", PL)
add_messages("en", EN)

blueprint = Blueprint("metroport_mms", __name__, template_folder="templates", url_prefix="/metroport")
FSECURE_ACTIONS = ("block", "unblock", "delete", "change")
WARSAW = ZoneInfo("Europe/Warsaw")


def _client(fresh_store: bool = False) -> MMSClient:
    settings = current_settings(plugin)
    tokens = MemoryTokenStore() if fresh_store else store.DbTokenStore(current_host().engine)
    return MMSClient.from_settings(settings, tokens)


def _message(exc: Exception) -> str:
    return mask_secrets(current_host(), str(exc).splitlines()[0][:400])


def _back(customer_id: int) -> Any:
    return redirect(url_for("core.customer", customer_id=customer_id))


class _Page:
    """What ``macros.pager`` needs for an in-memory list."""

    def __init__(self, page: int, per_page: int, total: int):
        self.total = total
        self.total_capped = False
        self.pages = max(1, -(-total // per_page))
        self.page = min(max(1, page), self.pages)
        self.has_next = self.page < self.pages


# --------------------------------------------------------------------------------------------------
# MMS user list (metroportclientlist)


def _matches(user: Any, q: str) -> bool:
    text = " ".join((str(user.id), user.name, user.lastname, user.email, user.pesel, user.nip)).lower()
    digits = "".join(ch for ch in q if ch.isdigit())
    return q in text or (len(digits) >= 5 and digits in "".join(ch for ch in text if ch.isdigit() or ch == " "))


@blueprint.route("/users")
def users() -> Any:
    require_any_permission(PERM_READ, PERM_WRITE)
    q = request.args.get("q", "").strip().lower()[:100]
    state = request.args.get("state", "")
    try:
        page_no = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page_no = 1
    per_page = int(current_settings(plugin).get("metroport.list_pagelimit") or 100)
    per_page = per_page if per_page > 0 else 100_000
    add_breadcrumb(gettext("Metroport: MMS users"), url_for("metroport_mms.users"))
    error, rows, names, by_user = None, [], {}, {}
    page = _Page(1, per_page, 0)
    try:
        with _client() as client:
            everyone = client.users()
    except (MMSError, ConfigError) as exc:
        error = _message(exc)
    else:
        with current_host().engine.connect() as conn:
            for uid, cid in store.pairs(conn):
                by_user.setdefault(uid, []).append(cid)
            selected = [
                u
                for u in everyone
                if (not q or _matches(u, q))
                and (state != "paired" or u.id in by_user)
                and (state != "unpaired" or u.id not in by_user)
            ]
            page = _Page(page_no, per_page, len(selected))
            rows = selected[(page.page - 1) * per_page : page.page * per_page]
            wanted = sorted({cid for u in rows for cid in by_user.get(u.id, [])})
            if wanted:
                found = conn.execute(
                    select(customers.c.id, customers.c.lastname, customers.c.name).where(customers.c.id.in_(wanted))
                )
                names = {r.id: f"{r.lastname} {r.name}".strip() for r in found}
    return render_template(
        "metroport_mms/users.html", error=error, rows=rows, page=page, by_user=by_user, names=names, q=q, state=state
    )


# --------------------------------------------------------------------------------------------------
# Connection test (metroportconnectiontest)


@blueprint.route("/connection-test")
def connection_test() -> Any:
    require_permission(PERM_TEST)
    add_breadcrumb(gettext("Metroport: connection test"), url_for("metroport_mms.connection_test"))
    url = (current_settings(plugin).get("metroport.serwer_url") or "").strip()
    ok, error, took = False, None, 0.0
    started = time.monotonic()
    try:
        with _client(fresh_store=True) as client:
            client.login()
        ok = True
    except (MMSError, ConfigError) as exc:
        error = _message(exc)
    took = time.monotonic() - started
    return render_template("metroport_mms/connection_test.html", ok=ok, error=error, url=url, took=took)


# --------------------------------------------------------------------------------------------------
# Customer-card panel


def customer_panel(host: Host, customer_id: int) -> str:
    settings = current_settings(plugin)
    show_fs = str(settings.get("metroport.show_fsecure_in_customer_tab") or "1").strip() != "0"
    show_tv = str(settings.get("metroport.show_metrotv_in_customer_tab") or "1").strip() != "0" and (
        has_permission(PERM_TV_READ) or has_permission(PERM_TV_WRITE)
    )
    with host.engine.connect() as conn:
        userid = store.mms_user_of(conn, customer_id)
        t = tariffs
        query = select(t.c.id, t.c.name, t.c.value).where(t.c.disabled == 0).order_by(t.c.name)
        tariff_rows = conn.execute(query).all()
        links = {}
    data: dict[str, Any] = {
        "services": [],
        "packages": {},
        "accounts": [],
        "cards": {},
        "offer": {},
        "networks": [],
        "address": None,
    }
    error = None
    if userid is not None and (show_fs or show_tv):
        try:
            with _client() as client:
                if show_fs:
                    data["packages"] = {int(p["id"]): p for p in client.fsecure_packages()}
                    data["services"] = client.fsecure_services(userid)
                if show_tv:
                    _tv_data(client, userid, data, has_permission(PERM_TV_WRITE))
        except (MMSError, ConfigError) as exc:
            error = _message(exc)
        with host.engine.connect() as conn:
            links = {int(s["id"]): service.linked_assignment(conn, int(s["id"])) for s in data["services"]}
            data["address"] = service.customer_export(conn, customer_id).address
    live = [s for s in data["services"] if s.get("status") != "deleted"]
    return render_template(
        "metroport_mms/panel.html",
        customer_id=customer_id,
        userid=userid,
        error=error,
        data=data,
        links=links,
        show_fs=show_fs,
        show_tv=show_tv,
        can_add_service=not live,
        tariffs=tariff_rows,
        today=time.strftime("%Y-%m-%d"),
        can_write=has_permission(PERM_WRITE),
        can_fs=has_permission(PERM_FSECURE_ACTION) or has_permission(PERM_WRITE),
        can_tv=has_permission(PERM_TV_WRITE),
        when=_when,
    )


def _tv_data(client: MMSClient, userid: int, data: dict[str, Any], can_write: bool) -> None:
    """The MetroTV box: each account's card (one call per account: a customer has a few), and for
    writers the networks and the packages each account may be given now."""
    from datetime import date

    from .mapping import card_orders, offerable_packages

    data["accounts"] = client.tv_accounts(userid)
    data["cards"] = {int(a["id"]): client.tv_account(int(a["id"])) for a in data["accounts"]}
    data["orders"] = {aid: card_orders(card) for aid, card in data["cards"].items()}
    if can_write:
        data["networks"] = client.networks()
        packages = client.tv_packages()
        data["offer"] = {aid: offerable_packages(packages, card, date.today()) for aid, card in data["cards"].items()}


def _when(value: Any) -> str:
    """A provider's unix time as Y-m-d H:i in Europe/Warsaw (spec §9); '' for none."""
    try:
        seconds = int(value or 0)
    except (TypeError, ValueError):
        return str(value)
    if seconds <= 0:
        return ""
    return datetime.fromtimestamp(seconds, WARSAW).strftime("%Y-%m-%d %H:%M")


@blueprint.route("/customers/<int:customer_id>/add", methods=["POST"])
def add_customer(customer_id: int) -> Any:
    require_permission(PERM_WRITE)
    try:
        with _client() as client:
            added = service.pair_or_create(current_host().engine, client, customer_id)
    except (LMSPluginsError, ConfigError) as exc:
        flash(gettext("Not added to Metroport: {error}", error=_message(exc)), "error")
        return _back(customer_id)
    assert added is not None
    text = "Created MMS user #{user} and paired it." if added.created else "Paired with MMS user #{user}."
    flash(gettext(text, user=added.userid), "success")
    if added.missing:
        flash(gettext("MMS needs more to activate services: {missing}", missing=", ".join(added.missing)), "warning")
    return _back(customer_id)


@blueprint.route("/customers/<int:customer_id>/update", methods=["POST"])
def update_customer(customer_id: int) -> Any:
    require_permission(PERM_WRITE)
    from . import mapping

    with current_host().engine.connect() as conn:
        userid = store.mms_user_of(conn, customer_id)
        try:
            export = service.customer_export(conn, customer_id)
        except LMSPluginsError:
            abort(404)
    if userid is None:
        abort(404)
    try:
        with _client() as client:
            client.update_user(userid, mapping.user_payload(export, with_firstname=True))
    except (MMSError, ConfigError) as exc:
        flash(gettext("MMS refused the update: {error}", error=_message(exc)), "error")
    else:
        flash(gettext("Customer data sent to MMS user #{user}.", user=userid), "success")
    return _back(customer_id)


def _owned(client: MMSClient, userid: int, service_id: int) -> dict[str, Any]:
    found = [s for s in client.fsecure_services(userid) if int(s["id"]) == service_id]
    if not found:
        abort(404)
    return dict(found[0])


@blueprint.route("/customers/<int:customer_id>/fsecure/add", methods=["POST"])
def fsecure_add(customer_id: int) -> Any:
    if not (has_permission(PERM_FSECURE_ACTION) or has_permission(PERM_WRITE)):
        abort(403)
    host = current_host()
    with host.engine.connect() as conn:
        userid = store.mms_user_of(conn, customer_id)
    if userid is None:
        abort(404)
    form = request.form
    try:
        package_id = int(form.get("package", ""))
        tariff_id = int(form["tariff"]) if form.get("with_assignment") else None
        at = int(form.get("at") or 1)
        datefrom = _day(form.get("datefrom")) if tariff_id else 0
    except ValueError:
        flash(gettext("Choose a package (and a tariff, a start date and a day 1–28 for the assignment)."), "error")
        return _back(customer_id)
    try:
        with _client() as client:
            if any(s.get("status") != "deleted" for s in client.fsecure_services(userid)):
                raise MMSError("the customer already has a live F-Secure licence")
            packages = {int(p["id"]): p for p in client.fsecure_packages()}
            if package_id not in packages:
                raise MMSError(f"unknown F-Secure package {package_id}")
            mms_id = int(client.user(userid).get("id", userid))
            created = client.fsecure_add(mms_id, package_id, int(packages[package_id].get("license_size") or 1))
    except (MMSError, ConfigError) as exc:
        flash(gettext("MMS refused the licence: {error}", error=_message(exc)), "error")
        return _back(customer_id)
    flash(gettext("F-Secure licence added."), "success")
    if tariff_id is not None:
        with host.engine.begin() as conn:
            assignment = assign_tariff(conn, customer_id, tariff_id, datefrom, at=max(1, min(at, 28)))
            if isinstance(created, dict) and created.get("id"):
                service.link_assignment(conn, int(created["id"]), assignment)
        flash(gettext("LMS assignment #{id} added.", id=assignment), "success")
    return _back(customer_id)


def _day(text: str | None) -> int:
    return int(time.mktime(time.strptime((text or time.strftime("%Y-%m-%d")).strip(), "%Y-%m-%d")))


@blueprint.route("/customers/<int:customer_id>/fsecure/<int:service_id>/<action>", methods=["POST"])
def fsecure_action(customer_id: int, service_id: int, action: str) -> Any:
    if action not in FSECURE_ACTIONS:
        abort(404)
    if not (has_permission(PERM_FSECURE_ACTION) or has_permission(PERM_WRITE)):
        abort(403)
    host = current_host()
    with host.engine.connect() as conn:
        userid = store.mms_user_of(conn, customer_id)
    if userid is None:
        abort(404)
    try:
        with _client() as client:
            licence = _owned(client, userid, service_id)
            if action in ("block", "unblock"):
                client.fsecure_block(service_id, action == "block")
            elif action == "delete":
                client.fsecure_delete(service_id)
            else:
                package_id = int(request.form.get("package", "0") or 0)
                packages = {int(p["id"]): p for p in client.fsecure_packages()}
                if package_id not in packages:
                    raise MMSError(f"unknown F-Secure package {package_id}")
                client.fsecure_change(
                    service_id, int(licence["userid"]), package_id, int(packages[package_id].get("license_size") or 1)
                )
    except (MMSError, ConfigError) as exc:
        flash(gettext("MMS refused: {error}", error=_message(exc)), "error")
        return _back(customer_id)
    flash(gettext("F-Secure licence: done ({action}).", action=gettext("action:" + action)), "success")
    if action == "delete":
        with host.engine.begin() as conn:
            assignment = service.linked_assignment(conn, service_id)
            if assignment and request.form.get("end_assignment"):
                if end_assignment(conn, assignment, customer_id):
                    flash(gettext("LMS assignment #{id} ended.", id=assignment), "success")
                service.unlink_assignment(conn, service_id)
    return _back(customer_id)


@blueprint.route("/customers/<int:customer_id>/metrotv/<int:account_id>/<action>", methods=["POST"])
def metrotv_action(customer_id: int, account_id: int, action: str) -> Any:
    require_permission(PERM_TV_WRITE)
    if action not in ("block", "unblock"):
        abort(404)
    with current_host().engine.connect() as conn:
        userid = store.mms_user_of(conn, customer_id)
    if userid is None:
        abort(404)
    try:
        with _client() as client:
            if account_id not in {int(a["id"]) for a in client.tv_accounts(userid)}:
                abort(404)
            client.tv_account_block(account_id, action == "block")
    except (MMSError, ConfigError) as exc:
        flash(gettext("MMS refused: {error}", error=_message(exc)), "error")
        return _back(customer_id)
    current_app.logger.info("MetroTV account %s of customer %s: %s", account_id, customer_id, action)
    flash(
        gettext("MetroTV account #{id}: done ({action}).", id=account_id, action=gettext("action:" + action)), "success"
    )
    return _back(customer_id)


# The list pages and the customer card's MetroTV actions register their routes on this blueprint.
from . import views_lists, views_tv  # noqa: E402, F401
