"""The host object: one place that turns a config path into config, engine, settings and plugins.

The CLI, the job runner, the web app and the tests all start from a :class:`Host`, so there is one
way in to each resource. Everything is loaded lazily: ``lmsplugins --help`` works without an ini
file, and a command that needs none never opens a database connection.
"""

from __future__ import annotations

import os
import time
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from lmsplugins.config import Config, UiConfigRow
from lmsplugins.db import check_connection, make_engine, missing_sqlite_file
from lmsplugins.errors import ConfigError
from lmsplugins.loader import Registry, discover, enable
from lmsplugins.plugin import Plugin, PluginSettings

UICONFIG_TTL = 5.0
"""Seconds a process trusts its copy of ``uiconfig`` before reading it again."""


class Host:
    """Config, database and plugins for one LMS installation."""

    def __init__(
        self,
        config_path: str | os.PathLike[str] | None = None,
        config: Config | None = None,
        uiconfig_ttl: float = UICONFIG_TTL,
        create_sqlite: bool = True,
    ):
        """*create_sqlite* False refuses a ``[database]`` SQLite file that does not exist yet (the
        CLI: a mistyped path must not become an empty database); tests and the demo create one."""
        self._config_path = config_path
        self.create_sqlite = create_sqlite
        self._ini_config = config
        self._engine: Engine | None = None
        self._ui_rows: tuple[UiConfigRow, ...] | None = None
        self._ui_read_at = 0.0
        self.uiconfig_ttl = uiconfig_ttl

    @property
    def ini_config(self) -> Config:
        """The ini file alone (raises ConfigError when it cannot be read)."""
        if self._ini_config is None:
            self._ini_config = Config.load(self._config_path)
        return self._ini_config

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            missing = None if self.create_sqlite else missing_sqlite_file(self.ini_config)
            if missing is not None:
                raise ConfigError(f"SQLite database {missing} does not exist; check [database] database in lms.ini")
            engine = make_engine(self.ini_config)
            check_connection(engine)
            self._engine = engine
        return self._engine

    def uiconfig_rows(self, refresh: bool = False) -> tuple[UiConfigRow, ...]:
        """Enabled ``uiconfig`` rows, re-read when older than :attr:`uiconfig_ttl` seconds.

        LMS reads them once per PHP request; a long-lived worker must also see a change made in
        LMS's config page or by another worker, so the copy expires. ``uiconfig`` has no change
        stamp to ask for instead, and the table is small: one SELECT every few seconds is cheap.
        """
        from lmsplugins.lms.tables import uiconfig

        now = time.monotonic()
        if self._ui_rows is None or refresh or now - self._ui_read_at >= self.uiconfig_ttl:
            t = uiconfig
            with self.engine.connect() as conn:
                try:
                    rows = conn.execute(
                        select(t.c.id, t.c.section, t.c.var, t.c.value, t.c.userid, t.c.divisionid, t.c.disabled).where(
                            t.c.disabled == 0
                        )
                    ).all()
                except DBAPIError:
                    conn.rollback()
                    if inspect(conn).has_table(t.name):
                        raise
                    raise ConfigError(
                        f"database {self.engine.url.database} has no LMS schema (no table {t.name}); "
                        "check [database] in lms.ini names the LMS database"
                    ) from None
            self._ui_rows = tuple(
                UiConfigRow(
                    id=r.id,
                    section=r.section,
                    var=r.var,
                    value=r.value,
                    userid=r.userid,
                    divisionid=r.divisionid,
                    disabled=r.disabled,
                )
                for r in rows
            )
            self._ui_read_at = now
        return self._ui_rows

    def config(self, divisionid: int | None = None, userid: int | None = None) -> Config:
        """ini overlaid by uiconfig for a (division, user) context, as ``ConfigHelper`` resolves it."""
        return self.ini_config.with_uiconfig(self.uiconfig_rows(), divisionid, userid)

    def refresh_settings(self) -> None:
        self._ui_rows = None

    @cached_property
    def registry(self) -> Registry:
        """Plugins found, and the ones enabled: only those named in ``lmsplugins.plugins`` (lms.ini or
        uiconfig, as LMS's ``phpui.plugins``). The list may live in uiconfig, so it reads the database
        when one is reachable, else the ini file alone; with no list at all no plugin is enabled."""
        extra: list[Path] = []
        enabled: list[str] | None = None
        listed_from: str | None = None
        try:
            config = self.config()
        except Exception:
            config = self._ini_config_or_none()
        if config is not None:
            extra = [Path(p) for p in config.get_list("lmsplugins.plugin_dirs")]
            if "lmsplugins.plugins" in config:
                enabled = config.get_list("lmsplugins.plugins")
                listed_from = config.source("lmsplugins.plugins")
        registry = discover(extra)
        return enable(registry, enabled, listed_from)

    def _ini_config_or_none(self) -> Config | None:
        try:
            return self.ini_config
        except Exception:
            return None

    def plugin(self, name: str) -> Plugin | None:
        return self.registry.get(name)

    def plugin_settings(
        self, plugin: Plugin, divisionid: int | None = None, userid: int | None = None
    ) -> PluginSettings:
        return plugin.resolve_settings(self.config(divisionid, userid))

    def set_uiconfig(self, key: str, value: str, description: str = "", **scope: Any) -> None:
        """Write a global (or scoped) uiconfig row the way LMS stores it; creates or updates."""
        from lmsplugins.lms.settings import write_uiconfig

        with self.engine.begin() as conn:
            write_uiconfig(conn, key, value, description=description, **scope)
        self.refresh_settings()

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
