"""Wildcore's MikBill sync (the simulator's copy of its rules) pulling our feed over HTTP.

Shows which interfaces carry which customer, that a second sync changes nothing when
MIKBILL_GLOBAL_SEARCH_FIELD is set (and rewrites everything when it is not, §7.12), that a change in
LMS moves or clears a binding, and that a failing feed aborts the sync with nothing changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from wildcore_data import Dataset, build, install

from lmsplugins.host import Host
from lmsplugins.lms.tables_network import netdevices
from lmsplugins.simserver import RunningServer, serve
from lmsplugins.testing import databases as dbs
from lmsplugins.web import create_app
from plugins.wildcore.simulator import SyncFailed, WildcoreSimulator, mikbill_sync, onu_mac, onu_serial, port_mac

KEY = "sync-feed-key-42"


class Env:
    def __init__(self, host: Host, data: Dataset, server: RunningServer):
        self.host, self.data, self.server = host, data, server
        self.api_addr = f"{server.url}/wildcore/mikbill"

    def uid(self, key: str) -> str:
        return str(self.data.ids[key])


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    host = dbs.sqlite_host(tmp_path, seeded=False)
    install(host)
    data = build(host)
    host.set_uiconfig("wildcore.feed_key", KEY)
    with serve(create_app(host)) as server:
        yield Env(host, data, server)
    host.dispose()


def _iface(sim: WildcoreSimulator, **match: str) -> list[int]:
    out = []
    for i in sim.interfaces.values():
        if all((i.device["ip"] if k == "ip" else getattr(i, k)) == v for k, v in match.items()):
            out.append(i.id)
    return out


def test_sync_binds_the_right_customers_and_a_second_run_changes_nothing(env: Env):
    sim = WildcoreSimulator()
    report = mikbill_sync(sim, env.api_addr, KEY, "agreement")
    bound = sim.bindings()
    port = {p: _iface(sim, ip="10.2.0.1", bind_key=str(p))[0] for p in range(1, 9)}
    sw2 = {p: _iface(sim, ip="10.2.0.2", bind_key=str(p))[0] for p in range(1, 9)}
    onu = {n: _iface(sim, ident=onu_serial(n)) for n in (1, 2, 3, 6)}
    expected = {
        port[3]: env.uid("kowalski"),  # by client MAC and by switch + port
        onu[2][0]: env.uid("kowalski"),
        onu[3][0]: env.uid("nowak"),  # the ONU binds although the switch 10.9.9.9 is unknown (§7.11)
        port[5]: env.uid("firma"),
        _iface(sim, ident=onu_mac(4))[0]: env.uid("firma"),
        onu[1][0]: env.uid("zielinski"),  # the ONU Wildcore has twice gets the customer on both
        onu[1][1]: env.uid("zielinski"),
        sw2[4]: env.uid("noport"),  # found by the MAC alone
    }
    assert bound == expected
    assert sorted(report.skipped_shared) == sorted([sw2[2], onu[6][0]])  # two customers: nobody
    assert report.skipped_uplinks == [port[8]]
    assert report.errors == ["Device with ip 10.9.9.9 not found"]
    kowalski = sim.interfaces[onu[2][0]]
    assert kowalski.agreement == "UM/7/2026"
    assert kowalski.billing_link == f"{env.api_addr}/customer/{env.uid('kowalski')}"
    assert kowalski.params["billing"]["mikbill"]["login"] == "jkowalski"

    writes = {i.id: i.writes for i in sim.interfaces.values()}
    again = mikbill_sync(sim, env.api_addr, KEY, "agreement")
    assert (again.updated, again.cleared) == ([], [])
    assert {i.id: i.writes for i in sim.interfaces.values()} == writes
    assert sim.bindings() == expected


def test_unset_global_search_field_rewrites_every_interface_every_run(env: Env):
    sim = WildcoreSimulator()
    first = mikbill_sync(sim, env.api_addr, KEY, None)
    second = mikbill_sync(sim, env.api_addr, KEY, None)
    assert sorted(second.updated) == sorted(first.updated) and second.updated
    assert all(sim.interfaces[i].agreement == "" for i in second.updated)
    uid_field = mikbill_sync(sim, env.api_addr, KEY, "uid")
    assert uid_field.updated and mikbill_sync(sim, env.api_addr, KEY, "uid").updated == []
    assert sim.interfaces[_iface(sim, ident=onu_serial(2))[0]].agreement == env.uid("kowalski")


def test_a_change_in_lms_moves_the_binding_and_clears_the_old_one(env: Env):
    sim = WildcoreSimulator()
    mikbill_sync(sim, env.api_addr, KEY, "agreement")
    old = _iface(sim, ident=onu_serial(2))[0]
    new = _iface(sim, ident=onu_serial(5))[0]
    with env.host.engine.begin() as conn:
        conn.execute(
            netdevices.update().where(netdevices.c.serialnumber == onu_serial(2)).values(serialnumber=onu_serial(5))
        )
    report = mikbill_sync(sim, env.api_addr, KEY, "agreement")
    assert report.updated == [new] and report.cleared == [old]
    assert sim.bindings()[new] == env.uid("kowalski") and old not in sim.bindings()
    assert sim.interfaces[old].agreement == "" and sim.interfaces[old].billing_link == ""


def test_wrong_key_or_failing_feed_aborts_the_sync_and_changes_nothing(env: Env):
    sim = WildcoreSimulator()
    mikbill_sync(sim, env.api_addr, KEY, "agreement")
    before = sim.bindings()
    with pytest.raises(SyncFailed, match="returned - 403"):
        mikbill_sync(sim, env.api_addr, "wrong", "agreement")
    with env.host.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE wildcore_onus")
    with pytest.raises(SyncFailed, match="returned - 503"):
        mikbill_sync(sim, env.api_addr, KEY, "agreement")
    assert sim.bindings() == before


def test_port_mac_helper_matches_the_fdb():
    sim = WildcoreSimulator(switches=1, ports_per_switch=3)
    assert [i.fdb for i in sim.interfaces.values() if i.type == "ETH"] == [[port_mac(1, p)] for p in (1, 2, 3)]


def test_sync_command_prints_which_interface_carries_whom(env: Env, capsys: pytest.CaptureFixture[str]):
    from plugins.wildcore.simulator import main

    assert main(["--sync-from", env.api_addr + "/", "--key", KEY]) == 0
    out = capsys.readouterr().out
    assert f"10.2.0.1 eth1/0/3: uid {env.uid('kowalski')}" in out
    assert "updated 8, shared skipped 2, errors 1" in out
    assert main(["--sync-from", env.api_addr, "--key", "nope"]) == 1
    assert "sync failed: Incorrect status code from MikBill API, must be 200, returned - 403" in capsys.readouterr().out
