"""``lmsplugins simulate NAME``: every plugin's simulator starts through its extension point with the
flags' seed and credentials, serves in the foreground on loopback, says its URL and credentials, and
accepts exactly those credentials. The settings it prints (an lms.ini block) are all a plugin's own
client needs: configured with exactly those, it makes a call against the running simulator."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from lmsplugins.cli import main
from lmsplugins.config import Config, parse_ini
from lmsplugins.loader import discover
from lmsplugins.plugin import PluginSettings
from lmsplugins.simulate import build

LMSPLUGINS = Path(sys.executable).parent / "lmsplugins"


@pytest.mark.parametrize("plugin", [p for p in discover().found if p.simulator is not None], ids=lambda p: p.name)
def test_every_plugins_simulator_takes_the_flags(plugin):
    _app, took = build(plugin.simulator, 7, "who", "pass-7")
    assert callable(_app)
    assert "pass-7" in took.values() or took.keys() <= {"seed"}, took


def _start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [str(LMSPLUGINS), "simulate", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1] not in ("", "Ctrl-C stops it.\n"):
        lines.append(proc.stdout.readline())
    return proc, "".join(lines)


def _printed_settings(head: str) -> dict[str, dict[str, str]]:
    """The lms.ini block under the ``settings`` line, parsed the way the host reads lms.ini."""
    block = head.split("settings (lms.ini", 1)[1].split("\n", 1)[1].split("Ctrl-C stops it.")[0]
    return parse_ini(textwrap.dedent(block))


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    return out


def test_metroport_mvno_simulator_accepts_the_given_login_only():
    from plugins.metroport_mvno.client import MetroportMVNOClient

    proc, head = _start("metroport-mvno", "--seed", "5", "--login", "isp-op", "--password", "isp-pass")
    try:
        url = re.search(r"at (http://127\.0\.0\.1:\d+)", head)
        assert url, head
        assert "credentials: login=isp-op, password=isp-pass" in head and "seed: 5" in head
        assert MetroportMVNOClient(url.group(1), "isp-op", "isp-pass").traffic_types()
        with pytest.raises(Exception, match=r"(?i)auth|login|401|403|credential"):
            MetroportMVNOClient(url.group(1), "isp-op", "wrong", call_retries=0).traffic_types()
    finally:
        assert "simulator stopped" in _stop(proc)


def test_token_simulator_gets_the_password_as_its_token():
    proc, head = _start("example", "--password", "tok-1")
    try:
        url = re.search(r"at (http://127\.0\.0\.1:\d+)", head).group(1)
        assert "credentials: token=tok-1" in head
        good = requests.get(f"{url}/greetings", headers={"Authorization": "Bearer tok-1"}, timeout=10)
        bad = requests.get(f"{url}/greetings", headers={"Authorization": "Bearer nope"}, timeout=10)
        assert good.status_code == 200 and bad.status_code == 401
    finally:
        _stop(proc)


def test_unknown_plugin_and_busy_port_are_one_line():
    result = CliRunner().invoke(main, ["simulate", "nosuch"])
    assert result.exit_code == 2 and "no plugin 'nosuch'" in result.output and "metroport-mvno" in result.output
    proc, head = _start("example")
    try:
        port = re.search(r":(\d+)\n", head).group(1)
        busy = CliRunner().invoke(main, ["simulate", "example", "--port", port])
        assert busy.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in busy.output
    finally:
        _stop(proc)


def _hiperus_call(settings: PluginSettings) -> Any:
    from plugins.hiperus_c5.client import HiperusClient

    client = HiperusClient(
        settings["hiperus_c5.username"],
        settings["hiperus_c5.password"],
        settings["hiperus_c5.domain"],
        settings["hiperus_c5.api_url"],
        call_retries=0,
    )
    return client.get_customer_list(limit=1)


def _mms_call(settings: PluginSettings) -> Any:
    from plugins.metroport_mms.client import MMSClient

    with MMSClient.from_settings(settings) as client:
        return client.networks()


def _mvno_call(settings: PluginSettings) -> Any:
    from plugins.metroport_mvno.client import MetroportMVNOClient

    with MetroportMVNOClient.from_settings(settings, call_retries=0) as client:
        return client.traffic_types()


def _wildcore_call(settings: PluginSettings) -> Any:
    from plugins.wildcore.client import WildcoreClient

    with WildcoreClient.from_settings(settings) as client:
        return client.diag(1)


def _example_call(settings: PluginSettings) -> Any:
    from plugins.example.client import GreetingClient

    return GreetingClient(settings["example.api_url"], settings["example.api_token"]).greetings([1, 2])


ONE_CALL: dict[str, Callable[[PluginSettings], Any]] = {
    "example": _example_call,
    "hiperus_c5": _hiperus_call,
    "metroport_mms": _mms_call,
    "metroport_mvno": _mvno_call,
    "wildcore": _wildcore_call,
}
"""One call of each plugin's own client, built from resolved settings the way its jobs build it."""


@pytest.mark.parametrize("plugin", [p for p in discover().found if p.simulator is not None], ids=lambda p: p.name)
def test_printed_settings_are_all_the_plugins_client_needs(plugin):
    assert plugin.name in ONE_CALL, f"{plugin.name} has a simulator: add its client's call to ONE_CALL"
    proc, head = _start(plugin.command_name, "--login", "isp-op", "--password", "isp-pass-9")
    try:
        url = re.search(r"at (http://127\.0\.0\.1:\d+)", head).group(1)
        printed = _printed_settings(head)
        flat = {f"{section}.{key}": value for section, keys in printed.items() for key, value in keys.items()}
        assert flat and all(key in {s.key for s in plugin.settings} for key in flat), flat
        assert any(value.startswith(url) for value in flat.values()), flat
        assert ONE_CALL[plugin.name](plugin.resolve_settings(Config.from_mapping(printed)))
    finally:
        _stop(proc)


def test_hiperus_login_needs_the_printed_domain():
    from plugins.hiperus_c5.client import HiperusError

    proc, head = _start("hiperus-c5", "--login", "isp-op", "--password", "isp-pass-9")
    try:
        printed = _printed_settings(head)
        assert printed["hiperus_c5"]["domain"] == "demo.hiperus.pl"
        assert printed["hiperus_c5"]["api_url"].endswith("/hiperusapi.php")
        printed["hiperus_c5"]["domain"] = "other.example.pl"
        plugin = discover().get("hiperus_c5")
        with pytest.raises(HiperusError, match="Invalid username, password or domain"):
            _hiperus_call(plugin.resolve_settings(Config.from_mapping(printed)))
    finally:
        _stop(proc)
