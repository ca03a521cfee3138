"""The demo: the demo ISP gets switches, ports and ONUs, Wildcore's sync binds them through the feed,
and the card shows their diagnostics from the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from wildcore_data import install

from lmsplugins.host import Host
from lmsplugins.lms.tables_network import netdevices
from lmsplugins.plugin import DemoContext
from lmsplugins.simserver import serve
from lmsplugins.testing.web import log_in
from lmsplugins.web import create_app
from plugins.wildcore import diagnostics
from plugins.wildcore.demo import ONU_CUSTOMERS, PORT_CUSTOMERS
from plugins.wildcore.simulator import WildcoreSimulator


def test_demo_binds_and_the_card_shows_diagnostics(
    sqlite_host: Host, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    install(sqlite_host)
    plugin = sqlite_host.plugin("wildcore")
    assert plugin is not None and plugin.demo is not None
    sim = WildcoreSimulator()
    diagnostics.CACHE.clear()
    with serve(sim) as server:
        settings = sim.client_settings(server.url)
        ctx = DemoContext(sqlite_host, server.url, sqlite_host.set_uiconfig, lambda args: 0, tmp_path, settings)
        plugin.demo(ctx)
        plugin.demo(ctx)  # a reused demo database: nothing added twice
        out = capsys.readouterr().out
        assert (
            f"{ONU_CUSTOMERS + PORT_CUSTOMERS} feed elements" in out
            and f"{ONU_CUSTOMERS + PORT_CUSTOMERS + 1} interfaces bound" in out
        )
        with sqlite_host.engine.connect() as conn:
            owners = list(conn.execute(select(netdevices.c.ownerid).where(netdevices.c.ownerid.is_not(None))).scalars())
        assert len(owners) == ONU_CUSTOMERS
        bound = sim.bindings()
        assert len(bound) == ONU_CUSTOMERS + PORT_CUSTOMERS + 1  # the ONU Wildcore has twice gets its customer on both
        html = log_in(create_app(sqlite_host, TESTING=True)).get(f"/customers/{owners[1]}").get_data(as_text=True)
    assert 'id="panel-wildcore"' in html and "RX -" in html and "open in Wildcore" in html
