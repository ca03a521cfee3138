"""The plugin contract: what a plugin declares and which extension points the host offers.

A plugin is data first (like a UISP CRM manifest or NetBox's ``PluginConfig``): name, LMS class name,
versions, typed settings and permissions are plain fields the host can list, validate and render
without running plugin code. Behaviour comes through optional extension points, each a callable the
host invokes lazily, so a plugin whose web part is broken still runs its cron jobs. The host declares
every installed plugin, enabled or not, so a declaration names its heavy parts (views, provider
clients, simulators) with :func:`deferred` and :func:`deferred_call` instead of importing them.

A plugin package exposes ``plugin = Plugin(...)`` in its ``plugin.py`` (in-tree under ``plugins/``)
or through an entry point in group ``lmsplugins.plugins`` pointing at that object.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from werkzeug.utils import ImportStringError, import_string

from lmsplugins.config import Config, to_bool
from lmsplugins.errors import ConfigError

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

    from lmsplugins.host import Host

SettingType = Literal["str", "int", "bool", "list"]

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_CLASS_RE = re.compile(r"^[0-9A-Za-z]+$")
_KEY_RE = re.compile(r"^[a-z0-9_-]+\.[a-z0-9_.-]+$", re.IGNORECASE)
_VERSION_RE = re.compile(r"^\d{10}$")
_SPEC_RE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


@dataclass(frozen=True)
class Setting:
    """A declared setting, read from ``lms.ini`` ``[section] var`` overlaid by ``uiconfig``."""

    key: str
    type: SettingType = "str"
    default: Any = None
    required: bool = False
    secret: bool = False
    description: str = ""
    choices: tuple[str, ...] = ()

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def var(self) -> str:
        return self.key.split(".", 1)[1]

    def parse(self, raw: str) -> Any:
        """Convert a raw string to the declared type, or raise ConfigError naming the key."""
        try:
            if self.type == "int":
                return int(raw.strip())
            if self.type == "bool":
                return to_bool(raw)
            if self.type == "list":
                return [item for item in re.split(r"[;,\s]+", raw) if item]
        except (ValueError, ConfigError):
            raise ConfigError(f"setting {self.key} = {raw!r} is not a valid {self.type}") from None
        if self.choices and raw not in self.choices:
            raise ConfigError(f"setting {self.key} = {raw!r} must be one of: {', '.join(self.choices)}")
        return raw


@dataclass(frozen=True)
class Permission:
    """A right a plugin adds to LMS's access table; granted through ``users.rights``."""

    name: str
    description: str = ""


@dataclass(frozen=True)
class MenuEntry:
    """A link in the web frame's menu, shown to users holding *permission* (None: everyone; a tuple:
    any one of them, e.g. a plugin's read-only and full-access rights)."""

    title: str
    endpoint: str
    permission: str | tuple[str, ...] | None = None
    order: int = 100


@dataclass(frozen=True)
class Panel:
    """A box on the LMS customer card. ``render(host, customer_id)`` returns HTML markup.
    ``permission`` as in :class:`MenuEntry`."""

    id: str
    title: str
    render: Callable[[Host, int], str]
    permission: str | tuple[str, ...] | None = None
    order: int = 100


@dataclass(frozen=True)
class NotifyAction:
    """A block/unblock action for ``lmsplugins notify``, named like lms-notify's ``name(param)``.

    ``params``: 0 no parameter, 1 exactly one, -1 optional. ``block``/``unblock`` receive the host,
    an open connection (inside the run's transaction), the customer ids and the parameter, and
    return how many services they changed.

    The run itself (channel, ``debug``, ``quiet``, the nodes lms-notify picked, every action's
    parameter) is ``lmsplugins.notify.current_run()`` while the action runs. In a debug run
    (``lmsplugins notify -d``) an action is *not called at all* unless it sets ``dry_run=True``,
    which promises that it reads ``current_run().debug`` and then calls no provider and changes
    nothing, only reporting what it would do.
    """

    name: str
    block: Callable[[Host, Any, Sequence[int], str | None], int]
    unblock: Callable[[Host, Any, Sequence[int], str | None], int]
    params: int = 0
    description: str = ""
    dry_run: bool = False


