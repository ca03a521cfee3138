"""Every page in Polish and in English, and no text looked up that the catalogue cannot translate.

The data are the demo's (``lmsplugins demo`` without serving, on SQLite): every plugin it enables ran
its jobs against its simulator, so the job pages carry real messages and counters, and the plugin
pages real rows. The walk starts at every GET rule of ``app.url_map`` (plugins included, so a plugin
that adds a page later is walked without touching this file) and follows the links each page shows,
a few pages per endpoint and query shape, but every job run's page.

The catalogue's lookup is watched for the test only (``context.translate`` wrapped): in Polish, any
text with letters that :func:`lmsplugins.web.i18n.lookup` cannot translate is collected; in English,
any symbolic key (``calltype:incoming``) with no English entry. The test fails listing them, with
the page each was first seen on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from lmsplugins import demo as demo_module
from lmsplugins.demo import run_demo
from lmsplugins.host import Host
from lmsplugins.testing.web import csrf_token, log_in
from lmsplugins.web import context, create_app, i18n

SKIPPED_ENDPOINTS = frozenset({"static", "core.logout", "core.healthz", "core.metrics"})
"""Not pages: static files, logging out, and two machine answers with no words for people."""
PAGES_PER_SHAPE = 3
"""Pages walked per endpoint and set of query keys (customer 1, 2 and 3 say what customer 4 would)."""
EVERY_PAGE = frozenset({"admin.job"})
"""Endpoints walked for every link found: each job run has its own message and counters."""
MAX_PAGES = 600
KEY_LIKE = re.compile(r"[a-z_]+:[A-Za-z0-9_.-]+")
HREF = re.compile(r'href="([^"#]*)')
TEXT_NODE = re.compile(r">([^<>]+)<")
SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.DOTALL)


class _KeptServer:
    """The demo's simulator, left running after the demo so the pages that ask a provider get answers."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.url = server.url
        self.app = server.app
        self.client_settings = server.client_settings

    def stop(self) -> None:
        pass


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Host]]:
    data = tmp_path_factory.mktemp("i18n") / "demo"
    kept: list[_KeptServer] = []
    serve_simulator = demo_module._serve_simulator

    def keep(plugin: Any) -> _KeptServer:
        kept.append(_KeptServer(serve_simulator(plugin)))
        return kept[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_module, "_serve_simulator", keep)
        run_demo(data, serve=False)
    host = Host(data / "lms.ini")
    app = create_app(host, TESTING=True, USER_CACHE_SECONDS=0, SLEEP=lambda _s: None)
    try:
        yield app, host
    finally:
        for server in kept:
            server.server.stop()
        host.dispose()


class Untranslated:
    """Wraps the catalogue lookup the frame uses and notes what it could not translate."""

    def __init__(self) -> None:
        self.page = ""
        self.missing: dict[tuple[str, str], str] = {}
        self.looked_up = 0
        self.shown_english: dict[str, str] = {}

    def __call__(self, message: str, language: str) -> str:
        self.looked_up += 1
        found = i18n.lookup(message, language)
        if found is None and self._needs_text(message, language):
            self.missing.setdefault((language, message), self.page)
        return message if found is None else found

    @staticmethod
    def _needs_text(message: str, language: str) -> bool:
        if language == "en":
            return KEY_LIKE.fullmatch(message) is not None
        return any(c.isalpha() for c in message)

    def read_page(self, html: str, language: str) -> None:
        """Note each text of the page that is a catalogue key shown as it is (never passed through ``_``)."""
        if language == "en":
            return
        for node in TEXT_NODE.findall(SCRIPT.sub("", html)):
            text = " ".join(unescape(node).split())
            translated = i18n.entry(text, language)
            if " " in text and translated is not None and translated != text:
                self.shown_english.setdefault(text, self.page)

    def report(self) -> str:
        return "\n".join(f"[{lang}] {msg!r} (first on {page})" for (lang, msg), page in sorted(self.missing.items()))


def _shape(adapter: MapAdapter, url: str) -> tuple[str, tuple[str, ...]] | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    try:
        endpoint, _args = adapter.match(parts.path, method="GET")
    except HTTPException:
        return None
    if endpoint in SKIPPED_ENDPOINTS:
        return None
    return endpoint, tuple(sorted({k for k, _v in parse_qsl(parts.query, keep_blank_values=True)}))


def _start_urls(app: Flask) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for n in (1, 2, 3):  # the demo's first rows; a link on a list page finds the others
            urls.append(re.sub(r"<(?:[^<>:]+:)?[^<>]+>", str(n), rule.rule))
    return urls


