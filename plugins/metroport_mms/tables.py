"""The ``metroport_*`` tables of LMSMetroportPlugin, column for column (SQLAlchemy Core, queries only).

Declared once, complete (columns, defaults, keys, indexes): the code queries with these and the MySQL
and SQLite migrations are generated from them (``sql/<dialect>/2026032302.tables``). PostgreSQL keeps
hand-written steps: they replay the PHP plugin's own upgrade steps, so a database at any PHP version
is completed, and a fresh one is the PHP final schema byte for byte (pg_dump); a take-over finds the
same names, columns and ``dbinfo`` key. PostgreSQL folded the PHP
plugin's mixed-case column names (``AddressIp``, ``ModelName``, ``countActive``...) to lower case, so
these names are lower case; :data:`STB_COLUMNS` and :data:`TV_PACKAGE_COLUMNS` are the provider fields
the syncs copy, in table order.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.mysql import TIMESTAMP

metadata = MetaData()
_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
_SERIAL = {**_OPTIONS, "sqlite_autoincrement": True}


def _big(name: str) -> Column:
    return Column(name, BigInteger, server_default=text("0"), default=0)


def _small(name: str) -> Column:
    return Column(name, SmallInteger, server_default=text("0"), default=0)


def _money(name: str) -> Column:
    return Column(name, Numeric(10, 2), server_default=text("0.00"))


def _str(name: str) -> Column:
    return Column(name, String(255))


metroport_settings = Table(
    "metroport_settings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(60), nullable=False),
    Column("value", Text, nullable=False),
    Column(
        "updated",
        DateTime().with_variant(TIMESTAMP(), "mysql"),
        nullable=False,
        server_default=text("CURRENT_TIMESTAMP"),
    ),
    UniqueConstraint("name", name="metroport_settings_name_key"),
    **_SERIAL,
)

metroport_customers = Table(
    "metroport_customers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("metroport_user_id", Integer, nullable=False),
    Column("lms_user_id", Integer, nullable=False),
    Column("metrotv_suspend", SmallInteger, nullable=False, server_default=text("0"), default=0),
    Column("metrotv_suspend_billing", SmallInteger, nullable=False, server_default=text("0"), default=0),
    Column("metro_fsecure_suspend", SmallInteger, nullable=False, server_default=text("0"), default=0),
    Column("metro_fsecure_suspend_billing", SmallInteger, nullable=False, server_default=text("0"), default=0),
    UniqueConstraint("metroport_user_id", "lms_user_id", name="metroport_customers_metroport_user_id_lms_user_id_key"),
    **_SERIAL,
)

metroport_fsecure_packages = Table(
    "metroport_fsecure_packages",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    _str("ext_id"),
    Column("name", String(255), nullable=False),
    Column("description", Text),
    _big("license_size"),
    Index("metroport_fsecure_packages_ext_id", "ext_id"),
    Index("metroport_fsecure_packages_license_size", "license_size"),
    **_OPTIONS,
)

TV_PACKAGE_COLUMNS = (
    "firmid", "iptv_program", "active", "sort", "creationdate", "moddate", "deletedate", "http_export",
    "provider", "ext_pkg_id", "tariffcode", "pkg_name", "pkg_desc", "pkg_tvpanel_desc", "pkg_autoinclude",
    "pkg_denied", "pkg_valid_from", "pkg_valid_to", "self_service", "npvr_quota", "timeshift_allow",
    "ext_device_allow", "tvonline_maxsessions", "pkg_group", "iptv_ozz", "firmname", "contracttime",
    "pricenetto", "vat", "pricebrutto", "pricenetto_provider", "vat_provider", "pricebrutto_provider",
    "promotiontime", "promotion_pricenetto_provider", "promotion_pricebrutto_provider", "countactive",
)  # fmt: skip
_TV_TEXT = {"pkg_desc", "pkg_tvpanel_desc", "pkg_autoinclude", "pkg_denied"}
_TV_STR = {"iptv_program", "provider", "ext_pkg_id", "tariffcode", "pkg_name", "firmname"}
_TV_SMALL = {"active", "http_export", "self_service", "timeshift_allow", "iptv_ozz"}
_TV_MONEY = {c for c in TV_PACKAGE_COLUMNS if c.startswith(("price", "promotion_price"))}
_TV_DATE = {"pkg_valid_from", "pkg_valid_to"}


def _tv_column(name: str) -> Column:
    if name == "firmid":
        return Column(name, BigInteger, nullable=False)
    if name in _TV_TEXT:
        return Column(name, Text)
    if name in _TV_STR:
        return _str(name)
    if name in _TV_SMALL:
        return _small(name)
    if name in _TV_MONEY:
        return _money(name)
    if name in _TV_DATE:
        return Column(name, Date)
    return _big(name)


metroport_metrotv_packages = Table(
    "metroport_metrotv_packages",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    *(_tv_column(c) for c in TV_PACKAGE_COLUMNS),
    *(Index(f"metroport_metrotv_packages_{c}", c) for c in ("firmid", "active", "provider")),
    **_OPTIONS,
)

STB_COLUMNS = (
    "firmid", "iptv_program", "iptv_portalid", "status", "userid", "contractid", "actualtariffid", "networkid",
    "ext_linked", "mac", "ipaddr", "serialnumber", "vcasid", "customer_sn", "hdcp_ksv", "modelid", "devel",
    "servicetype", "servicetype_force", "must_reboot", "description", "activedate", "error_log", "fwlog",
    "boot_options", "creationdate", "creatorid", "moddate", "modid", "nodeid", "private", "active", "addressip",
    "modelname", "iptv_accountid", "order_id", "firmname", "username", "usertype", "statusname", "channels",
    "iptv_portal",
)  # fmt: skip
_STB_STR = {
    "iptv_program", "ipaddr", "serialnumber", "vcasid", "customer_sn", "hdcp_ksv", "servicetype", "addressip",
    "modelname", "order_id", "firmname", "username", "usertype", "statusname", "iptv_portal",
}  # fmt: skip
_STB_TEXT = {"description", "boot_options", "channels"}
_STB_SMALL = {"devel", "servicetype_force", "must_reboot", "private", "active"}


def _stb_column(name: str) -> Column:
    if name == "mac":
        return Column(name, String(255), nullable=False)
    if name in _STB_STR:
        return Column(name, String(255))
    if name in _STB_TEXT:
        return Column(name, Text)
    if name in _STB_SMALL:
        return _small(name)
    return _big(name)


metroport_metrotv_stb = Table(
    "metroport_metrotv_stb",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    *(_stb_column(c) for c in STB_COLUMNS),
    UniqueConstraint("mac", name="metroport_metrotv_stb_mac_key"),
    UniqueConstraint("serialnumber", name="metroport_metrotv_stb_serial_unique"),
    *(
        Index(f"metroport_metrotv_stb_{c}", c)
        for c in ("firmid", "mac", "serialnumber", "status", "userid", "iptv_accountid", "active")
    ),
    **_OPTIONS,
)

TABLES = (
    metroport_settings,
    metroport_customers,
    metroport_fsecure_packages,
    metroport_metrotv_packages,
    metroport_metrotv_stb,
)
