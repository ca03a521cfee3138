"""The Metroport MVNO web part: customer-card panel, unbound users with manual binding, billing list.

Every database test runs on the embedded SQLite LMS and on PostgreSQL loaded with the real LMS schema,
against the Metroport simulator on loopback (the unbound page asks Metroport live).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from mvno_env import Env, add_customer, make_env, seed_customers

from lmsplugins.demo import seed
from lmsplugins.host import Host
from lmsplugins.lms import voip
from lmsplugins.lms.tables import countries
from lmsplugins.testing import databases as dbs
from lmsplugins.testing.web import csrf_token, log_in, user_with
from lmsplugins.web import create_app
from plugins.metroport_mvno import formatting, webdata

WARSAW = ZoneInfo("Europe/Warsaw")


# --------------------------------------------------------------------------------------------------
# Set-up


@pytest.fixture(params=["sqlite", "postgres"])
def mvno_host(request: pytest.FixtureRequest) -> Iterator[Host]:
    if request.param == "sqlite":
        host = request.getfixturevalue("sqlite_host")
    else:
        host = request.getfixturevalue("pg_host")
        with host.engine.begin() as conn:
            conn.execute(countries.delete().where(countries.c.name == "Poland"))
            seed(conn)
    dbs.install(host, "example", "metroport_mvno")
    yield host


@pytest.fixture
def env(mvno_host: Host) -> Iterator[Env]:
    e = make_env(mvno_host, install=False, users=12, mobiles_per_user=2, billings=48)
    yield e
    e.server.stop()


@pytest.fixture
def app(env: Env) -> Flask:
    return create_app(env.host, SLEEP=lambda s: None, USER_CACHE_SECONDS=0, TESTING=True, PER_PAGE=3)


def bindings(env: Env) -> list[tuple[int, str]]:
    rows = env.sql(
        "SELECT customerid, extid FROM customerextids WHERE serviceproviderid = :p ORDER BY customerid, extid",
        p=env.provider_id(),
    )
    return [(int(c), str(e)) for c, e in rows]


def post_bind(client: FlaskClient, customer_id: int | str, user_id: int, token: str | None = "fetch") -> Any:
    data: dict[str, Any] = {"customer_id": customer_id, "user_id": user_id}
    if token == "fetch":
        token = csrf_token(client, "/")
    if token is not None:
        data["csrf_token"] = token
    return client.post("/metroport-mvno/bind", data=data)


def flashes(client: FlaskClient, response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def ambiguous_setup(env: Env) -> tuple[dict[int, int], dict[str, Any], int]:
    """LMS customers for the simulator's users, plus a twin sharing one user's PESEL: that user is
    ambiguous for the sync (two LMS candidates)."""
    ids = seed_customers(env)
    user = next(u for u in env.sim.data.users if u["_pesel"] and not u["_nip"] and u["id"] in ids)
    twin = add_customer(env.host, "TWIN", ssn=user["_pesel"])
    return ids, user, twin


# --------------------------------------------------------------------------------------------------
# Formatting helpers (pure)


def test_format_bytes():
    assert formatting.format_bytes(0) == "0.00 MB"
    assert formatting.format_bytes(1) == "< 0.01 MB"
    assert formatting.format_bytes(1572864) == "1.50 MB"
    assert formatting.format_bytes(1024 * 1024 * 1024 - 1) == "1024.00 MB"
    assert formatting.format_bytes(1024**3) == "1.00 GB"
    assert formatting.format_bytes(5 * 1024**3 + 512 * 1024**2) == "5.50 GB"
    assert formatting.format_bytes(None) == ""
    with pytest.raises(ValueError):
        formatting.format_bytes(-1)


def test_format_duration():
    assert formatting.format_duration(0) == "0:00:00"
    assert formatting.format_duration(59) == "0:00:59"
    assert formatting.format_duration(3725) == "1:02:05"
    assert formatting.format_duration(90000) == "25:00:00"
    assert formatting.format_duration(None) == ""
    with pytest.raises(ValueError):
        formatting.format_duration(-5)


def test_format_quantity_money_and_time():
    assert formatting.format_quantity(voip.TYPE_VOICE, 61) == "0:01:01"
    assert formatting.format_quantity(voip.TYPE_VIDEO, 3600) == "1:00:00"
    assert formatting.format_quantity(voip.TYPE_DATA, 2 * 1024**3) == "2.00 GB"
    assert formatting.format_quantity(voip.TYPE_SMS, 3) == "3"
    assert formatting.format_quantity(voip.TYPE_MMS, 1) == "1"
    assert formatting.format_money(Decimal("1.005")) == "1.01"
    assert formatting.format_money(Decimal("0.12345"), 4) == "0.1235"
    assert formatting.format_money(None) == ""
    assert formatting.format_time(0, ZoneInfo("UTC")) == "1970-01-01 00:00:00"
    assert formatting.format_time(0, WARSAW) == "1970-01-01 01:00:00"


def test_month_bounds_follow_local_time_and_dst():
    start, end = webdata.month_bounds(date(2024, 3, 15), WARSAW)
    assert datetime.fromtimestamp(start, WARSAW) == datetime(2024, 3, 1, tzinfo=WARSAW)
    assert datetime.fromtimestamp(end + 1, WARSAW) == datetime(2024, 4, 1, tzinfo=WARSAW)
    assert end - start + 1 == 31 * 86400 - 3600  # the spring-forward hour is missing
    start, end = webdata.month_bounds(date(2024, 12, 31), WARSAW)
    assert datetime.fromtimestamp(end + 1, WARSAW) == datetime(2025, 1, 1, tzinfo=WARSAW)


def test_last_billing_run_picks_the_newest_run_with_billings():
    runs = [
        {"id": 3, "argv": "-C /etc/lms/lms.ini metroport-mvno sync --customers"},
        {"id": 2, "argv": "metroport-mvno sync --customers --billings -i"},
        {"id": 1, "argv": "metroport-mvno sync --billings"},
    ]
    assert webdata.last_billing_run(runs)["id"] == 2
    assert webdata.last_billing_run(runs[:1]) is None
    assert webdata.last_billing_run([{"id": 4, "argv": "sync --billings-x"}]) is None
    in_process = [
        {"id": 6, "argv": "-q", "counters": {"customers_bound": 1}},
        {"id": 5, "argv": "", "counters": {"cdrs": 0}},
    ]
    assert webdata.last_billing_run(in_process)["id"] == 5


# --------------------------------------------------------------------------------------------------
# Customer-card panel


def _month_ts(day: int, hour: int = 10) -> int:
    today = datetime.now(WARSAW).date()
    return int(datetime(today.year, today.month, day, hour, tzinfo=WARSAW).timestamp())


def _cdr(uid: str, direction: int, cdr_type: int, qty: int, price: str, when: int, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "caller": "48510000000",
        "callee": "48600100200",
        "call_start_time": when,
        "totaltime": qty,
        "billedtime": qty,
        "price": Decimal(price),
        "status": voip.STATUS_UNKNOWN,
        "direction": direction,
        "type": cdr_type,
        "uniqueid": uid,
    }
    values.update(kw)
    return voip.cdr_row(**values)


def account_with_records(env: Env, customer_id: int) -> tuple[int, int]:
    """A Metroport account of *customer_id* with known records this month (and some that are not its
    own or not this month), plus another customer's account. Returns (account id, other account id)."""
    spid = env.provider_id()
    other_owner = add_customer(env.host, "OTHER OWNER", ssn="")
    with env.host.engine.begin() as conn:
        acc = voip.create_account(
            conn, ownerid=customer_id, login="510000000", phones=["48510000000"], serviceproviderid=spid, extid="9001"
        )
        other = voip.create_account(
            conn, ownerid=other_owner, login="510999999", phones=["48510999999"], serviceproviderid=spid, extid="9002"
        )
        last_month = _month_ts(1, 0) - 86400
        rows = [
            _cdr("1", 2, voip.TYPE_VOICE, 3725, "1.50000", _month_ts(1), callervoipaccountid=acc),
            _cdr("2", 2, voip.TYPE_SMS, 1, "0.12000", _month_ts(1, 11), callervoipaccountid=acc, callee="48700800900"),
            _cdr(
                "3", 2, voip.TYPE_DATA, 1572864, "0.00000", _month_ts(1, 12), callervoipaccountid=acc, callee="internet"
            ),
            _cdr(
                "4",
                1,
                voip.TYPE_VOICE,
                60,
                "0.00000",
                _month_ts(1, 13),
                caller="48600100200",
                callee="48510000000",
                calleevoipaccountid=acc,
            ),
            # the other subscriber's half of a call to our account: not ours, although it names our account
            _cdr(
                "5",
                2,
                voip.TYPE_VOICE,
                999,
                "9.00000",
                _month_ts(1, 14),
                caller="48510999999",
                callee="48510000000",
                callervoipaccountid=other,
                calleevoipaccountid=acc,
            ),
            _cdr("6", 2, voip.TYPE_VOICE, 100, "2.00000", last_month, callervoipaccountid=acc),
        ]
        voip.write_cdrs(conn, rows)
    return acc, other


