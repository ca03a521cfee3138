"""UserSide write-back: off by default and refused; when on, comment and balance operations go through
the host's gateways (the balance by LMS's trigger), each with an audit line naming the key's label;
bad input changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from userside_data import Dataset, build

from lmsplugins.host import Host
from lmsplugins.lms import cash as lms_cash
from lmsplugins.lms.tables import cash, customers
from lmsplugins.testing import databases as dbs
from lmsplugins.web import create_app

KEY = "writeback-key-0123456789abcdef"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Host, Dataset]]:
    host = dbs.sqlite_host(tmp_path, seeded=False)
    ds = build(host)
    host.set_uiconfig("userside.api_key", KEY)
    host.set_uiconfig("userside.key_label", "usm-prod")
    yield host, ds
    host.dispose()


def _get(app: Flask, query: str) -> tuple[int, Any]:
    response = app.test_client().get(f"/userside/api?key={KEY}&{query}")
    return response.status_code, response.get_json()


def _state(host: Host, customer_id: int) -> tuple[Any, ...]:
    with host.engine.connect() as conn:
        notes = conn.execute(select(customers.c.notes).where(customers.c.id == customer_id)).scalar()
        rows = conn.execute(select(func.count()).select_from(cash)).scalar()
        return notes, rows, lms_cash.balance(conn, customer_id)


def test_write_back_is_off_by_default(env: tuple[Host, Dataset]):
    host, ds = env
    app = create_app(host, TESTING=True)
    before = _state(host, ds["private"])
    for query in (
        f"request=change_user_data&customer_id={ds['private']}&type=comment&value=hacked",
        f"request=change_user_data&customer_id={ds['private']}&type=balance_operation&value=100",
        "request=get_supported_change_user_state",
    ):
        status, body = _get(app, query)
        assert status == 400 and "write-back is disabled" in body["error"]
    _, methods = _get(app, "request=get_supported_method_list")
    assert "change_user_data" not in methods
    assert _state(host, ds["private"]) == before


def test_write_back_when_enabled(env: tuple[Host, Dataset], caplog: pytest.LogCaptureFixture):
    host, ds = env
    host.set_uiconfig("userside.writeback", "true")
    app = create_app(host, TESTING=True)
    jan = ds["private"]
    _, methods = _get(app, "request=get_supported_method_list")
    assert {"change_user_data", "get_supported_change_user_state", "get_supported_change_user_tariff"} <= set(methods)
    assert _get(app, "request=get_supported_change_user_state") == (200, {})
    assert _get(app, "request=get_supported_change_user_tariff") == (200, {})

    with caplog.at_level(logging.INFO, logger="lmsplugins.audit.userside"):
        status, body = _get(app, f"request=change_user_data&customer_id={jan}&type=comment&value=nowa%20uwaga")
        assert (status, body) == (200, {"result": "ok"})
        status, body = _get(
            app, f"request=change_user_data&customer_id={jan}&type=balance_operation&value=12,50&comment=Kasa"
        )
        assert (status, body) == (200, {"result": "ok"})
        status, body = _get(app, f"request=change_user_data&customer_id={jan}&type=balance_correct_operation&value=-2")
        assert (status, body) == (200, {"result": "ok"})
    notes, _, balance = _state(host, jan)
    assert notes == "nowa uwaga" and balance == Decimal("51.50")
    with host.engine.connect() as conn:
        last = conn.execute(select(cash.c.type, cash.c.value, cash.c.comment).order_by(cash.c.id.desc()).limit(2)).all()
    assert [(r.type, str(r.value), r.comment) for r in last] == [
        (0, "-2.00", "UserSide: correction"),
        (1, "12.50", "Kasa"),
    ]
    audit = [r.getMessage() for r in caplog.records if r.name == "lmsplugins.audit.userside"]
    assert len(audit) == 3 and all("'usm-prod'" in line and KEY not in line for line in audit)
    _, users = _get(app, f"request=get_user_list&customer_id={jan}")
    assert users[str(jan)]["balance"] == "51.50" and users[str(jan)]["comment"] == "nowa uwaga"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("type=balance_operation&value=abc", "is not a sum of money"),
        ("type=balance_operation&value=1e5", "is not a sum of money"),
        ("type=balance_operation&value=0", "zero or out of range"),
        ("type=balance_operation&value=12.345", "is not a sum of money"),
        ("type=balance_operation", "is not a sum of money"),
        ("type=tariff&value=1", "type must be one of"),
        ("type=comment&value=x&customer_id=999999", "does not exist"),
        ("type=comment&value=x&customer_id=x1", "must be a number"),
    ],
)
def test_bad_writes_change_nothing(env: tuple[Host, Dataset], query: str, message: str):
    host, ds = env
    host.set_uiconfig("userside.writeback", "1")
    app = create_app(host, TESTING=True)
    before = _state(host, ds["private"])
    if "customer_id" not in query:
        query += f"&customer_id={ds['private']}"
    status, body = _get(app, f"request=change_user_data&{query}")
    assert status == 400 and body["result"] == "error" and message in body["error"]
    assert _state(host, ds["private"]) == before
