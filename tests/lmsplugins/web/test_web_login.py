"""Login as LMS does, and single sign-on with a live LMS session; on SQLite, PostgreSQL, MariaDB."""

from __future__ import annotations

import hashlib
import time

import pytest
from sqlalchemy import select
from web_helpers import now

from lmsplugins.lms.tables import sessions, users
from lmsplugins.testing.web import add_user, csrf_token, login
from lmsplugins.web.sso import php_serialize

UA = "Mozilla/5.0 (X11; Linux x86_64) LMS-test"


def _user(host, login_name):
    with host.engine.connect() as conn:
        return conn.execute(select(users).where(users.c.login == login_name)).one()


def test_anonymous_is_sent_to_login(client):
    response = client.get("/customers?q=abc")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/customers")


def test_login_bcrypt_records_login_and_redirects_to_next(client, web_host, sleeps):
    response = login(client, next="/customers")
    assert response.status_code == 302 and response.headers["Location"] == "/customers"
    assert client.get("/customers").status_code == 200
    row = _user(web_host, "admin")
    assert row.lastlogindate >= now() - 5 and row.lastloginip == "127.0.0.1"
    assert sleeps == []


def test_wrong_password_is_slowed_counted_and_recorded(client, web_host, sleeps, app):
    response = login(client, password="nope")
    assert response.status_code == 401
    assert "Nieprawidłowy login lub hasło." in response.get_data(as_text=True)
    assert sleeps and min(sleeps) >= 2
    row = _user(web_host, "admin")
    assert row.failedlogindate >= now() - 5 and row.failedloginip == "127.0.0.1"
    assert app.extensions["lmsplugins"].throttle.total_failures == 1
    assert client.get("/customers").status_code == 302


def test_unknown_login_gets_the_same_answer_and_delay(client, sleeps):
    response = login(client, user="nobody", password="x")
    assert response.status_code == 401 and "Nieprawidłowy login lub hasło." in response.get_data(as_text=True)
    assert sleeps == [2.0]


def test_open_redirect_after_login_is_refused(client):
    response = login(client, next="//evil.example/x")
    assert response.headers["Location"] == "/"
    client2 = client.application.test_client()
    assert login(client2, next="https://evil.example/").headers["Location"] == "/"


def test_legacy_md5_password_logs_in_and_is_rehashed(client, web_host):
    add_user(web_host, "oldtimer", passwd=hashlib.md5(b"stare-haslo").hexdigest(), rights="full_access")
    assert login(client, "oldtimer", "stare-haslo").status_code == 302
    stored = _user(web_host, "oldtimer").passwd
    assert stored.startswith("$2y$")
    # The session stays valid after our own rehash, and the new hash works for the next login.
    assert client.get("/").status_code == 200
    other = client.application.test_client()
    assert login(other, "oldtimer", "stare-haslo").status_code == 302


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"deleted": 1}, "Nieprawidłowy login lub hasło."),
        ({"access": 0}, "Konto jest zablokowane"),
        ({"accessfrom": int(time.time()) + 3600}, "Konto nie jest aktywne"),
        ({"accessto": int(time.time()) - 60}, "Konto nie jest aktywne"),
        ({"hosts": "10.1.2.3, 192.168.0.0/16"}, "Brak dostępu!"),
    ],
)
def test_login_rules(client, web_host, sleeps, values, message):
    add_user(web_host, "jan", "haslo123", rights="full_access", **values)
    response = login(client, "jan", "haslo123")
    assert response.status_code == 401
    assert message in response.get_data(as_text=True)
    assert sleeps == [2.0]
    assert client.get("/").status_code == 302


def test_hosts_and_window_that_match_let_the_user_in(client, web_host):
    add_user(
        web_host,
        "jan",
        "haslo123",
        rights="full_access",
        hosts="10.0.0.0/8,127.0.0.0/8",
        accessfrom=now() - 60,
        accessto=now() + 3600,
    )
    assert login(client, "jan", "haslo123").status_code == 302


def test_user_without_division_is_refused(client, web_host):
    add_user(web_host, "lonely", "haslo123", division=False, rights="full_access")
    response = login(client, "lonely", "haslo123")
    assert response.status_code == 401


def test_throttle_refuses_even_the_right_password(make_app, web_host, sleeps):
    app = make_app()
    app.extensions["lmsplugins"].throttle.max_failures = 3
    client = app.test_client()
    for _ in range(3):
        assert login(client, password="bad").status_code == 401
    response = login(client)
    assert response.status_code == 401
    assert "Zbyt wiele nieudanych prób" in response.get_data(as_text=True)
    assert len(sleeps) == 4


def test_failed_login_really_takes_two_seconds(make_app):
    client = make_app(SLEEP=time.sleep).test_client()
    started = time.monotonic()
    assert login(client, password="bad").status_code == 401
    assert time.monotonic() - started >= 2.0


def test_disabling_a_user_in_lms_ends_the_session(logged_in, web_host):
    assert logged_in.get("/").status_code == 200
    with web_host.engine.begin() as conn:
        conn.execute(users.update().where(users.c.login == "admin").values(access=0))
    assert logged_in.get("/").status_code == 302


