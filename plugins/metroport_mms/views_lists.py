"""The Metroport MMS list pages of spec §9 (F-Secure packages, clients and operations; MetroTV packages,
subnets, STB models, the STB warehouse with add and delete, accounts), read live from MMS, one call per
list plus one query for the LMS names, never a call per row.

The pages share one table template (``metroport_mms/list.html``): a view builds column titles and rows
of cells, each cell text with an optional link, so nine lists do not need nine templates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from lmsplugins.errors import ConfigError
from lmsplugins.lms.tables import customers
from lmsplugins.web.context import add_breadcrumb, current_host, gettext, has_permission, require_any_permission

from . import mapping, store
from .client import MMSClient, MMSError
from .plugin import PERM_READ, PERM_TV_READ, PERM_TV_WRITE, PERM_WRITE
from .views import _client, _message, _when, blueprint

GROUPS = {1: "base", 2: "extra", 3: "multiroom", 4: "PPV"}
STB_ORDER = {3: 0, 1: 1, 2: 2, 4: 3, 5: 4}
"""Spec §9: issued, warehouse, reserved, broken, deleted."""


@dataclass
class Cell:
    text: Any
    url: str | None = None
    css: str = ""


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    row_ids: list[str] = field(default_factory=list)
    actions: list[Any] = field(default_factory=list)


def _ip(value: Any) -> str:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return str(value or "")
    text = ".".join(str((number >> s) & 0xFF) for s in (24, 16, 8, 0))
    return "" if text == "0.0.0.0" else text


def _lms_names(userids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """MMS user id -> (LMS customer id, name) from the pairing table and one customers query."""
    with current_host().engine.connect() as conn:
        by_user: dict[int, int] = {}
        for uid, cid in store.pairs(conn):
            by_user.setdefault(uid, cid)
        wanted = {by_user[u] for u in userids if u in by_user}
        names = {}
        if wanted:
            rows = conn.execute(
                select(customers.c.id, customers.c.lastname, customers.c.name).where(customers.c.id.in_(sorted(wanted)))
            )
            names = {r.id: f"{r.lastname} {r.name}".strip() for r in rows}
    return {u: (c, names.get(c, f"#{c}")) for u, c in by_user.items() if c in wanted}


def _name_cell(names: Mapping[int, tuple[int, str]], userid: Any) -> Cell:
    try:
        uid = int(userid)
    except (TypeError, ValueError):
        return Cell("")
    if uid in names:
        cid, name = names[uid]
        return Cell(name, url_for("core.customer", customer_id=cid), "lms-name")
    return Cell("")


def _page(title: str, build: Callable[[MMSClient], Table], endpoint: str) -> Any:
    add_breadcrumb(gettext(title), url_for(endpoint))
    table, error = None, None
    try:
        with _client() as client:
            table = build(client)
    except (MMSError, ConfigError) as exc:
        error = _message(exc)
    return render_template(
        "metroport_mms/list.html",
        title=gettext(title),
        table=table,
        error=error,
        can_tv=has_permission(PERM_TV_WRITE),
        endpoint=endpoint,
    )


# --------------------------------------------------------------------------------------------------
# F-Secure


@blueprint.route("/fsecure/packages")
def fsecure_packages() -> Any:
    require_any_permission("metroportfsecureservicelist", PERM_WRITE)

    def build(client: MMSClient) -> Table:
        t = Table("F-Secure packages", ["#", "Name", "Description", "Licences"])
        for p in client.fsecure_packages():
            t.rows.append(
                [Cell(p.get("id")), Cell(p.get("name")), Cell(p.get("description")), Cell(p.get("license_size"))]
            )
        return t

    return _page("F-Secure: packages", build, "metroport_mms.fsecure_packages")


@blueprint.route("/fsecure/clients")
def fsecure_clients() -> Any:
    require_any_permission("metroportfsecureclientslist", PERM_WRITE)

    def build(client: MMSClient) -> Table:
        packages = {int(p["id"]): p.get("name") for p in client.fsecure_packages()}
        services = client.fsecure_services()
        names = _lms_names(int(s.get("userid") or 0) for s in services)
        t = Table(
            "F-Secure clients", ["MMS user", "LMS name", "Service", "Licences", "Status", "Activated", "Blocked on"]
        )
        for s in services:
            status = str(s.get("status"))
            t.rows.append(
                [
                    Cell(s.get("userid")),
                    _name_cell(names, s.get("userid")),
                    Cell(packages.get(int(s.get("secur_serviceid") or 0), gettext("Unknown service"))),
                    Cell(s.get("license_size")),
                    Cell(gettext("status:" + status), css=f"status-{status}"),
                    Cell(_when(s.get("activedate"))),
                    Cell(_when(s.get("blockdate")) if status != "active" else ""),
                ]
            )
        return t

    return _page("F-Secure: clients", build, "metroport_mms.fsecure_clients")


@blueprint.route("/fsecure/operations")
def fsecure_operations() -> Any:
    require_any_permission("metroportfsecureoperationlist", PERM_WRITE)

    def build(client: MMSClient) -> Table:
        ops = client.fsecure_operations()
        names = _lms_names(int(o.get("userid") or 0) for o in ops)
        t = Table("F-Secure operations", ["#", "LMS name", "Licence", "Status", "Type", "Error", "Created", "Executed"])
        for o in ops:
            t.rows.append(
                [
                    Cell(o.get("id")),
                    _name_cell(names, o.get("userid")),
                    Cell(o.get("secur_accountid")),
                    Cell(o.get("status")),
                    Cell(o.get("type")),
                    Cell(o.get("errormsg")),
                    Cell(_when(o.get("creationdate"))),
                    Cell(_when(o.get("execdate"))),
                ]
            )
        return t

    return _page("F-Secure: operations", build, "metroport_mms.fsecure_operations")


# --------------------------------------------------------------------------------------------------
# MetroTV


def _tv_read() -> None:
    require_any_permission(PERM_TV_READ, PERM_TV_WRITE)


@blueprint.route("/metrotv/packages")
def tv_packages() -> Any:
    _tv_read()

    def build(client: MMSClient) -> Table:
        rows = sorted(
            client.tv_packages(),
            key=lambda p: (int(p.get("pkg_group") or 0) != 1, int(p.get("pkg_group") or 0), int(p.get("id") or 0)),
        )
        t = Table(
            "MetroTV packages",
            [
                "#",
                "Name",
                "Description",
                "Valid from",
                "Valid to",
                "Settlement net",
                "Settlement gross",
                "Customer net",
                "Customer gross",
                "VAT %",
                "Group",
                "Active",
            ],
        )
        for p in rows:
            t.rows.append(
                [
                    Cell(p.get("id")),
                    Cell(p.get("tariffcode")),
                    Cell(p.get("pkg_name")),
                    Cell(p.get("pkg_valid_from") or ""),
                    Cell(p.get("pkg_valid_to") or ""),
                    Cell(p.get("pricenetto_provider")),
                    Cell(p.get("pricebrutto_provider")),
                    Cell(p.get("pricenetto")),
                    Cell(p.get("pricebrutto")),
                    Cell(p.get("vat")),
                    Cell(gettext("group:" + GROUPS.get(int(p.get("pkg_group") or 0), "?"))),
                    Cell("✓" if str(p.get("active")) == "1" else ""),
                ]
            )
        return t

    return _page("MetroTV: packages", build, "metroport_mms.tv_packages")


@blueprint.route("/metrotv/networks")
def tv_networks() -> Any:
    _tv_read()

    def build(client: MMSClient) -> Table:
        t = Table(
            "MetroTV subnets", ["#", "Name", "Address", "Prefix", "Mask", "Size", "Transport", "STBs issued", "Free"]
        )
        for n in client.networks():
            size, used = int(n.get("size") or 0), int(n.get("TotalSTBs") or 0)
            address = n.get("address_long") or _ip(n.get("address"))
            t.rows.append(
                [
                    Cell(n.get("id")),
                    Cell(n.get("name")),
                    Cell(address),
                    Cell(f"/{n.get('mask_prefix')}"),
                    Cell(n.get("mask")),
                    Cell(size),
                    Cell(n.get("transport")),
                    Cell(used),
                    Cell(size - used, css="negative" if size <= used else ""),
                ]
            )
        return t

    return _page("MetroTV: subnets", build, "metroport_mms.tv_networks")


@blueprint.route("/metrotv/stb-models")
def tv_stb_models() -> Any:
    _tv_read()

    def build(client: MMSClient) -> Table:
        t = Table("STB models", ["#", "Name", "Description", "MyCast", "Probe"])
        for m in client.stb_models():
            t.rows.append(
                [
                    Cell(m.get("id")),
                    Cell(m.get("name")),
                    Cell(m.get("description")),
                    Cell(gettext("Yes") if str(m.get("mycast_supported")) == "1" else gettext("No support")),
                    Cell(gettext("Yes") if str(m.get("probe")) == "1" else gettext("No")),
                ]
            )
        return t

    return _page("MetroTV: STB models", build, "metroport_mms.tv_stb_models")


@blueprint.route("/metrotv/stbs")
def tv_stbs() -> Any:
    _tv_read()
    q = request.args.get("q", "").strip().lower()[:60]

    def build(client: MMSClient) -> Table:
        models = {int(m["id"]): m.get("name") for m in client.stb_models()}
        stbs = [s for s in client.stbs() if not q or q in f"{s.get('mac')} {s.get('serialnumber')}".lower()]
        stbs.sort(key=lambda s: (STB_ORDER.get(int(s.get("status") or 0), 9), int(s.get("id") or 0)))
        t = Table("STB", ["#", "Serial number", "MAC", "IP", "Model", "LMS name", "Service", "Status", "Description"])
        names = _lms_names(int(s.get("userid") or 0) for s in stbs)
        for s in stbs:
            t.row_ids.append(str(s.get("id")))
            ip = _ip(s.get("ipaddr")) if s.get("AddressIp") in (None, "", "0.0.0.0") else s["AddressIp"]
            t.rows.append(
                [
                    Cell(s.get("id")),
                    Cell(s.get("serialnumber")),
                    Cell(s.get("mac")),
                    Cell(ip),
                    Cell(models.get(int(s.get("modelid") or 0), s.get("ModelName"))),
                    _name_cell(names, s.get("userid")),
                    Cell(s.get("servicetype")),
                    Cell(s.get("StatusName")),
                    Cell(s.get("description")),
                ]
            )
            t.actions.append(int(s["id"]) if int(s.get("status") or 0) != 3 else None)
        return t

    return _page("MetroTV: STB", build, "metroport_mms.tv_stbs")


@blueprint.route("/metrotv/stbs/add", methods=["POST"])
def tv_stb_add() -> Any:
    if not has_permission(PERM_TV_WRITE):
        abort(403)
    form = request.form
    try:
        mac = mapping.normalize_mac(form.get("mac"))
        serial = mapping.normalize_serial(form.get("serialnumber"))
    except mapping.RowError as exc:
        flash(gettext("STB not added: {error}", error=str(exc)), "error")
        return redirect(url_for("metroport_mms.tv_stbs"))
    model = (form.get("model") or "").strip()
    try:
        with _client() as client:
            if model not in {m.get("name") for m in client.stb_models()}:
                raise MMSError(f"unknown STB model {model!r}")
            client.stb_add(model, serial, mac)
    except (MMSError, ConfigError) as exc:
        flash(gettext("STB not added: {error}", error=_message(exc)), "error")
    else:
        flash(gettext("STB {mac} added to the warehouse.", mac=mac), "success")
    return redirect(url_for("metroport_mms.tv_stbs"))


@blueprint.route("/metrotv/stbs/<int:stb_id>/delete", methods=["POST"])
def tv_stb_delete(stb_id: int) -> Any:
    if not has_permission(PERM_TV_WRITE):
        abort(403)
    try:
        with _client() as client:
            client.stb_delete(stb_id)
    except (MMSError, ConfigError) as exc:
        flash(gettext("MMS refused: {error}", error=_message(exc)), "error")
    else:
        flash(gettext("STB #{id} deleted.", id=stb_id), "success")
    return redirect(url_for("metroport_mms.tv_stbs"))


@blueprint.route("/metrotv/accounts")
def tv_accounts() -> Any:
    _tv_read()

    def build(client: MMSClient) -> Table:
        accounts = client.tv_accounts()
        names = _lms_names(int(a.get("userid") or 0) for a in accounts)
        t = Table(
            "MetroTV accounts",
            ["#", "MMS user", "LMS name", "STBs", "Activated", "Deactivated", "Total gross", "VAT", "Total net"],
        )
        for a in accounts:
            t.rows.append(
                [
                    Cell(a.get("id")),
                    Cell(a.get("userid")),
                    _name_cell(names, a.get("userid")),
                    Cell(a.get("TotalSTBs")),
                    Cell(_when(a.get("activedate"))),
                    Cell(_when(a.get("lastdeactivdate"))),
                    Cell(a.get("TotalBrutto")),
                    Cell(a.get("TotalVat")),
                    Cell(a.get("TotalNetto")),
                ]
            )
        return t

    return _page("MetroTV: accounts", build, "metroport_mms.tv_accounts")


__all__ = ["PERM_READ", "Cell", "Table"]
