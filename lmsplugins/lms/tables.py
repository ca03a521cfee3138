"""SQLAlchemy Core definitions of the LMS core tables the host and its plugins touch.

These mirror ``doc/lms.pgsql`` of LMS (core schema version :data:`CORE_DBVERSION`) column for column
for every column we declare; ``tests/lmsplugins/test_schema_compat.py`` proves each one exists with a
compatible type in the real PostgreSQL and MySQL schemas. On the embedded SQLite default the same
definitions *are* the schema (:func:`lmsplugins.lms.embedded.create_core_schema`), so the demo and the
real thing cannot drift apart. Tables LMS has but the host never reads are not declared.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

CORE_DBVERSION = "2026081100"

metadata = MetaData()


def _c(name: str, type_: Any, default: Any = None, nullable: bool = False, **kw: Any) -> Column:
    """A column with LMS's habit of NOT NULL plus a server default, unless told otherwise."""
    server_default = None
    if default is not None:
        server_default = text(repr(default)) if isinstance(default, str) else text(str(default))
    # The client-side default matters on MySQL in strict mode, where TEXT columns have no default.
    return Column(name, type_, default=default, server_default=server_default, nullable=nullable, **kw)


def _id() -> Column:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _fk(target: str, ondelete: str = "CASCADE") -> ForeignKey:
    return ForeignKey(target, ondelete=ondelete, onupdate="CASCADE")


dbinfo = Table(
    "dbinfo",
    metadata,
    Column("keytype", String(255), primary_key=True, server_default=text("''")),
    _c("keyvalue", String(255), ""),
)

countries = Table("countries", metadata, _id(), _c("name", String(255), ""), Column("ccode", String(5), nullable=True))

addresses = Table(
    "addresses",
    metadata,
    _id(),
    Column("name", Text, nullable=True),
    Column("state", String(64), nullable=True),
    Column("state_id", Integer, nullable=True),
    Column("city", String(100), nullable=True),
    Column("city_id", Integer, nullable=True),
    Column("postoffice", String(32), nullable=True),
    Column("street", String(255), nullable=True),
    Column("street_id", Integer, nullable=True),
    Column("zip", String(10), nullable=True),
    Column("country_id", Integer, _fk("countries.id", "SET NULL"), nullable=True),
    Column("house", String(20), nullable=True),
    Column("flat", String(20), nullable=True),
)

divisions = Table(
    "divisions",
    metadata,
    _id(),
    _c("shortname", String(255), ""),
    _c("name", Text, ""),
    Column("label", String(100), nullable=True),
    _c("ten", String(50), ""),
    _c("regon", String(255), ""),
    _c("rbe", String(255), ""),
    _c("rbename", String(255), ""),
    _c("telecomnumber", String(255), ""),
    Column("bank", String(100), nullable=True),
    _c("account", String(48), ""),
    Column("email", String(255), nullable=True),
    Column("phone", String(255), nullable=True),
    _c("inv_header", Text, ""),
    _c("inv_footer", Text, ""),
    _c("inv_author", Text, ""),
    _c("inv_cplace", Text, ""),
    Column("inv_paytime", SmallInteger, nullable=True),
    Column("inv_paytype", SmallInteger, nullable=True),
    _c("description", Text, ""),
    _c("status", SmallInteger, 0),
    Column("address_id", Integer, _fk("addresses.id", "SET NULL"), nullable=True),
    UniqueConstraint("shortname"),
)

users = Table(
    "users",
    metadata,
    _id(),
    _c("login", String(32), ""),
    _c("firstname", String(64), ""),
    _c("lastname", String(64), ""),
    _c("email", String(255), ""),
    _c("rights", Text, ""),
    _c("hosts", String(255), ""),
    Column("trustedhosts", String(255), nullable=True),
    _c("passwd", String(255), ""),
    _c("passwdforcechange", SmallInteger, 0),
    _c("lastlogindate", BigInteger, 0),
    _c("lastloginip", String(40), ""),
    _c("failedlogindate", BigInteger, 0),
    _c("failedloginip", String(40), ""),
    _c("deleted", SmallInteger, 0),
    _c("passwdexpiration", BigInteger, 0),
    _c("passwdlastchange", BigInteger, 0),
    _c("access", SmallInteger, 1),
    _c("accessfrom", BigInteger, 0),
    _c("accessto", BigInteger, 0),
    _c("settings", Text, ""),
    _c("twofactorauth", SmallInteger, 0),
    Column("twofactorauthsecretkey", String(255), nullable=True),
    UniqueConstraint("login"),
)

