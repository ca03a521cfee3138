"""Two-factor login as LMS does it (users.twofactorauth + twofactorauthsecretkey), on SQLite and the
real PostgreSQL and MySQL schemas: the code step, wrong and reused codes, the lock-out, trusted hosts, the
pending state's expiry and secrecy, and single sign-on refusing LMS sessions still waiting for a code."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import zlib

import pytest
from sqlalchemy import select
from test_web_login import UA, lms_session, sso_client
from web_helpers import now

from lmsplugins.lms import twofactor
from lmsplugins.lms.tables import twofactorauthcodehistory as history
from lmsplugins.lms.tables import users
from lmsplugins.store import state
from lmsplugins.testing.web import add_user, csrf_token, login
from lmsplugins.web import auth, totp

KEY = b"lmsplugins-2fa-test-key!"
SECRET = base64.b32encode(KEY).decode("ascii").rstrip("=")


def code_now(offset: int = 0) -> str:
    return totp.totp(KEY, time.time() + offset)


def other_code() -> str:
    """A code valid in no step of the accepted window."""
    return totp.totp(KEY, time.time() + 3600)


@pytest.fixture
def two_factor_user(web_host):
    return add_user(web_host, "tfa", "haslo123", rights="full_access", twofactorauth=1, twofactorauthsecretkey=SECRET)


def send_code(client, code: str, **extra: str):
    token = csrf_token(client, "/login/code")
    return client.post("/login/code", data={"csrf_token": token, "code": code, **extra})


def history_rows(host, uid):
    with host.engine.connect() as conn:
        return conn.execute(select(history).where(history.c.userid == uid).order_by(history.c.id)).all()


def last_login(host, uid):
    with host.engine.connect() as conn:
        return conn.execute(select(users.c.lastlogindate, users.c.failedlogindate).where(users.c.id == uid)).one()


def test_password_alone_does_not_log_in(client, web_host, two_factor_user, sleeps):
    response = login(client, "tfa", "haslo123", next="/customers")
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert client.get("/customers").status_code == 302
    page = client.get("/login/code")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.get_data(as_text=True)
    assert last_login(web_host, two_factor_user).lastlogindate == 0
    assert sleeps == []


def test_password_and_code_log_in_and_go_on_to_next(client, web_host, two_factor_user, sleeps):
    login(client, "tfa", "haslo123", next="/customers")
    response = send_code(client, code_now())
    assert response.status_code == 302 and response.headers["Location"] == "/customers"
    assert client.get("/customers").status_code == 200
    assert last_login(web_host, two_factor_user).lastlogindate >= now() - 5
    rows = history_rows(web_host, two_factor_user)
    assert [(r.success, r.ipaddr) for r in rows] == [(1, 2130706433)]
    assert client.get("/login/code").status_code == 302
    assert sleeps == []


def test_wrong_password_is_only_told_after_the_code(client, web_host, two_factor_user, sleeps):
    response = login(client, "tfa", "zle-haslo")
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert sleeps == []
    response = send_code(client, code_now())
    assert response.status_code == 401
    assert "Nieprawidłowy kod uwierzytelniający." in response.get_data(as_text=True)
    assert sleeps == [2.0]
    assert client.get("/").status_code == 302
    assert [r.success for r in history_rows(web_host, two_factor_user)] == [0]
    assert last_login(web_host, two_factor_user).failedlogindate >= now() - 5


def _cookie_payload(client) -> str:
    """What anyone holding the session cookie can read: its signed (not encrypted) JSON."""
    value = client.get_cookie("lmsplugins_session").value
    compressed = value.startswith(".")
    body = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode("utf-8")


def test_the_cookie_holds_nothing_readable_about_the_pending_login(app, two_factor_user):
    seen = []
    for password in ("haslo123", "zle-haslo"):
        client = app.test_client()
        login(client, "tfa", password)
        payload = json.loads(_cookie_payload(client))
        assert set(payload) <= {"2fa", "csrf_token", "lang"}
        assert "tfa" not in json.dumps(payload)
        with client.session_transaction() as sess:
            seen.append(sess["2fa"])
    right, wrong = seen
    assert isinstance(right, str) and isinstance(wrong, str)
    assert len(right) == len(wrong) and right != wrong


def test_wrong_code_is_refused_slowed_and_recorded(client, web_host, two_factor_user, sleeps):
    login(client, "tfa", "haslo123")
    response = send_code(client, other_code())
    assert response.status_code == 401
    assert sleeps == [2.0]
    assert [r.success for r in history_rows(web_host, two_factor_user)] == [0]
    # The step stays open: the right code still works.
    assert send_code(client, code_now()).status_code == 302
    assert client.get("/").status_code == 200


def test_a_code_cannot_be_used_twice(app, web_host, two_factor_user):
    code = code_now()
    first = app.test_client()
    login(first, "tfa", "haslo123")
    assert send_code(first, code).status_code == 302
    second = app.test_client()
    login(second, "tfa", "haslo123")
    response = send_code(second, code)
    assert response.status_code == 401
    assert "Ten kod został użyty przed chwilą." in response.get_data(as_text=True)
    assert second.get("/").status_code == 302


def test_ten_recent_wrong_codes_lock_the_step(client, web_host, two_factor_user):
    with web_host.engine.begin() as conn:
        ip = twofactor.ip_number(conn, "127.0.0.1")
        for age in range(10):
            twofactor.record_code(conn, two_factor_user, "000000", ip, now() - age, success=False)
    login(client, "tfa", "haslo123")
    response = send_code(client, code_now())
    assert response.status_code == 401
    assert "Zbyt wiele nieudanych prób" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_wrong_codes_older_than_three_minutes_do_not_lock(client, web_host, two_factor_user):
    with web_host.engine.begin() as conn:
        ip = twofactor.ip_number(conn, "127.0.0.1")
        for _ in range(10):
            twofactor.record_code(conn, two_factor_user, "000000", ip, now() - 200, success=False)
    login(client, "tfa", "haslo123")
    assert send_code(client, code_now()).status_code == 302
    assert [r.success for r in history_rows(web_host, two_factor_user)] == [1]


def test_process_throttle_also_covers_the_code_step(make_app, two_factor_user, sleeps):
    app = make_app()
    app.extensions["lmsplugins"].throttle.max_failures = 2
    client = app.test_client()
    login(client, "tfa", "haslo123")
    for _ in range(2):
        assert send_code(client, other_code()).status_code == 401
    response = send_code(client, code_now())
    assert response.status_code == 401 and "Zbyt wiele nieudanych prób" in response.get_data(as_text=True)
    assert len(sleeps) == 3


def test_trusted_host_skips_the_code(client, web_host):
    add_user(
        web_host,
        "office",
        "haslo123",
        rights="full_access",
        twofactorauth=1,
        twofactorauthsecretkey=SECRET,
        trustedhosts="10.0.0.0/8 127.0.0.1",
    )
    response = login(client, "office", "haslo123")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("values", [{"twofactorauth": 1, "twofactorauthsecretkey": ""}, {"twofactorauth": 0}])
def test_two_factor_needs_both_the_flag_and_a_secret(client, web_host, values):
    add_user(web_host, "half", "haslo123", rights="full_access", **{"twofactorauthsecretkey": SECRET, **values})
    assert login(client, "half", "haslo123").headers["Location"] == "/"


def test_disabled_account_is_told_at_the_password_step(client, web_host, sleeps):
    add_user(web_host, "off", "haslo123", access=0, twofactorauth=1, twofactorauthsecretkey=SECRET)
    response = login(client, "off", "haslo123")
    assert response.status_code == 401 and "Konto jest zablokowane" in response.get_data(as_text=True)
    assert sleeps == [2.0]


def test_legacy_md5_password_with_two_factor(client, web_host):
    uid = add_user(
        web_host,
        "old2fa",
        passwd=hashlib.md5(b"stare-haslo").hexdigest(),
        rights="full_access",
        twofactorauth=1,
        twofactorauthsecretkey=SECRET,
    )
    assert login(client, "old2fa", "stare-haslo").headers["Location"] == "/login/code"
    with web_host.engine.connect() as conn:
        assert conn.execute(select(users.c.passwd).where(users.c.id == uid)).scalar().startswith("$2y$")
    assert send_code(client, code_now()).status_code == 302
    assert client.get("/").status_code == 200


def test_pending_login_expires(client, web_host, two_factor_user):
    login(client, "tfa", "haslo123")
    with web_host.engine.begin() as conn:
        row = conn.execute(select(state.c.name, state.c.value).where(state.c.name.like("web.2fa.%"))).one()
        data = json.loads(row.value)
        data["t"] -= auth.PENDING_SECONDS + 1
        conn.execute(state.update().where(state.c.name == row.name).values(value=json.dumps(data)))
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Logowanie wygasło" in client.get("/login").get_data(as_text=True)


def test_a_made_up_pending_token_leads_back_to_the_login(client, web_host, two_factor_user):
    login(client, "tfa", "haslo123")
    with client.session_transaction() as sess:
        sess["2fa"] = "x" * 43
    token = csrf_token(client)
    response = client.post("/login/code", data={"csrf_token": token, "code": code_now()})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    with web_host.engine.connect() as conn:
        assert conn.execute(select(users.c.lastlogindate).where(users.c.id == two_factor_user)).scalar() in (0, None)


def test_a_used_pending_login_is_gone_from_the_server(client, web_host, two_factor_user):
    login(client, "tfa", "haslo123")
    assert send_code(client, code_now()).status_code == 302
    with web_host.engine.connect() as conn:
        assert conn.execute(select(state.c.name).where(state.c.name.like("web.2fa.%"))).first() is None


def test_password_changed_between_the_steps_is_refused(client, web_host, two_factor_user):
    login(client, "tfa", "haslo123")
    with web_host.engine.begin() as conn:
        conn.execute(users.update().where(users.c.id == two_factor_user).values(passwd=auth.hash_password("nowe")))
    assert send_code(client, code_now()).status_code == 401


def test_back_to_login_drops_the_pending_login(client, two_factor_user):
    login(client, "tfa", "haslo123")
    response = send_code(client, "", back="1")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/login/code").status_code == 302


def test_code_step_without_a_token_changes_nothing(client, web_host, two_factor_user):
    login(client, "tfa", "haslo123")
    response = client.post("/login/code", data={"code": code_now()})
    assert response.status_code == 400
    assert history_rows(web_host, two_factor_user) == []
    assert client.get("/").status_code == 302


def test_code_step_without_a_pending_login_goes_to_login(client):
    assert client.get("/login/code").headers["Location"] == "/login"


def test_code_step_in_english(client, two_factor_user):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, "tfa", "haslo123")
    body = send_code(client, other_code()).get_data(as_text=True)
    assert "Wrong authentication code." in body and re.search(r"Authentication code", body)


@pytest.mark.parametrize(
    "content",
    [
        {"session_authcoderequired": "tfa", "session_passverified": True},
        {"session_id": 0, "session_login": "tfa", "session_authcoderequired": "tfa"},
    ],
)
def test_sso_refuses_an_lms_session_waiting_for_the_code(app, web_host, two_factor_user, content):
    content = {k: (two_factor_user if k == "session_id" else v) for k, v in content.items()}
    client = sso_client(app, lms_session(web_host, "tfa", content=content), ua=UA)
    assert client.get("/").status_code == 302


def test_sso_accepts_an_lms_session_past_the_code(app, web_host, two_factor_user):
    content = {"session_id": two_factor_user, "session_login": "tfa", "session_authcoderequired": ""}
    client = sso_client(app, lms_session(web_host, "tfa", content=content))
    assert client.get("/").status_code == 200


# --- what LMS makes a user do first: change the password, set up two-factor login ----------------


@pytest.mark.parametrize(
    "values",
    [
        {"passwdforcechange": 1},
        {"passwdexpiration": 30, "passwdlastchange": int(time.time()) - 31 * 86400},
    ],
)
def test_password_to_change_in_lms_is_refused_without_counting_a_failure(client, web_host, sleeps, values):
    uid = add_user(web_host, "stale", "haslo123", rights="full_access", **values)
    response = login(client, "stale", "haslo123")
    assert response.status_code == 401
    assert "Hasło musi zostać zmienione. Zmień je w LMS" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert sleeps == []
    assert last_login(web_host, uid) == (0, 0)


def test_password_not_yet_expired_logs_in(client, web_host):
    add_user(
        web_host, "fresh", "haslo123", rights="full_access", passwdexpiration=30, passwdlastchange=now() - 29 * 86400
    )
    assert login(client, "fresh", "haslo123").headers["Location"] == "/"


def test_two_factor_required_by_lms_sends_users_without_it_to_lms(make_app, web_host, two_factor_user):
    add_user(web_host, "plain", "haslo123", rights="full_access")
    web_host.set_uiconfig("phpui.two_factor_auth_required", "true")
    app = make_app()
    client = app.test_client()
    response = login(client, "plain", "haslo123")
    assert response.status_code == 401 and "Wymagane jest uwierzytelnianie dwuskładnikowe" in response.get_data(
        as_text=True
    )
    assert client.get("/").status_code == 302
    other = app.test_client()
    assert login(other, "tfa", "haslo123").headers["Location"] == "/login/code"
    assert send_code(other, code_now()).status_code == 302


def test_password_change_is_told_only_after_the_code(client, web_host, two_factor_user):
    with web_host.engine.begin() as conn:
        conn.execute(users.update().where(users.c.id == two_factor_user).values(passwdforcechange=1))
    assert login(client, "tfa", "haslo123").headers["Location"] == "/login/code"
    response = send_code(client, code_now())
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Hasło musi zostać zmienione" in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert last_login(web_host, two_factor_user).lastlogindate == 0


@pytest.mark.parametrize(
    ("flags", "accepted"),
    [
        ({"session_passwdrequiredchange": True}, False),
        ({"session_twofactorauthrequiredchange": True}, False),
        ({"session_twofactorauthrequiredchange": False}, True),
    ],
)
def test_sso_refuses_an_lms_session_held_on_a_change_page(app, web_host, flags, accepted):
    uid = add_user(web_host, "held", "haslo123", rights="full_access")
    content = {"session_id": uid, "session_login": "held", **flags}
    client = sso_client(app, lms_session(web_host, "held", content=content))
    assert client.get("/").status_code == (200 if accepted else 302)
