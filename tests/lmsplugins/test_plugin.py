"""The plugin contract: declaration validation, typed settings, secrets kept out of reprs, ordering."""

from __future__ import annotations

import pytest

from lmsplugins.config import Config
from lmsplugins.errors import ConfigError
from lmsplugins.loader import LAST_PRIORITY, Registry, enable, parse_enabled
from lmsplugins.plugin import Plugin, Setting


def _plugin(**kw):
    base = {"name": "demo", "title": "Demo", "lms_class": "LMSDemoPlugin", "version": "1.0"}
    return Plugin(**{**base, **kw})


def test_required_setting_missing_names_key_and_fix():
    plugin = _plugin(settings=[Setting("demo.password", required=True, secret=True)])
    with pytest.raises(ConfigError) as exc:
        plugin.resolve_settings(Config.from_mapping({}))
    assert "demo.password" in str(exc.value) and "[demo]" in str(exc.value)
    assert exc.value.exit_code == 2


def test_typed_settings_and_masked_secrets():
    plugin = _plugin(
        settings=[
            Setting("demo.limit", "int", default=7),
            Setting("demo.on", "bool", default=False),
            Setting("demo.ids", "list"),
            Setting("demo.mode", choices=("a", "b"), default="a"),
            Setting("demo.password", secret=True),
        ]
    )
    cfg = Config.from_mapping({"demo": {"limit": "12", "on": "tak", "ids": "1, 2;3", "password": "hunter2"}})
    values = plugin.resolve_settings(cfg)
    assert (values["demo.limit"], values["demo.on"], values["demo.ids"]) == (12, True, ["1", "2", "3"])
    assert values["demo.mode"] == "a"
    assert "hunter2" not in repr(values) and "***" in repr(values)
    with pytest.raises(ConfigError, match="must be one of"):
        plugin.resolve_settings(Config.from_mapping({"demo": {"mode": "c"}}))
    with pytest.raises(ConfigError, match="not a valid int"):
        plugin.resolve_settings(Config.from_mapping({"demo": {"limit": "many"}}))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"name": "Bad-Name"}, "lower-case"),
        ({"lms_class": "LMS Plugin"}, "letters and digits"),
        ({"db_version": "2024"}, "YYYYMMDDNN"),
        ({"settings": [Setting("novar")]}, "section.var"),
        ({"settings": [Setting("a.b"), Setting("A.B")]}, "declared twice"),
    ],
)
def test_invalid_declarations(kw, message):
    with pytest.raises(ValueError, match=message):
        _plugin(**kw).validate()


def test_enabled_order_follows_priority_then_name():
    a, b, c = (
        _plugin(name="alpha", lms_class="A"),
        _plugin(name="beta", lms_class="B"),
        _plugin(name="gamma", lms_class="C"),
    )
    registry = Registry(found=[a, b, c])
    enable(registry, ["gamma:1", "beta", "A:1", "ghost"])
    assert [p.name for p in registry.enabled] == ["alpha", "gamma", "beta"]
    assert registry.unknown_enabled == ["ghost"]
    assert parse_enabled(["x:oops"]) == [("x", LAST_PRIORITY)]