def walk(app: Flask, language: str, watcher: Untranslated) -> dict[str, int]:
    """Visit the pages as a logged-in administrator; returns the status of each page visited."""
    watcher.page = f"/login (not logged in) [{language}]"
    anonymous = app.test_client()
    assert anonymous.get("/login", headers={"Accept-Language": language}).status_code == 200
    client = log_in(app, language=language)
    adapter = app.url_map.bind("localhost")
    queue = _start_urls(app)
    seen: set[str] = set()
    per_shape: dict[tuple[str, tuple[str, ...]], int] = {}
    statuses: dict[str, int] = {}
    while queue and len(statuses) < MAX_PAGES:
        url = queue.pop(0)
        shape = _shape(adapter, url)
        if url in seen or shape is None:
            continue
        seen.add(url)
        if shape[0] not in EVERY_PAGE and per_shape.get(shape, 0) >= PAGES_PER_SHAPE:
            continue
        watcher.page = f"{url} [{language}]"
        response = client.get(url)
        statuses[url] = response.status_code
        if response.status_code != 200:
            continue
        per_shape[shape] = per_shape.get(shape, 0) + 1
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            watcher.read_page(html, language)
            queue += [unescape(h) for h in HREF.findall(html)]
    return statuses


@pytest.mark.parametrize("language", ["pl", "en"])
def test_every_page_has_every_text_in_the_chosen_language(demo, language, monkeypatch):
    app, _host = demo
    watcher = Untranslated()
    monkeypatch.setattr(context, "translate", watcher)
    statuses = walk(app, language, watcher)

    rendered = {url for url, code in statuses.items() if code == 200}
    endpoints = {_shape(app.url_map.bind("localhost"), url)[0] for url in rendered}
    plugin_pages = {e.split(".")[0] for e in endpoints} - {"core", "admin", "embed"}
    assert {"core.index", "admin.settings", "admin.jobs", "admin.job", "core.customer"} <= endpoints
    assert plugin_pages, "no plugin page rendered: the walk would not cover plugins"
    assert not [u for u, code in statuses.items() if code >= 500], statuses
    assert watcher.looked_up > 1000
    assert not watcher.missing, f"{len(watcher.missing)} text(s) not translated:\n{watcher.report()}"
    assert not watcher.shown_english, f"shown in English, not through _(): {watcher.shown_english}"


def test_job_runs_and_connection_tests_read_in_polish(demo, monkeypatch):
    """The issue's example (``cdrs_orphan=450`` and an English message) and each plugin's connection test."""
    app, host = demo
    watcher = Untranslated()
    monkeypatch.setattr(context, "translate", watcher)
    client = log_in(app, language="pl")
    page = client.get("/admin/jobs?job=metroport_mvno.sync").get_data(as_text=True)
    assert "Rekordy billingowe bez konta (niezaimportowane): 450" in page and "cdrs_orphan=" not in page
    assert "niezaimportowane rekordy billingowe (450): ich numer nie ma u klienta konta LMS" in page
    assert "not imported" not in page

    tested = [p for p in host.registry.enabled if p.connection_test is not None]
    assert tested
    watcher.page = "/admin/settings"
    token = csrf_token(client, "/admin/settings")
    for plugin in tested:
        watcher.page = f"connection test of {plugin.name}"
        response = client.post(f"/admin/settings/{plugin.name}/test", data={"csrf_token": token},
                               follow_redirects=True)  # fmt: skip
        assert response.status_code == 200
        flashes = response.get_data(as_text=True)
        assert "zalogowano do" in flashes or "połączenie działa" in flashes, plugin.name
    assert not watcher.missing, watcher.report()


def test_a_refused_setting_is_explained_in_polish(demo, monkeypatch):
    app, host = demo
    watcher = Untranslated()
    monkeypatch.setattr(context, "translate", watcher)
    client = log_in(app, language="pl")
    token = csrf_token(client, "/admin/settings")
    response = client.post("/admin/settings", data={"csrf_token": token, "s:lmsplugins.proxy_hops": "dwa"})
    page = response.get_data(as_text=True)
    assert "ustawienie lmsplugins.proxy_hops = &#39;dwa&#39; nie jest poprawną wartością typu int" in page
    assert "Nic nie zapisano: popraw zaznaczone pola." in page
    assert host.config().get("lmsplugins.proxy_hops") is None
    assert not watcher.missing, watcher.report()


def test_the_watch_notices_a_text_without_polish(demo, monkeypatch):
    """The check above can fail: a job message no catalogue knows is reported, a known one is not."""
    app, host = demo
    from lmsplugins.jobs import run_job

    def body(job):
        job.count("cdrs_orphan", 3)
        job.warn("a sentence nobody translated")

    run_job(host, "metroport_mvno.sync", body, argv=["metroport-mvno", "sync"], quiet=True)
    watcher = Untranslated()
    monkeypatch.setattr(context, "translate", watcher)
    client = log_in(app, language="pl")
    page = client.get("/admin/jobs?limit=1").get_data(as_text=True)
    assert ("pl", "a sentence nobody translated") in watcher.missing
    assert not [m for _lang, m in watcher.missing if "orphan" in m.lower() or "record" in m.lower()]
    assert "cdrs_orphan=" not in page

    watcher.read_page("<p>Wrong password or login.</p><p>Zaloguj</p>", "pl")
    assert list(watcher.shown_english) == ["Wrong password or login."]
