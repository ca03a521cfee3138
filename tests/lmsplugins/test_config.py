"""lms.ini parsing with PHP parse_ini_file rules and the uiconfig overlay with LMS precedence."""

from __future__ import annotations

import pytest

from lmsplugins.config import Config, UiConfigRow, parse_ini, resolve_config_path, to_bool
from lmsplugins.errors import ConfigError


def test_php_ini_semantics(monkeypatch):
    monkeypatch.setenv("LMS_DB_PASS", "s3cret")
    data = parse_ini(
        """
; comment
[database]
type = postgres
host = localhost:5433   ; trailing comment
password = ${LMS_DB_PASS}
quoted = "a;b=c ${LMS_DB_PASS}"
single = 'no ${LMS_DB_PASS} here'

[phpui]
flag_on = yes
flag_true = True
flag_off = off
flag_none = none
flag_null = NULL
word = yesterday
empty =
"""
    )
    db = data["database"]
    assert db["type"] == "postgres"
    assert db["host"] == "localhost:5433"
    assert db["password"] == "s3cret"
    assert db["quoted"] == "a;b=c s3cret"
    assert db["single"] == "no ${LMS_DB_PASS} here"
    ui = data["phpui"]
    assert (ui["flag_on"], ui["flag_true"]) == ("1", "1")
    assert (ui["flag_off"], ui["flag_none"], ui["flag_null"]) == ("", "", "")
    assert ui["word"] == "yesterday"
    assert ui["empty"] == ""


def test_hash_is_not_a_comment_and_garbage_is_an_error():
    with pytest.raises(ConfigError, match="line 2"):
        parse_ini("[a]\n# not a comment in PHP 7\n")
    with pytest.raises(ConfigError, match="unterminated"):
        parse_ini('[a]\nx = "open\n')


def test_array_keys_join():
    assert parse_ini("[s]\nk[] = a\nk[] = b\n")["s"]["k"] == "a,b"


def test_config_path_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("LMS_CONFIG", raising=False)
    assert str(resolve_config_path(None)) == "/etc/lms/lms.ini"
    monkeypatch.setenv("LMS_CONFIG", "/x/lms.ini")
    assert str(resolve_config_path(None)) == "/x/lms.ini"
    assert str(resolve_config_path("/y.ini")) == "/y.ini"


def test_unreadable_file_message(tmp_path):
    missing = tmp_path / "nope.ini"
    with pytest.raises(ConfigError) as exc:
        Config.load(missing)
    assert str(exc.value) == f"Unable to read configuration file [{missing}]"
    assert exc.value.exit_code == 2


def test_uiconfig_precedence():
    base = Config.from_mapping({"voip": {"a": "ini", "b": "ini", "c": "ini", "d": "ini", "e": "ini"}})
    rows = [
        UiConfigRow("voip", "a", "global", id=1),
        UiConfigRow("voip", "b", "global", id=2),
        UiConfigRow("voip", "b", "division", divisionid=5, id=3),
        UiConfigRow("voip", "c", "division", divisionid=5, id=4),
        UiConfigRow("voip", "c", "division+user", divisionid=5, userid=9, id=5),
        UiConfigRow("voip", "d", "division+user", divisionid=5, userid=9, id=6),
        UiConfigRow("voip", "d", "user", userid=9, id=7),
        UiConfigRow("voip", "e", "", id=8),
        UiConfigRow("voip", "f", "disabled", disabled=1, id=9),
        UiConfigRow("voip", "g", "other division", divisionid=6, id=10),
    ]
    cfg = base.with_uiconfig(rows, divisionid=5, userid=9)
    assert cfg.get("voip.a") == "global"
    assert cfg.get("voip.b") == "division"
    assert cfg.get("voip.c") == "division+user"
    assert cfg.get("voip.d") == "user"  # as coded in LMS: user rows without division win
    assert cfg.get("voip.e") == "ini"  # empty value = unset
    assert cfg.get("voip.f") is None
    assert cfg.get("voip.g") is None
    assert cfg.source("voip.d") == "uiconfig #7"
    plain = base.with_uiconfig(rows)
    assert plain.get("voip.b") == "global"
    assert plain.get("voip.d") == "ini"


def test_typed_getters():
    cfg = Config.from_mapping({"s": {"n": " 42 ", "bad": "x", "tak": "TAK", "nie": "nie", "lst": "A:1 B;C,D"}})
    assert cfg.get_int("s.n") == 42
    assert cfg.get_int("s.missing", 7) == 7
    with pytest.raises(ConfigError, match=r"s\.bad"):
        cfg.get_int("s.bad")
    assert cfg.get_bool("s.tak") is True
    assert cfg.get_bool("s.nie") is False
    with pytest.raises(ConfigError):
        cfg.get_bool("s.bad")
    assert cfg.get_list("s.lst") == ["A:1", "B", "C", "D"]


@pytest.mark.parametrize("word", ["1", "y", "on", "yes", "true", "tak", "t", "enabled", "YES"])
def test_true_words(word):
    assert to_bool(word) is True


@pytest.mark.parametrize("word", ["0", "n", "no", "off", "false", "nie", "disabled"])
def test_false_words(word):
    assert to_bool(word, default=True) is False
