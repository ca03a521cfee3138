"""The cron jobs on SQLite against the simulator: pairing from one user list, the package and STB syncs
as real upserts (a re-run changes nothing), rows gone at the provider, bad rows and bad settings leaving
the database as it was, --test, and the customer push and manual add."""

from __future__ import annotations

import pytest
from mms_env import add_customer, make_env, seed_customers

from lmsplugins.lms.customers import TYPE_COMPANY


@pytest.fixture
def env(sqlite_host):
    e = make_env(sqlite_host)
    yield e
    e.server.stop()


def test_pairing_lists_users_once_and_reports_what_it_cannot_pair(env):
    expected = seed_customers(env)
    users = list(env.sim.data.users.values())
    pesel_user = next(u for u in users if u["pesel"])
    twin = add_customer(env.host, "Bliźniak", ssn=pesel_user["pesel"])  # two LMS customers, one PESEL
    add_customer(env.host, "Pusty")  # no PESEL: never searched
    add_customer(env.host, "Zły NIP", type_=TYPE_COMPANY, ten="123")  # invalid NIP: never searched
    add_customer(env.host, "Usunięty", ssn="44051401458", deleted=1)
    before = env.sim.stats.requests["GET /users/users"]
    result = env.run("customer-update")
    assert result.exit_code == 0, result.output
    assert env.sim.stats.requests["GET /users/users"] - before == 1
    pairs = dict(env.sql("SELECT metroport_user_id, lms_user_id FROM metroport_customers"))
    assert pesel_user["userid"] not in pairs
    assert pairs == {uid: cid for uid, cid in expected.items() if uid != pesel_user["userid"]}
    out = result.output
    assert f"CustomerID: {twin}, Typ: Indywidualny" in out and "share this identifier - nie powiązano" in out
    assert "Brak podanego PESEL - pomijam." in out and "Nieprawidłowy NIP (123) - pomijam." in out
    assert "Klient usunięty - pomijam." in out and "Powiązano z Metroport ID:" in out
    again = env.run("customer-update", "-q")
    assert again.exit_code == 0 and "Powiązano" not in again.output and "Brak podanego" not in again.output
    assert again.output.count("warning: CustomerID:") == 3  # the twins and the bad NIP, shown under -q too
    assert dict(env.sql("SELECT metroport_user_id, lms_user_id FROM metroport_customers")) == pairs


def test_user_paired_elsewhere_is_not_paired_again(env):
    user = next(u for u in env.sim.data.users.values() if u["nip"])
    first = add_customer(env.host, "Pierwszy", type_=TYPE_COMPANY, ten=user["nip"])
    env.sql("INSERT INTO metroport_customers (metroport_user_id, lms_user_id) VALUES (:u, 999)", u=user["userid"])
    result = env.run("customer-update")
    assert result.exit_code == 0
    assert "already paired with LMS customer 999" in result.output
    assert env.sql("SELECT COUNT(*) FROM metroport_customers WHERE lms_user_id = :c", c=first)[0][0] == 0


def test_package_syncs_are_upserts_and_report_gone_rows(env):
    assert env.run("fsecure-packages-update").exit_code == 0
    result = env.run("metrotv-packages-update")
    assert result.exit_code == 0, result.output
    assert "INSERT - Pakiet ID: 101 (Pakiet Start)" in result.output
    row = env.sql(
        "SELECT pkg_valid_to, pricebrutto, countactive, firmname FROM metroport_metrotv_packages WHERE id = 401"
    )[0]
    assert row[0] is None and str(row[1]) in ("0", "0.00", "0.0") and row[3] == "Metroport"
    env.sim.data.tv_packages[101]["pkg_name"] = "Start Plus"
    del env.sim.data.tv_packages[103]
    snap = env.snapshot()
    result = env.run("metrotv-packages-update")
    assert result.exit_code == 0
    assert "UPDATE - Pakiet ID: 101 (Start Plus)" in result.output
    assert "1 Pakiet row(s) gone at the provider (kept; --prune deletes them): ids 103" in result.output
    after = env.snapshot()
    assert after != snap and len(after["metroport_metrotv_packages"]) == 9
    assert env.run("metrotv-packages-update", "--prune").exit_code == 0
    assert env.sql("SELECT COUNT(*) FROM metroport_metrotv_packages")[0][0] == 8
    fs = env.run("fsecure-packages-update")
    assert "UPDATE - Pakiet F-Secure ID: 11 (F-Secure SAFE 1)" in fs.output
    assert "Synchronizacja pakietów F-Secure zakończona." in fs.output


