"""What differs per database, on the real LMS schema of PostgreSQL and MariaDB: the STB upsert (COPY or
LOAD DATA first, then the staging upsert on existing ids, MACs moving between ids), the pairing's bulk
insert, and the session token's age measured on the database clock."""

from __future__ import annotations

import pytest
from mms_env import make_env, seed_customers

from plugins.metroport_mms.store import DbTokenStore


@pytest.fixture(params=["pg_host", "mysql_host"])
def env(request):
    e = make_env(request.getfixturevalue(request.param), users=25, stbs=60)
    yield e
    e.server.stop()


def test_syncs_and_pairing_on_server_databases(env):
    expected = seed_customers(env)
    assert env.run("customer-update", "-q").exit_code == 0
    assert dict(env.sql("SELECT metroport_user_id, lms_user_id FROM metroport_customers")) == expected
    for command in ("metrotv-stb-list-update", "metrotv-packages-update", "fsecure-packages-update"):
        result = env.run(command)
        assert result.exit_code == 0, result.output
    snap = env.snapshot()
    result = env.run("metrotv-stb-list-update")
    assert "Dodano: 0, zaktualizowano: 60" in result.output and env.snapshot() == snap
    stbs = env.sim.data.stbs
    a, b = sorted(stbs)[:2]
    stbs[a]["mac"], stbs[b]["mac"] = stbs[b]["mac"], stbs[a]["mac"]
    stbs[a]["description"] = "po zamianie"
    assert env.run("metrotv-stb-list-update").exit_code == 0
    rows = dict(env.sql("SELECT id, mac FROM metroport_metrotv_stb"))
    assert (rows[a], rows[b]) == (stbs[a]["mac"], stbs[b]["mac"]) and len(rows) == 60
    assert env.sql("SELECT description FROM metroport_metrotv_stb WHERE id = :i", i=a)[0][0] == "po zamianie"
    dates = env.sql("SELECT pkg_valid_from, pricebrutto FROM metroport_metrotv_packages WHERE id = 102")[0]
    assert str(dates[0]) == "2020-01-01" and str(dates[1]) == "59.99"


def test_token_age_by_the_database_clock(env):
    tokens = DbTokenStore(env.host.engine)
    assert tokens.load() is None
    tokens.save("abc")
    tokens.save("def")
    value, age = tokens.load()
    assert value == "def" and 0 <= age < 5
    env.sql("UPDATE metroport_settings SET updated = '2020-01-01 00:00:00'")
    assert tokens.load()[1] > 86400
