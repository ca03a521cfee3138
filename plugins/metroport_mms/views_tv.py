"""MetroTV actions of the customer card (spec §9): account add/edit/delete, base and extra packages, STB
issue and removal, every one provider-first and CSRF-protected (frame's CSRFProtect).

The rules the PHP pages left to hidden buttons are enforced here, on the server, from the account card
MMS answers at the moment of the request: the removal chain STB -> extra packages -> base package ->
account (PHP let the base go while extras lived), packages offered only while valid, ``active`` and not
denied by the BASE package's ``pkg_denied``, an account only on a network with free capacity, an STB
only from the warehouse and only on a base or multiroom package without one. A refused request changes
nothing and says why.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import abort, flash, request

from lmsplugins.errors import ConfigError
from lmsplugins.web.context import current_host, gettext, require_permission

from . import mapping, store
from .client import MMSClient, MMSError
from .plugin import PERM_TV_WRITE
from .views import _back, _client, _message, blueprint

PRICE = re.compile(r"^\d+\.\d{2}$")
LOCATION = ("locationstreetname", "locationstreetno", "locationlocal", "locationzip", "locationcity")


class Refused(Exception):
    """A rule of the card refuses the request before MMS is asked."""


def _userid(customer_id: int) -> int:
    require_permission(PERM_TV_WRITE)
    with current_host().engine.connect() as conn:
        userid = store.mms_user_of(conn, customer_id)
    if userid is None:
        abort(404)
    return userid


def _card(client: MMSClient, userid: int, account_id: int) -> Any:
    if account_id not in {int(a["id"]) for a in client.tv_accounts(userid)}:
        abort(404)
    return client.tv_account(account_id)


def _location(form: Any) -> dict[str, str]:
    values = {k: (form.get(k) or "").strip() for k in LOCATION}
    if not (values["locationcity"] and values["locationzip"] and values["locationstreetno"]):
        raise Refused(gettext("City, postal code and house number are required."))
    return values


def _act(customer_id: int, work: Any, done: str, **values: Any) -> Any:
    try:
        with _client() as client:
            work(client)
    except Refused as exc:
        flash(gettext("Not done: {error}", error=str(exc)), "error")
    except (MMSError, ConfigError) as exc:
        flash(gettext("MMS refused: {error}", error=_message(exc)), "error")
    else:
        flash(gettext(done, **values), "success")
    return _back(customer_id)


@blueprint.route("/customers/<int:customer_id>/metrotv/accounts/add", methods=["POST"])
def tv_account_add(customer_id: int) -> Any:
    userid = _userid(customer_id)

    def work(client: MMSClient) -> None:
        location = _location(request.form)
        try:
            network_id = int(request.form.get("network", ""))
        except ValueError:
            raise Refused(gettext("Choose a network.")) from None
        network = next((n for n in client.networks() if int(n["id"]) == network_id), None)
        if network is None:
            raise Refused(gettext("Unknown network #{id}.", id=network_id))
        if int(network.get("TotalSTBs") or 0) >= int(network.get("size") or 0):
            raise Refused(gettext("Network #{id} has no free capacity.", id=network_id))
        mms_id = int(client.user(userid).get("id", userid))
        client.tv_account_add({"userid": mms_id, "iptv_networkid": network_id, **location})

    return _act(customer_id, work, "MetroTV account added.")


@blueprint.route("/customers/<int:customer_id>/metrotv/<int:account_id>/edit", methods=["POST"])
def tv_account_edit(customer_id: int, account_id: int) -> Any:
    userid = _userid(customer_id)

    def work(client: MMSClient) -> None:
        card = _card(client, userid, account_id)
        location = _location(request.form)
        client.tv_account_update(
            account_id,
            {
                "userid": int(card.get("userid") or userid),
                "iptv_networkid": int(card.get("iptv_networkid") or 0),
                **location,
            },
        )

    return _act(customer_id, work, "MetroTV account #{id} saved.", id=account_id)


@blueprint.route("/customers/<int:customer_id>/metrotv/<int:account_id>/delete", methods=["POST"])
def tv_account_delete(customer_id: int, account_id: int) -> Any:
    userid = _userid(customer_id)

    def work(client: MMSClient) -> None:
        refusal = mapping.account_removal_refusal(_card(client, userid, account_id))
        if refusal:
            raise Refused(gettext(refusal))
        client.tv_account_delete(account_id)

    return _act(customer_id, work, "MetroTV account #{id} deleted.", id=account_id)


@blueprint.route("/customers/<int:customer_id>/metrotv/<int:account_id>/orders/add", methods=["POST"])
def tv_order_add(customer_id: int, account_id: int) -> Any:
    userid = _userid(customer_id)

    def work(client: MMSClient) -> None:
        price = (request.form.get("price") or "").strip()
        if not PRICE.match(price):
            raise Refused(gettext("The price must be a sum like 29.99, not {value!r}.", value=price[:20]))
        try:
            package_id = int(request.form.get("package", ""))
        except ValueError:
            raise Refused(gettext("Choose a package.")) from None
        card = _card(client, userid, account_id)
        offered = {int(p["id"]) for p in mapping.offerable_packages(client.tv_packages(), card, date.today())}
        if package_id not in offered:
            raise Refused(
                gettext(
                    "Package #{id} cannot be issued on this account now (validity, active, the base "
                    "package's exclusions, or a base package first).",
                    id=package_id,
                )
            )
        client.order_add(account_id, package_id, price)

    return _act(customer_id, work, "Package issued on MetroTV account #{id}.", id=account_id)


@blueprint.route("/customers/<int:customer_id>/metrotv/<int:account_id>/orders/<int:order_id>/delete", methods=["POST"])
def tv_order_delete(customer_id: int, account_id: int, order_id: int) -> Any:
    userid = _userid(customer_id)

    def work(client: MMSClient) -> None:
        refusal = mapping.order_removal_refusal(_card(client, userid, account_id), order_id)
        if refusal:
            raise Refused(gettext(refusal))
        client.order_delete(order_id, account_id)

    return _act(customer_id, work, "Package #{id} removed.", id=order_id)


@blueprint.route("/customers/<int:customer_id>/metrotv/<int:account_id>/orders/<int:order_id>/stb", methods=["POST"])
def tv_stb_issue(customer_id: int, account_id: int, order_id: int) -> Any:
    userid = _userid(customer_id)

    def work(client: MMSClient) -> None:
        try:
            wanted = mapping.normalize_mac(request.form.get("stb"))
            by = "mac"
        except mapping.RowError:
            wanted, by = (request.form.get("stb") or "").strip(), "serialnumber"
        try:
            network_id = int(request.form.get("network", ""))
        except ValueError:
            raise Refused(gettext("Choose a network.")) from None
        card = _card(client, userid, account_id)
        order = next((o for o in mapping.card_orders(card) if o.id == order_id), None)
        if order is None or order.kind not in ("main", "multiroom") or order.stbs:
            raise Refused(gettext("An STB goes on a base or multiroom package that has none."))
        stb = next((s for s in client.stbs() if str(s.get(by) or "").upper() == wanted.upper()), None)
        if stb is None or int(stb.get("status") or 0) != 1:
            raise Refused(gettext("No STB {stb} in the warehouse.", stb=wanted[:40]))
        client.stb_link(account_id, order_id, network_id, str(stb["mac"]))

    return _act(customer_id, work, "STB issued on package #{id}.", id=order_id)


@blueprint.route("/customers/<int:customer_id>/metrotv/<int:account_id>/stb/unlink", methods=["POST"])
def tv_stb_unlink(customer_id: int, account_id: int) -> Any:
    userid = _userid(customer_id)

    def work(client: MMSClient) -> None:
        mac = (request.form.get("mac") or "").upper()
        card = _card(client, userid, account_id)
        if not any(str(s.get("mac", "")).upper() == mac for o in mapping.card_orders(card) for s in o.stbs):
            raise Refused(gettext("No STB {stb} on this account.", stb=mac[:40]))
        client.stb_unlink(mac, account_id)

    return _act(customer_id, work, "STB {mac} returned to the warehouse.", mac=request.form.get("mac", "")[:17])