def test_stb_sync_reruns_without_failing_or_double_counting(env):
    result = env.run("metrotv-stb-list-update")
    assert result.exit_code == 0, result.output
    assert "Dodano: 40, zaktualizowano: 0" in result.output
    snap = env.snapshot()
    result = env.run("metrotv-stb-list-update")
    assert "Dodano: 0, zaktualizowano: 40" in result.output and env.snapshot() == snap
    stbs = env.sim.data.stbs
    a, b = sorted(stbs)[:2]
    stbs[a]["mac"], stbs[b]["mac"] = stbs[b]["mac"], stbs[a]["mac"]  # two STBs swap their MACs
    stbs[a]["serialnumber"] = ""  # an empty serial number is NULL, not a duplicate ''
    stbs[b]["serialnumber"] = ""
    gone = sorted(stbs)[-1]
    del stbs[gone]
    result = env.run("metrotv-stb-list-update")
    assert result.exit_code == 0, result.output
    macs = dict(env.sql("SELECT id, mac FROM metroport_metrotv_stb"))
    assert macs[a] == stbs[a]["mac"] and macs[b] == stbs[b]["mac"] and len(macs) == 40
    assert f"1 STB row(s) gone at the provider (kept; --prune deletes them): ids {gone}" in result.output


def test_bad_rows_leave_the_database_unchanged(env):
    assert env.run("metrotv-stb-list-update").exit_code == 0
    assert env.run("metrotv-packages-update").exit_code == 0
    snap = env.snapshot()
    first = sorted(env.sim.data.stbs)[0]
    env.sim.data.stbs[first]["mac"] = "zz:zz"
    env.sim.data.stbs[first + 1]["status"] = 99
    env.sim.data.tv_packages[102]["pricebrutto"] = "dużo"
    result = env.run("metrotv-stb-list-update")
    assert result.exit_code == 1
    assert "mac 'zz:zz' is not a MAC address" in result.output and "nothing was stored" in result.output
    result = env.run("metrotv-packages-update")
    assert result.exit_code == 1 and "pricebrutto is not a sum: 'dużo'" in result.output
    assert env.snapshot() == snap


def test_malformed_reply_and_bad_settings(env):
    env.sql("DELETE FROM customers")
    snap = env.snapshot()
    env.sim.faults.malformed = 1
    result = env.run("fsecure-packages-update")
    assert result.exit_code == 1 and "GET /services/security/ext_services: the answer is not JSON" in result.output
    assert "Traceback" not in result.output
    env.host.set_uiconfig("metroport.api_pass", "wrong-one")
    assert env.run("customer-update").exit_code == 0  # the stored session is still young: no login
    env.sql("DELETE FROM metroport_settings")
    result = env.run("customer-update")
    assert result.exit_code == 1 and "login refused (HTTP 401)" in result.output and "wrong-one" not in result.output
    env.host.set_uiconfig("metroport.api_pass", "", disabled=1)
    result = env.run("customer-update")
    assert result.exit_code == 2 and "Brak loginu lub hasła" in result.output
    env.host.set_uiconfig("metroport.serwer_url", "api.mmsc.metroport.pl")
    assert "needs its scheme" in env.run("customer-update").output
    assert env.snapshot() == snap


def test_test_mode_rolls_back(env):
    seed_customers(env)
    snap = env.snapshot()
    for command in ("customer-update", "metrotv-stb-list-update", "metrotv-packages-update"):
        result = env.run(command, "--test")
        assert result.exit_code == 0 and "rolled back" in result.output
    assert env.snapshot() == snap


