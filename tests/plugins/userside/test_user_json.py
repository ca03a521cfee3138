"""The fast get_user_list text (:func:`plugins.userside.user_json.user_json`, what the API sends) is
byte for byte the json module's encoding of the reference dicts (:func:`mapping.user_element`), on a
dataset with every kind of customer and under every mapping setting that changes the shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from reference import fast_and_reference
from sqlalchemy import func, select
from userside_data import add_edge_cases, build

from lmsplugins.host import Host
from lmsplugins.lms.customer_bundles import iter_customers
from lmsplugins.lms.tables import customers
from lmsplugins.testing import databases as dbs

SETTINGS = [
    {},
    {
        "login_source": "node_name",
        "account_number_source": "bankaccount",
        "address_type": "all_locations",
        "additional_data": "ten,ssn,regon,rbe,icn,info,altname",
        "export_password": "1",
        "debt_is_nomoney": "0",
        "agreement_fallback": "0",
    },
    {"login_source": "node_login", "address_type": "billing", "tariff_types": "1,2,3,4,5,6", "chunk_size": "2"},
]


@pytest.mark.parametrize("settings", SETTINGS, ids=["defaults", "every-option", "billing-chunks-of-2"])
def test_fast_text_is_the_reference_encoding(tmp_path: Path, settings: dict[str, str]):
    host = dbs.sqlite_host(tmp_path, seeded=False)
    try:
        ds = build(host)
        add_edge_cases(host, ds)
        for key, value in settings.items():
            host.set_uiconfig(f"userside.{key}", value)
        fast, reference = fast_and_reference(host)
        assert len(json.loads(reference)) == 9
        assert fast == reference
        one, one_reference = fast_and_reference(host, ds["private"])
        assert one == one_reference and list(json.loads(one)) == [str(ds["private"])]
    finally:
        host.dispose()


def test_read_ahead_connection_shares_the_snapshot(pg_host: Host):
    """On PostgreSQL the chunks are read on a second connection; a customer committed after the
    export's transaction took its snapshot is seen by neither connection."""
    ds = build(pg_host)
    engine = pg_host.engine.execution_options(isolation_level="REPEATABLE READ")
    with engine.connect() as conn:
        conn.execute(select(1)).all()
        with pg_host.engine.begin() as other:
            other.execute(customers.insert().values(lastname="PÓŹNY", status=3))
        seen = [
            b.customer.id
            for b in iter_customers(conn, address_types=[3, 2, 1], now=ds.now, month_start=0, chunk_size=2)
        ]
        conn.rollback()
    with pg_host.engine.connect() as conn:
        everyone = conn.execute(select(func.count()).select_from(customers).where(customers.c.deleted == 0)).scalar()
    assert len(seen) == 7 and everyone == 8
    assert seen == sorted(seen) and str(ds["deleted"]) not in map(str, seen)


@pytest.mark.parametrize("chunk_size", [5000, 2])
def test_edge_cases_on_every_engine(lms_host: Host, chunk_size: int):
    """The one-pass rules against the reference on the real schemas too, and what they decide for
    the edge customers. On PostgreSQL the API's text is read through the read-ahead's cursors and the
    reference by id range; chunks of 2 make each cursor's rows run past a chunk (a customer has up to
    six contacts) and its fetch size double."""
    ds = build(lms_host)
    add_edge_cases(lms_host, ds)
    lms_host.set_uiconfig("userside.chunk_size", str(chunk_size))
    fast, reference = fast_and_reference(lms_host)
    assert fast == reference
    users = json.loads(fast)
    edge, pause = users[str(ds["edge"])], users[str(ds["suspend_all"])]
    assert edge["ip_mac"] == {
        "3232236033": {"ip": 3232236033, "mac": "001122334455"},
        "3232236035": {"ip": 3232236035, "mac": "00000000000c"},
    }
    assert [t["id"] for t in edge["tariff"]["current"]] == [str(ds["net300"])]
    assert [t["id"] for t in edge["tariff"]["new"]] == [str(ds["net100"])]
    assert edge["discount"] == "12.50" and edge["state_id"] == "2"
    assert sorted(edge["group"]) == sorted([str(ds["group_a"]), str(ds["group_b"])])
    assert ["date_add" in s for s in edge["service"][str(ds["tv"])]] == [False, True] and "comment" not in edge
    assert pause["state_id"] == "3"


def _pg_statements(host: Host, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    """Users sent and statements psycopg ran (on either connection, either thread) for one
    get_user_list read as the API reads it."""
    import psycopg

    statements: list[str] = []
    execute = psycopg.Cursor.execute

    def counting(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(query))
        return execute(self, query, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(psycopg.Cursor, "execute", counting)
        fast, _ = fast_and_reference(host)
    return len(json.loads(fast)), statements


def test_read_ahead_statements_do_not_grow_with_customers(pg_host: Host, monkeypatch: pytest.MonkeyPatch):
    """On PostgreSQL's read-ahead path too: thirty more customers, each with a node, a MAC, a contact,
    an address and tariffs, cost no more statements (no query per customer)."""
    ds = build(pg_host)
    before_users, before = _pg_statements(pg_host, monkeypatch)
    for i in range(30):
        add_edge_cases(pg_host, ds, suffix=str(i))
    after_users, after = _pg_statements(pg_host, monkeypatch)
    assert after_users == before_users + 60
    assert len(after) == len(before)
    assert sum("FETCH FORWARD" in s for s in after) >= 7
