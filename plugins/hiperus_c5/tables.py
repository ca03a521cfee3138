"""The ``hv_*`` tables of LMSHiperusPlugin, column for column (SQLAlchemy Core, queries only).

Declared once, complete (columns, defaults, keys, indexes): the code queries with these, the SQLite
migration is generated from them (``sql/sqlite/2017011900.tables``), and tests/plugins/
test_plugin_schemas.py proves the PostgreSQL and MySQL steps, which reproduce the PHP plugin's own
lms.pgsql / lms.mysql for a take-over (enum types, a numbered column outside the primary key,
utf8_polish_ci), hold exactly what is declared here.

Why the flag columns are :class:`~sqlalchemy.Enum` and not strings: on PostgreSQL they are of the
enum types ``hv_bool`` / ``hv_payment_type``, and SQLAlchemy's psycopg dialect renders a cast for
every bound parameter; a ``::VARCHAR`` cast into an enum column is an error, a ``::hv_bool`` cast is
what the column wants. On MySQL they are ENUM columns, on SQLite plain text.
"""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    BigInteger,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from lmsplugins.lms.tables_location import location_cities, location_streets

metadata = MetaData()


def _bool() -> Enum:
    return Enum("f", "t", name="hv_bool", create_constraint=False, native_enum=True, validate_strings=False)


def _payment() -> Enum:
    return Enum("prepaid", "postpaid", name="hv_payment_type", create_constraint=False, validate_strings=False)


def _money(precision: int = 9, scale: int = 2) -> Numeric:
    return Numeric(precision, scale, asdecimal=True)


hv_customers = Table(
    "hv_customers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(255)),
    Column("id_reseller", Integer),
    Column("email", String(255)),
    Column("address", String(255)),
    Column("street_number", String(10)),
    Column("apartment_number", String(10)),
    Column("postcode", String(10)),
    Column("city", String(255)),
    Column("country", String(255)),
    Column("b_name", String(255)),
    Column("b_address", String(255)),
    Column("b_street_number", String(255)),
    Column("b_apartment_number", String(10)),
    Column("b_postcode", String(10)),
    Column("b_city", String(255)),
    Column("b_country", String(255)),
    Column("b_nip", String(50)),
    Column("b_regon", String(50)),
    Column("ext_billing_id", Integer),
    Column("issue_invoice", _bool(), nullable=False, server_default=text("'f'")),
    Column("id_default_pricelist", Integer),
    Column("id_default_balance", Integer),
    Column("payment_type", _payment(), nullable=False, server_default=text("'postpaid'")),
    Column("is_wlr", _bool(), nullable=False, server_default=text("'f'")),
    Column("active", _bool(), nullable=False, server_default=text("'t'")),
    Column("create_date", String(30)),
    Column("consent_data_processing", _bool(), nullable=False, server_default=text("'f'")),
    Column("platform_user_add_stamp", String(50)),
    Column("open_registration", _bool(), nullable=False, server_default=text("'f'")),
    Column("is_removed", _bool(), nullable=False, server_default=text("'f'")),
)

hv_assign = Table(
    "hv_assign",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customerid", Integer),
    Column("keytype", CHAR(30), nullable=False, server_default=text("''")),
    Column("keyvalue", String(255), nullable=False, server_default=text("''")),
    sqlite_autoincrement=True,
)

hv_billing = Table(
    "hv_billing",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("customerid", Integer),
    Column("rel_cause", Integer),
    Column("start_time", String(30)),
    Column("start_time_unix", Integer),
    Column("customer_name", String(255)),
    Column("terminal_name", String(255)),
    Column("ext_billing_id", Integer),
    Column("caller", String(20)),
    Column("bill_cpb", String(20)),
    Column("duration", Integer),
    Column("calltype", String(50)),
    Column("country", String(255)),
    Column("description", String(255)),
    Column("operator", String(255)),
    Column("type", String(30)),
    Column("cost", _money(12, 4), nullable=False, server_default=text("0")),
    Column("price", _money(12, 4), nullable=False, server_default=text("0")),
    Column("init_charge", _money(12, 4), nullable=False, server_default=text("0")),
    Column("reseller_price", _money(12, 4), nullable=False, server_default=text("0")),
    Column("reseller_cost", _money(12, 4), nullable=False, server_default=text("0")),
    Column("reseller_init_charge", _money(12, 4), nullable=False, server_default=text("0")),
    Column("margin", _money(12, 4), nullable=False, server_default=text("0")),
    Column("subscription_used", _bool()),
    Column("platform_type", String(20)),
    Column("success_call", _bool()),
)

hv_pricelist = Table(
    "hv_pricelist",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(50)),
    Column("charge_internal_call", _bool(), nullable=False, server_default=text("'f'")),
)

hv_enduserlist = Table(
    "hv_enduserlist",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customerid", Integer),
    Column("password", String(255)),
    Column("email", String(255)),
    Column("admin", _bool(), nullable=False, server_default=text("'t'")),
    Column("vm_count", Integer),
    Column("fax_count", Integer),
    Column("exten_count", Integer),
    Column("vexten_count", Integer),
)

hv_pstn = Table(
    "hv_pstn",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customerid", Integer),
    Column("extension", String(30)),
    Column("country_code", String(3), nullable=False, server_default=text("'48'")),
    Column("number", String(20)),
    Column("is_main", _bool(), nullable=False, server_default=text("'t'")),
    Column("disa_enabled", _bool(), nullable=False, server_default=text("'f'")),
    Column("clir", _bool(), nullable=False, server_default=text("'f'")),
    Column("virtual_fax", _bool(), nullable=False, server_default=text("'f'")),
    Column("terminal_name", String(100)),
    Column("id_auth", Integer),
    Column("create_date", String(30)),
    Column("voicemail_enabled", _bool(), nullable=False, server_default=text("'t'")),
)