def test_push_customers_sends_changes_since_the_last_run(env):
    user = next(u for u in env.sim.data.users.values() if u["nip"])
    address = {"city": "Gdynia", "zip": "81-001", "street": "ul. Świętojańska", "house": "12", "flat": "3"}
    cid = add_customer(
        env.host,
        "Firma Nowa",
        type_=TYPE_COMPANY,
        ten=user["nip"],
        moddate=100,
        email="biuro@firma.pl",
        address=address,
        address_type=1,
    )
    add_customer(env.host, "Inny adres", ssn="", moddate=100, address={"city": "X", "house": "1"}, address_type=2)
    env.host.set_uiconfig("metroport.automatically_update_customer_data", "true")
    assert env.run("customer-update").exit_code == 0
    result = env.run("push-customers", "--test")
    assert result.exit_code == 0 and f"would send customer {cid}" in result.output
    assert env.sim.data.users[user["userid"]]["city1"] != "Gdynia"
    result = env.run("push-customers")
    assert result.exit_code == 0, result.output
    sent = env.sim.data.users[user["userid"]]
    assert (sent["city1"], sent["streetname1"], sent["streetno1"], sent["local1"]) == (
        "Gdynia",
        "ul. Świętojańska",
        "12",
        "3",
    )
    assert sent["nip"] == user["nip"] and sent["email"] == "biuro@firma.pl" and sent["customertype"] == "1"
    again = env.run("push-customers")
    assert "0 paired customer(s) changed" in again.output


def test_add_customer_creates_or_pairs(env):
    cid = add_customer(
        env.host,
        "Nowakowska",
        name="Ewa",
        ssn="85010112345",
        email="ewa@example.pl",
        address={"city": "Sopot", "zip": "81-701", "street": "Monte Cassino", "house": "5"},
    )
    result = env.run("add-customer", str(cid))
    assert result.exit_code == 0, result.output
    uid = env.sql("SELECT metroport_user_id FROM metroport_customers WHERE lms_user_id = :c", c=cid)[0][0]
    created = env.sim.data.users[uid]
    assert (created["lastname"], created["pesel"], created["streetname1"], created["customertype"]) == (
        "Nowakowska",
        "85010112345",
        "Monte Cassino",
        "2",
    )
    assert env.run("add-customer", str(cid)).exit_code == 2
    user = next(u for u in env.sim.data.users.values() if u["nip"])
    company = add_customer(env.host, "Spółka", type_=TYPE_COMPANY, ten=user["nip"].replace("-", ""))
    result = env.run("add-customer", str(company))
    assert result.exit_code == 0 and f"MMS user {user['userid']} found by PESEL/NIP" in result.output
    blank = add_customer(env.host, "Bez PESEL")
    result = env.run("add-customer", str(blank))
    assert result.exit_code == 2 and "Uzupełnij PESEL/NIP" in result.output


def test_demo_hook_pairs_customers_and_fills_the_mirrors(sqlite_host, tmp_path):
    from click.testing import CliRunner
    from mms_env import install_plugin

    from lmsplugins.cli import main
    from lmsplugins.plugin import DemoContext
    from lmsplugins.simserver import serve
    from plugins.metroport_mms.store import pairs

    install_plugin(sqlite_host)
    plugin = sqlite_host.plugin("metroport_mms")
    codes = []

    def run(args):
        result = CliRunner().invoke(main, ["-C", str(sqlite_host.ini_config.path), *args], catch_exceptions=False)
        codes.append(result.exit_code)
        return result.exit_code

    with serve(plugin.simulator()) as server:
        sim = server.app
        settings = sim.client_settings(server.url)
        plugin.demo(DemoContext(sqlite_host, server.url, sqlite_host.set_uiconfig, run, tmp_path, settings))
        with sqlite_host.engine.connect() as conn:
            paired = [u for u, _c in pairs(conn)]
    assert codes and set(codes) == {0}
    assert len(paired) == 6 and all(u in sim.data.users for u in paired)
    assert any(s["status"] == 3 and s["userid"] in paired for s in sim.data.stbs.values())


def test_php_flags(env):
    from click.testing import CliRunner

    from lmsplugins.cli import main

    result = CliRunner().invoke(main, ["metroport-mms", "metrotv-packages-update", "-C", str(env.ini), "-q"])
    assert result.exit_code == 0 and result.output == ""
    assert env.sql("SELECT COUNT(*) FROM metroport_metrotv_packages")[0][0] == 9
    version = env.run("customer-update", "-v")
    assert version.exit_code == 0 and "Metroport MMS plugin" in version.output
    helped = env.run("fsecure-packages-update", "-h")
    assert helped.exit_code == 0 and "--test" in helped.output and "--prune" in helped.output
    assert env.run("customer-update", "--bogus").exit_code == 2
    refused = env.run("add-customer", "12a")
    assert refused.exit_code == 2 and "error: customer id '12a' is not a whole number" in refused.output
