"""LMS's transaction log for gateway changes made from our web pages: the LMS user and the page."""

from __future__ import annotations

from sqlalchemy import select

from lmsplugins.lms import customers
from lmsplugins.lms.tables import customers as customers_table
from lmsplugins.lms.tables import logmessagekeys, logmessages, logtransactions
from lmsplugins.testing.web import add_user, log_in
from lmsplugins.web import create_app


def _app(host, cid):
    app = create_app(host, TESTING=True)

    def change(status: int):
        with host.engine.begin() as conn:
            customers.set_status(conn, [cid], status)
            if status == 4:
                raise RuntimeError("the page failed after the change")
        return "ok"

    app.add_url_rule("/test/status/<int:status>", "test_status", change)
    return app


def test_web_changes_logged_with_the_lms_user(sqlite_host):
    with sqlite_host.engine.begin() as conn:
        cid = conn.execute(customers_table.insert().values(lastname="WEB", name="Jan", status=3)).inserted_primary_key[
            0
        ]
    uid = add_user(sqlite_host, "auditor", "haslo123", rights="full_access")
    client = log_in(_app(sqlite_host, cid), "auditor", "haslo123")
    assert client.get("/test/status/5").status_code == 200
    with sqlite_host.engine.connect() as conn:
        assert conn.execute(select(logmessages.c.id)).first() is None  # logs.enabled off

    sqlite_host.set_uiconfig("logs.enabled", "1")
    client = log_in(_app(sqlite_host, cid), "auditor", "haslo123")
    assert client.get("/test/status/3").status_code == 200
    assert client.get("/test/status/4").status_code == 500  # rolled back, with its log
    with sqlite_host.engine.connect() as conn:
        rows = conn.execute(
            select(
                logtransactions.c.userid, logtransactions.c.module, logmessages.c.resource, logmessages.c.operation
            ).join(logmessages, logmessages.c.transactionid == logtransactions.c.id)
        ).all()
        keys = conn.execute(select(logmessagekeys.c.name, logmessagekeys.c.value)).all()
        status = conn.execute(select(customers_table.c.status).where(customers_table.c.id == cid)).scalar()
    assert status == 3
    assert rows == [(uid, "lmsplugins:test_status", 7, 3)]
    assert keys == [("customerid", cid)]
