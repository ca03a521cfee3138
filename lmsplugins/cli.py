"""The ``lmsplugins`` command: host commands plus one subgroup per plugin.

Plugin subgroups are listed from discovery alone (no ini file needed for ``--help``); a subgroup of a
plugin that is not enabled refuses to run with a message naming the setting to change. Every
command accepts ``-C/--config-file`` (also after the subcommand, so ``bin/`` shims can pass a PHP
script's arguments through unchanged).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from lmsplugins import __version__
from lmsplugins.errors import ConfigError, LMSPluginsError
from lmsplugins.host import Host

F = TypeVar("F", bound=Callable[..., Any])


class CliState:
    def __init__(self, config_path: str | None = None):
        self.config_path = config_path
        self._host: Host | None = None

    @property
    def host(self) -> Host:
        if self._host is None:
            self._host = Host(self.config_path, create_sqlite=False)
        return self._host


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        state = ctx.find_object(CliState)
        if state is None:
            ctx.obj = CliState(value)
        else:
            state.config_path = value
            state._host = None
    return value


def config_option(func: F) -> F:
    """``-C/--config-file`` on any command; it overrides the group's."""
    return click.option(
        "-C",
        "--config-file",
        "config_file",
        type=click.Path(dir_okay=False),
        expose_value=False,
        callback=_set_config,
        is_eager=True,
        help="lms.ini to use (default: $LMS_CONFIG, else /etc/lms/lms.ini).",
    )(func)


def get_host() -> Host:
    """The Host of the running command (built once from the effective ``-C``).

    Inside a plugin's command group it also refuses a plugin that ``lmsplugins.plugins`` does not
    enable, with a message naming that setting (exit 2).
    """
    ctx = click.get_current_context()
    state = ctx.find_object(CliState)
    if state is None:
        state = ctx.ensure_object(CliState)
    host = state.host
    plugin_name = ctx.meta.get("lmsplugins.plugin")
    if plugin_name:
        try:
            plugin = host.registry.get(plugin_name)
            enabled = plugin is not None and host.registry.is_enabled(plugin)
        except LMSPluginsError as exc:
            fail(exc)
            raise
        if not enabled:
            fail(
                LMSPluginsError(
                    f"plugin {plugin_name} is not enabled; add it to setting lmsplugins.plugins "
                    "(lms.ini [lmsplugins] plugins = ..., or uiconfig)"
                ).with_exit_code(2)
            )
    return host


