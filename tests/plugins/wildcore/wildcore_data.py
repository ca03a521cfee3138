"""One rich LMS network for the Wildcore tests, on any of the three databases.

Customers (by key), each a case the feed and Wildcore's sync must get right:

- ``kowalski``: node on SW-1 port 3 (MAC stored lower case), an ONU (GPON serial) he owns, a contract;
- ``nowak``: node on a switch Wildcore does not know (10.9.9.9 port 2) and an ONU: the ONU must still bind;
- ``firma``: a company; node on SW-1 port 5 (MAC typed bare), an EPON ONU kept in ``wildcore_onus``;
- ``zielinski``: the ONU Wildcore has twice (§6: online and stale);
- ``shared_a``/``shared_b``: both on SW-2 port 2 (Wildcore skips the port) and both own one serial;
- ``uplink``: node on SW-1 port 8, an uplink in Wildcore;
- ``noport``: node on SW-1 with port 0 and a MAC active on SW-2 port 4;
- ``nothing``: no node, no device: no element;
- ``deleted``: a deleted customer owning an ONU: not in the feed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from lmsplugins.host import Host
from lmsplugins.lms.tables import addresses, customer_addresses, customers, documents, nodes
from lmsplugins.lms.tables_network import macs, netdevices
from lmsplugins.testing import databases as dbs
from plugins.wildcore.simulator import onu_mac, onu_serial, port_mac
from plugins.wildcore.tables import wildcore_onus

BASE_IP = 167772161  # 10.0.0.1


def ip(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


@dataclass
class Dataset:
    ids: dict[str, int]
    switches: dict[str, int]


class _Builder:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.netid = 0
        self.next_ip = BASE_IP
        self.nodes = 0
        if conn.dialect.name != "sqlite":
            conn.exec_driver_sql(
                "INSERT INTO networks (name, address, mask, notes) VALUES ('WCLAN', 167772160, '255.0.0.0', '')"
            )
            self.netid = int(conn.exec_driver_sql("SELECT MAX(id) FROM networks").scalar())

    def customer(self, lastname: str, name: str = "Jan", deleted: int = 0, ctype: int = 0, **address: str) -> int:
        cid = self.conn.execute(
            customers.insert().values(lastname=lastname, name=name, status=3, type=ctype, deleted=deleted)
        ).inserted_primary_key[0]
        if address:
            aid = self.conn.execute(addresses.insert().values(**address)).inserted_primary_key[0]
            self.conn.execute(customer_addresses.insert().values(customer_id=cid, address_id=aid, type=3))
        return int(cid)

    def switch(self, name: str, mgmt_ip: str) -> int:
        dev = int(self.conn.execute(netdevices.insert().values(name=name, model="switch")).inserted_primary_key[0])
        self.node(None, netdev=dev, ipaddr=ip(mgmt_ip), name=f"mgmt-{name}".lower())
        return dev

    def node(self, owner: int | None, netdev: int | None = None, port: int = 0, mac: str = "", **values: object) -> int:
        self.nodes += 1
        if "ipaddr" not in values:
            self.next_ip += 1
            values["ipaddr"] = self.next_ip
        values.setdefault("name", f"node{self.nodes}")
        nid = int(
            self.conn.execute(
                nodes.insert().values(ownerid=owner, netdev=netdev, port=port, netid=self.netid, **values)
            ).inserted_primary_key[0]
        )
        if mac:
            self.conn.execute(macs.insert().values(mac=mac, nodeid=nid))
        return nid

    def onu(self, owner: int | None, serial: str) -> int:
        return int(
            self.conn.execute(
                netdevices.insert().values(name=f"ONU {serial}", model="F660", serialnumber=serial, ownerid=owner)
            ).inserted_primary_key[0]
        )


def install(host: Host) -> None:
    """The host's tables and the Wildcore plugin's (what ``lmsplugins db upgrade`` does)."""
    dbs.install(host, "wildcore")


def build(host: Host) -> Dataset:
    with host.engine.begin() as conn:
        b = _Builder(conn)
        sw1, sw2 = b.switch("SW-1", "10.2.0.1"), b.switch("SW-2", "10.2.0.2")
        ghost = b.switch("SW-X", "10.9.9.9")
        ids: dict[str, int] = {}
        ids["kowalski"] = b.customer("Kowalski", city="Kraków", street="ul. Polna", house="5", flat="2")
        b.node(ids["kowalski"], sw1, 3, port_mac(1, 3).lower(), name="kowalski-pc", login="jkowalski")
        b.onu(ids["kowalski"], onu_serial(2))
        conn.execute(
            documents.insert().values(type=-1, number=7, fullnumber="UM/7/2026", customerid=ids["kowalski"], cdate=100)
        )
        ids["nowak"] = b.customer("Nowak", "Anna", city="Gdynia", street="ul. Morska", house="1")
        b.node(ids["nowak"], ghost, 2)
        b.onu(ids["nowak"], onu_serial(3))
        ids["firma"] = b.customer(
            'Usługi & Handel "Pod Lipą"', "", ctype=1, city="Rumia", street="ul. Długa", house="10"
        )
        b.node(ids["firma"], sw1, 5, port_mac(1, 5).replace(":", ""))
        conn.execute(wildcore_onus.insert().values(customerid=ids["firma"], ident=onu_mac(4).lower()))
        ids["zielinski"] = b.customer("Zieliński", "Piotr")
        b.onu(ids["zielinski"], onu_serial(1))
        ids["shared_a"] = b.customer("Wspólny", "A")
        ids["shared_b"] = b.customer("Wspólny", "B")
        b.node(ids["shared_a"], sw2, 2)
        b.node(ids["shared_b"], sw2, 2)
        b.onu(ids["shared_a"], onu_serial(6))
        b.onu(ids["shared_b"], onu_serial(6).lower())
        ids["uplink"] = b.customer("Uplinkowy")
        b.node(ids["uplink"], sw1, 8)
        ids["noport"] = b.customer("Bezportowy")
        b.node(ids["noport"], sw1, 0, port_mac(2, 4))
        ids["nothing"] = b.customer("Pusty")
        ids["deleted"] = b.customer("Usunięty", deleted=1)
        b.onu(ids["deleted"], onu_serial(7))
        b.onu(None, onu_serial(9))
    return Dataset(ids, {"SW-1": sw1, "SW-2": sw2, "SW-X": ghost})