def test_password_change_in_lms_ends_the_session(logged_in, web_host):
    with web_host.engine.begin() as conn:
        conn.execute(users.update().where(users.c.login == "admin").values(passwd="$2y$10$" + "x" * 53))
    assert logged_in.get("/").status_code == 302


def test_idle_timeout_ends_a_form_session(make_app):
    client = make_app(LMS_SESSION_TIMEOUT=600).test_client()
    assert login(client).status_code == 302
    with client.session_transaction() as sess:
        sess["seen"] = now() - 601
    assert client.get("/").status_code == 302


def test_logout_needs_post_with_token(logged_in):
    assert logged_in.get("/logout").status_code == 405
    assert logged_in.post("/logout").status_code == 400
    assert logged_in.get("/").status_code == 200
    token = csrf_token(logged_in, "/")
    response = logged_in.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert logged_in.get("/").status_code == 302


# --- single sign-on with LMS's SID cookie -------------------------------------------------------


def lms_session(host, login_name="admin", *, age=0, ua=UA, ip="127.0.0.1", content=None, sid=None):
    """Write a ``sessions`` row exactly as LMS's Session class does after a successful login."""
    sid = sid or hashlib.md5(f"{login_name}{time.time()}".encode()).hexdigest() + "0" * 16
    with host.engine.connect() as conn:
        uid = conn.execute(select(users.c.id).where(users.c.login == login_name)).scalar()
    if content is None:
        content = {
            "session_id": uid,
            "session_login": login_name,
            "session_logname": "Admin Demo",
            "session_last": now() - 86400,
            "session_lastip": "127.0.0.1",
            "tabs": {},
        }
    vdata = {"REMOTE_ADDR": ip, "HTTP_USER_AGENT": ua, "SERVER_NAME": "lms.example", "SERVER_PORT": "443"}
    t = now() - age
    with host.engine.begin() as conn:
        conn.execute(
            sessions.insert().values(
                id=sid, ctime=t, mtime=t, atime=t, vdata=php_serialize(vdata), content=php_serialize(content)
            )
        )
    return sid


def sso_client(app, sid, ua=UA):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = ua
    client.set_cookie("SID", sid)
    return client


def test_sso_with_a_live_lms_session(app, web_host):
    client = sso_client(app, lms_session(web_host))
    response = client.get("/customers")
    assert response.status_code == 200
    assert "(admin)" in response.get_data(as_text=True)


def test_sso_session_kept_alive_by_atime_only(app, web_host):
    sid = lms_session(web_host, age=5000)
    with web_host.engine.begin() as conn:
        conn.execute(sessions.update().where(sessions.c.id == sid).values(atime=now() - 10))
    assert sso_client(app, sid).get("/").status_code == 200


def test_sso_expired_session_is_refused(app, web_host):
    assert sso_client(app, lms_session(web_host, age=601)).get("/").status_code == 302


def test_sso_honours_phpui_timeout(make_app, web_host):
    web_host.set_uiconfig("phpui.timeout", "3600")
    app = make_app()
    assert sso_client(app, lms_session(web_host, age=1800)).get("/").status_code == 200
    assert sso_client(app, lms_session(web_host, age=3700)).get("/").status_code == 302


def test_sso_forged_sid_is_refused(app, web_host):
    lms_session(web_host)
    forged = "f" * 48
    assert sso_client(app, forged).get("/").status_code == 302
    assert sso_client(app, "' OR '1'='1").get("/").status_code == 302


def test_sso_cookie_from_another_browser_is_refused(app, web_host):
    sid = lms_session(web_host)
    assert sso_client(app, sid, ua="curl/8.0").get("/").status_code == 302


def test_sso_cookie_from_another_address_is_refused(app, web_host):
    sid = lms_session(web_host, ip="198.51.100.7")
    assert sso_client(app, sid).get("/").status_code == 302


def test_sso_not_logged_in_lms_session_is_refused(app, web_host):
    sid = lms_session(web_host, content={"tabs": {}})
    assert sso_client(app, sid).get("/").status_code == 302


def test_sso_corrupt_content_is_refused(app, web_host):
    sid = lms_session(web_host)
    with web_host.engine.begin() as conn:
        conn.execute(sessions.update().where(sessions.c.id == sid).values(content='a:1:{s:13:"session_login"'))
    assert sso_client(app, sid).get("/").status_code == 302


def test_sso_deleted_user_is_refused(app, web_host):
    add_user(web_host, "gone", rights="full_access", deleted=1)
    assert sso_client(app, lms_session(web_host, "gone")).get("/").status_code == 302


def test_sso_ends_when_lms_logs_out(app, web_host):
    sid = lms_session(web_host)
    client = sso_client(app, sid)
    assert client.get("/").status_code == 200
    with web_host.engine.begin() as conn:
        conn.execute(sessions.delete().where(sessions.c.id == sid))
    assert client.get("/").status_code == 302


def test_logout_with_a_live_lms_session_does_not_log_back_in(app, web_host):
    client = sso_client(app, lms_session(web_host))
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_sso_can_be_switched_off(make_app, web_host):
    web_host.set_uiconfig("lmsplugins.sso", "false")
    app = make_app()
    assert sso_client(app, lms_session(web_host)).get("/").status_code == 302
