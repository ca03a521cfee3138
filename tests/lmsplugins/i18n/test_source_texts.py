"""Every literal text the code hands to the catalogue has a Polish entry, pages walked or not.

The page walk (``test_every_page_translated``) sees what GET pages look up; a flash message after a
POST, or a form error, is looked up only when that form is sent. So this test reads the sources the
way a gettext extractor would: every ``gettext("...")`` / ``_("...")`` call with a literal text in the
host's and the plugins' Python modules, and every ``_('...')`` in their templates.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import plugins
from lmsplugins.loader import discover
from lmsplugins.web import i18n
from lmsplugins.web.rights import HOST_PERMISSIONS
from lmsplugins.web.views_admin import HOST_SETTINGS

ROOT = Path(__file__).resolve().parents[3]
SOURCES = (ROOT / "lmsplugins", ROOT / "plugins")
TEMPLATE_CALL = re.compile(r"""\b_\(\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*[,)]""")
CALLS = frozenset({"gettext", "_"})


def _load_catalogue() -> None:
    """Import every module of the web frame and the plugins: their ``add_messages`` run at import."""
    import lmsplugins.web

    for package in (lmsplugins.web, plugins):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".tests" not in info.name and not info.name.endswith(("__main__", ".simulator")):
                importlib.import_module(info.name)
    i18n.add_plugin_messages(info.name for info in pkgutil.iter_modules(plugins.__path__))


def _python_texts(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name in CALLS and isinstance(node.args[0].value, str):
            found.add(node.args[0].value)
    return found


def _template_texts(path: Path) -> set[str]:
    return {a or b for a, b in TEMPLATE_CALL.findall(path.read_text(encoding="utf-8"))}


def source_texts() -> dict[str, str]:
    """Literal text -> the file it was first found in."""
    texts: dict[str, str] = {}
    for base in SOURCES:
        for path in sorted(base.rglob("*.py")):
            if "testing" not in path.parts:
                for text in _python_texts(path):
                    texts.setdefault(text, str(path.relative_to(ROOT)))
        for path in sorted(base.rglob("*.html")):
            for text in _template_texts(path):
                texts.setdefault(text, str(path.relative_to(ROOT)))
    return texts


def test_every_literal_text_has_a_polish_entry():
    _load_catalogue()
    texts = source_texts()
    assert len(texts) > 300 and "Log in" in texts and "Settings saved." in texts
    missing = sorted(
        f"{where}: {text!r}"
        for text, where in texts.items()
        if any(c.isalpha() for c in text) and i18n.lookup(text, "pl") is None
    )
    assert not missing, f"{len(missing)} text(s) without Polish:\n" + "\n".join(missing)


def declared_texts() -> dict[str, str]:
    """What plugins declare for pages to show: descriptions of plugins, settings and permissions, counter labels."""
    texts = {s.description: "host setting" for s in HOST_SETTINGS}
    texts |= {p.description: "host permission" for p in HOST_PERMISSIONS}
    for plugin in discover().found:
        texts[plugin.description] = f"{plugin.name} description"
        texts |= {s.description: f"{plugin.name} setting {s.key}" for s in plugin.settings}
        texts |= {p.description: f"{plugin.name} permission {p.name}" for p in plugin.permissions}
        texts |= {label: f"{plugin.name} counter {name}" for name, label in plugin.counter_labels.items()}
    texts.pop("", None)
    return texts


def _counted(path: Path) -> set[str]:
    """Counter names a job counts with a literal: ``job.count("name")``, ``self.job.count("name", n)``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "count":
            owner = node.func.value
            is_job = (isinstance(owner, ast.Name) and owner.id == "job") or (
                isinstance(owner, ast.Attribute) and owner.attr == "job"
            )
            if is_job and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def counter_texts() -> dict[str, str]:
    """The label each counted name gets on the job pages (``counter_labels``, else the name spelled out)."""
    texts = {}
    for path in sorted((ROOT / "lmsplugins").glob("*.py")):  # the host's own jobs (notify) have no labels
        texts |= {name.replace("_", " ").capitalize(): f"host counter {name} ({path.name})" for name in _counted(path)}
    for plugin in discover().found:
        for path in sorted((ROOT / "plugins" / plugin.name).rglob("*.py")):
            for name in _counted(path):
                label = plugin.counter_labels.get(name) or name.replace("_", " ").capitalize()
                texts[label] = f"{plugin.name} counter {name} ({path.name})"
    return texts


def test_every_declared_description_and_counter_label_has_a_polish_entry():
    _load_catalogue()
    texts = declared_texts() | counter_texts()
    assert "Billing records without an account (not imported)" in texts and "Api calls" in texts
    assert len(texts) > 50
    missing = sorted(f"{where}: {text!r}" for text, where in texts.items() if i18n.lookup(text, "pl") is None)
    assert not missing, f"{len(missing)} text(s) without Polish:\n" + "\n".join(missing)


def test_the_reader_finds_calls_in_python_and_templates(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('flash(gettext("Saved {n}.", n=1))\nx = _("Plain")\ny = gettext(name)\n', encoding="utf-8")
    template = tmp_path / "t.html"
    template.write_text("{{ _('One') }} {{ _(\"Two\", n=2) }} {{ _(run.status) }}", encoding="utf-8")
    assert _python_texts(module) == {"Saved {n}.", "Plain"}
    assert _template_texts(template) == {"One", "Two"}


KNOWN_CONFLICTS: frozenset[str] = frozenset()
"""Keys allowed to mean different things in two plugins (none: Wildcore's port state became "Link state"
when Hiperus C5's "Link" action, Powiąż, clashed with it)."""


def polish_sources() -> dict[str, dict[str, str]]:
    """Each module's own Polish dict: the host's, its status pages', and every plugin module's ``PL``."""
    _load_catalogue()
    from lmsplugins.web import status_messages

    found = {"lmsplugins.web.i18n": i18n._PL, "lmsplugins.web.status_messages": status_messages.PL}
    for info in pkgutil.walk_packages(plugins.__path__, "plugins."):
        module = importlib.import_module(info.name) if ".tests" not in info.name else None
        if module is not None and isinstance(getattr(module, "PL", None), dict):
            found[info.name] = module.PL
    return found


def test_one_english_text_has_one_polish_text_across_the_host_and_plugins():
    """The catalogue is shared: a key two modules translate differently reads as the last one loaded."""
    sources = polish_sources()
    assert len(sources) > 5
    by_key: dict[str, dict[str, str]] = {}
    for where, messages in sources.items():
        for key, text in messages.items():
            by_key.setdefault(key, {})[where] = text
    conflicts = sorted(
        f"{key!r}: {by}" for key, by in by_key.items() if len(set(by.values())) > 1 and key not in KNOWN_CONFLICTS
    )
    assert not conflicts, "translated differently:\n" + "\n".join(conflicts)