@dataclass(frozen=True)
class AttentionItem:
    """Something on the start page that needs a human: what, how many, and where to act on it.

    Link with *endpoint* (and *params*) for a page of the panels, or with a ready *url*. ``severity``:
    ``info``, ``warning`` or ``error``. ``permission`` as in :class:`MenuEntry`: users without it do
    not see the item.
    """

    title: str
    count: int
    endpoint: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    url: str | None = None
    severity: Literal["info", "warning", "error"] = "warning"
    permission: str | tuple[str, ...] | None = None


@dataclass(frozen=True)
class CheckStep:
    """One step of a connection test that worked (or, with ``ok=False``, did not), said for people.

    Never put a secret in ``what`` or ``detail``; the host masks every secret setting's value anyway.
    """

    what: str
    ok: bool = True
    detail: str = ""


class _Deferred:
    """The object a ``"package.module:attr"`` spec names, imported on the first call and kept.

    The spec's form is checked when the plugin is declared (a typo there fails the declaration, which
    the host lists with its reason); whether the module and attribute exist is known only on import.
    """

    __slots__ = ("_resolved", "_target", "spec")

    def __init__(self, spec: str):
        if not isinstance(spec, str) or not _SPEC_RE.match(spec):
            raise ValueError(f"deferred spec {spec!r} must be 'package.module:attr'")
        self.spec = spec
        self._target: Any = None
        self._resolved = False

    def resolve(self) -> Any:
        """The named object; ImportError naming the spec when the module or attribute is missing."""
        if not self._resolved:
            try:
                self._target = import_string(self.spec)
            except ImportStringError as exc:
                raise ImportError(f"cannot load {self.spec!r}: {exc.exception}") from exc
            self._resolved = True
        return self._target

    def __call__(self) -> Any:
        return self.resolve()

    def __repr__(self) -> str:
        return f"deferred({self.spec!r})"