def fail(exc: LMSPluginsError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


class PluginGroup(click.Group):
    """A click group that adds each discovered plugin's command group lazily.

    It is also the last guard of every command: an LMSPluginsError that a command let through, or a
    database error (a database without the LMS schema, a table a plugin has not installed yet),
    ends in one line and exit 2 instead of a traceback.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        """Click's own usage errors (a bad option value, an unknown option) as one ``error:`` line,
        like every other refusal, instead of click's usage block."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "lmsplugins"
            click.echo(f"error: {exc.format_message()} (see '{where} --help')", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import DBAPIError

        try:
            return super().invoke(ctx)
        except LMSPluginsError as exc:
            fail(exc)
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
            fail(
                ConfigError(
                    f"database error: {reason[:300]}; is [database] in lms.ini the LMS database? "
                    "'lmsplugins db check' lists what is missing"
                )
            )

    def _plugin_groups(self, ctx: click.Context) -> dict[str, tuple[Any, click.Command]]:
        cache = ctx.meta.setdefault("lmsplugins.plugin_groups", {})
        if cache:
            return cache
        # Subcommands are resolved before the group's callback runs, so build the state here.
        if not isinstance(ctx.obj, CliState):
            ctx.obj = CliState(ctx.params.get("config_file"))
        for plugin in ctx.obj.host.registry.found:
            if plugin.cli is None:
                continue
            try:
                group = plugin.cli()
            except Exception as exc:  # a broken plugin CLI must not break the host CLI
                group = click.Command(
                    plugin.command_name,
                    help=f"(broken: {type(exc).__name__}: {exc})",
                    callback=lambda e=exc: fail(LMSPluginsError(f"plugin CLI failed to load: {e}")),
                )
            group.name = plugin.command_name
            if plugin.connection_test is not None and isinstance(group, click.Group) and "check" not in group.commands:
                from lmsplugins.conntest import check_command

                group.add_command(check_command(plugin))
            cache[plugin.command_name] = (plugin, group)
        return cache

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugin_groups(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        found = self._plugin_groups(ctx).get(cmd_name)
        if found is None:
            return None
        ctx.meta["lmsplugins.plugin"] = found[0].name
        return found[1]


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "--config-file",
    "config_file",
    type=click.Path(dir_okay=False),
    help="lms.ini to use (default: $LMS_CONFIG, else /etc/lms/lms.ini).",
)
@click.version_option(__version__, prog_name="lmsplugins")
@click.pass_context
def main(ctx: click.Context, config_file: str | None) -> None:
    """lmsplugins: LMS integrations (Hiperus C5, Metroport, ...) beside your LMS."""
    if ctx.obj is None:
        ctx.obj = CliState(config_file)
    elif config_file and not ctx.obj.config_path:
        ctx.obj.config_path = config_file


NO_PLUGIN_LIST = (
    "lmsplugins.plugins is not set, so no plugin is enabled; name the ones to run in lms.ini "
    "[lmsplugins] plugins = Name[:priority] ... (or uiconfig), then run 'lmsplugins db upgrade'"
)


def _setting_lines(plugin: Any, config: Any) -> list[str]:
    """``key = value`` of each declared setting as the plugin would read it; secrets masked."""
    lines = []
    for setting in plugin.settings:
        raw = config.get(setting.key) if config is not None else None
        if raw is None:
            if setting.required:
                shown = "(not set; required)"
            else:
                shown = f"{setting.default!r} (default)" if setting.default not in (None, "") else "(not set)"
        elif setting.secret:
            shown = "*** (set)" if raw else "(empty)"
        else:
            shown = repr(raw)
        lines.append(f"    {setting.key} = {shown}")
    return lines


@main.command("plugins")
@config_option
@click.option("--no-settings", is_flag=True, help="Only the plugins, not their settings' current values.")
def plugins_cmd(no_settings: bool) -> None:
    """List plugins: enabled or not, versions, their settings' current values (secrets masked), and the
    ones that failed to load with the reason."""
    host = get_host()
    registry = host.registry
    db_versions: dict[str, str | None] = {}
    try:
        from lmsplugins.lms.settings import get_dbinfo

        with host.engine.connect() as conn:
            db_versions = {p.name: get_dbinfo(conn, p.dbinfo_key) for p in registry.found if p.db_version}
    except Exception as exc:
        click.echo(f"(database not reachable, schema versions not shown: {exc})", err=True)
    config: Any = None
    for read in (host.config, lambda: host.ini_config):
        try:
            config = read()
            break
        except Exception:
            continue
    if registry.listed is None:
        click.echo(NO_PLUGIN_LIST)
    for plugin in sorted(registry.found, key=lambda p: p.name):
        state = "enabled " if registry.is_enabled(plugin) else "disabled"
        schema = ""
        if plugin.db_version:
            schema = f" schema {db_versions.get(plugin.name) or 'not installed'}/{plugin.db_version}"
        click.echo(
            f"{state} {plugin.name:<16} {plugin.version:<8} {plugin.lms_class:<26}{schema}  {plugin.title}"
            f"  [{registry.why(plugin.name)}]"
        )
        if not no_settings:
            for line in _setting_lines(plugin, config):
                click.echo(line)
    for failed in registry.failed:
        click.echo(f"FAILED   {failed.name:<16} {failed.origin}: {failed.reason}  [{registry.why(failed.name)}]")
    for name in registry.unknown_enabled:
        click.echo(f"MISSING  {name:<16} named in lmsplugins.plugins but not installed")


@main.group("db")
def db_group() -> None:
    """Check and upgrade the database schema of the host and its plugins."""


@db_group.command("check")
@config_option
def db_check() -> None:
    """Verify the LMS core schema and every table and column the host and enabled plugins need."""
    from lmsplugins.checks import check_database

    try:
        report = check_database(get_host())
    except LMSPluginsError as exc:
        fail(exc)
        return
    for note in report.notes:
        click.echo(f"ok: {note}")
    if get_host().registry.listed is None:
        click.echo(f"note: {NO_PLUGIN_LIST}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if report.errors:
        sys.exit(2)
    click.echo("database check passed")


@db_group.command("upgrade")
@config_option
def db_upgrade() -> None:
    """Apply pending schema steps of the host and of every enabled plugin."""
    from lmsplugins.checks import ensure_core_schema, sources
    from lmsplugins.migrate import upgrade

    host = get_host()
    try:
        ensure_core_schema(host.engine)
        applied = 0
        for source in sources(host):
            applied += len(upgrade(host.engine, source, echo=click.echo))
    except LMSPluginsError as exc:
        fail(exc)
        return
    click.echo(f"{applied} step(s) applied" if applied else "schema is up to date")
    if host.registry.listed is None:
        click.echo(f"note: {NO_PLUGIN_LIST}")
    for name in host.registry.unknown_enabled:
        click.echo(f"warning: lmsplugins.plugins names {name!r}, which is not installed", err=True)


@main.command("serve")
@config_option
@click.option("--host", "bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
def serve_cmd(bind: str, port: int) -> None:
    """Serve the web panels with Flask's server (use gunicorn in production, see README)."""
    from lmsplugins.web import create_app

    try:
        app = create_app(get_host())
    except LMSPluginsError as exc:
        fail(exc)
        return
    app.run(host=bind, port=port, debug=False, use_reloader=False)


@main.command("demo")
@click.option("--data-dir", default="demo-data", show_default=True, type=click.Path(file_okay=False))
@click.option("--no-serve", is_flag=True, help="Stop after the demo jobs (for scripts and CI).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Web port.")
@click.option("--fresh/--keep", default=True, show_default=True, help="Start from a new database.")
def demo_cmd(data_dir: str, no_serve: bool, port: int, fresh: bool) -> None:
    """Run a self-contained demo: SQLite LMS, provider simulators, the plugins' jobs, the web panels."""
    from lmsplugins.demo import run_demo

    started = time.monotonic()
    try:
        code = run_demo(data_dir, serve=not no_serve, port=port, fresh=fresh)
    except LMSPluginsError as exc:
        fail(exc)
        return
    click.echo(f"demo finished in {time.monotonic() - started:.1f}s")
    sys.exit(code)


def _add_builtin_commands() -> None:
    from lmsplugins.bridge import bridge_group
    from lmsplugins.jobs_cli import jobs_group
    from lmsplugins.notify import notify_cmd
    from lmsplugins.simulate import simulate_cmd

    main.add_command(bridge_group)
    main.add_command(jobs_group)
    main.add_command(notify_cmd)
    main.add_command(simulate_cmd)


if __name__ == "__main__":
    # ``python -m lmsplugins.cli`` runs this file as ``__main__``, a second copy of the module: the
    # command modules (bridge, notify, ...) import ``lmsplugins.cli`` and register on that one, so run
    # its group, and do not import them from this copy (that import would be circular).
    from lmsplugins.cli import main as _importable_main

    _importable_main()
else:
    _add_builtin_commands()
