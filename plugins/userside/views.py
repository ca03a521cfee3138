"""The UserSide web part: the universal API at ``/userside/api`` and the plugin's admin page.

The API is a machine endpoint (:func:`lmsplugins.web.machine.machine_endpoint`): the key from
``userside.api_key`` in constant time, the optional allow-list ``userside.allowed_hosts``, no LMS login,
no cookie, the key masked in logs, each request recorded for the admin page. A refused key is a bare
403. Every other refusal (missing or unknown ``request``, a bad ``customer_id``, a write while
write-back is off, a bad amount) is 400 with ``{"result":"error","error":"..."}`` (spec §7.2), and a
write that fails changes nothing (it runs in one transaction).

Reads of a whole list run in one REPEATABLE READ transaction on PostgreSQL and MariaDB, so the chunks
of ``get_user_list`` see one snapshot of the database.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.engine import Engine

from lmsplugins.errors import ConfigError
from lmsplugins.web.context import current_host
from lmsplugins.web.machine import Denied, client_address, json_document, machine_endpoint

from . import api, mapping
from .admin import register_admin
from .plugin import ALLOWED, API_KEY, plugin

log = logging.getLogger(__name__)
blueprint = Blueprint("userside", __name__, template_folder="templates", url_prefix="/userside")


def error_response(status: int, message: str) -> Response:
    response = jsonify(result="error", error=message)
    response.status_code = status
    return response


@blueprint.route("/api")
@machine_endpoint("userside", API_KEY, ALLOWED, error_response)
def universal_api() -> Any:
    host = current_host()
    try:
        settings = host.plugin_settings(plugin)
        mapping.Options.from_settings(settings, 0)
    except ConfigError as exc:
        log.error("userside: %s", exc)
        raise Denied(500, f"configuration error: {exc}") from None
    name = (request.args.get("request") or "").strip()
    if not name:
        raise Denied(400, "request is missing")
    writeback = bool(settings["userside.writeback"])
    served = api.methods(writeback)
    if name not in served:
        if name in api.WRITE_NAMES:
            raise Denied(400, f"{name}: write-back is disabled (setting userside.writeback)")
        raise Denied(400, f"unknown request {name[:60]!r}")
    method = served[name][1]
    args: dict[str, str] = dict(request.args.items())
    args["_address"] = client_address()
    return _run(host.engine, name in api.WRITE_NAMES, method, settings, args)


def _run(engine: Engine, write: bool, method: api.Method, settings: Any, args: dict[str, str]) -> Response:
    """The whole document. A write runs in one transaction, which a refusal rolls back as
    :class:`Denied` leaves the block; a read runs in one snapshot."""
    if not write and engine.dialect.name != "sqlite":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with engine.begin() if write else engine.connect() as conn:
        try:
            answer = method(api.Context(conn, settings, args, api.now()))
        except api.ApiError as exc:
            raise Denied(400, str(exc)) from None
        response = json_document(answer.chunks, answer.rows)
        if not write:
            conn.rollback()
        return response


register_admin(blueprint)