def test_panel_shows_binding_accounts_last_import_and_usage(env, app):
    customer = add_customer(env.host, "PANEL CUSTOMER", ssn="")
    env.sql(
        "INSERT INTO customerextids (customerid, extid, serviceproviderid) VALUES (:c, '1234', :p)",
        c=customer,
        p=env.provider_id(),
    )
    acc, _ = account_with_records(env, customer)
    env.sql("UPDATE voipaccounts SET access = 0 WHERE id = :a", a=acc)
    client = log_in(app)

    page = client.get(f"/customers/{customer}").get_data(as_text=True)
    panel = page[page.index('id="panel-metroport-mvno"') :]
    assert "This panel failed" not in panel
    assert 'id="mvno-binding"' in panel and "bound" in panel
    assert "#1234" in panel[panel.index('id="mvno-user"') :][:80]
    assert "48510000000" in panel and ">blocked<" in panel and "#9001" in panel
    assert f"/metroport-mvno/accounts/{acc}/billing" in panel
    usage = panel[panel.index('id="mvno-usage"') :]
    # ours this month: call 3725 s + incoming 60 s, one SMS, 1.5 MB; not record 5 (other's), not 6 (last month)
    assert re.search(r'data-type="call"><td>calls</td><td class="num">2</td>\s*<td class="num">1:03:05</td>', usage)
    assert re.search(r'data-type="data">.*?1\.50 MB', usage, re.S)
    assert re.search(r'data-type="sms"><td>SMS</td><td class="num">1</td>', usage)
    assert "1.62" in usage[usage.index("<tfoot>") :]
    assert "never" in panel[panel.index('id="mvno-last-import"') :][:200]

    # the real sync's run record shows as the last billing import (a --customers run after it does not)
    seed_customers(env)
    env.bind_all()
    assert env.run("--accounts").exit_code == 0
    assert env.run("--billings", "-s", "2023-01-02", "-e", "2023-01-02 23:59:59").exit_code == 0
    env.bind_all()
    stored = env.sql("SELECT COUNT(*) FROM voip_cdr WHERE uniqueid NOT IN ('1','2','3','4','5','6')")[0][0]
    panel = client.get(f"/customers/{customer}").get_data(as_text=True)
    last = panel[panel.index('id="mvno-last-import"') :][:300]
    assert "never" not in last and "done" in last and f"records: {stored}" in last and stored > 0

    polish = client.get(f"/customers/{customer}", headers={"Accept-Language": "pl"}).get_data(as_text=True)
    assert "Ostatni import bilingów" in polish and "zablokowane" in polish and "połączenia" in polish