twofactorauthcodehistory = Table(
    "twofactorauthcodehistory",
    metadata,
    _id(),
    Column("userid", Integer, _fk("users.id"), nullable=False),
    Column("authcode", String(10), nullable=False),
    Column("uts", BigInteger, nullable=False),
    Column("ipaddr", BigInteger, nullable=True),
    _c("success", SmallInteger, 0),
)

userdivisions = Table(
    "userdivisions",
    metadata,
    _id(),
    Column("userid", Integer, _fk("users.id"), nullable=False),
    Column("divisionid", Integer, _fk("divisions.id", "RESTRICT"), nullable=False),
    UniqueConstraint("userid", "divisionid"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(100), primary_key=True, server_default=text("''")),
    _c("ctime", BigInteger, 0),
    _c("mtime", BigInteger, 0),
    _c("atime", BigInteger, 0),
    _c("vdata", Text, ""),
    _c("content", Text, ""),
)

uiconfig = Table(
    "uiconfig",
    metadata,
    _id(),
    _c("section", String(64), ""),
    _c("var", String(64), ""),
    _c("value", Text, ""),
    _c("description", Text, ""),
    _c("disabled", SmallInteger, 0),
    _c("type", SmallInteger, 0),
    Column("userid", Integer, _fk("users.id"), nullable=True),
    Column("divisionid", Integer, _fk("divisions.id"), nullable=True),
    Column("configid", Integer, _fk("uiconfig.id"), nullable=True),
    UniqueConstraint("section", "var", "userid", "divisionid"),
)

customers = Table(
    "customers",
    metadata,
    _id(),
    _c("lastname", String(128), ""),
    _c("name", String(128), ""),
    Column("altname", String(128), nullable=True),
    _c("status", SmallInteger, 0),
    _c("type", SmallInteger, 0),
    _c("ten", String(50), ""),
    _c("ssn", String(50), ""),
    _c("regon", String(255), ""),
    _c("rbe", String(255), ""),
    _c("rbename", String(255), ""),
    _c("ict", SmallInteger, 0),
    _c("icn", String(255), ""),
    _c("info", Text, ""),
    _c("notes", Text, ""),
    _c("creationdate", BigInteger, 0),
    _c("moddate", BigInteger, 0),
    Column("creatorid", Integer, _fk("users.id", "SET NULL"), nullable=True),
    _c("deleted", SmallInteger, 0),
    _c("message", Text, ""),
    _c("cutoffstop", BigInteger, 0),
    Column("divisionid", Integer, _fk("divisions.id", "SET NULL"), nullable=True),
    _c("paytime", SmallInteger, -1),
    Column("paytype", SmallInteger, nullable=True),
    _c("flags", SmallInteger, 0),
)

customer_addresses = Table(
    "customer_addresses",
    metadata,
    _id(),
    Column("customer_id", Integer, _fk("customers.id"), nullable=True),
    Column("address_id", Integer, _fk("addresses.id"), nullable=True),
    Column("type", SmallInteger, nullable=True),
    UniqueConstraint("customer_id", "address_id"),
)

customercontacts = Table(
    "customercontacts",
    metadata,
    _id(),
    Column("customerid", Integer, _fk("customers.id"), nullable=False),
    _c("name", String(10000), ""),
    _c("contact", String(255), ""),
    Column("type", Integer, nullable=True),
)

serviceproviders = Table("serviceproviders", metadata, _id(), Column("name", String(64), nullable=False))

customerextids = Table(
    "customerextids",
    metadata,
    Column("customerid", Integer, _fk("customers.id"), nullable=False),
    Column("extid", String(64), nullable=False),
    Column("serviceproviderid", Integer, _fk("serviceproviders.id"), nullable=True),
    UniqueConstraint("customerid", "extid", "serviceproviderid"),
)

customerbalances = Table(
    "customerbalances",
    metadata,
    Column("customerid", Integer, _fk("customers.id"), nullable=False, primary_key=True),
    Column("balance", Numeric(12, 2), nullable=False),
)

taxes = Table(
    "taxes",
    metadata,
    _id(),
    _c("value", Numeric(4, 2), 0),
    _c("taxed", SmallInteger, 0),
    _c("label", String(16), ""),
    _c("validfrom", BigInteger, 0),
    _c("validto", BigInteger, 0),
    _c("reversecharge", SmallInteger, 0),
)

numberplans = Table(
    "numberplans",
    metadata,
    _id(),
    _c("template", String(255), ""),
    _c("period", SmallInteger, 0),
    _c("doctype", Integer, 0),
    _c("isdefault", SmallInteger, 0),
    _c("datefrom", BigInteger, 0),
    _c("dateto", BigInteger, 0),
    Column("customertype", SmallInteger, nullable=True),
    _c("refflag", SmallInteger, 0),
)

