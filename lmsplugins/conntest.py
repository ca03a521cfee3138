"""Connection tests of provider plugins: ``lmsplugins NAME check`` and the settings page's button.

A plugin's :attr:`~lmsplugins.plugin.Plugin.connection_test` logs in with the saved settings and makes
one harmless read, yielding a :class:`~lmsplugins.plugin.CheckStep` for each thing that worked. The
host runs it the same way for the CLI and the web: an exception ends the test as a failed step
carrying the error's first line, and every secret setting's value is masked in everything said, so
neither a terminal nor a flash message ever shows a password the provider echoed back.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import click

from lmsplugins.errors import ConfigError
from lmsplugins.host import Host
from lmsplugins.plugin import CheckStep, Plugin
from lmsplugins.secrets import mask_text, secret_values

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


@dataclass
class ConnectionReport:
    plugin: str
    steps: list[CheckStep] = field(default_factory=list)
    config_error: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_CONFIG if self.config_error else EXIT_FAILED


def run_connection_test(host: Host, plugin: Plugin) -> ConnectionReport:
    """Run *plugin*'s connection test; never raises for what a provider or the settings can do wrong."""
    report = ConnectionReport(plugin.name)
    if plugin.connection_test is None:
        report.steps.append(CheckStep(f"{plugin.title} has no connection test", ok=False))
        return report
    started = time.monotonic()
    try:
        for step in plugin.connection_test(host):
            report.steps.append(step)
    except ConfigError as exc:
        report.config_error = True
        report.steps.append(CheckStep(_first_line(exc), ok=False))
    except Exception as exc:
        report.steps.append(CheckStep(_first_line(exc), ok=False))
    report.seconds = time.monotonic() - started
    secrets = secret_values(host)
    report.steps = [CheckStep(mask_text(s.what, secrets), s.ok, mask_text(s.detail, secrets)) for s in report.steps]
    return report


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0][:500] if text else "") or type(exc).__name__


def check_command(plugin: Plugin) -> click.Command:
    """The ``check`` subcommand added to the command group of a plugin that has a connection test."""

    from lmsplugins.cli import config_option

    @click.command(
        "check",
        help=f"Test the connection to {plugin.title}: log in with the saved settings and "
        "make one harmless read. Exit 0 all worked, 1 the provider failed, 2 the settings are wrong.",
    )
    @config_option
    def command() -> None:
        from lmsplugins.cli import get_host

        host = get_host()
        report = run_connection_test(host, plugin)
        for step in report.steps:
            line = f"{'ok' if step.ok else 'FAILED'}: {step.what}" + (f" ({step.detail})" if step.detail else "")
            click.echo(line, err=not step.ok)
        verdict = "works" if report.ok else "does not work"
        click.echo(f"{plugin.title}: the connection {verdict} ({report.seconds:.1f} s)")
        sys.exit(report.exit_code)

    return command
