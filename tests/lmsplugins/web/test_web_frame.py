"""Rights, CSRF, settings through uiconfig, panels, admin pages, customer pages, headers, language."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lmsplugins.jobs import run_job
from lmsplugins.lms.tables import customers, uiconfig
from lmsplugins.plugin import MenuEntry, Panel, Plugin, Setting
from lmsplugins.testing.web import add_user, csrf_token, login


def _rows(host, key):
    section, var = key.split(".", 1)
    with host.engine.connect() as conn:
        return conn.execute(
            select(uiconfig.c.value, uiconfig.c.userid, uiconfig.c.divisionid).where(
                uiconfig.c.section == section, uiconfig.c.var == var
            )
        ).all()


def _as(app, host, login_name, rights):
    add_user(host, login_name, "haslo123", rights=rights)
    client = app.test_client()
    assert login(client, login_name, "haslo123").status_code == 302
    return client


# --- rights ----------------------------------------------------------------------------------------


def test_rights_gate_pages_and_menu(app, web_host):
    reader = _as(app, web_host, "reader", "customer_management")
    assert reader.get("/customers").status_code == 200
    page = reader.get("/admin/settings")
    assert page.status_code == 403
    assert "Brak dostępu" in page.get_data(as_text=True)
    assert reader.get("/example/").status_code == 403
    home = reader.get("/").get_data(as_text=True)
    assert "/admin/settings" not in home and "/example/" not in home

    plugin_user = _as(app, web_host, "notes", "example_read")
    assert plugin_user.get("/example/").status_code == 200
    assert plugin_user.get("/customers").status_code == 403
    assert "/example/" in plugin_user.get("/").get_data(as_text=True)

    admin = _as(app, web_host, "boss", "full_access")
    for path in ("/customers", "/example/", "/admin/settings", "/admin/plugins", "/admin/jobs"):
        assert admin.get(path).status_code == 200, path
    home = admin.get("/").get_data(as_text=True)
    assert "/admin/settings" in home and "/example/" in home


def test_host_admin_permission_without_full_access(app, web_host):
    client = _as(app, web_host, "cfg", "lmsplugins_admin")
    assert client.get("/admin/settings").status_code == 200
    assert client.get("/customers").status_code == 403


def test_customer_panel_hidden_without_its_permission(app, web_host):
    client = _as(app, web_host, "reader", "customer_management")
    page = client.get("/customers/1").get_data(as_text=True)
    assert 'id="panel-example-notes"' not in page


# --- CSRF ------------------------------------------------------------------------------------------


def test_post_without_csrf_token_is_400_and_changes_nothing(logged_in, web_host):
    before = _rows(web_host, "example.api_url")
    response = logged_in.post("/admin/settings", data={"s:example.api_url": "http://attacker.example"})
    assert response.status_code == 400
    assert "Formularz wygasł" in response.get_data(as_text=True)
    bad = logged_in.post(
        "/admin/settings", data={"csrf_token": "forged", "s:example.api_url": "http://attacker.example"}
    )
    assert bad.status_code == 400
    assert _rows(web_host, "example.api_url") == before


def test_login_post_without_token_is_400(client, sleeps):
    response = client.post("/login", data={"login": "admin", "password": "demo1234"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_csrf_token_of_another_session_is_refused(app, logged_in, web_host):
    other = app.test_client()
    login(other)
    foreign = csrf_token(other, "/admin/settings")
    response = logged_in.post("/admin/settings", data={"csrf_token": foreign, "s:example.batch_size": "9"})
    assert response.status_code == 400
    assert _rows(web_host, "example.batch_size") == []


# --- settings round trip through uiconfig ----------------------------------------------------------


def _save(client, **fields):
    token = csrf_token(client, "/admin/settings")
    data = {"csrf_token": token}
    data.update({k.replace("__", ":").replace("_DOT_", "."): v for k, v in fields.items()})
    return client.post("/admin/settings", data=data)


def test_settings_round_trip_writes_global_uiconfig(logged_in, web_host):
    response = _save(logged_in, s__example_DOT_api_url="http://10.0.0.5:8765", s__example_DOT_batch_size="250")
    assert response.status_code == 302
    assert _rows(web_host, "example.api_url") == [("http://10.0.0.5:8765", None, None)]
    assert _rows(web_host, "example.batch_size") == [("250", None, None)]
    web_host.refresh_settings()
    settings = web_host.plugin_settings(web_host.plugin("example"))
    assert settings["example.api_url"] == "http://10.0.0.5:8765" and settings["example.batch_size"] == 250
    page = logged_in.get("/admin/settings").get_data(as_text=True)
    assert 'value="http://10.0.0.5:8765"' in page and "uiconfig #" in page
    # Unchanged fields write nothing; an emptied field goes back to the default.
    _save(logged_in, s__example_DOT_api_url="http://10.0.0.5:8765", s__example_DOT_batch_size="")
    assert _rows(web_host, "example.batch_size") == [("", None, None)]
    web_host.refresh_settings()
    assert web_host.plugin_settings(web_host.plugin("example"))["example.batch_size"] == 500
    assert _rows(web_host, "example.enabled_greetings") == []


def test_settings_bool_written_as_lms_does(logged_in, web_host):
    _save(logged_in, s__example_DOT_enabled_greetings="false")
    assert _rows(web_host, "example.enabled_greetings") == [("false", None, None)]
    web_host.refresh_settings()
    assert web_host.plugin_settings(web_host.plugin("example"))["example.enabled_greetings"] is False


def test_invalid_value_saves_nothing(logged_in, web_host):
    response = _save(logged_in, s__example_DOT_batch_size="many", s__example_DOT_api_url="http://changed")
    assert response.status_code == 422
    assert "nie jest poprawną wartością typu int" in response.get_data(as_text=True)  # Polish: the default
    assert _rows(web_host, "example.batch_size") == [] and _rows(web_host, "example.api_url") == []


def test_secret_is_masked_kept_unless_retyped_and_clearable(logged_in, web_host):
    _save(logged_in, s__example_DOT_api_token="tok-SECRET-4711")
    assert _rows(web_host, "example.api_token") == [("tok-SECRET-4711", None, None)]
    page = logged_in.get("/admin/settings").get_data(as_text=True)
    assert "tok-SECRET-4711" not in page
    assert 'name="clear:example.api_token"' in page
    _save(logged_in, s__example_DOT_api_token="", s__example_DOT_api_url="http://other")
    assert _rows(web_host, "example.api_token") == [("tok-SECRET-4711", None, None)]
    _save(logged_in, s__example_DOT_api_token="tok-NEW")
    assert _rows(web_host, "example.api_token") == [("tok-NEW", None, None)]
    _save(logged_in, **{"clear__example_DOT_api_token": "1"})
    assert _rows(web_host, "example.api_token") == [("", None, None)]
    for path in ("/admin/settings", "/admin/plugins", "/customers/1", "/example/"):
        assert "tok-NEW" not in logged_in.get(path).get_data(as_text=True)


def test_settings_of_lms_ini_show_their_source_and_are_not_copied(logged_in, web_host):
    page = logged_in.get("/admin/settings").get_data(as_text=True)
    assert re.search(r"example\.api_url.*?domyślna", page, re.S)
    _save(logged_in)
    assert _rows(web_host, "example.api_url") == []


# --- panels and plugins slots ----------------------------------------------------------------------


def _broken_plugin(secret="sekret-XYZ-123"):
    def boom(host, customer_id):
        raise RuntimeError(f"provider said no to token {secret} for {customer_id}")

    def fine(host, customer_id):
        return f"<p class='fine'>all good for {customer_id}</p>"

    def bad_blueprint():
        raise ImportError("cannot import name 'Thing'")

    return Plugin(
        name="broken",
        title="Broken",
        lms_class="LMSBrokenPlugin",
        version="0.1",
        settings=[Setting("broken.token", secret=True)],
        blueprint=bad_blueprint,
        menu=[MenuEntry("Broken page", "broken.index")],
        panels=[Panel("boom", "Boom panel", boom, order=1), Panel("fine", "Fine panel", fine, order=2)],
    )


@pytest.fixture
def broken_app(make_app, web_host):
    web_host.set_uiconfig("broken.token", "sekret-XYZ-123")
    plugin = _broken_plugin()
    web_host.registry.found.append(plugin)
    web_host.registry.enabled.append(plugin)
    return make_app()


def test_failing_panel_shows_an_error_box_and_the_page_renders(broken_app):
    client = broken_app.test_client()
    login(client)
    response = client.get("/customers/3")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="panel-boom"' in page and "Ten panel zgłosił błąd" in page and "RuntimeError" in page
    assert "sekret-XYZ-123" not in page and "***" in page
    assert "all good for 3" in page and 'id="panel-example-notes"' in page
    assert 'id="customer-contacts"' in page


def test_failing_blueprint_is_listed_and_the_rest_works(broken_app):
    client = broken_app.test_client()
    login(client)
    page = client.get("/admin/plugins").get_data(as_text=True)
    assert "cannot import name" in page and "broken" in page
    home = client.get("/").get_data(as_text=True)
    assert "Broken page" not in home and "/example/" in home
    assert client.get("/example/").status_code == 200


def test_plugins_page_lists_versions(logged_in):
    page = logged_in.get("/admin/plugins").get_data(as_text=True)
    assert 'id="plugin-example"' in page and "1.0.0" in page and "2026112300" in page
    assert "example_read" in page and "lmsplugins_admin" in page


# --- customers -------------------------------------------------------------------------------------


def _customer(host, cid):
    with host.engine.connect() as conn:
        return conn.execute(select(customers).where(customers.c.id == cid)).one()


def test_customer_card_shows_lms_data(logged_in, web_host):
    c = _customer(web_host, 2)
    page = logged_in.get("/customers/2").get_data(as_text=True)
    assert c.lastname in page and "klient2@example.pl" in page and 'id="balance"' in page
    assert "ul. " in page and "Warszawa" in page
    assert logged_in.get("/customers/999999").status_code == 404


def test_customer_balance_from_customerbalances(logged_in, web_host):
    from lmsplugins.lms.tables import customerbalances

    with web_host.engine.begin() as conn:
        conn.execute(customerbalances.delete().where(customerbalances.c.customerid == 4))
        conn.execute(customerbalances.insert().values(customerid=4, balance=-123.45))
    page = logged_in.get("/customers/4").get_data(as_text=True)
    assert re.search(r'id="balance" class="negative">-123.45<', page)


@pytest.mark.parametrize("field", ["id", "ten", "ssn", "lastname"])
def test_customer_search_leads_to_the_card(logged_in, web_host, field):
    company = _customer(web_host, 6)  # every sixth demo customer is a company with a NIP
    person = _customer(web_host, 2)
    q = {"id": "6", "ten": company.ten, "ssn": person.ssn, "lastname": None}[field]
    if field == "lastname":
        with web_host.engine.begin() as conn:
            conn.execute(customers.update().where(customers.c.id == 2).values(lastname="UNIKATOWSKA"))
        q = "unikat"
    response = logged_in.get("/customers", query_string={"q": q})
    assert response.status_code == 302
    expected = 2 if field in ("ssn", "lastname") else 6
    assert response.headers["Location"] == f"/customers/{expected}"


def test_nip_with_dashes_is_found(logged_in, web_host):
    with web_host.engine.begin() as conn:
        conn.execute(customers.update().where(customers.c.id == 6).values(ten="525-224-84-81"))
    response = logged_in.get("/customers", query_string={"q": "5252248481"})
    assert response.headers["Location"] == "/customers/6"


def test_customer_list_pages_and_sorts(logged_in, web_host, app):
    app.config["PER_PAGE"] = 5
    first = logged_in.get("/customers?sort=id&order=asc").get_data(as_text=True)
    ids = [int(x) for x in re.findall(r'<td class="num">(\d+)</td>', first)]
    assert ids == [1, 2, 3, 4, 5]
    assert "Strona 1 z 5" in first and 'rel="next"' in first
    last = logged_in.get("/customers?sort=id&order=desc&page=5").get_data(as_text=True)
    assert [int(x) for x in re.findall(r'<td class="num">(\d+)</td>', last)] == [4, 3, 2, 1]
    names = logged_in.get("/customers?sort=name").get_data(as_text=True)
    shown = re.findall(r'<a href="/customers/\d+">([^<]+)</a>', names)
    assert shown == sorted(shown)


def test_deleted_customers_are_not_listed(logged_in, web_host):
    with web_host.engine.begin() as conn:
        conn.execute(customers.update().where(customers.c.id == 6).values(deleted=1))
    page = logged_in.get("/customers?q=6")
    assert page.status_code == 200 and "Nie znaleziono klientów." in page.get_data(as_text=True)


# --- jobs page -------------------------------------------------------------------------------------


def test_jobs_page_lists_runs_filtered(logged_in, web_host):
    def ok(job):
        job.count("imported", 7)

    def bad(job):
        job.count("imported", 1)
        job.fail("record 12 rejected by provider")

    run_job(web_host, "example:sync", ok)
    run_job(web_host, "example:other", bad)
    page = logged_in.get("/admin/jobs").get_data(as_text=True)
    assert "example:sync" in page and "Imported: 7" in page and "record 12 rejected" in page
    only_failed = logged_in.get("/admin/jobs?status=failed").get_data(as_text=True)
    assert "example:other" in only_failed and "example:sync" not in only_failed
    by_name = logged_in.get("/admin/jobs?job=example:sync").get_data(as_text=True)
    assert "example:other" not in by_name


# --- headers, cookies, language --------------------------------------------------------------------


def test_security_headers_and_cookie_flags_over_https(app):
    client = app.test_client()
    response = client.get("/login", base_url="https://lms.example")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forwarded_proto_from_the_proxy_makes_the_cookie_secure(app):
    client = app.test_client()
    response = client.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/lms-plugins"})
    assert "Secure" in response.headers["Set-Cookie"]
    assert 'action="/lms-plugins/login"' in response.get_data(as_text=True)


def test_forwarded_for_is_the_client_for_the_hosts_rule(app, web_host):
    add_user(web_host, "office", "haslo123", rights="full_access", hosts="192.0.2.0/24")
    client = app.test_client()
    token = csrf_token(client)
    data = {"csrf_token": token, "login": "office", "password": "haslo123"}
    assert client.post("/login", data=data, headers={"X-Forwarded-For": "192.0.2.9"}).status_code == 302


def test_polish_by_default_english_by_header_or_choice(app, web_host):
    client = app.test_client()
    assert "Zaloguj" in client.get("/login").get_data(as_text=True)
    assert ">Log in<" in client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    login(client)
    token = csrf_token(client, "/")
    client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/customers"})
    assert "Customers" in client.get("/customers").get_data(as_text=True)
    # The choice is kept per user: a new session of the same user starts in English.
    fresh = app.test_client()
    login(fresh)
    assert "Log out" in fresh.get("/").get_data(as_text=True)


def test_secret_key_generated_once_and_shared(make_app):
    first, second = make_app(), make_app()
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32


def test_no_secret_in_pages(logged_in, web_host, app):
    page = logged_in.get("/admin/settings").get_data(as_text=True)
    assert app.secret_key not in page


def test_panel_of_a_plugin_whose_tables_are_not_installed_says_what_to_do(make_app, web_host):
    rendered: list[int] = []

    def render(_host, customer_id):
        rendered.append(customer_id)
        return "<p>from the plugin's table</p>"

    plugin = Plugin(
        name="uninstalled",
        title="Uninstalled",
        lms_class="LMSUninstalledPlugin",
        version="0.1",
        db_version="2026120100",
        panels=[Panel("pending", "Pending panel", render)],
    )
    web_host.registry.found.append(plugin)
    web_host.registry.enabled.append(plugin)
    app = make_app()
    client = app.test_client()
    login(client)
    page = client.get("/customers/3").get_data(as_text=True)
    assert 'id="panel-pending"' in page and "lmsplugins db upgrade" in page
    assert rendered == [] and "Ten panel zgłosił błąd" not in page
    assert 'id="panel-example-notes"' in page

    from lmsplugins.lms.settings import set_dbinfo
    from lmsplugins.web import slots

    with web_host.engine.begin() as conn:
        set_dbinfo(conn, plugin.dbinfo_key, "2026120100")
    app.extensions["lmsplugins"].user_cache.pop(slots._INSTALLED_KEY, None)
    page = client.get("/customers/3").get_data(as_text=True)
    assert rendered == [3] and "from the plugin's table" in page
