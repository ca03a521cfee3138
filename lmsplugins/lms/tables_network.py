"""LMS core tables of the network side (network devices, their nodes and MAC addresses, network nodes).

Declared on the same ``metadata`` as :mod:`lmsplugins.lms.tables` (which imports this module before it
lists ``CORE_TABLES``), so the embedded SQLite schema and the schema compatibility test cover them
too. Split off only to keep one module a readable size; the rules are those of ``tables.py``.

Only the columns the host reads are declared. Foreign keys to tables the host never declares
(``ewx_channels``, ``invprojects``, ``netdevicemodels``, ``netradiosectors``) are left out: on the
embedded SQLite database those columns are plain integers.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, SmallInteger, String, Table, Text, UniqueConstraint

from lmsplugins.lms.tables import _c, _fk, _id, metadata

netnodes = Table(
    "netnodes",
    metadata,
    _id(),
    Column("name", String(255), nullable=False),
    Column("ownerid", Integer, _fk("customers.id", "SET NULL"), nullable=True),
)

netdevices = Table(
    "netdevices",
    metadata,
    _id(),
    _c("name", String(100), ""),
    _c("description", Text, ""),
    _c("producer", String(256), ""),
    _c("model", String(256), ""),
    _c("serialnumber", String(32), ""),
    _c("ports", Integer, 0),
    _c("shortname", String(32), ""),
    Column("netnodeid", Integer, _fk("netnodes.id", "SET NULL"), nullable=True),
    Column("ownerid", Integer, _fk("customers.id", "SET NULL"), nullable=True),
    Column("address_id", Integer, _fk("addresses.id", "SET NULL"), nullable=True),
    Index("netdevices_ownerid_idx", "ownerid"),
)

macs = Table(
    "macs",
    metadata,
    _id(),
    _c("mac", String(17), ""),
    Column("nodeid", Integer, ForeignKey("nodes.id", ondelete="CASCADE", onupdate="CASCADE"), nullable=False),
    UniqueConstraint("mac", "nodeid", name="macs_mac_key"),
    Index("macs_nodeid_idx", "nodeid"),
)

netlinks = Table(
    "netlinks",
    metadata,
    _id(),
    Column("src", Integer, _fk("netdevices.id"), nullable=False),
    Column("dst", Integer, _fk("netdevices.id"), nullable=False),
    _c("srcport", SmallInteger, 0),
    _c("dstport", SmallInteger, 0),
    UniqueConstraint("src", "dst", name="netlinks_src_key"),
)
