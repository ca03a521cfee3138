"""The Hiperus C5 web panel against the simulator on loopback, on SQLite and on PostgreSQL (real LMS schema).

LIVE writes are checked on both sides: the simulator's state (what the platform now holds) and the
``hv_*`` mirror; a refusal of the platform (``success=false`` or a SOAP Fault) must leave the mirror
exactly as it was and put the platform's message on the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hiperus_env import Env, make_env
from sqlalchemy import func, select

from lmsplugins.demo import seed
from lmsplugins.host import Host
from lmsplugins.lms.tables import countries
from lmsplugins.testing.web import csrf_token, log_in, user_with
from lmsplugins.web import create_app
from plugins.hiperus_c5 import views
from plugins.hiperus_c5.tables import (
    hv_assign,
    hv_billing,
    hv_customers,
    hv_enduserlist,
    hv_pstn,
    hv_pstnrange,
    hv_pstnusage,
    hv_terminal,
)

MIRROR = (hv_customers, hv_assign, hv_terminal, hv_pstn, hv_pstnusage, hv_enduserlist)


@pytest.fixture(params=["sqlite", "postgres"])
def hv_host(request: pytest.FixtureRequest) -> Iterator[Host]:
    if request.param == "sqlite":
        host = request.getfixturevalue("sqlite_host")
    else:
        host = request.getfixturevalue("pg_host")
        with host.engine.begin() as conn:
            conn.execute(countries.delete().where(countries.c.name == "Poland"))
            seed(conn)
    yield host


@pytest.fixture
def env(hv_host: Host, tmp_path: Any) -> Iterator[Env]:
    e = make_env(hv_host, tmp_path)
    result = e.run("import", "--all")
    assert result.exit_code == 0, result.output
    yield e
    e.server.stop()


@pytest.fixture
def app(env: Env) -> Flask:
    return create_app(env.host, SLEEP=lambda s: None, USER_CACHE_SECONDS=0, TESTING=True)


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return log_in(app)


def snapshot(env: Env) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for table in MIRROR:
        key = "extension" if table is hv_pstnusage else "id"
        out[table.name] = env.rows(table, key)
    return out


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, token: bool = True) -> Any:
    payload = dict(data or {})
    if token:
        payload["csrf_token"] = csrf_token(client, "/")
    return client.post(path, data=payload)


def follow(client: FlaskClient, response: Any) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def account_with_numbers(env: Env) -> int:
    st = env.sim.state
    return min(cid for cid in st.customers if any(e["id_customer"] == cid for e in st.extensions.values()))


def pstn_by_account(env: Env) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for row in env.rows(hv_pstn):
        out.setdefault(row["customerid"], set()).add(row["id"])
    return out


ACCOUNT = {
    "name": "Nowak Jan",
    "email": "jan@example.pl",
    "address": "Polna",
    "street_number": "5",
    "postcode": "00-950",
    "city": "Warszawa",
    "country": "Polska",
    "b_country": "Polska",
    "invoice_choice": "0",
    "id_default_pricelist": "1",
    "payment_type": "postpaid",
    "active": "y",
}


# --------------------------------------------------------------------------------------------------
# Rights and CSRF


def test_rights_read_only_sees_no_forms_and_cannot_post(app, env):
    account = account_with_numbers(env)
    nobody = user_with(app, env.host, "nobody", "customer_management")
    for path in (
        "/hiperus-c5/accounts",
        f"/hiperus-c5/accounts/{account}",
        "/hiperus-c5/ranges",
        "/hiperus-c5/search?q=1",
    ):
        assert nobody.get(path).status_code == 403, path
    assert "Hiperus C5" not in nobody.get("/").get_data(as_text=True)

    reader = user_with(app, env.host, "reader", "hiperus_read_only")
    home = reader.get("/").get_data(as_text=True)
    assert "Hiperus C5: accounts" in home and "Hiperus C5: new account" not in home
    card = reader.get(f"/hiperus-c5/accounts/{account}")
    assert card.status_code == 200
    html = card.get_data(as_text=True)
    assert 'id="terminals"' in html and 'id="numbers"' in html
    for marker in ('id="link-form"', 'id="delete-account"', 'id="add-terminal"', 'id="refresh-account"', "/delete"):
        assert marker not in html, marker
    ranges = reader.get("/hiperus-c5/ranges").get_data(as_text=True)
    assert "toggle-range-" not in ranges and 'id="hv-ranges"' in ranges
    assert reader.get("/hiperus-c5/accounts/new").status_code == 403
    before = snapshot(env)
    calls = sum(env.sim.stats.values())
    assert post(reader, f"/hiperus-c5/accounts/{account}/delete").status_code == 403
    assert post(reader, "/hiperus-c5/accounts/new", ACCOUNT).status_code == 403
    assert post(reader, "/hiperus-c5/ranges/1/usage").status_code == 403
    assert snapshot(env) == before
    assert account in env.sim.state.customers
    assert sum(env.sim.stats.values()) == calls

    writer = user_with(app, env.host, "writer", "hiperus_full_access")
    html = writer.get(f"/hiperus-c5/accounts/{account}").get_data(as_text=True)
    assert 'id="link-form"' in html and 'id="delete-account"' in html
    assert "Hiperus C5: new account" in writer.get("/").get_data(as_text=True)


def test_post_without_csrf_token_is_refused_and_changes_nothing(admin, env):
    account = account_with_numbers(env)
    before = snapshot(env)
    adds = env.sim.stats["action:AddCustomer"]
    assert post(admin, "/hiperus-c5/accounts/new", ACCOUNT, token=False).status_code == 400
    assert post(admin, f"/hiperus-c5/accounts/{account}/delete", token=False).status_code == 400
    assert post(admin, f"/hiperus-c5/accounts/{account}/link", {"customer_id": "3"}, token=False).status_code == 400
    assert snapshot(env) == before
    assert env.sim.stats["action:AddCustomer"] == adds
    assert account in env.sim.state.customers


# --------------------------------------------------------------------------------------------------
# Accounts


def test_account_create_edit_link_delete_round_trip(admin, env):
    page = admin.get("/hiperus-c5/accounts/new?cusid=3").get_data(as_text=True)
    assert 'value="3"' in page  # the LMS customer pre-filled as the link
    response = post(admin, "/hiperus-c5/accounts/new", {**ACCOUNT, "ext_billing_id": "3", "invoice_choice": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    new_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    remote = env.sim.state.customers[new_id]
    assert remote["name"] == "Nowak Jan" and remote["ext_billing_id"] == "3" and remote["issue_invoice"] == "f"
    local = {r["id"]: r for r in env.rows(hv_customers)}[new_id]
    assert local["name"] == "Nowak Jan" and local["ext_billing_id"] == 3 and local["create_date"]
    assigns = {r["customerid"]: r["keyvalue"] for r in env.rows(hv_assign)}
    assert assigns[new_id] == "2"
    card = admin.get(f"/hiperus-c5/accounts/{new_id}").get_data(as_text=True)
    assert f"VoIP account #{new_id} created." in card
    assert "/customers/3" in card

    data = {**ACCOUNT, "name": "Nowak Jan Firma", "ext_billing_id": "3", "invoice_choice": "1"}
    follow(admin, post(admin, f"/hiperus-c5/accounts/{new_id}/edit", data))
    assert env.sim.state.customers[new_id]["name"] == "Nowak Jan Firma"
    assert env.sim.state.customers[new_id]["issue_invoice"] == "t"
    assert {r["id"]: r for r in env.rows(hv_customers)}[new_id]["name"] == "Nowak Jan Firma"
    assert {r["customerid"]: r["keyvalue"] for r in env.rows(hv_assign)}[new_id] == "1"

    html = follow(admin, post(admin, f"/hiperus-c5/accounts/{new_id}/link", {"customer_id": ""}))
    assert "Unlinked from the LMS customer." in html
    assert env.sim.state.customers[new_id]["ext_billing_id"] is None
    assert {r["id"]: r for r in env.rows(hv_customers)}[new_id]["ext_billing_id"] is None
    assert env.sim.state.customers[new_id]["name"] == "Nowak Jan Firma"  # the other fields were sent back as they were
    html = follow(admin, post(admin, f"/hiperus-c5/accounts/{new_id}/link", {"customer_id": "5"}))
    assert "Linked to LMS customer #5." in html
    assert {r["id"]: r for r in env.rows(hv_customers)}[new_id]["ext_billing_id"] == 5
    assert env.sim.state.customers[new_id]["ext_billing_id"] == "5"
    html = follow(admin, post(admin, f"/hiperus-c5/accounts/{new_id}/link", {"customer_id": "99999"}))
    assert "No such LMS customer." in html
    assert {r["id"]: r for r in env.rows(hv_customers)}[new_id]["ext_billing_id"] == 5

    html = follow(admin, post(admin, f"/hiperus-c5/accounts/{new_id}/delete"))
    assert "deleted" in html
    assert new_id not in env.sim.state.customers
    assert new_id not in {r["id"] for r in env.rows(hv_customers)}
    assert new_id not in {r["customerid"] for r in env.rows(hv_assign)}


def test_account_form_refuses_lms_invoicing_without_a_link_before_asking_the_platform(admin, env):
    adds = env.sim.stats["action:AddCustomer"]
    response = post(admin, "/hiperus-c5/accounts/new", {**ACCOUNT, "invoice_choice": "2"})
    assert response.status_code == 200
    assert "must be linked to an LMS customer" in response.get_data(as_text=True)
    assert env.sim.stats["action:AddCustomer"] == adds


def test_rename_carries_into_terminals_usage_and_cdrs(admin, env):
    assert env.run("import", "-b", "-F", "2024/01/01", "-T", "2024/01/02").exit_code == 0
    account = account_with_numbers(env)
    acc = {r["id"]: r for r in env.rows(hv_customers)}[account]
    data = {k: acc[k] or "" for k in ACCOUNT if k in acc}
    data.update(name="Zmieniona Nazwa", invoice_choice="0", active="y", id_default_pricelist="1")
    data["ext_billing_id"] = ""
    follow(admin, post(admin, f"/hiperus-c5/accounts/{account}/edit", data))
    for table in (hv_terminal, hv_pstnusage, hv_billing):
        names = {
            r["customer_name"]
            for r in env.rows(table, "extension" if table is hv_pstnusage else "id")
            if r["customerid"] == account
        }
        assert names == {"Zmieniona Nazwa"}, table.name


def test_deleting_a_linked_account_keeps_its_cdrs_and_frees_its_numbers(admin, env):
    assert env.run("import", "-b", "-F", "2024/01/01", "-T", "2024/01/02").exit_code == 0
    st = env.sim.state
    linked = next(
        cid
        for cid in sorted(st.customers)
        if st.customers[cid]["ext_billing_id"] and any(e["id_customer"] == cid for e in st.extensions.values())
    )
    cdrs = env.sql("SELECT COUNT(*) FROM hv_billing WHERE customerid = :c", c=linked)[0][0]
    assert cdrs > 0
    follow(admin, post(admin, f"/hiperus-c5/accounts/{linked}/delete"))
    assert env.sql("SELECT COUNT(*) FROM hv_billing WHERE customerid = :c", c=linked)[0][0] == cdrs
    assert env.sql("SELECT COUNT(*) FROM hv_pstnusage WHERE customerid = :c", c=linked)[0][0] == 0
    assert env.sql("SELECT COUNT(*) FROM hv_terminal WHERE customerid = :c", c=linked)[0][0] == 0
    assert env.sql("SELECT COUNT(*) FROM hv_enduserlist WHERE customerid = :c", c=linked)[0][0] == 0


# --------------------------------------------------------------------------------------------------
# Terminals


def test_terminal_create_edit_delete_with_emergency_location(admin, env):
    account = account_with_numbers(env)
    form = admin.get(f"/hiperus-c5/accounts/{account}/terminals/new").get_data(as_text=True)
    assert 'name="id_terminal_location"' in form and "mazowieckie" in form.lower()
    missing = post(
        admin,
        f"/hiperus-c5/accounts/{account}/terminals/new",
        {"username": "nowy1", "password": "tajne123", "id_pricelist": "2"},
    )
    assert missing.status_code == 200 and "Choose the emergency location" in missing.get_data(as_text=True)
    assert not any(t["username"] == "nowy1" for t in env.sim.state.terminals.values())

    data = {
        "username": "nowy1",
        "password": "tajne123",
        "id_pricelist": "2",
        "id_subscription": "2",
        "subscription_from": "2024/02/01",
        "t38_fax": "y",
        "id_terminal_location": "1234",
        "location": "Polna 5",
    }
    follow(admin, post(admin, f"/hiperus-c5/accounts/{account}/terminals/new", data))
    remote = next(t for t in env.sim.state.terminals.values() if t["username"] == "nowy1")
    assert remote["id_customer"] == account and remote["t38_fax"] == "t" and remote["screen_numbers"] == "f"
    assert remote["id_terminal_location"] == "1234" and remote["subscription_from"] == "2024-02-01"
    local = {r["id"]: r for r in env.rows(hv_terminal)}[remote["id"]]
    assert local["customerid"] == account and local["t38_fax"] == "t" and local["location"] == "Polna 5"
    assert local["id_terminal_location"] == 1234 and local["pricelist_name"] == "Biznes"

    # rename a terminal that carries a number: the number follows it on both sides
    old = next(
        t
        for t in sorted(env.sim.state.terminals.values(), key=lambda t: t["id"])
        if t["id_customer"] == account
        and any(e["terminal_name"] == t["username"] for e in env.sim.state.extensions.values())
    )
    edit = {
        "username": "przemianowany",
        "password": "haslo12345",
        "id_pricelist": "1",
        "screen_numbers": "y",
        "no_location": "y",
        "location": "Nowy adres",
    }
    follow(admin, post(admin, f"/hiperus-c5/terminals/{old['id']}/edit", edit))
    assert env.sim.state.terminals[old["id"]]["username"] == "przemianowany"
    local = {r["id"]: r for r in env.rows(hv_terminal)}[old["id"]]
    assert local["username"] == "przemianowany" and local["location"] == "Nowy adres"
    assert "przemianowany" in {r["terminal_name"] for r in env.rows(hv_pstn) if r["customerid"] == account}

    numbers_before = {r["id"] for r in env.rows(hv_pstn) if r["terminal_name"] == "przemianowany"}
    assert numbers_before
    follow(admin, post(admin, f"/hiperus-c5/terminals/{old['id']}/delete"))
    assert old["id"] not in env.sim.state.terminals
    assert old["id"] not in {r["id"] for r in env.rows(hv_terminal)}
    assert not numbers_before & {r["id"] for r in env.rows(hv_pstn)}


def test_terminal_edit_refused_by_the_platform_keeps_the_local_location(admin, env):
    """Spec §7 bug 10: PHP wrote the location before the platform answered."""
    account = account_with_numbers(env)
    terminal = next(r for r in env.rows(hv_terminal) if r["customerid"] == account)
    before = snapshot(env)
    env.sim.faults.fail_action = {"SaveTerminalData": "Terminal jest zablokowany"}
    edit = {
        "username": terminal["username"],
        "password": "haslo12345",
        "id_pricelist": "1",
        "no_location": "y",
        "location": "Inny adres",
    }
    response = post(admin, f"/hiperus-c5/terminals/{terminal['id']}/edit", edit)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Terminal jest zablokowany" in html and "Traceback" not in html
    assert snapshot(env) == before


# --------------------------------------------------------------------------------------------------
# Numbers


def test_number_add_proposes_first_free_keeps_flags_and_never_wipes_other_accounts(admin, env):
    st = env.sim.state
    account = account_with_numbers(env)
    others_before = {cid: ids for cid, ids in pstn_by_account(env).items() if cid != account}
    assert others_before
    form = admin.get(f"/hiperus-c5/accounts/{account}/numbers/new").get_data(as_text=True)
    expected = st.first_free_number(None)
    assert expected is not None and f'value="{expected[0]}"' in form
    terminal = next(t for t in st.terminals.values() if t["id_customer"] == account)
    data = {
        "number": expected[0],
        "country_code": "48",
        "id_terminal": str(terminal["id"]),
        "clir": "y",
        "disa_enabled": "y",
        "is_main": "y",
    }
    follow(admin, post(admin, f"/hiperus-c5/accounts/{account}/numbers/new", data))
    remote = next(e for e in st.extensions.values() if e["number"] == expected[0])
    assert remote["clir"] == "t" and remote["disa_enabled"] == "t" and remote["voicemail_enabled"] == "f"
    local = {r["id"]: r for r in env.rows(hv_pstn)}[remote["id"]]
    assert local["customerid"] == account and local["clir"] == "t" and local["terminal_name"] == terminal["username"]
    usage = {r["number"]: r for r in env.rows(hv_pstnusage, "extension")}[int(expected[0])]
    assert usage["customerid"] == account
    assert f"48{expected[0]}" in {r["id"]: r for r in env.rows(hv_terminal)}[terminal["id"]]["extensions"]
    after = pstn_by_account(env)
    assert {cid: ids for cid, ids in after.items() if cid != account} == others_before  # spec 7.4

    # an account without numbers gets its first one: still nobody else's numbers go
    bare = post(admin, "/hiperus-c5/accounts/new", ACCOUNT)
    bare_id = int(bare.headers["Location"].rsplit("/", 1)[1])
    follow(
        admin,
        post(
            admin,
            f"/hiperus-c5/accounts/{bare_id}/terminals/new",
            {"username": "bare1", "password": "tajne123", "id_pricelist": "1", "no_location": "y"},
        ),
    )
    bare_terminal = next(t for t in st.terminals.values() if t["username"] == "bare1")
    before = {cid: ids for cid, ids in pstn_by_account(env).items()}
    follow(
        admin,
        post(
            admin,
            f"/hiperus-c5/accounts/{bare_id}/numbers/new",
            {"number": "", "country_code": "48", "id_terminal": str(bare_terminal["id"]), "is_main": "y"},
        ),
    )
    after = pstn_by_account(env)
    assert len(after[bare_id]) == 1
    assert {c: i for c, i in after.items() if c != bare_id} == before

    # edit, then delete: the usage row is freed again
    number_id = remote["id"]
    edit_form = admin.get(f"/hiperus-c5/numbers/{number_id}/edit").get_data(as_text=True)
    assert f'<option selected value="{terminal["id"]}">{terminal["username"]}</option>' in edit_form
    edit = {"number": expected[0], "country_code": "48", "id_terminal": str(terminal["id"]), "voicemail_enabled": "y"}
    follow(admin, post(admin, f"/hiperus-c5/numbers/{number_id}/edit", edit))
    assert st.extensions[number_id]["clir"] == "f" and st.extensions[number_id]["voicemail_enabled"] == "t"
    assert {r["id"]: r for r in env.rows(hv_pstn)}[number_id]["voicemail_enabled"] == "t"
    follow(admin, post(admin, f"/hiperus-c5/numbers/{number_id}/delete"))
    assert number_id not in st.extensions and number_id not in {r["id"] for r in env.rows(hv_pstn)}
    assert {r["number"]: r for r in env.rows(hv_pstnusage, "extension")}[int(expected[0])]["customerid"] == 0
    assert {c: i for c, i in pstn_by_account(env).items() if c != account} == {
        c: i for c, i in after.items() if c != account
    }


def test_disabled_range_is_not_offered(admin, env):
    first = env.rows(hv_pstnrange)[0]
    offered = admin.get("/hiperus-c5/ranges").get_data(as_text=True)
    follow(admin, post(admin, f"/hiperus-c5/ranges/{first['id']}/usage", {}))
    assert {r["id"]: r["ussage"] for r in env.rows(hv_pstnrange)}[first["id"]] == "f"
    html = admin.get("/hiperus-c5/ranges").get_data(as_text=True)
    free = re.search(r'id="first-free">[^<]*<strong>\+48 (\d+)', html)
    assert free and not (first["range_start"] <= int(free.group(1)) <= first["range_end"])
    assert offered != html
    follow(admin, post(admin, f"/hiperus-c5/ranges/{first['id']}/usage", {"enabled": "y"}))
    assert {r["id"]: r["ussage"] for r in env.rows(hv_pstnrange)}[first["id"]] == "t"


# --------------------------------------------------------------------------------------------------
# Provider errors


@pytest.mark.parametrize("fault", ["refused", "soap_fault"])
def test_provider_error_leaves_the_mirror_and_shows_the_message(admin, env, fault):
    account = account_with_numbers(env)
    terminal = next(t for t in env.sim.state.terminals.values() if t["id_customer"] == account)
    free = env.sim.state.first_free_number(None)
    assert free is not None
    before = snapshot(env)
    attempts = [
        ("AddCustomer", "/hiperus-c5/accounts/new", ACCOUNT),
        (
            "AddTerminal",
            f"/hiperus-c5/accounts/{account}/terminals/new",
            {"username": "zly1", "password": "tajne123", "id_pricelist": "1", "no_location": "y"},
        ),
        (
            "AddExtension",
            f"/hiperus-c5/accounts/{account}/numbers/new",
            {"number": free[0], "country_code": "48", "id_terminal": str(terminal["id"])},
        ),
        ("DelCustomer", f"/hiperus-c5/accounts/{account}/delete", {}),
        ("DelTerminal", f"/hiperus-c5/terminals/{terminal['id']}/delete", {}),
    ]
    for action, path, data in attempts:
        token = csrf_token(admin, "/")
        if fault == "refused":
            env.sim.faults.fail_action = {action: f"Operacja {action} odrzucona przez platformę"}
            expected = f"Operacja {action} odrzucona przez platformę"
        else:
            env.sim.faults.fail_action = {}
            env.sim.faults.soap_fault = 20  # more than the client's HTTP retries of a 500
            expected = "Internal Server Error"
        response = admin.post(path, data={**data, "csrf_token": token})
        html = response.get_data(as_text=True) if response.status_code == 200 else follow(admin, response)
        assert expected in html, action
        assert "Nothing changed" in html and "Traceback" not in html
        assert snapshot(env) == before, action
        env.sim.faults.soap_fault = 0
    env.sim.faults.fail_action = {}
    assert account in env.sim.state.customers


def test_read_back_failure_after_a_successful_write_is_reported(admin, env):
    account = account_with_numbers(env)
    env.sim.faults.fail_action = {"GetTerminalList": "Chwilowa awaria"}
    response = post(
        admin,
        f"/hiperus-c5/accounts/{account}/terminals/new",
        {"username": "pozniej1", "password": "tajne123", "id_pricelist": "1", "no_location": "y"},
    )
    html = follow(admin, response)
    assert "Saved on the Hiperus platform, but reading it back failed (Chwilowa awaria)" in html
    assert any(t["username"] == "pozniej1" for t in env.sim.state.terminals.values())
    assert "pozniej1" not in {r["username"] for r in env.rows(hv_terminal)}
    env.sim.faults.fail_action = {}
    follow(admin, post(admin, f"/hiperus-c5/accounts/{account}/refresh"))
    assert "pozniej1" in {r["username"] for r in env.rows(hv_terminal)}


# --------------------------------------------------------------------------------------------------
# Lists, card, search, panel


def test_account_list_filters(admin, env):
    st = env.sim.state
    unlinked = {cid for cid, c in st.customers.items() if not c["ext_billing_id"]}
    linked = set(st.customers) - unlinked
    html = admin.get("/hiperus-c5/accounts?hvext=2").get_data(as_text=True)
    assert {int(x) for x in re.findall(r'id="account-(\d+)"', html)} == unlinked
    html = admin.get("/hiperus-c5/accounts?hvext=1&hvlistsort=name,desc").get_data(as_text=True)
    shown = [int(x) for x in re.findall(r'id="account-(\d+)"', html)]
    assert set(shown) == linked
    names = [st.customers[c]["name"] for c in shown]
    assert names == sorted(names, reverse=True)
    html = admin.get("/hiperus-c5/accounts?hvvat=2").get_data(as_text=True)
    assert {int(x) for x in re.findall(r'id="account-(\d+)"', html)} == {
        cid for cid, c in st.customers.items() if c["issue_invoice"] == "t"
    }
    html = admin.get("/hiperus-c5/accounts?hvprice=2").get_data(as_text=True)
    assert {int(x) for x in re.findall(r'id="account-(\d+)"', html)} == {
        cid for cid, c in st.customers.items() if c["id_default_pricelist"] == "2"
    }


def test_account_card_billing_summary_and_cdr_list(admin, env):
    assert (
        env.run(
            "import", "-b", "--billing-type=all", "--billing-success=all", "-F", "2024/01/01", "-T", "2024/01/05"
        ).exit_code
        == 0
    )
    account = account_with_numbers(env)
    with env.host.engine.connect() as conn:
        count, cost = conn.execute(
            select(func.count(), func.sum(hv_billing.c.cost)).where(hv_billing.c.customerid == account)
        ).one()
        outgoing = conn.execute(
            select(func.count()).where(hv_billing.c.customerid == account, hv_billing.c.calltype == "outgoing")
        ).scalar()
    assert count > 0
    html = admin.get(f"/hiperus-c5/accounts/{account}?year=2024&month=1").get_data(as_text=True)
    total = re.search(r'id="summary-total"><th>[^<]*</th><th class="num">(\d+)</th>', html)
    assert total and int(total.group(1)) == count
    gross = re.search(r'id="summary-gross">([\d.]+)<', html)
    assert gross and Decimal(gross.group(1)) == (Decimal(cost) * Decimal("1.23")).quantize(Decimal("0.01"))
    html = admin.get(f"/hiperus-c5/accounts/{account}/billing?year=2024&month=1&calltype=outgoing").get_data(
        as_text=True
    )
    assert re.search(r'id="total-count">(\d+)<', html).group(1) == str(outgoing)
    html = admin.get(f"/hiperus-c5/accounts/{account}/billing?year=2024&month=2").get_data(as_text=True)
    assert 'id="total-count">0<' in html


def test_quick_search_by_account_number_and_terminal(admin, env):
    st = env.sim.state
    ext = sorted(st.extensions.values(), key=lambda e: e["id"])[0]
    response = admin.get(f"/hiperus-c5/search?q={ext['number']}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/accounts/{ext['id_customer']}")
    terminal = sorted(st.terminals.values(), key=lambda t: t["id"])[-1]
    response = admin.get(f"/hiperus-c5/search?q={terminal['username']}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/accounts/{terminal['id_customer']}")
    html = admin.get("/hiperus-c5/search?q=t1").get_data(as_text=True)
    assert html.count('class="hit hit-terminal"') == len(st.customers)
    html = admin.get("/hiperus-c5/search?q=nic-takiego").get_data(as_text=True)
    assert "Nothing found." in html


def test_customer_card_panel_lists_the_customers_accounts(admin, app, env):
    st = env.sim.state
    cid, acc = next((int(c["ext_billing_id"]), c) for c in st.customers.values() if c["ext_billing_id"])
    html = admin.get(f"/customers/{cid}").get_data(as_text=True)
    assert 'id="panel-hiperus-c5"' in html and f'id="hv-panel-account-{acc["id"]}"' in html
    for ext in st.extensions.values():
        if ext["id_customer"] == acc["id"]:
            assert ext["number"] in html
    assert f"/hiperus-c5/accounts/new?cusid={cid}" in html
    reader = user_with(app, env.host, "reader2", "hiperus_read_only,customer_management")
    html = reader.get(f"/customers/{cid}").get_data(as_text=True)
    assert 'id="panel-hiperus-c5"' in html and "accounts/new?cusid" not in html
    plain = user_with(app, env.host, "plain", "customer_management")
    assert 'id="panel-hiperus-c5"' not in plain.get(f"/customers/{cid}").get_data(as_text=True)


def test_a_failing_panel_does_not_break_the_card(admin, env, monkeypatch):
    def broken(conn: Any, customer_id: int) -> Any:
        raise RuntimeError("hv_customers is unreadable")

    monkeypatch.setattr(views, "panel_accounts", broken)
    response = admin.get("/customers/1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="panel-hiperus-c5"' in html and "panel-error" in html and "hv_customers is unreadable" in html
    assert 'id="customer-identity"' in html


def test_polish_is_the_default_language(app, env):
    client = log_in(app)
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)
    html = client.get("/hiperus-c5/accounts").get_data(as_text=True)
    assert "Hiperus C5: lista kont" in html and "Faktury wystawia" in html
