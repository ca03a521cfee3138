"""The MikBill feed Wildcore pulls (spec §4.1, §7.10–14), served under ``/wildcore/mikbill``.

The administrator enters ``<panels' URL>/wildcore/mikbill`` as ``MIKBILL_API_ADDR`` in Wildcore; Wildcore
appends ``/api/index/support?key=…&request=get_user_list`` for its sync and
``/json/index/support?key=…&request=search&param=mac|serial&value=…`` for ONU registration, and stores
``MIKBILL_API_ADDR + billing_link`` as the link on each interface: ``/customer/<id>`` under the same base
redirects to LMS's customer card (setting ``wildcore.lms_url``).

Why the whole base in one document: Wildcore's sync aborts on anything but a 200 with a non-empty array
and has no timeout of its own, so the answer is produced completely (host's
:func:`~lmsplugins.web.machine.json_document`, spooled, then sent with a length) from a fixed number of
streamed queries (:func:`lmsplugins.lms.network.customer_network` plus one over ``wildcore_onus``),
or fails with 503; it is never half a list, which Wildcore would take as the customer base and clear
every interface missing from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, jsonify, redirect, request
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from lmsplugins.lms import network
from lmsplugins.web.context import current_host
from lmsplugins.web.machine import Denied, RowCounter, json_array, json_document, machine_endpoint, public

from . import mapping
from .tables import wildcore_onus

API = "wildcore"


def _error(status: int, message: str) -> Any:
    response = jsonify(result="error", error=message)
    response.status_code = status
    return response


def _own_idents(conn: Connection) -> Iterator[Any]:
    result = conn.execution_options(stream_results=True, yield_per=2000).execute(
        select(wildcore_onus.c.customerid, wildcore_onus.c.ident).order_by(
            wildcore_onus.c.customerid, wildcore_onus.c.id
        )
    )
    try:
        yield from result
    finally:
        result.close()


def feed_chunks(conn: Connection, counter: RowCounter, side: Connection | None = None) -> Iterator[str]:
    """``get_user_list`` as JSON text in pieces, customer by customer (streamed; *side* runs the plugin
    table's query where the driver needs a second connection for a second open result). *counter*
    counts customers with elements."""
    own = network.ByCustomer(_own_idents(side or conn))
    yield "["
    first = True
    for customer in network.customer_network(conn):
        extra = [row[1] for row in own.take(customer.id)]
        text = mapping.encoded_elements(customer, extra)
        if text:
            yield text if first else "," + text
            first = False
            counter.rows += 1
    yield "]"


def _owners(conn: Connection, kind: str, value: str) -> list[int]:
    if kind == "serial":
        ids = set(network.owners_of_serial(conn, value))
        spellings = [value]
    else:
        spellings = mapping.mac_spellings(value)
        ids = set(network.owners_of_mac(conn, spellings))
        for spelling in spellings:
            ids.update(network.owners_of_serial(conn, spelling))
    own = select(wildcore_onus.c.customerid).where(
        func.upper(wildcore_onus.c.ident).in_([s.upper() for s in spellings])
    )
    ids.update(int(v) for v in conn.execute(own).scalars())
    return sorted(ids)


def register(blueprint: Blueprint) -> None:
    """Add the feed's routes to the plugin's blueprint (``/wildcore`` prefix)."""

    @blueprint.route("/mikbill/api/index/support")
    @blueprint.route("/mikbill/json/index/support", endpoint="feed_json")
    @machine_endpoint(API, "wildcore.feed_key", "wildcore.feed_allow", _error)
    def feed_support() -> Any:
        what = request.args.get("request", "")
        if what == "get_user_list":
            return _user_list()
        if what == "search":
            return _search()
        raise Denied(400, "unknown request; expected get_user_list or search")

    @blueprint.route("/mikbill/customer/<int:customer_id>")
    @public
    def billing_link(customer_id: int) -> Any:
        base = (current_host().config().get("wildcore.lms_url") or "").strip()
        if not base:
            return _error(404, "wildcore.lms_url is not set; ask the LMS administrator")
        if "?" in base or base.endswith(".php"):
            sep = "&" if "?" in base else "?"
        else:
            base, sep = base.rstrip("/") + "/", "?"
        return redirect(f"{base}{sep}m=customerinfo&id={customer_id}", code=302)


def _user_list() -> Any:
    host = current_host()
    engine = host.engine
    counter = RowCounter()
    with engine.connect() as conn:
        if conn.dialect.name in ("mysql", "mariadb"):
            with engine.connect() as side:
                return json_document(feed_chunks(conn, counter, side), counter)
        return json_document(feed_chunks(conn, counter), counter)


def _search() -> Any:
    try:
        kind, value = mapping.search_param(request.args.get("param"), request.args.get("value"))
    except ValueError as exc:
        raise Denied(400, str(exc)) from None
    with current_host().engine.connect() as conn:
        ids = _owners(conn, kind, value)
        found = [mapping.customer_data(c) for c in network.customer_network(conn, ids)] if ids else []
    # Wildcore reads response[0][0]: one array of the matching customers' data, inside the answer.
    return json_document(json_array([found] if found else []), len(found))