numberplanassignments = Table(
    "numberplanassignments",
    metadata,
    _id(),
    Column("planid", Integer, _fk("numberplans.id"), nullable=False),
    Column("divisionid", Integer, _fk("divisions.id"), nullable=False),
    UniqueConstraint("planid", "divisionid"),
)

numberplanusers = Table(
    "numberplanusers",
    metadata,
    Column("planid", Integer, _fk("numberplans.id"), nullable=False),
    Column("userid", Integer, _fk("users.id"), nullable=False),
    UniqueConstraint("planid", "userid"),
)

tariffs = Table(
    "tariffs",
    metadata,
    _id(),
    _c("name", String(255), ""),
    _c("type", SmallInteger, 1),
    _c("value", Numeric(9, 3), 0),
    _c("taxcategory", SmallInteger, 0),
    Column("period", SmallInteger, nullable=True),
    Column("taxid", Integer, _fk("taxes.id"), nullable=False),
    Column("numberplanid", Integer, _fk("numberplans.id"), nullable=True),
    _c("prodid", String(255), ""),
    _c("description", Text, ""),
    _c("disabled", SmallInteger, 0),
    _c("datefrom", BigInteger, 0),
    _c("dateto", BigInteger, 0),
    Column("currency", String(3), nullable=True),
    _c("flags", SmallInteger, 0),
    Column("netvalue", Numeric(9, 3), nullable=True),
    Column("serviceproviderid", Integer, _fk("serviceproviders.id"), nullable=True),
    Column("extid", String(64), nullable=True),
    _c("uprate", Integer, 0),
    _c("downrate", Integer, 0),
    UniqueConstraint("name", "value", "currency", "period"),
)

tarifftags = Table(
    "tarifftags",
    metadata,
    _id(),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    UniqueConstraint("name"),
)

tariffassignments = Table(
    "tariffassignments",
    metadata,
    _id(),
    Column("tariffid", Integer, _fk("tariffs.id"), nullable=False),
    Column("tarifftagid", Integer, _fk("tarifftags.id"), nullable=False),
    UniqueConstraint("tariffid", "tarifftagid"),
)

assignments = Table(
    "assignments",
    metadata,
    _id(),
    Column("tariffid", Integer, _fk("tariffs.id"), nullable=True),
    Column("liabilityid", Integer, nullable=True),
    Column("customerid", Integer, _fk("customers.id"), nullable=False),
    _c("period", SmallInteger, 0),
    _c("backwardperiod", SmallInteger, 0),
    Column("note", Text, nullable=True),
    _c("at", BigInteger, 0),
    _c("datefrom", BigInteger, 0),
    _c("dateto", BigInteger, 0),
    _c("invoice", SmallInteger, 0),
    _c("suspended", SmallInteger, 0),
    _c("settlement", SmallInteger, 0),
    _c("pdiscount", Numeric(5, 2), 0),
    _c("vdiscount", Numeric(9, 3), 0),
    Column("paytime", SmallInteger, nullable=True),
    Column("paytype", SmallInteger, nullable=True),
    Column("numberplanid", Integer, _fk("numberplans.id", "SET NULL"), nullable=True),
    _c("commited", SmallInteger, 1),
    _c("count", Numeric(9, 3), 1),
    _c("separateitem", SmallInteger, 0),
)