def test_panel_for_unbound_customer_and_a_failing_panel(env, app, monkeypatch):
    client = log_in(app)
    page = client.get("/customers/3").get_data(as_text=True)
    assert "not bound to Metroport" in page and "No Metroport accounts." in page
    assert "/metroport-mvno/unbound" in page  # full_access may bind

    env.server.stop()  # the panel reads only the database: a provider outage does not touch it
    assert "not bound to Metroport" in client.get("/customers/3").get_data(as_text=True)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(webdata, "panel_data", broken)
    response = client.get("/customers/3")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="customer-identity"' in page
    assert "This panel failed" in page and "database went away" in page


# --------------------------------------------------------------------------------------------------
# Permissions and CSRF


def test_permissions(env, app):
    _, user, twin = ambiguous_setup(env)
    nobody = user_with(app, env.host, "nobody", "customer_management")
    assert nobody.get("/metroport-mvno/unbound").status_code == 403
    acc, _ = account_with_records(env, twin)
    assert nobody.get(f"/metroport-mvno/accounts/{acc}/billing").status_code == 403
    card = nobody.get(f"/customers/{twin}").get_data(as_text=True)
    assert "panel-metroport-mvno" not in card and "/metroport-mvno/unbound" not in card
    assert post_bind(nobody, twin, user["id"]).status_code == 403

    reader = user_with(app, env.host, "reader", "customer_management,metroportmvno_read")
    page = reader.get("/metroport-mvno/unbound")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'id="user-{user["id"]}"' in text and "/metroport-mvno/bind" not in text
    assert reader.get(f"/metroport-mvno/accounts/{acc}/billing").status_code == 200
    assert "panel-metroport-mvno" in reader.get(f"/customers/{twin}").get_data(as_text=True)
    assert post_bind(reader, twin, user["id"]).status_code == 403
    assert bindings(env) == []

    manager = user_with(app, env.host, "manager", "metroportmvno_manage")
    assert manager.get("/metroport-mvno/unbound").status_code == 200
    assert post_bind(manager, twin, user["id"]).status_code == 302
    assert bindings(env) == [(twin, str(user["id"]))]


