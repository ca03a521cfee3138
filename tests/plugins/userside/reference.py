"""get_user_list twice, in process: as the API writes it and as the reference mapping's dicts encode."""

from __future__ import annotations

from lmsplugins.host import Host
from lmsplugins.web.machine import json_object
from plugins.userside import api
from plugins.userside.plugin import plugin


def fast_and_reference(host: Host, customer_id: int | None = None) -> tuple[str, str]:
    """get_user_list as the API writes it, and as json_object writes the reference dicts."""
    settings = host.plugin_settings(plugin)
    with host.engine.connect() as conn:
        args = {} if customer_id is None else {"customer_id": str(customer_id)}
        ctx = api.Context(conn, settings, args, api.now())
        fast = "".join(api.user_list(ctx).chunks)
        reference = "".join(json_object(api.user_elements(ctx, customer_id)))
    return fast, reference
