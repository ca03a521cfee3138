"""The PHP plugins' script names (``lms_hiperus_c5_import``, ``lms-metroportmvno-sync``, ...) as commands.

An ISP's crontab names the PHP script; the drop-in is the same name in the venv's ``bin/``, installed by
pip from ``[project.scripts]``, so a cron line with the venv's path works under cron's minimal PATH.
Each entry points at ``lmsplugins.dropin:run_<plugin name>``; the name the command was started as
(``argv[0]``) is looked up in that plugin's ``bin_scripts`` declaration, which gives the ``lmsplugins``
command line it stands for; the script's own arguments follow unchanged. When the plugin is not
installed, or no longer declares the name, the command says so in one line and exits 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from lmsplugins.loader import discover


def command_line(plugin_name: str, script: str, args: Sequence[str]) -> list[str]:
    """The ``lmsplugins`` arguments *script* of *plugin_name* stands for; one line and exit 2 when none."""
    registry = discover()
    plugin = next((p for p in registry.found if p.name == plugin_name), None)
    if plugin is None:
        broken = next((f for f in registry.failed if f.name == plugin_name), None)
        why = f"failed to load: {broken.reason}" if broken else "is not installed"
        click.echo(
            f"error: {script} is a command of the lmsplugins plugin {plugin_name}, which {why}; "
            f"install it (or remove this script's cron line)",
            err=True,
        )
        raise SystemExit(2)
    prefix = plugin.bin_scripts.get(script)
    if prefix is None:
        names = ", ".join(sorted(plugin.bin_scripts)) or "none"
        click.echo(f"error: plugin {plugin_name} declares no drop-in script {script} (it has: {names})", err=True)
        raise SystemExit(2)
    return [*prefix, *args]


def dispatch(plugin_name: str, argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0]).name
    from lmsplugins.cli import main

    main(args=command_line(plugin_name, script, argv[1:]), prog_name=script)


def __getattr__(name: str) -> Callable[[], None]:
    """``run_<plugin>`` for every plugin, present or future, without a function written per plugin."""
    if name.startswith("run_") and len(name) > 4:
        plugin_name = name[4:]

        def run() -> None:
            dispatch(plugin_name)

        run.__name__ = name
        return run
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
