"""An LMS with customers of every kind UserSide must import (issue 13 item 5), written as LMS stores
them, the same on SQLite, PostgreSQL and MariaDB. :class:`Dataset` names the ids the tests look up."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from lmsplugins.host import Host
from lmsplugins.lms import tables as t
from lmsplugins.lms import tables_location as tl
from lmsplugins.lms import tables_network as tn

WARSAW = ZoneInfo("Europe/Warsaw")
DAY = 86400


def _ins(conn: Connection, table, **values) -> int:
    return int(conn.execute(table.insert().values(**values)).inserted_primary_key[0])


def _row(conn: Connection, table, **values) -> None:
    conn.execute(table.insert().values(**values))


def ip(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


@dataclass
class Dataset:
    now: int
    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


def _customer(conn: Connection, ds: Dataset, key: str, lastname: str, name: str = "", **values) -> int:
    row = {"lastname": lastname, "name": name, "status": 3, "type": 0, "creationdate": ds.now - 400 * DAY, **values}
    ds.ids[key] = _ins(conn, t.customers, **row)
    return ds.ids[key]


def _address(conn: Connection, customer_id: int, kind: int, **values) -> int:
    aid = _ins(conn, t.addresses, **values)
    _ins(conn, t.customer_addresses, customer_id=customer_id, address_id=aid, type=kind)
    return aid


def _network(conn: Connection) -> int:
    """A ``networks`` row for the nodes (the real schemas require one; the host does not declare it)."""
    if conn.dialect.name == "sqlite":
        return 0
    conn.exec_driver_sql("INSERT INTO networks (name, address, mask, notes) VALUES ('LAN', 0, '0.0.0.0', '')")
    return int(conn.exec_driver_sql("SELECT MAX(id) FROM networks").scalar())


def _node(conn: Connection, owner: int | None, name: str, addr: str, mac: str | None = None, **values) -> int:
    nid = _ins(conn, t.nodes, name=name, ownerid=owner, ipaddr=ip(addr), netid=conn.info["netid"], **values)
    if mac:
        _ins(conn, tn.macs, mac=mac, nodeid=nid)
    return nid


def build(host: Host) -> Dataset:
    """Seed the rich dataset; returns the ids of what was created."""
    now = int(time.time())
    ds = Dataset(now)
    month = int(datetime.fromtimestamp(now, WARSAW).replace(day=1, hour=0, minute=0, second=0).timestamp())
    with host.engine.begin() as conn:
        conn.info["netid"] = _network(conn)
        tax = _ins(conn, t.taxes, value=23, taxed=1, label="23%")
        ds.ids["net100"] = _ins(
            conn, t.tariffs, name="Internet 100", type=1, value=59, taxid=tax, period=3, uprate=10000, downrate=100000
        )
        ds.ids["net300"] = _ins(
            conn, t.tariffs, name="Internet 300", type=1, value=79.5, taxid=tax, period=3, uprate=30000, downrate=300000
        )
        ds.ids["tv"] = _ins(conn, t.tariffs, name="Telewizja", type=5, value=25, taxid=tax, period=3)
        ds.ids["old"] = _ins(conn, t.tariffs, name="Stary", type=1, value=10, taxid=tax, period=3, disabled=1)
        ds.ids["group_a"] = _ins(conn, t.customergroups, name="Osiedle A")
        ds.ids["group_b"] = _ins(conn, t.customergroups, name="Firmy")
        city = ds.ids["city"] = _ins(conn, tl.location_cities, ident="0918123", name="Warszawa")
        ul = _ins(conn, tl.location_street_types, name="ul.")
        street = ds.ids["street"] = _ins(conn, tl.location_streets, name="Polna", ident="16574", typeid=ul, cityid=city)
        ds.ids["building"] = _ins(
            conn,
            tl.location_buildings,
            city_id=city,
            street_id=street,
            building_num="12",
            zip="00-635",
            latitude=52.219,
            longitude=21.012,
        )

        # a private customer: TERYT address with a building, two nodes, contacts, contract, next tariff
        jan = _customer(conn, ds, "private", "KOWALSKI", "Jan", ten="", ssn="85010112345", notes="klatka B")
        _address(
            conn, jan, 3, city="Warszawa", city_id=city, street="ul. Polna", street_id=street, house="12", flat="3"
        )
        _address(conn, jan, 1, city="Kraków", street="Długa", house="1")
        for name, contact, kind in (
            ("komórka", "600100200", 1),
            ("", "221234567", 4),
            ("stary", "600999999", 1 | 16384),
            ("", "jan@example.pl", 8),
            ("", "old@example.pl", 8 | 16384),
            ("", "PL61109010140000071219812874", 64),
        ):
            _ins(conn, t.customercontacts, customerid=jan, name=name, contact=contact, type=kind)
        ds.ids["jan_node"] = _node(
            conn, jan, "JAN-PC", "192.168.1.10", "00:1A:2B:3C:4D:5E", login="jan", passwd="tajne", lastonline=now - 60
        )
        _node(conn, jan, "JAN-TV", "192.168.1.11", None)
        _ins(
            conn, t.assignments, customerid=jan, tariffid=ds["net100"], datefrom=now - 300 * DAY, dateto=now + 10 * DAY
        )
        _ins(conn, t.assignments, customerid=jan, tariffid=ds["net300"], datefrom=now + 10 * DAY, dateto=0)
        _ins(conn, t.assignments, customerid=jan, tariffid=ds["tv"], datefrom=now - 30 * DAY, pdiscount=0)
        _ins(conn, t.documents, type=-1, number=7, fullnumber="UM/7/2025", customerid=jan, cdate=now - 300 * DAY)
        _ins(conn, t.customerassignments, customergroupid=ds["group_a"], customerid=jan)
        _row(conn, tl.stats, nodeid=ds["jan_node"], dt=month + 60, upload=1000, download=5000)
        _row(conn, tl.stats, nodeid=ds["jan_node"], dt=now - 5, upload=24, download=76)
        _row(conn, tl.stats, nodeid=ds["jan_node"], dt=month - 86400, upload=999999, download=999999)
        _ins(conn, t.cash, time=now - 20 * DAY, type=0, customerid=jan, value=-59, comment="Abonament")
        _ins(conn, t.cash, time=now - 10 * DAY, type=1, customerid=jan, value=100, comment="Wpłata")

        # a company: two locations (one free text, no dictionary row), a debt, a group
        firm = _customer(conn, ds, "company", "Piekarnia Kłos sp. z o.o.", type=1, ten="5252248481")
        _address(conn, firm, 3, city="Warszawa", city_id=city, street="ul. Polna", street_id=street, house="14")
        _address(conn, firm, 2, city="Wólka", street="", house="7")
        _node(conn, firm, "KLOS-GW", "10.0.0.1", "AA-BB-CC-DD-EE-FF")
        _ins(conn, t.assignments, customerid=firm, tariffid=ds["net300"], datefrom=now - 100 * DAY)
        _ins(conn, t.customerassignments, customergroupid=ds["group_b"], customerid=firm)
        _ins(conn, t.customerassignments, customergroupid=ds["group_a"], customerid=firm, enddate=now - DAY)
        _ins(conn, t.cash, time=now - 5 * DAY, type=0, customerid=firm, value=-250.75, comment="Faktura")

        # suspended: every current internet assignment suspended
        susp = _customer(conn, ds, "suspended", "NOWAK", "Anna")
        _node(conn, susp, "NOWAK", "192.168.1.20", "00:00:00:00:00:01")
        _ins(conn, t.assignments, customerid=susp, tariffid=ds["net100"], datefrom=now - 50 * DAY, suspended=1)

        # disconnected (status 4); interested (status 1) without nodes; connected with access off
        _customer(conn, ds, "disconnected", "WÓJCIK", "Ewa", status=4)
        _customer(conn, ds, "interested", "ZIELIŃSKI", "Marek", status=1)
        off = _customer(conn, ds, "access_off", "LEWANDOWSKA", "Ola")
        _node(conn, off, "OLA", "192.168.1.30", None, access=0)
        warn = _customer(conn, ds, "warning", "SZYMAŃSKA", "Ida")
        _node(conn, warn, "IDA", "192.168.1.31", None, warning=1)

        # deleted: never exported
        gone = _customer(conn, ds, "deleted", "USUNIĘTY", "Adam", deleted=1)
        _node(conn, gone, "GONE", "192.168.1.40", "00:00:00:00:00:40")
        _address(conn, gone, 3, city="Usunięte", street="Znikająca", house="9")

        # a switch with a management address
        ds.ids["switch"] = _ins(
            conn, tn.netdevices, name="SW-CORE", producer="MikroTik", model="CRS326", ports=24, description="szafa"
        )
        _node(conn, None, "SW-CORE-MGMT", "10.255.0.2", "4C:5E:0C:00:00:01", netdev=ds["switch"])
    return ds


def add_edge_cases(host: Host, ds: Dataset, suffix: str = "") -> None:
    """Rows the export's one-pass rules must get right, beside :func:`build`'s customers: a node with
    two MACs (two rows for one node), a node without an address, two groups, a
    suspend-all row, a liability, an ended and a future tariff, a service with a start date. With a
    *suffix* (a number) the same customers again, on their own addresses."""
    now = ds.now
    with host.engine.begin() as conn:
        conn.info["netid"] = int(conn.exec_driver_sql("SELECT MAX(netid) FROM nodes").scalar() or 0)
        net = 2 + int(suffix or 0)
        edge = _customer(conn, ds, "edge" + suffix, "KRAWĘDŹ" + suffix, "Olek", notes="  ")
        first = _node(conn, edge, "EDGE-A" + suffix, f"192.168.{net}.1", "00:11:22:33:44:55", lastonline=now - 500)
        _ins(conn, tn.macs, mac="66-77-88-99-AA-BB", nodeid=first)
        if not suffix:  # one node without an address: the real schemas allow one per network
            _node(conn, edge, "EDGE-B", "0.0.0.0", "zzzz", lastonline=now - 5, access=0)
        _node(conn, edge, "EDGE-C" + suffix, f"192.168.{net}.3", "00:00:00:00:00:0C", warning=1)
        _ins(conn, t.customerassignments, customergroupid=ds["group_b"], customerid=edge)
        _ins(conn, t.customerassignments, customergroupid=ds["group_a"], customerid=edge)
        _ins(conn, t.assignments, customerid=edge, tariffid=ds["net100"], datefrom=now - 90 * DAY, dateto=now - DAY)
        _ins(conn, t.assignments, customerid=edge, tariffid=ds["net300"], datefrom=now - DAY, pdiscount=12.5)
        later = {"datefrom": now + 30 * DAY, "dateto": now + 60 * DAY}
        _ins(conn, t.assignments, customerid=edge, tariffid=ds["net100"], **later)
        _ins(conn, t.assignments, customerid=edge, tariffid=ds["tv"], datefrom=now - 3 * DAY, dateto=now + DAY)
        _ins(conn, t.assignments, customerid=edge, tariffid=ds["tv"], datefrom=0)
        liability = _liability(conn)
        _ins(conn, t.assignments, customerid=edge, liabilityid=liability, datefrom=now - DAY)
        pause = _customer(conn, ds, "suspend_all" + suffix, "PAUZA" + suffix, "Ela")
        _node(conn, pause, "PAUZA" + suffix, f"192.168.{net}.9", None)
        _ins(conn, t.assignments, customerid=pause, tariffid=ds["net100"], datefrom=now - 10 * DAY)
        _ins(conn, t.assignments, customerid=pause, datefrom=now - DAY, dateto=now + DAY)


def _liability(conn: Connection) -> int:
    """A ``liabilities`` row (the real schemas require one for ``assignments.liabilityid``; the host
    does not declare the table, and SQLite does not enforce the key)."""
    if conn.dialect.name == "sqlite":
        return 1
    conn.exec_driver_sql(
        "INSERT INTO liabilities (value, name, taxid) VALUES (10, 'Instalacja', (SELECT MIN(id) FROM taxes))"
    )
    return int(conn.exec_driver_sql("SELECT MAX(id) FROM liabilities").scalar())