documents = Table(
    "documents",
    metadata,
    _id(),
    _c("type", SmallInteger, 0),
    _c("number", Integer, 0),
    Column("numberplanid", Integer, _fk("numberplans.id", "SET NULL"), nullable=True),
    _c("extnumber", String(255), ""),
    _c("cdate", BigInteger, 0),
    _c("sdate", BigInteger, 0),
    Column("customerid", Integer, _fk("customers.id", "SET NULL"), nullable=True),
    Column("userid", Integer, _fk("users.id", "SET NULL"), nullable=True),
    Column("divisionid", Integer, _fk("divisions.id", "SET NULL"), nullable=True),
    _c("name", String(255), ""),
    _c("address", String(255), ""),
    Column("zip", String(10), nullable=True),
    Column("city", String(100), nullable=True),
    Column("countryid", Integer, _fk("countries.id", "SET NULL"), nullable=True),
    _c("ten", String(50), ""),
    _c("ssn", String(50), ""),
    _c("paytime", SmallInteger, 0),
    Column("paytype", SmallInteger, nullable=True),
    _c("closed", SmallInteger, 0),
    Column("reference", Integer, _fk("documents.id", "SET NULL"), nullable=True),
    _c("reason", String(255), ""),
    _c("div_name", Text, ""),
    _c("div_shortname", Text, ""),
    _c("div_address", String(255), ""),
    _c("div_city", String(255), ""),
    _c("div_zip", String(255), ""),
    Column("div_countryid", Integer, _fk("countries.id", "SET NULL"), nullable=True),
    _c("div_ten", String(255), ""),
    _c("div_regon", String(255), ""),
    Column("div_bank", String(100), nullable=True),
    _c("div_account", String(48), ""),
    _c("div_inv_header", Text, ""),
    _c("div_inv_footer", Text, ""),
    _c("div_inv_author", Text, ""),
    _c("div_inv_cplace", Text, ""),
    Column("fullnumber", String(50), nullable=True),
    _c("cancelled", SmallInteger, 0),
    _c("published", SmallInteger, 0),
    Column("comment", Text, nullable=True),
    Column("recipient_address_id", Integer, _fk("addresses.id", "SET NULL"), nullable=True),
    Column("post_address_id", Integer, _fk("addresses.id", "SET NULL"), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("currencyvalue", Numeric(17, 10), server_default=text("1.0"), nullable=True),
    _c("flags", SmallInteger, 0),
    Column("extid", String(64), nullable=True),
)

invoicecontents = Table(
    "invoicecontents",
    metadata,
    Column("docid", Integer, _fk("documents.id"), nullable=False),
    _c("itemid", SmallInteger, 0),
    _c("value", Numeric(12, 5), 0),
    Column("taxid", Integer, _fk("taxes.id"), nullable=False),
    _c("prodid", String(255), ""),
    _c("content", String(16), ""),
    _c("count", Numeric(9, 3), 0),
    _c("description", Text, ""),
    Column("tariffid", Integer, _fk("tariffs.id", "SET NULL"), nullable=True),
    _c("pdiscount", Numeric(5, 2), 0),
    _c("vdiscount", Numeric(9, 3), 0),
    _c("taxcategory", SmallInteger, 0),
    Column("period", SmallInteger, server_default=text("3"), nullable=True),
    PrimaryKeyConstraint("docid", "itemid", name="invoicecontents_embedded_pkey"),
)

cash = Table(
    "cash",
    metadata,
    _id(),
    _c("time", BigInteger, 0),
    _c("type", SmallInteger, 0),
    Column("servicetype", SmallInteger, nullable=True),
    Column("userid", Integer, _fk("users.id", "SET NULL"), nullable=True),
    _c("value", Numeric(9, 2), 0),
    Column("taxid", Integer, _fk("taxes.id", "SET NULL"), nullable=True),
    Column("customerid", Integer, _fk("customers.id", "SET NULL"), nullable=True),
    _c("comment", Text, ""),
    Column("docid", Integer, _fk("documents.id"), nullable=True),
    _c("itemid", SmallInteger, 0),
    Column("currency", String(3), nullable=True),
    Column("currencyvalue", Numeric(17, 10), server_default=text("1.0"), nullable=True),
)

voipaccounts = Table(
    "voipaccounts",
    metadata,
    _id(),
    Column("ownerid", Integer, _fk("customers.id"), nullable=True),
    _c("login", String(255), ""),
    _c("passwd", String(255), ""),
    _c("access", SmallInteger, 1),
    _c("creationdate", Integer, 0),
    _c("moddate", Integer, 0),
    Column("creatorid", Integer, _fk("users.id", "SET NULL"), nullable=True),
    Column("modid", Integer, _fk("users.id", "SET NULL"), nullable=True),
    _c("balance", Numeric(12, 5), 0),
    _c("flags", SmallInteger, 0),
    Column("cost_limit", Numeric(12, 2), nullable=True),
    Column("address_id", Integer, _fk("addresses.id", "SET NULL"), nullable=True),
    _c("description", Text, ""),
    Column("serviceproviderid", Integer, _fk("serviceproviders.id"), nullable=True),
    Column("extid", String(64), nullable=True),
)

voip_numbers = Table(
    "voip_numbers",
    metadata,
    _id(),
    Column("voip_account_id", Integer, _fk("voipaccounts.id"), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("number_index", SmallInteger, nullable=True),
    Column("info", String(255), nullable=True),
    Column("tariff_id", Integer, _fk("tariffs.id", "SET NULL"), nullable=True),
    UniqueConstraint("phone"),
    UniqueConstraint("voip_account_id", "number_index"),
)

voip_number_assignments = Table(
    "voip_number_assignments",
    metadata,
    _id(),
    Column("number_id", Integer, _fk("voip_numbers.id"), nullable=False),
    Column("assignment_id", Integer, _fk("assignments.id"), nullable=False),
    UniqueConstraint("assignment_id", "number_id"),
)

voip_cdr = Table(
    "voip_cdr",
    metadata,
    _id(),
    Column("caller", String(20), nullable=False),
    Column("callee", String(20), nullable=False),
    Column("call_start_time", BigInteger, nullable=False),
    Column("creationdate", BigInteger, nullable=True),
    Column("totaltime", BigInteger, nullable=False),
    Column("billedtime", BigInteger, nullable=False),
    Column("price", Numeric(12, 5), nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("direction", SmallInteger, nullable=False),
    _c("type", SmallInteger, 0),
    Column("callervoipaccountid", Integer, _fk("voipaccounts.id", "SET NULL"), nullable=True),
    Column("calleevoipaccountid", Integer, _fk("voipaccounts.id", "SET NULL"), nullable=True),
    _c("caller_flags", SmallInteger, 0),
    _c("callee_flags", SmallInteger, 0),
    Column("caller_prefix_group", String(100), nullable=True),
    Column("callee_prefix_group", String(100), nullable=True),
    Column("uniqueid", String(80), nullable=False),
    Column("fraction", String(256), nullable=True),
    Column("prefix", String(256), nullable=True),
    Column("prefixname", String(256), nullable=True),
    _c("incremental", SmallInteger, 0),
    UniqueConstraint("direction", "uniqueid", name="voip_cdr_direction_uniqueid_ukey"),
)

nodes = Table(
    "nodes",
    metadata,
    _id(),
    _c("name", String(32), ""),
    Column("ownerid", Integer, _fk("customers.id"), nullable=True),
    _c("access", SmallInteger, 1),
    _c("warning", SmallInteger, 0),
    _c("ipaddr", BigInteger, 0),
    _c("netid", Integer, 0),
    _c("creationdate", BigInteger, 0),
    _c("moddate", BigInteger, 0),
    Column("login", String(128), nullable=True),
    Column("netdev", Integer, _fk("netdevices.id", "SET NULL"), nullable=True),
    _c("port", SmallInteger, 0),
    _c("lastonline", BigInteger, 0),
    _c("passwd", String(256), ""),
    UniqueConstraint("name"),
)

# Further declarations on the same metadata, kept in modules of their own for size.
from lmsplugins.lms import tables_location, tables_network  # noqa: E402, F401

customergroups = Table(
    "customergroups",
    metadata,
    _id(),
    _c("name", String(255), ""),
    _c("description", Text, ""),
    UniqueConstraint("name"),
)

customerassignments = Table(
    "customerassignments",
    metadata,
    _id(),
    Column("customergroupid", Integer, _fk("customergroups.id"), nullable=False),
    Column("customerid", Integer, _fk("customers.id"), nullable=False),
    _c("startdate", BigInteger, 0),
    _c("enddate", BigInteger, 0),
    UniqueConstraint("customergroupid", "customerid", "enddate"),
)

nodegroups = Table(
    "nodegroups",
    metadata,
    _id(),
    _c("name", String(255), ""),
    _c("prio", Integer, 0),
    _c("description", Text, ""),
    UniqueConstraint("name"),
)

nodegroupassignments = Table(
    "nodegroupassignments",
    metadata,
    _id(),
    Column("nodegroupid", Integer, _fk("nodegroups.id"), nullable=False),
    Column("nodeid", Integer, _fk("nodes.id"), nullable=False),
    UniqueConstraint("nodeid", "nodegroupid"),
)

# LMS's transaction log (SYSLOG), written by lmsplugins.lms.syslog when logs.enabled is on.
logtransactions = Table(
    "logtransactions",
    metadata,
    _id(),
    Column("userid", Integer, _fk("users.id", "SET NULL"), nullable=True),
    _c("time", BigInteger, 0),
    _c("module", String(50), ""),
)

logmessages = Table(
    "logmessages",
    metadata,
    _id(),
    Column("transactionid", Integer, _fk("logtransactions.id"), nullable=False),
    _c("resource", Integer, 0),
    _c("operation", Integer, 0),
)

logmessagekeys = Table(
    "logmessagekeys",
    metadata,
    Column("logmessageid", Integer, _fk("logmessages.id"), nullable=False, index=True),
    Column("name", String(32), nullable=False),
    Column("value", Integer, nullable=False),
)

logmessagedata = Table(
    "logmessagedata",
    metadata,
    Column("logmessageid", Integer, _fk("logmessages.id"), nullable=False, index=True),
    Column("name", String(32), nullable=False),
    Column("value", Text, nullable=True),
)

CORE_TABLES: tuple[Table, ...] = tuple(metadata.sorted_tables)
