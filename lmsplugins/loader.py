"""Plugin discovery, enabling and failure containment (DESIGN rule 10).

Plugins come from the in-tree ``plugins/`` package, from extra folders named in setting
``lmsplugins.plugin_dirs``, and from installed distributions with an entry point in group
``lmsplugins.plugins``. A plugin that fails to import or validate becomes a :class:`FailedPlugin`
with its reason, listed by ``lmsplugins plugins`` and the admin page; the others load regardless.

Enabling is opt-in, as LMS's own ``phpui.plugins``: a plugin runs (commands, pages, jobs, migrations)
only when ``lmsplugins.plugins`` names it. Installing a package must not change an ISP's LMS: before
this rule, ``lmsplugins db upgrade`` on an installation that wanted only Hiperus created the Metroport
service provider and tariff, and the template plugin showed up in the menu.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from lmsplugins.plugin import Plugin

ENTRY_POINT_GROUP = "lmsplugins.plugins"
LAST_PRIORITY = sys.maxsize


@dataclass(frozen=True)
class FailedPlugin:
    """A plugin that could not be loaded, with a one-line reason and the traceback for the log."""

    name: str
    origin: str
    reason: str
    details: str = ""


def _in_tree_dir() -> Path | None:
    try:
        import plugins  # the in-tree package beside lmsplugins
    except ImportError:
        return None
    return Path(next(iter(plugins.__path__)))


def _import_from_dir(directory: Path, name: str) -> object:
    """Import ``<directory>/<name>/plugin.py`` as package ``lmsplugins_ext.<name>`` (relative imports work)."""
    pkg_name = f"lmsplugins_ext_{name}"
    if pkg_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            pkg_name, directory / name / "__init__.py", submodule_search_locations=[str(directory / name)]
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {directory / name}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[pkg_name] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{pkg_name}.plugin")


def _candidate_dirs(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if (p / "plugin.py").is_file() and not p.name.startswith("_"))


@dataclass
class Registry:
    """Every plugin found, which of them are enabled (in run order), and the ones that failed."""

    found: list[Plugin] = field(default_factory=list)
    failed: list[FailedPlugin] = field(default_factory=list)
    enabled: list[Plugin] = field(default_factory=list)
    unknown_enabled: list[str] = field(default_factory=list)
    listed: list[tuple[str, int]] | None = None
    """``lmsplugins.plugins`` as parsed (name, priority), or None when the setting is not set."""
    listed_from: str | None = None
    """Where the list was read (``lms.ini`` or ``uiconfig #id``), for the administrator."""

    def get(self, name: str) -> Plugin | None:
        low = name.lower()
        for plugin in self.found:
            if low in (plugin.name.lower(), plugin.lms_class.lower(), plugin.command_name.lower()):
                return plugin
        return None

    def is_enabled(self, plugin: Plugin) -> bool:
        return plugin in self.enabled

    @property
    def failed_named(self) -> list[FailedPlugin]:
        """Failures of plugins the administrator named: the ones that cost a feature. A broken plugin
        nobody enabled is listed on the plugins page but raises no alarm on the start page or /metrics."""
        return [f for f in self.failed if self.named_as(f.name) is not None]

    def named_as(self, name: str) -> str | None:
        """The item of ``lmsplugins.plugins`` that names plugin *name* (any of its names), or None."""
        plugin = self.get(name)
        aliases = {name.lower()}
        if plugin is not None:
            aliases |= {plugin.name.lower(), plugin.lms_class.lower(), plugin.command_name.lower()}
        for item, priority in self.listed or ():
            if item.lower() in aliases:
                return item if priority == LAST_PRIORITY else f"{item}:{priority}"
        return None

    def why(self, name: str) -> str:
        """One phrase saying why plugin *name* is or is not enabled."""
        source = f" ({self.listed_from})" if self.listed_from else ""
        if self.listed is None:
            return "lmsplugins.plugins is not set"
        item = self.named_as(name)
        if item is None:
            return f"not named in lmsplugins.plugins{source}"
        return f"named in lmsplugins.plugins as {item}{source}"


def _accept(obj: object, origin: str, registry: Registry, root: Path | None) -> None:
    if not isinstance(obj, Plugin):
        raise TypeError(f"{origin} does not define 'plugin = Plugin(...)'")
    obj.validate()
    if root is not None and obj.root is None:
        obj.root = root
    if any(p.name == obj.name for p in registry.found):
        raise ValueError(f"a plugin named {obj.name!r} is already loaded")
    registry.found.append(obj)


def _fail(registry: Registry, name: str, origin: str, exc: BaseException) -> None:
    reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
    registry.failed.append(FailedPlugin(name, origin, reason, traceback.format_exc()))


def discover(extra_dirs: Iterable[Path] = (), use_entry_points: bool = True) -> Registry:
    """Find and import every plugin; never raises for a broken plugin."""
    registry = Registry()
    in_tree = _in_tree_dir()
    if in_tree is not None:
        for name in _candidate_dirs(in_tree):
            origin = f"plugins/{name}"
            try:
                module = importlib.import_module(f"plugins.{name}.plugin")
                _accept(getattr(module, "plugin", None), origin, registry, in_tree / name)
            except Exception as exc:
                _fail(registry, name, origin, exc)
    for directory in extra_dirs:
        for name in _candidate_dirs(directory):
            origin = str(directory / name)
            try:
                module = _import_from_dir(directory, name)
                _accept(getattr(module, "plugin", None), origin, registry, directory / name)
            except Exception as exc:
                _fail(registry, name, origin, exc)
    if use_entry_points:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            origin = f"entry point {ep.name} ({ep.value})"
            try:
                obj = ep.load()
                module = sys.modules.get(ep.module)
                root = Path(module.__file__).parent if module and module.__file__ else None
                _accept(obj, origin, registry, root)
            except Exception as exc:
                _fail(registry, ep.name, origin, exc)
    return registry


def parse_enabled(items: Sequence[str]) -> list[tuple[str, int]]:
    """``Name[:priority]`` items as LMS's ``phpui.plugins``: no priority means last."""
    parsed: list[tuple[str, int]] = []
    for item in items:
        name, _, prio = item.partition(":")
        try:
            priority = int(prio) if prio else LAST_PRIORITY
        except ValueError:
            priority = LAST_PRIORITY
        parsed.append((name.strip(), priority))
    return parsed


def enable(registry: Registry, enabled: Sequence[str] | None, listed_from: str | None = None) -> Registry:
    """Fill ``registry.enabled`` from the ``lmsplugins.plugins`` list; None (not set) enables none.

    Lower priorities come first; ties run in alphabetical order of the plugin name. A name that is
    not installed is kept in ``unknown_enabled`` for the warnings, never raised.
    """
    registry.listed = None if enabled is None else parse_enabled(enabled)
    registry.listed_from = listed_from
    registry.enabled = []
    registry.unknown_enabled = []
    chosen: list[tuple[int, str, Plugin]] = []
    for name, priority in registry.listed or ():
        plugin = registry.get(name)
        if plugin is None:
            if not any(f.name.lower() == name.lower() for f in registry.failed):
                registry.unknown_enabled.append(name)
            continue
        if all(p is not plugin for _, _, p in chosen):
            chosen.append((priority, plugin.name, plugin))
    registry.enabled = [p for _, _, p in sorted(chosen, key=lambda t: (t[0], t[1]))]
    return registry
