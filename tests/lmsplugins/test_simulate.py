"""``lmsplugins simulate NAME``: every plugin's simulator starts through its extension point with the
flags' seed and credentials, serves in the foreground on loopback, says its URL and credentials, and
accepts exactly those credentials."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from lmsplugins.cli import main
from lmsplugins.loader import discover
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
    head = "".join(proc.stdout.readline() for _ in range(4))
    return proc, head


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
