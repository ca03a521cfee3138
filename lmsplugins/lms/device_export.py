"""Network devices for APIs that export them (UserSide's device lists): each device with its
management address.

LMS has no management-IP column on ``netdevices``: by its convention a device's addresses are
``nodes`` rows with no owner (``ownerid IS NULL``) and ``netdev`` pointing at the device. The first
of them (lowest node id) is taken as the management address, with its first MAC.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from lmsplugins.lms.tables import nodes
from lmsplugins.lms.tables_network import macs, netdevices


def devices(conn: Connection) -> Iterator[Any]:
    """Devices in id order, one row per (device, management node, MAC); the caller keeps the first."""
    d, n, m = netdevices, nodes, macs
    query = (
        select(
            d.c.id,
            d.c.name,
            d.c.description,
            d.c.producer,
            d.c.model,
            d.c.serialnumber,
            d.c.ports,
            d.c.address_id,
            n.c.ipaddr,
            m.c.mac,
        )
        .select_from(d.outerjoin(n, (n.c.netdev == d.c.id) & n.c.ownerid.is_(None)).outerjoin(m, m.c.nodeid == n.c.id))
        .order_by(d.c.id, n.c.id, m.c.id)
    )
    yield from conn.execute(query.execution_options(yield_per=5000))
