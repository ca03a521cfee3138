"""``deferred`` / ``deferred_call``: declaring a plugin imports none of its heavy modules, every spec a
plugin declares names a real object, and a wrong spec says which spec is wrong.

The host declares every installed plugin, enabled or not, on every command; a top-level import of
views or a provider client in a ``plugin.py`` would cost every command that import (and break them all
when it fails). The laziness is checked in a fresh interpreter, since this one has imported everything.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from flask import Blueprint
from sqlalchemy import Table
from werkzeug.test import Client

from lmsplugins.plugin import Plugin, deferred, deferred_call

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = sorted(p.parent.name for p in (ROOT / "plugins").glob("*/plugin.py") if not p.parent.name.startswith("_"))

_PROBE = """
import importlib, json, sys

mode, name = sys.argv[1:]
if mode == "discover":
    from lmsplugins.loader import discover

    failed = [f.name for f in discover(use_entry_points=False).failed]
    plugin = None
else:
    failed = []
    plugin = importlib.import_module(f"plugins.{name}.plugin").plugin
loaded = sorted(m for m in sys.modules if m.startswith("plugins.") and m.count(".") >= 2)
touched = {}
for point in ("cli", "blueprint", "tables") if plugin else ():
    if getattr(plugin, point) is not None:
        before = set(sys.modules)
        getattr(plugin, point)()
        touched[point] = sorted(m for m in set(sys.modules) - before if m.startswith("plugins."))
print(json.dumps({"loaded": loaded, "failed": failed, "touched": touched}))
"""


def _probe(mode: str, name: str = "") -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, mode, name], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _deferred_points(plugin: Plugin) -> dict[str, object]:
    points = {
        name: getattr(plugin, name)
        for name in ("cli", "blueprint", "tables", "simulator", "demo", "checks", "attention", "connection_test")
    }
    points.update({f"panel {panel.id}": panel.render for panel in plugin.panels})
    return {name: value for name, value in points.items() if hasattr(value, "spec")}


def test_every_plugin_is_found():
    assert {"example", "hiperus_c5", "metroport_mms", "metroport_mvno", "userside", "wildcore"} <= set(PLUGINS)


@pytest.mark.parametrize("name", PLUGINS)
def test_declaring_a_plugin_imports_its_modules_only_when_used(name):
    seen = _probe("import", name)
    assert seen["loaded"] == [f"plugins.{name}.plugin"], "declaring the plugin imported its heavy modules"
    assert seen["touched"], "every plugin declares a cli, blueprint or tables"
    if "cli" in seen["touched"]:
        assert f"plugins.{name}.jobs" in seen["touched"]["cli"]
    if "blueprint" in seen["touched"]:
        assert f"plugins.{name}.views" in seen["touched"]["blueprint"]
    if "tables" in seen["touched"]:
        assert f"plugins.{name}.tables" in seen["touched"]["tables"] + seen["touched"].get("cli", [])


def test_host_discovery_declares_every_plugin_without_its_heavy_modules():
    seen = _probe("discover")
    assert seen["failed"] == []
    assert seen["loaded"] == [f"plugins.{name}.plugin" for name in PLUGINS]


@pytest.mark.parametrize("name", PLUGINS)
def test_deferred_specs_name_the_real_objects(name):
    plugin = importlib.import_module(f"plugins.{name}.plugin").plugin
    points = _deferred_points(plugin)
    assert points, f"{name} declares no deferred extension point"
    for point, factory in points.items():
        module, attr = factory.spec.split(":")
        assert module.startswith(f"plugins.{name}."), point
        assert factory.resolve() is getattr(importlib.import_module(module), attr), point
    if plugin.cli is not None:
        group = plugin.cli()
        assert isinstance(group, click.Group) and group is importlib.import_module(f"plugins.{name}.jobs").cli
    if plugin.blueprint is not None:
        blueprint = plugin.blueprint()
        assert isinstance(blueprint, Blueprint) and blueprint.name == name
    if plugin.tables is not None:
        tables = list(plugin.tables())
        assert tables and all(isinstance(t, Table) for t in tables)


def test_deferred_call_forwards_arguments_and_returns_the_result():
    shorten = deferred_call("textwrap:shorten")
    assert shorten("hello wide world", 12, placeholder="~") == "hello wide~"
    assert repr(shorten) == "deferred_call('textwrap:shorten')"


def test_deferred_call_hands_options_to_a_plugins_simulator_factory():
    app = importlib.import_module("plugins.example.plugin").plugin.simulator(token="t0k", seed=3)
    client = Client(app)
    assert client.get("/greetings?ids=1").status_code == 401
    answer = client.get("/greetings?ids=1", headers={"Authorization": "Bearer t0k"})
    assert answer.json == {"greetings": {"1": "Dzień dobry, #1"}}


@pytest.mark.parametrize("spec", ["plugins.wildcore.views.blueprint", "plugins.wildcore.views:", ":blueprint", "a:b:c"])
def test_malformed_spec_fails_the_declaration(spec):
    with pytest.raises(ValueError) as exc:
        deferred(spec)
    assert str(exc.value) == f"deferred spec {spec!r} must be 'package.module:attr'"


@pytest.mark.parametrize(
    ("spec", "cause"),
    [
        ("plugins.wildcore.no_such_module:blueprint", "No module named 'plugins.wildcore.no_such_module'"),
        ("plugins.wildcore.jobs:no_such_group", "has no attribute 'no_such_group'"),
    ],
)
def test_unresolvable_spec_names_itself_when_called(spec, cause):
    factory = deferred(spec)
    with pytest.raises(ImportError) as exc:
        factory()
    assert f"cannot load {spec!r}" in str(exc.value) and cause in str(exc.value)
    with pytest.raises(ImportError, match="cannot load"):
        deferred_call(spec)(1, 2)