hv_pstnrange = Table(
    "hv_pstnrange",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("range_start", BigInteger),
    Column("range_end", BigInteger),
    Column("description", String(255)),
    Column("id_reseller", Integer),
    Column("country_code", String(6)),
    Column("open_registration", _bool(), nullable=False, server_default=text("'f'")),
    Column("ussage", _bool(), nullable=False, server_default=text("'t'")),
)

hv_pstnusage = Table(
    "hv_pstnusage",
    metadata,
    # NOT NULL and numbered (a sequence, AUTO_INCREMENT) on PostgreSQL and MySQL, where the PHP schema is
    # reproduced; SQLite cannot number a column outside the primary key, so there it may stay NULL.
    Column("id", Integer),
    Column("extension", BigInteger, primary_key=True, autoincrement=False),
    Column("number", Integer),
    Column("customerid", Integer),
    Column("country_code", String(6)),
    Column("customer_name", String(255)),
    Column("idrange", Integer),
)

hv_subscriptionlist = Table(
    "hv_subscriptionlist",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(255)),
    Column("value", _money(), nullable=False, server_default=text("0")),
    Column("f_dld", String(255)),
    Column("f_mobile", String(255)),
    Column("f_ild", String(255)),
    Column("id_reseller", Integer),
    Column("invoice_value", _money(), nullable=False, server_default=text("0")),
)

hv_terminal = Table(
    "hv_terminal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customerid", Integer),
    Column("username", String(100)),
    Column("password", String(100)),
    Column("screen_numbers", _bool(), nullable=False, server_default=text("'t'")),
    Column("t38_fax", _bool(), nullable=False, server_default=text("'f'")),
    Column("customer_name", String(255)),
    Column("id_pricelist", Integer),
    Column("pricelist_name", String(255)),
    Column("balance_value", _money(), server_default=text("0")),
    Column("id_auth", Integer),
    Column("id_subscription", Integer),
    Column("subscription_from", String(50)),
    Column("subscription_to", String(50)),
    Column("value_left", _money(), server_default=text("0")),
    Column("id_terminal_location", Integer),
    Column("area_code", String(10)),
    Column("borough", String(255)),
    Column("county", String(255)),
    Column("province", String(255)),
    Column("sip_proxy", String(255)),
    Column("subscriptions", String(255)),
    Column("extensions", Text),
    Column("location", String(255)),
    Column("location_city", Integer, ForeignKey(location_cities.c.id, ondelete="SET NULL", onupdate="CASCADE")),
    Column("location_street", Integer, ForeignKey(location_streets.c.id, ondelete="SET NULL", onupdate="CASCADE")),
    Column("location_house", String(32)),
    Column("location_flat", String(32)),
)

hv_province = Table(
    "hv_province",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", CHAR(20), nullable=False, server_default=text("''")),
    UniqueConstraint("name", name="hv_province_name_key"),
    sqlite_autoincrement=True,
)

hv_county = Table(
    "hv_county",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False, server_default=text("''")),
    UniqueConstraint("name", name="hv_county_name_key"),
    sqlite_autoincrement=True,
)

hv_borough = Table(
    "hv_borough",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
    UniqueConstraint("name", name="hv_borough_name_key"),
    sqlite_autoincrement=True,
)

hv_pcb = Table(
    "hv_pcb",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("province", Integer, nullable=False),
    Column("county", Integer, nullable=False),
    Column("borough", Integer, nullable=False),
)

# The indexes of the PHP schema (PostgreSQL names; lms.mysql names them after the column). Only
# lms.mysql indexes hv_pstn.customerid; the PostgreSQL step reproduces lms.pgsql, which does not.
Index("hv_assign_customerid_idx", hv_assign.c.customerid)
Index("hv_assign_keytype_idx", hv_assign.c.keytype)
Index("hv_billing_customerid_idx", hv_billing.c.customerid)
Index("hv_billing_success_call_idx", hv_billing.c.success_call)
Index("hv_enduserlist_customerid_idx", hv_enduserlist.c.customerid)
Index("hv_pstn_customerid_idx", hv_pstn.c.customerid).ddl_if(dialect=("mysql", "sqlite"))
Index("hv_pstnusage_id_idx", hv_pstnusage.c.id)
Index("hv_pstnusage_number_idx", hv_pstnusage.c.number)
Index("hv_pstnusage_idrange_idx", hv_pstnusage.c.idrange)
Index("hv_terminal_customerid_idx", hv_terminal.c.customerid)
Index("hv_terminal_location_street_idx", hv_terminal.c.location_street)
Index(
    "hv_terminal_location_city_idx",
    hv_terminal.c.location_city,
    hv_terminal.c.location_street,
    hv_terminal.c.location_house,
    hv_terminal.c.location_flat,
)

TERMINAL_LOCAL_COLUMNS = ("location", "location_city", "location_street", "location_house", "location_flat")
"""hv_terminal columns the platform does not know (TERYT address); an import never overwrites them."""

ALL_TABLES = (
    hv_customers,
    hv_assign,
    hv_billing,
    hv_pricelist,
    hv_enduserlist,
    hv_pstn,
    hv_pstnrange,
    hv_pstnusage,
    hv_subscriptionlist,
    hv_terminal,
    hv_province,
    hv_county,
    hv_borough,
    hv_pcb,
)
