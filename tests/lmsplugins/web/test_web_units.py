"""Pure pieces of the web frame: password formats, login rules, throttle, PHP sessions, rights, i18n."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import bcrypt
import pytest

from lmsplugins.lms.customer_card import format_address, search_condition
from lmsplugins.web import auth, i18n, sso
from lmsplugins.web.rights import Rights, parse_rights


def test_bcrypt_2y_from_php_password_hash_is_accepted():
    # PHP's password_hash writes $2y$; the same digest under $2b$ is what Python's bcrypt makes.
    php_style = bcrypt.hashpw(b"demo1234", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$", 1)
    assert auth.verify_password("demo1234", php_style)
    assert not auth.verify_password("demo1235", php_style)
    assert not auth.verify_password("", php_style)


def test_hash_made_by_php_password_hash():
    # Printed by Debian's PHP 8.2: php -r 'echo password_hash("password", PASSWORD_DEFAULT);'
    stored = "$2y$10$h1IdaO1DHi4tF4ZT5xb2quMDC74H.sQ7Wbso0gsagsM..fqRaRSGO"
    assert auth.verify_password("password", stored)
    assert not auth.verify_password("Password", stored)


def test_our_hash_is_accepted_by_php_password_verify():
    php = shutil.which("php")
    if php is None:
        pytest.skip("php-cli is not installed")
    stored = auth.hash_password("zażółć gęślą")
    code = "exit(password_verify($argv[1], $argv[2]) ? 0 : 1);"
    assert subprocess.run([php, "-r", code, "zażółć gęślą", stored], check=False).returncode == 0
    assert subprocess.run([php, "-r", code, "wrong", stored], check=False).returncode == 1


def test_hash_password_writes_2y_and_round_trips():
    stored = auth.hash_password("zażółć")
    assert stored.startswith("$2y$10$")
    assert auth.verify_password("zażółć", stored)


def test_legacy_md5_hex():
    stored = hashlib.md5(b"oldpass").hexdigest()
    assert auth.is_legacy_md5(stored)
    assert auth.verify_password("oldpass", stored)
    assert auth.verify_password("oldpass", stored.upper())
    assert not auth.verify_password("oldpass2", stored)
    assert not auth.verify_password("x", "plain-text-never-matches")
    assert not auth.verify_password("x", None)


@pytest.mark.parametrize(
    ("hosts", "ip", "ok"),
    [
        ("", "203.0.113.5", True),
        ("192.168.1.10", "192.168.1.10", True),
        ("192.168.1.10", "192.168.1.11", False),
        ("10.0.0.0/8, 192.168.1.10", "10.20.30.40", True),
        ("192.168.0.0/255.255.255.0", "192.168.0.77", True),
        ("192.168.0.0/255.255.255.0", "192.168.1.77", False),
        ("192.168.1.10", "::ffff:192.168.1.10", True),
        ("2001:db8::/32", "2001:db8::1", True),
        ("192.168.1.10", "not-an-ip", False),
        ("garbage, 127.0.0.1", "127.0.0.1", True),
    ],
)
def test_hosts_rule(hosts, ip, ok):
    assert auth.host_allowed(hosts, ip) is ok


def test_access_window():
    assert auth.in_access_window(0, 0, now=1000)
    assert auth.in_access_window(900, 1100, now=1000)
    assert not auth.in_access_window(1001, 0, now=1000)
    assert not auth.in_access_window(0, 999, now=1000)


def test_throttle_counts_per_login_and_address_together():
    throttle = auth.LoginThrottle(max_failures=3, window=60, free=5)
    for i in range(3):
        assert not throttle.blocked("1.2.3.4", "admin", now=100 + i)
        throttle.record_failure("1.2.3.4", "admin", now=100 + i)
    assert throttle.blocked("1.2.3.4", "ADMIN", now=103)
    assert not throttle.blocked("5.6.7.8", "admin", now=103)  # the same user elsewhere is not locked out
    assert not throttle.blocked("1.2.3.4", "someone", now=103)
    assert not throttle.blocked("1.2.3.4", "admin", now=200)  # window passed
    assert throttle.total_failures == 3


def test_throttle_delay_grows_with_each_failure():
    throttle = auth.LoginThrottle(max_failures=10, window=900, free=3)
    t = 1000.0
    waits = []
    for _ in range(6):
        t += throttle.wait("1.2.3.4", "jan", now=t)
        throttle.record_failure("1.2.3.4", "jan", now=t)
        waits.append(throttle.wait("1.2.3.4", "jan", now=t))
    assert waits == [0, 0, 8, 16, 32, 64]
    assert throttle.wait("9.9.9.9", "jan", now=t) == 0


def test_throttle_one_address_spraying_many_logins_is_refused_there_only():
    throttle = auth.LoginThrottle(max_address_failures=5)
    for i in range(5):
        throttle.record_failure("1.2.3.4", f"user{i}", now=10)
    assert throttle.blocked("1.2.3.4", "fresh", now=11)
    assert not throttle.blocked("5.6.7.8", "fresh", now=11)


def test_php_unserialize_lms_session_content():
    content = (
        'a:4:{s:10:"session_id";i:7;s:13:"session_login";s:5:"admin";s:15:"session_logname";'
        's:13:"Łukasz Nowak";s:4:"tabs";a:1:{i:0;a:1:{s:7:"history";a:0:{}}}}'
    )
    data = sso.php_unserialize(content)
    assert data == {
        "session_id": 7,
        "session_login": "admin",
        "session_logname": "Łukasz Nowak",
        "tabs": {0: {"history": {}}},
    }


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -5, 1.5, "", 'zażółć "quoted" ;}', {3: "x", "k": 2.25, "n": {"b": None}}],
)
def test_php_serialize_round_trip(value):
    assert sso.php_unserialize(sso.php_serialize(value)) == value


def test_php_lists_become_int_keyed_arrays():
    assert sso.php_serialize(["a"]) == 'a:1:{i:0;s:1:"a";}'
    assert sso.php_unserialize(sso.php_serialize(["a", 2])) == {0: "a", 1: 2}


@pytest.mark.parametrize(
    "bad",
    ['s:10:"short";', "a:2:{i:0;i:1;}", "x:1;", 'a:1:{s:1:"a";i:1;}trailing', "i:abc;", "", 'O:1:"C":1:{d:1;i:1;}'],
)
def test_php_unserialize_refuses_malformed(bad):
    with pytest.raises(sso.PHPSerializeError):
        sso.php_unserialize(bad)


def test_php_objects_become_dicts_without_instantiation():
    data = sso.php_unserialize('O:8:"stdClass":1:{s:1:"a";i:1;}')
    assert data == {"a": 1, "__class__": "stdClass"}


def test_session_timeout_defaults_like_lms():
    assert sso.session_timeout(None) == 600
    assert sso.session_timeout("") == 600
    assert sso.session_timeout("0") == 600
    assert sso.session_timeout("abc") == 600
    assert sso.session_timeout("3600") == 3600


def test_rights_full_access_implies_all_but_hide():
    rights = Rights.parse("full_access")
    assert rights.has("hiperus_full_access") and rights.has("lmsplugins_admin")
    assert not rights.has("hide_customer_sensitive_data")
    limited = Rights.parse(" customer_management ,hiperus_read_only,")
    assert limited.has("hiperus_read_only") and limited.has("CUSTOMER_MANAGEMENT")
    assert not limited.has("hiperus_full_access")
    assert parse_rights("") == frozenset()


@pytest.mark.parametrize(
    ("chosen", "header", "expected"),
    [
        (None, None, "pl"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "de-DE,de;q=0.9,en;q=0.5", "en"),
        (None, "en;q=0.3,pl;q=0.8", "pl"),
        (None, "fr", "pl"),
        ("en", "pl", "en"),
        ("xx", "en", "en"),
    ],
)
def test_language_choice(chosen, header, expected):
    assert i18n.best_language(chosen, header) == expected


def test_translation_falls_back_to_english_text():
    assert i18n.translate("Log out", "pl") == "Wyloguj"
    assert i18n.translate("Log out", "en") == "Log out"
    assert i18n.translate("An untranslated plugin text", "pl") == "An untranslated plugin text"


def test_search_condition_kinds():
    assert search_condition("   ", "postgresql") is None
    digits = str(search_condition("5252248481", "sqlite").compile(compile_kwargs={"literal_binds": True}))
    assert "customers.ten IN" in digits and "customers.id" not in digits  # > 2**31, not an id
    ident = str(search_condition("42", "sqlite").compile(compile_kwargs={"literal_binds": True}))
    assert "customers.id = 42" in ident
    name = str(search_condition("kowal", "postgresql").compile(compile_kwargs={"literal_binds": True}))
    assert "customers.lastname >= 'KOWAL'" in name and "LIKE 'KOWAL%'" in name


def test_format_address():
    class Row:
        street, house, flat, zip, city = "ul. Długa", "5", "7", "00-001", "Warszawa"

    assert format_address(Row) == "ul. Długa 5/7, 00-001 Warszawa"
