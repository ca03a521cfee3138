"""What ``lmsplugins demo`` does with the Wildcore plugin.

The demo ISP gets what a real one keeps in LMS for Wildcore: two switches with management addresses,
customers' nodes on their ports (with MACs), and ONUs the customers own (``netdevices`` with serial
numbers), all chosen to be the simulator's deterministic ones, so the card's Wildcore panel shows
diagnostics. The settings point at the simulator; then the simulator's MikBill sync pulls the feed
from the app (served for a moment on loopback) and prints which interface carries which customer.
"""

from __future__ import annotations

from typing import Any

import requests
from sqlalchemy import select

from lmsplugins.lms.tables import customers, nodes
from lmsplugins.lms.tables_network import macs, netdevices
from lmsplugins.plugin import DemoContext

from .simulator import onu_mac, onu_serial, port_mac

FEED_KEY = "demo-wildcore-feed-key"
ONU_CUSTOMERS = 8
PORT_CUSTOMERS = 6


def _ip(a: int, b: int, c: int, d: int) -> int:
    return (a << 24) | (b << 16) | (c << 8) | d


def seed_network(conn: Any) -> bool:
    """Add the demo's switches, ports and ONUs (once); False when they are there already."""
    if conn.execute(select(netdevices.c.id).where(netdevices.c.name == "WC-SW-1")).first() is not None:
        return False
    ids = list(conn.execute(select(customers.c.id).where(customers.c.deleted == 0).order_by(customers.c.id)).scalars())
    switches = []
    for s in (1, 2):
        dev = conn.execute(netdevices.insert().values(name=f"WC-SW-{s}", model="switch", ports=8)).inserted_primary_key[
            0
        ]
        conn.execute(nodes.insert().values(name=f"wc-sw-{s}-mgmt", ownerid=None, netdev=dev, ipaddr=_ip(10, 2, 0, s)))
        switches.append(dev)
    for i, cid in enumerate(ids[:ONU_CUSTOMERS], start=1):
        ident = onu_mac(i) if i % 4 == 0 else onu_serial(i)
        conn.execute(netdevices.insert().values(name=f"ONU {ident}", model="F660", serialnumber=ident, ownerid=cid))
    for k, cid in enumerate(ids[ONU_CUSTOMERS : ONU_CUSTOMERS + PORT_CUSTOMERS]):
        s, port = 1 + k % 2, 1 + k // 2
        node = conn.execute(
            nodes.insert().values(
                name=f"wc-demo-{cid}", ownerid=cid, netdev=switches[s - 1], port=port, ipaddr=_ip(10, 100, s, port)
            )
        ).inserted_primary_key[0]
        conn.execute(macs.insert().values(mac=port_mac(s, port), nodeid=node))
    return True


def run_demo(ctx: DemoContext) -> None:
    from lmsplugins.simserver import serve
    from lmsplugins.web import create_app

    with ctx.host.engine.begin() as conn:
        seed_network(conn)
    for key, value in (
        *ctx.simulator_settings.items(),
        ("wildcore.feed_key", FEED_KEY),
        ("wildcore.lms_url", "http://127.0.0.1/lms/"),
    ):
        ctx.set_setting(key, value)
    if not ctx.simulator_url:
        return
    app = create_app(ctx.host)
    with serve(app) as running:
        base = f"{running.url}/wildcore/mikbill"
        answer = requests.post(
            f"{ctx.simulator_url}/_control/mikbill-sync",
            json={"api_addr": base, "key": FEED_KEY, "search_field": "agreement"},
            timeout=120,
        )
    report = answer.json()
    if answer.status_code != 200:
        print(f"Wildcore (simulated) sync failed: {report.get('error')}")
        return
    print(
        f"Wildcore (simulated) pulled {report['elements']} feed elements from {base}: "
        f"{len(report['updated'])} interfaces bound, {len(report['skipped_shared'])} shared skipped, "
        f"{len(report['errors'])} elements not found"
    )
