"""``lmsplugins simulate NAME``: a plugin's provider simulator in the foreground, on loopback.

An ISP can try a plugin, and its own scripts, without a provider contract: the simulator speaks the
provider's wire protocol over a real socket. Every plugin offers one through its ``simulator``
extension point, a factory taking keyword options; this command passes ``seed``, ``login`` and
``password`` and leaves out what a factory does not take (a token-based API gets the password as its
``token`` or ``api_key``; a simulator that checks no credentials gets none), so present and future
plugins need nothing more than the extension point. What it accepts is printed with its URL.

A login may need more than a login and a password (Hiperus C5 also wants a domain, at a path under the
URL), so the app a factory returns may offer ``client_settings(url)``: the plugin's settings, by key,
that point its client at that instance. They are printed as an lms.ini block (the same keys work as
uiconfig rows), the lines an administrator copies; ``lmsplugins demo`` sets the same values.
"""

from __future__ import annotations

import re
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

import click

from lmsplugins.loader import discover
from lmsplugins.simserver import serve

_UNEXPECTED = re.compile(r"unexpected keyword argument '(\w+)'")
ALTERNATIVES = {"login": ("username",), "password": ("token", "api_key")}
"""Names a simulator may use for the credential the flag sets, tried in this order."""


def ini_block(settings: dict[str, str]) -> list[str]:
    """*settings* (``section.key``) as lms.ini lines, values single-quoted so none is read as a boolean
    or has ``${...}`` expanded (double quotes when the value holds a single quote)."""
    lines: list[str] = []
    section = None
    for key, value in settings.items():
        head, _, name = key.partition(".")
        if head != section:
            section = head
            lines.append(f"[{head}]")
        quoted = f"'{value}'" if "'" not in value else '"' + value.replace('"', '\\"') + '"'
        lines.append(f"{name} = {quoted}")
    return lines


def build(factory: Callable[..., Any], seed: int, login: str, password: str) -> tuple[Any, dict[str, Any]]:
    """The simulator app and the options it took (a subset of seed, login, password or their aliases)."""
    options: dict[str, Any] = {"seed": seed, "login": login, "password": password}
    pending = {key: list(alts) for key, alts in ALTERNATIVES.items()}
    for _ in range(12):
        try:
            return factory(**options), options
        except TypeError as exc:
            found = _UNEXPECTED.search(str(exc))
            if found is None or found.group(1) not in options:
                raise
            name = found.group(1)
            value = options.pop(name)
            flag = next((k for k in pending if name == k or name in ALTERNATIVES[k]), None)
            if flag is not None and pending[flag]:
                options[pending[flag].pop(0)] = value
    raise TypeError("the simulator factory refused every option")


@click.command("simulate")
@click.argument("name")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535), help="0: any free port.")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the simulated data.")
@click.option("--login", default="lmsplugins", show_default=True, help="Login the simulator accepts.")
@click.option("--password", default="lmsplugins-secret", show_default=True, help="Password (or token) it accepts.")
def simulate_cmd(name: str, port: int, seed: int, login: str, password: str) -> None:
    """Run plugin NAME's provider simulator on 127.0.0.1 until Ctrl-C (or SIGTERM)."""
    registry = discover()
    plugin = registry.get(name)
    if plugin is None:
        with_sim = sorted(p.command_name for p in registry.found if p.simulator is not None)
        click.echo(f"error: no plugin {name!r}; plugins with a simulator: {', '.join(with_sim) or 'none'}", err=True)
        sys.exit(2)
    if plugin.simulator is None:
        click.echo(f"error: plugin {plugin.name} offers no simulator", err=True)
        sys.exit(2)
    try:
        app, took = build(plugin.simulator, seed, login, password)
    except Exception as exc:
        click.echo(f"error: {plugin.name}'s simulator could not start: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    try:
        if port:
            # werkzeug reports a busy port in two lines of its own and exits; say it in one.
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind(("127.0.0.1", port))
        server = serve(app, port)
    except OSError as exc:
        click.echo(f"error: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    stop = threading.Event()
    # Before the lines that announce it: whoever reads them may stop it at once.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    creds = ", ".join(f"{k}={v}" for k, v in took.items() if k != "seed") or "none (it checks no credentials)"
    click.echo(f"{plugin.title} simulator at {server.url}")
    click.echo(f"credentials: {creds}")
    click.echo(f"seed: {took['seed']}" if "seed" in took else "seed: not used by this simulator")
    settings = server.client_settings()
    if settings:
        click.echo("settings (lms.ini, or uiconfig rows section.key):")
        for line in ini_block(settings):
            click.echo(f"  {line}")
    click.echo("Ctrl-C stops it.", nl=True)
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    click.echo("simulator stopped")
