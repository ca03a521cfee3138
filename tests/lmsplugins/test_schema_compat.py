"""Every column the host declares exists, with a compatible type, in the real LMS schemas.

The embedded SQLite schema is generated from these declarations, so this is what keeps the demo and
the gateways honest about the production PostgreSQL and MySQL databases.
"""

from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, Integer, Numeric, SmallInteger, String, Text, inspect, select
from sqlalchemy import types as satypes

from lmsplugins.lms.embedded import create_core_schema
from lmsplugins.lms.tables import CORE_TABLES, users


def _family(type_) -> str:
    if isinstance(type_, (Integer, SmallInteger, BigInteger, satypes.Boolean)):
        return "int"
    if isinstance(type_, Numeric) and not isinstance(type_, satypes.Float):
        return "numeric"
    if isinstance(type_, satypes.Float):
        return "float"
    if isinstance(type_, Text) or (isinstance(type_, String) and type_.length is None):
        return "text"
    if isinstance(type_, String):
        return "string"
    if isinstance(type_, satypes.Enum):
        return "string"
    return type(type_).__name__


def incompatibilities(host) -> list[str]:
    problems = []
    insp = inspect(host.engine)
    for table in CORE_TABLES:
        real = {c["name"]: c["type"] for c in insp.get_columns(table.name)}
        for col in table.columns:
            theirs = real.get(col.name)
            if theirs is None:
                problems.append(f"{table.name}.{col.name} missing")
                continue
            ours_f, theirs_f = _family(col.type), _family(theirs)
            if ours_f == "string" and theirs_f == "text":
                continue
            if ours_f == "text" and theirs_f == "string" and getattr(theirs, "length", 0) >= 10000:
                continue
            if ours_f != theirs_f:
                problems.append(f"{table.name}.{col.name}: ours {col.type}, real {theirs}")
            elif ours_f == "string" and (theirs.length or 0) < (col.type.length or 0):
                problems.append(f"{table.name}.{col.name}: ours {col.type}, real {theirs} is shorter")
            elif ours_f == "numeric" and (theirs.scale or 0) != (col.type.scale or 0):
                problems.append(f"{table.name}.{col.name}: ours {col.type}, real {theirs} (scale differs)")
    return problems


@pytest.mark.postgres
def test_columns_exist_in_real_postgresql_schema(pg_host):
    assert incompatibilities(pg_host) == []


@pytest.mark.mysql
def test_columns_exist_in_real_mysql_schema(mysql_host):
    assert incompatibilities(mysql_host) == []


def test_checker_notices_a_missing_column(sqlite_host):
    with sqlite_host.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE voip_cdr DROP COLUMN fraction")
    assert incompatibilities(sqlite_host) == ["voip_cdr.fraction missing"]


def test_older_embedded_database_is_completed_in_place(sqlite_host):
    with sqlite_host.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE users DROP COLUMN twofactorauthsecretkey")
        conn.exec_driver_sql("ALTER TABLE users DROP COLUMN trustedhosts")
        conn.exec_driver_sql("DROP TABLE twofactorauthcodehistory")
        before = conn.execute(select(users.c.id, users.c.login)).all()
    assert not inspect(sqlite_host.engine).has_table("twofactorauthcodehistory")
    assert sorted(create_core_schema(sqlite_host.engine)) == ["users.trustedhosts", "users.twofactorauthsecretkey"]
    assert incompatibilities(sqlite_host) == []
    with sqlite_host.engine.connect() as conn:
        assert conn.execute(select(users.c.id, users.c.login)).all() == before
        assert conn.execute(select(users.c.twofactorauth, users.c.twofactorauthsecretkey)).first() == (0, None)
    assert create_core_schema(sqlite_host.engine) == []