class _DeferredCall(_Deferred):
    """Like :class:`_Deferred`, but calling it calls the named object with the same arguments."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"deferred_call({self.spec!r})"


def deferred(spec: str) -> Callable[[], Any]:
    """A zero-argument factory returning the object *spec* names, for ``cli``, ``blueprint``, ``tables``.

    *spec* is ``"package.module:attr"``, absolute; in a plugin write ``f"{__package__}.views:blueprint"``
    so the spec follows the package wherever it is installed. Nothing is imported until the first call.
    """
    return _Deferred(spec)


def deferred_call(spec: str) -> Callable[..., Any]:
    """A callable forwarding its arguments to the function *spec* names, imported on the first call.

    For extension points the host calls with arguments (a panel's ``render``, ``simulator``, ``demo``,
    ``attention``, ``connection_test``) when the plugin's function takes them as they come; a function
    that adapts them stays a function in ``plugin.py``.
    """
    return _DeferredCall(spec)


@dataclass
class Plugin:
    """A plugin's declaration. Only ``name``, ``title``, ``lms_class`` and ``version`` are required."""

    name: str
    title: str
    lms_class: str
    version: str
    db_version: str | None = None
    description: str = ""
    settings: Sequence[Setting] = ()
    permissions: Sequence[Permission] = ()
    cli: Callable[[], click.Group] | None = None
    blueprint: Callable[[], Blueprint] | None = None
    menu: Sequence[MenuEntry] = ()
    panels: Sequence[Panel] = ()
    notify_actions: Sequence[NotifyAction] = ()
    tables: Callable[[], Sequence[Table]] | None = None
    simulator: Callable[..., Any] | None = None
    demo: Callable[[DemoContext], None] | None = None
    checks: Callable[[Host], list[str]] | None = None
    attention: Callable[[Host, Connection], list[AttentionItem]] | None = None
    """Start page: what of this plugin needs a human (read-only queries on the given connection;
    keep them cheap, they run on every visit of the start page)."""
    connection_test: Callable[[Host], Iterator[CheckStep]] | None = None
    """``lmsplugins NAME check`` and the settings page's button: log in to the provider with the saved
    settings and make one harmless read, yielding a step for each thing that worked; raising ends
    the test with the error as the failed step (ConfigError: the settings are wrong)."""
    counter_labels: Mapping[str, str] = field(default_factory=dict)
    """Job counter name -> label for people (English; translated through the message catalogue)."""
    bin_scripts: Mapping[str, Sequence[str]] = field(default_factory=dict)
    root: Path | None = None

    def validate(self) -> None:
        """Raise ValueError describing the first thing wrong with the declaration."""
        if not _NAME_RE.match(self.name):
            raise ValueError(f"plugin name {self.name!r} must be lower-case letters, digits and _")
        if not _CLASS_RE.match(self.lms_class):
            raise ValueError(f"LMS class name {self.lms_class!r} must be letters and digits (as LMS requires)")
        if self.db_version is not None and not _VERSION_RE.match(self.db_version):
            raise ValueError(f"db version {self.db_version!r} must be YYYYMMDDNN")
        seen: set[str] = set()
        for setting in self.settings:
            if not _KEY_RE.match(setting.key):
                raise ValueError(f"setting key {setting.key!r} must be 'section.var'")
            if setting.key.lower() in seen:
                raise ValueError(f"setting {setting.key} declared twice")
            seen.add(setting.key.lower())
            if setting.default is not None and not isinstance(setting.default, str | int | bool | list):
                raise ValueError(f"setting {setting.key}: default must be str, int, bool or list")

    @property
    def dbinfo_key(self) -> str:
        return f"dbversion_{self.lms_class}"

    @property
    def sql_dir(self) -> Path | None:
        return self.root / "sql" if self.root else None

    @property
    def command_name(self) -> str:
        return self.name.replace("_", "-")

    def resolve_settings(self, config: Config) -> PluginSettings:
        """Typed values of every declared setting; a missing required one is a ConfigError."""
        values: dict[str, Any] = {}
        missing: list[str] = []
        for setting in self.settings:
            raw = config.get(setting.key)
            if raw is None:
                if setting.required:
                    missing.append(setting.key)
                values[setting.key] = setting.default
            else:
                values[setting.key] = setting.parse(raw)
        if missing:
            where = " and ".join(missing)
            raise ConfigError(
                f"{self.title}: required setting {where} is not set; add it to lms.ini "
                f"(section [{missing[0].split('.')[0]}]) or to uiconfig"
            )
        return PluginSettings(values, {s.key for s in self.settings if s.secret})


class PluginSettings(Mapping[str, Any]):
    """Resolved settings of one plugin. ``repr`` masks secrets so they never reach a log."""

    def __init__(self, values: dict[str, Any], secrets: set[str]):
        self._values = values
        self._secrets = secrets

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        shown = {k: ("***" if k in self._secrets and v else v) for k, v in self._values.items()}
        return f"PluginSettings({shown})"


@dataclass
class DemoContext:
    """What ``lmsplugins demo`` hands a plugin: the host, its simulator's URL and a job launcher.

    ``set_setting(key, value)`` writes a global ``uiconfig`` row; ``run(args)`` runs an
    ``lmsplugins`` command line in-process (exactly what an administrator would type) and returns its
    exit code. ``simulator_settings`` is what the simulator declares its client needs (its
    ``client_settings(url)``: URL, credentials, anything else a login takes), the same lines
    ``lmsplugins simulate`` prints, so a demo sets them rather than knowing them a second time.
    """

    host: Host
    simulator_url: str | None
    set_setting: Callable[[str, str], None]
    run: Callable[[Sequence[str]], int]
    data_dir: Path
    simulator_settings: dict[str, str] = field(default_factory=dict)