def test_binding_post_needs_a_csrf_token(env, app):
    _, user, twin = ambiguous_setup(env)
    client = log_in(app)
    response = post_bind(client, twin, user["id"], token=None)
    assert response.status_code == 400
    assert post_bind(client, twin, user["id"], token="forged-token").status_code == 400
    assert bindings(env) == []


# --------------------------------------------------------------------------------------------------
# Unbound page and manual binding


def test_unbound_page_lists_what_the_sync_would_not_bind(env, app):
    ids, user, twin = ambiguous_setup(env)
    client = log_in(app)
    page = client.get("/metroport-mvno/unbound?kind=ambiguous").get_data(as_text=True)
    row = page[page.index(f'id="user-{user["id"]}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-kind="ambiguous"' in row
    assert f'data-customer="{ids[user["id"]]}"' in row and f'data-customer="{twin}"' in row
    assert f'id="bind-{user["id"]}-{twin}"' in row
    # users sharing an identifier at Metroport are ambiguous as well (the sync binds neither)
    shared = [u["id"] for u in env.sim.data.users if u["id"] in ids and list(ids.values()).count(ids[u["id"]]) > 1]
    assert shared
    all_rows = client.get("/metroport-mvno/unbound?kind=ambiguous&page=1").get_data(as_text=True)
    summary = all_rows[all_rows.index('id="mvno-summary"') :][:400]
    report_ambiguous = int(re.search(r"ambiguous: (\d+)", summary).group(1))
    assert report_ambiguous >= 1 + len(shared)
    assert re.search(r"Identifiers shared by several LMS customers: [1-9]", summary)
    # users without identifiers, and without any LMS match, are listed with their reason
    nothing = next(u for u in env.sim.data.users if (u["_nip"], u["_pesel"], u["_card"]) == (None, None, None))
    found = client.get(f"/metroport-mvno/unbound?q={nothing['id']}").get_data(as_text=True)
    assert f'id="user-{nothing["id"]}" data-kind="insufficient"' in found
    # the next sync's own bindings are "proposed"; after the sync they are gone from the page
    proposed = client.get("/metroport-mvno/unbound?kind=proposed").get_data(as_text=True)
    assert 'data-kind="proposed"' in proposed
    env.bind_all()
    assert 'data-kind="proposed"' not in client.get("/metroport-mvno/unbound?kind=proposed").get_data(as_text=True)
    # paging (PER_PAGE=3) keeps the filter
    unmatched_total = client.get("/metroport-mvno/unbound").get_data(as_text=True)
    assert "Page 1" in unmatched_total


def test_manual_binding_round_trip_is_kept_by_later_syncs(env, app):
    ids, user, twin = ambiguous_setup(env)
    client = log_in(app)
    before = bindings(env)
    html = flashes(client, post_bind(client, twin, user["id"]))
    assert f"Customer #{twin} is now bound to Metroport user #{user['id']}." in html
    assert bindings(env) == sorted([*before, (twin, str(user["id"]))])
    assert f'id="user-{user["id"]}"' not in client.get("/metroport-mvno/unbound").get_data(as_text=True)

    env.bind_all()
    env.bind_all()
    owners = [c for c, e in bindings(env) if e == str(user["id"])]
    assert owners == [twin], "a later sync moved or duplicated the manual binding"
    assert [e for c, e in bindings(env) if c == ids[user["id"]]] == []

    assert env.run("--accounts").exit_code == 0
    mobiles = [m for m in env.sim.data.mobiles if m["userid"] == user["id"] and m["status"] != "deleted"]
    owned = env.sql(
        "SELECT extid FROM voipaccounts WHERE ownerid = :c AND serviceproviderid = :p", c=twin, p=env.provider_id()
    )
    assert {str(m["id"]) for m in mobiles} <= {str(r[0]) for r in owned}
    card = client.get(f"/customers/{twin}").get_data(as_text=True)
    assert f"#{user['id']}" in card[card.index('id="mvno-user"') :][:80]


def test_manual_binding_refusals(env, app):
    ids, user, twin = ambiguous_setup(env)
    client = log_in(app)
    assert flashes(client, post_bind(client, twin, user["id"]))
    written = bindings(env)

    other = add_customer(env.host, "SOMEONE ELSE", ssn="")
    html = flashes(client, post_bind(client, other, user["id"]))
    assert f"Metroport user #{user['id']} is already bound to customer #{twin}" in html
    html = flashes(client, post_bind(client, twin, user["id"]))
    assert "is already bound to customer" in html

    second = next(u for u in env.sim.data.users if u["id"] not in (user["id"],) and u["id"] in ids)
    html = flashes(client, post_bind(client, twin, second["id"]))
    assert f"Customer #{twin} is already bound to Metroport user #{user['id']}" in html and "ambiguous" in html

    html = flashes(client, post_bind(client, other, 999999))
    assert "Metroport has no user #999999." in html
    env.sql("UPDATE customers SET deleted = 1 WHERE id = :c", c=other)
    html = flashes(client, post_bind(client, other, second["id"]))
    assert f"LMS customer #{other} does not exist or is deleted." in html
    html = flashes(client, post_bind(client, "abc", second["id"]))
    assert "Give an LMS customer number" in html
    assert bindings(env) == written

    polish = client.post(
        "/metroport-mvno/bind",
        data={"customer_id": other, "user_id": 999999, "csrf_token": csrf_token(client, "/")},
        headers={"Accept-Language": "pl"},
    )
    assert "Metroport nie ma użytkownika #999999." in client.get(
        polish.headers["Location"], headers={"Accept-Language": "pl"}
    ).get_data(as_text=True)

    env.server.stop()
    html = flashes(client, post_bind(client, other, second["id"]))
    assert "Nothing bound: Metroport did not answer" in html
    page = client.get("/metroport-mvno/unbound")
    assert page.status_code == 200
    assert 'id="provider-error"' in page.get_data(as_text=True)
    assert bindings(env) == written


def test_binding_waits_for_no_running_sync(env, app):
    from lmsplugins.db import named_lock

    _, user, twin = ambiguous_setup(env)
    client = log_in(app)
    with named_lock(env.host.engine, webdata.SYNC_JOB):
        html = flashes(client, post_bind(client, twin, user["id"]))
    assert "synchronization is running" in html
    assert bindings(env) == []


def test_provider_refusing_the_login_is_an_error_box(env, app):
    env.host.set_uiconfig("metroportmvno.api_password", "wrong-password-xyz")
    client = log_in(app)
    page = client.get("/metroport-mvno/unbound").get_data(as_text=True)
    assert 'id="provider-error"' in page and "wrong-password-xyz" not in page


# --------------------------------------------------------------------------------------------------
# Billing list


def test_billing_list_filters_totals_and_pages(env, app):
    customer = add_customer(env.host, "BILLING CUSTOMER", ssn="")
    acc, other = account_with_records(env, customer)
    client = log_in(app)
    base = f"/metroport-mvno/accounts/{acc}/billing"

    page = client.get(base).get_data(as_text=True)
    assert "BILLING CUSTOMER" in page
    totals = page[page.index('id="billing-totals"') : page.index('id="billing-records"')]
    assert re.search(r'id="total-count">4<', totals)
    assert re.search(r'id="total-price">1.62<', totals)
    assert "1:03:05" in totals and "1.50 MB" in totals
    records = page[page.index('id="billing-records"') :]
    assert records.count("data-uniqueid=") == 3  # PER_PAGE=3, newest first
    assert 'data-uniqueid="4"' in records and 'data-uniqueid="1"' not in records
    assert 'data-uniqueid="5"' not in records
    second = client.get(base + "?page=2").get_data(as_text=True)
    assert 'data-uniqueid="1"' in second and "1:02:05" in second and "1.5000" in second

    def uids(query: str) -> set[str]:
        html = client.get(base + query).get_data(as_text=True)
        return set(re.findall(r'data-uniqueid="(\w+)"', html))

    assert uids("?type=call") == {"1", "4"}
    assert uids("?type=data") == {"3"}
    assert uids("?direction=in") == {"4"}
    assert uids("?direction=out&type=sms") == {"2"}
    assert uids("?number=700800") == {"2"}
    assert uids("?number=%2B48-700-800") == {"2"}
    today = datetime.now(WARSAW).date()
    previous = today.replace(day=1) - timedelta(days=1)
    assert uids(f"?from={previous.replace(day=1).isoformat()}&to={previous.isoformat()}") == {"6"}
    filtered = client.get(base + "?type=call&direction=out").get_data(as_text=True)
    assert re.search(r'id="total-count">1<', filtered) and re.search(r'id="total-price">1.50<', filtered)

    bad = client.get(base + "?from=yesterday").get_data(as_text=True)
    assert "Not a date (YYYY-MM-DD): yesterday" in bad and re.search(r'id="total-count">4<', bad)
    assert client.get(f"/metroport-mvno/accounts/{other}/billing").status_code == 200
    with env.host.engine.begin() as conn:
        foreign = voip.create_account(conn, ownerid=customer, login="x", phones=["48111"], serviceproviderid=None)
    assert client.get(f"/metroport-mvno/accounts/{foreign}/billing").status_code == 404
    assert client.get("/metroport-mvno/accounts/999999/billing").status_code == 404
    polish = client.get(base, headers={"Accept-Language": "pl"}).get_data(as_text=True)
    assert "Bilingi konta 510000000" in polish and "wychodzące" in polish


def test_billing_list_of_a_synced_account(env, app):
    """The list reads what the real sync wrote: every record of a synced account is listed once."""
    ids = seed_customers(env)
    env.bind_all()
    assert env.run("--accounts").exit_code == 0
    assert env.run("--billings", "-s", "2023-01-02", "-e", "2023-01-03 23:59:59").exit_code in (0, 1)
    acc, expected = env.sql(
        """SELECT a.id, COUNT(*) FROM voipaccounts a JOIN voip_cdr c
             ON (c.direction = 2 AND c.callervoipaccountid = a.id) OR (c.direction = 1 AND c.calleevoipaccountid = a.id)
           WHERE a.serviceproviderid = :p GROUP BY a.id ORDER BY COUNT(*) DESC""",
        p=env.provider_id(),
    )[0]
    assert ids and expected > 0
    client = log_in(app)
    page = client.get(f"/metroport-mvno/accounts/{acc}/billing?from=2023-01-01&to=2023-01-31").get_data(as_text=True)
    assert re.search(rf'id="total-count">{expected}<', page)
