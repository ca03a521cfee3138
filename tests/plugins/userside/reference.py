"""get_user_list twice, in process: as the API writes it and as the reference mapping's dicts encode."""

from __future__ import annotations

from lmsplugins.host import Host
from lmsplugins.web.machine import json_object
from plugins.userside import api
from plugins.userside.plugin import plugin


def fast_and_reference(host: Host, customer_id: int | None = None) -> tuple[str, str]:
    """get_user_list as the API writes it (in a REPEATABLE READ transaction as the view reads, so on
    PostgreSQL through the read-ahead's cursors), and as json_object writes the reference dicts (read
    in line, by id range)."""
    settings = host.plugin_settings(plugin)
    args = {} if customer_id is None else {"customer_id": str(customer_id)}
    engine = host.engine
    if engine.dialect.name != "sqlite":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with engine.connect() as conn:
        fast = "".join(api.user_list(api.Context(conn, settings, args, api.now())).chunks)
        conn.rollback()
    with host.engine.connect() as conn:
        reference = "".join(json_object(api.user_elements(api.Context(conn, settings, args, api.now()), customer_id)))
    return fast, reference
