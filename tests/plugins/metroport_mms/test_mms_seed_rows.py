"""LMSMetroportPlugin's ``uiconfig`` keys on MariaDB and SQLite: exactly the rows the hand-written
``2026032302.sql`` of both dialects inserted (written down here from that file), each only when no
global row (``userid`` and ``divisionid`` NULL) has its section and var, so a re-run adds only what is
missing and keeps what an admin changed."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from lmsplugins.lms.tables import dbinfo, uiconfig
from lmsplugins.lms.tables import users as lms_users
from lmsplugins.migrate import MigrationSource, upgrade

KEY = "dbversion_LMSMetroportPlugin"
_LOGIN = "Login do serwera API (włącz, aby trzymać go tutaj zamiast w lms.ini)"
_PASS = "Hasło do serwera API (włącz, aby trzymać je tutaj zamiast w lms.ini)"
_PUSH = "true - zmiany klientów sparowanych z MMS wysyła zadanie metroport-mms push-customers"

# (var, value, description, disabled); every row: section 'metroport', type 7, userid and divisionid NULL.
OLD_SQL_ROWS = [
    ("serwer_url", "https://api.mmsc.metroport.pl", "Adres url serwera API Metroport", 0),
    ("api_login", "", _LOGIN, 1),
    ("api_pass", "", _PASS, 1),
    ("automatically_update_customer_data", "true", _PUSH, 0),
    ("api_token_expiration_time", "1200", "Timeout dla tokena w sekundach. Domyslnie 1200s", 0),
    ("metrotv_suspend_billing", "1", "Zawieś wystawianie faktur dla zablokowanych kont MetroTV", 0),
    ("fsecure_suspend_billing", "1", "Zawieś wystawianie faktur dla zablokowanych kont Fsecure", 0),
    ("list_pagelimit", "100", "Liczba wierszy na stronie list Metroport", 0),
    ("show_fsecure_in_customer_tab", "1", "Pokaż na karcie klienta zakładkę F-Secure (1 - tak, 0 - nie)", 0),
    ("show_metrotv_in_customer_tab", "1", "Pokaż na karcie klienta zakładkę MetroTV (1 - tak, 0 - nie)", 0),
]
EXPECTED = sorted(
    (("metroport", var, value, desc, disabled, 7, None, None) for var, value, desc, disabled in OLD_SQL_ROWS),
    key=lambda r: r[1],
)


@pytest.fixture(params=["sqlite_host", "mysql_host"])
def seed_host(request):
    return request.getfixturevalue(request.param)


def _source(host) -> MigrationSource:
    plugin = host.plugin("metroport_mms")
    return MigrationSource(plugin.title, plugin.dbinfo_key, plugin.sql_dir, plugin.db_version)


def _order(row: tuple) -> tuple:
    return row[1], row[6] or 0


def _rows(host) -> list[tuple]:
    c = uiconfig.c
    columns = (c.section, c.var, c.value, c.description, c.disabled, c.type, c.userid, c.divisionid)
    with host.engine.connect() as conn:
        return sorted((tuple(r) for r in conn.execute(select(*columns).where(c.section == "metroport"))), key=_order)


def _user_id(host) -> int:
    with host.engine.begin() as conn:
        found = conn.execute(select(lms_users.c.id).order_by(lms_users.c.id)).scalars().first()
        if found is None:
            found = conn.execute(lms_users.insert().values(login="seedtest")).inserted_primary_key[0]
    return int(found)


def test_the_rows_of_the_old_sql_inserted_once_and_admin_values_kept(seed_host):
    assert upgrade(seed_host.engine, _source(seed_host)) == ["2026032302"]
    assert _rows(seed_host) == EXPECTED

    user = _user_id(seed_host)
    c = uiconfig.c
    with seed_host.engine.begin() as conn:
        conn.execute(update(uiconfig).where(c.section == "metroport", c.var == "list_pagelimit").values(value="50"))
        conn.execute(update(uiconfig).where(c.section == "metroport", c.var == "api_login").values(disabled=0))
        conn.execute(delete(uiconfig).where(c.section == "metroport", c.var == "serwer_url"))
        conn.execute(uiconfig.insert().values(section="metroport", var="serwer_url", value="http://own", userid=user))
        conn.execute(delete(dbinfo).where(dbinfo.c.keytype == KEY))  # the step runs again, tables kept
    assert upgrade(seed_host.engine, _source(seed_host)) == ["2026032302"]
    assert upgrade(seed_host.engine, _source(seed_host)) == []

    changed = {"list_pagelimit": ("value", "50"), "api_login": ("disabled", 0)}
    wanted = []
    for row in EXPECTED:
        if row[1] in changed:
            field, value = changed[row[1]]
            row = (*row[:2], value, *row[3:]) if field == "value" else (*row[:4], value, *row[5:])
        wanted.append(row)
    wanted.append(("metroport", "serwer_url", "http://own", "", 0, 0, user, None))
    assert _rows(seed_host) == sorted(wanted, key=_order)
