"""No route answers HTTP 500 to bad input: the whole URL map, every permission level, hostile values.

The walk is generic on purpose: it reads ``app.url_map`` of an app with every plugin found enabled,
so a plugin added later is fuzzed without touching this file. For each rule and method it

1. asks once with plain values (path arguments ``1``) and records which query and form fields the
   view reads (a request class whose parameter dicts note every key looked up);
2. sends every path argument through hostile values for its converter (huge and Unicode numbers,
   NUL bytes, impossible dates), and every recorded field through the same list;
3. repeats a shorter list as anonymous, as a user without rights and as a user holding each single
   permission the host and the plugins declare.

Any 500 is collected with the exception the frame logged; the test fails listing them all. Provider
addresses point at a closed loopback port and the retry budget is one second, so a view that calls
a provider fails fast instead of reaching the Internet. One SQLite database serves the module; a
PostgreSQL pass (marked ``postgres``) and a MariaDB pass (marked ``mysql``), each full access and
anonymous, catch what only that server refuses.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask, Request
from flask.testing import FlaskClient
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule

from lmsplugins.demo import seed
from lmsplugins.host import Host
from lmsplugins.lms.tables import countries
from lmsplugins.testing import databases as dbs
from lmsplugins.testing.mysql_pool import Pool
from lmsplugins.testing.web import add_user
from lmsplugins.web import create_app

PASSWORD = "fuzz-haslo-1"
CLOSED_PORT_URL = "http://127.0.0.1:9/"
HOSTILE = (
    "0",
    "-1",
    "2147483648",
    "9223372036854775808",
    "-99999999999999999999999999999",
    "1e400",
    "NaN",
    "١٢٣",
    "𝟗",
    "²",
    "1\x00",
    "\x00",
    "2024-02-30",
    "2023-02-29",
    "2024-13-45",
    "0000-00-00",
    "99999-01-01",
    "2024-01-01T25:61",
    "2024/02/31",
    "",
    " ",
    "' OR 1=1 --",
    "%",
    "x" * 3000,
    "-0.5",
    "zażółć 😀",
)
SHORT = ("99999999999999999999999999999", "²\x00", "2147483648")
PATH_NUMBERS = ("0", "2147483648", "9223372036854775808", "99999999999999999999999999999", "١٢٣", "𝟗")
PATH_TEXT = ("%00", "x%00y", "١٢٣", "2024-02-30", "-1", "99999999999999999999999999999", "x" * 300, "%C0%AF")
SHORT_PATH_NUMBERS = ("2147483648",)
SHORT_PATH_TEXT = ("x%00%C2%B2",)
SKIPPED_ENDPOINTS = frozenset({"static", "core.logout"})
"""Static files are not views; logout would end the fuzzing user's session (it reads no input)."""


class _ReadKeys(ImmutableMultiDict):
    """Query and form data that note every key a view looks up."""

    log: set[str] | None = None

    def _note(self, key: Any) -> None:
        if _ReadKeys.log is not None and isinstance(key, str):
            _ReadKeys.log.add(key)

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key: Any, type: Any = None) -> Any:
        self._note(key)
        return super().getlist(key, type)

    def __getitem__(self, key: Any) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)


class _RecordingRequest(Request):
    parameter_storage_class = _ReadKeys


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            self.last = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"


@dataclass
class Target:
    rule: Rule
    method: str
    query: set[str] = field(default_factory=set)
    form: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"{self.method} {self.rule.rule}"


def _path(rule: Rule, values: dict[str, str]) -> str:
    """The rule's URL with *values* (already URL-encoded) put in for its arguments."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", lambda m: values.get(m.group(1), "1"), rule.rule)


def _path_variants(rule: Rule, short: bool) -> Iterator[str]:
    converters = getattr(rule, "_converters", {})
    for arg in sorted(rule.arguments):
        kind = type(converters.get(arg)).__name__
        if kind in ("IntegerConverter", "BoundedIntConverter"):
            samples = SHORT_PATH_NUMBERS if short else PATH_NUMBERS
        else:
            samples = SHORT_PATH_TEXT if short else PATH_TEXT
        for sample in samples:
            yield _path(rule, {arg: sample if "%" in sample else quote(sample, safe="")})


def enable_every_plugin(host: Host) -> Host:
    """A Host on the same database with every plugin found enabled and installed."""
    host.set_uiconfig("lmsplugins.plugins", " ".join(p.name for p in host.registry.found))
    enabled = Host(host.ini_config.path)
    host.dispose()
    dbs.install(enabled)
    return enabled


def _provider_urls_to_a_closed_port(host: Host) -> None:
    for plugin in host.registry.found:
        for setting in plugin.settings:
            default = str(setting.default or "")
            if setting.type == "str" and (setting.key.endswith("url") or default.startswith("http")):
                host.set_uiconfig(setting.key, CLOSED_PORT_URL)
    host.set_uiconfig("lmsplugins.http_retry_budget", "1")


def _fuzz_app(host: Host) -> tuple[Flask, Host, dict[str, str]]:
    host = enable_every_plugin(host)
    _provider_urls_to_a_closed_port(host)
    app = create_app(host, SLEEP=lambda s: None, USER_CACHE_SECONDS=0, TESTING=True)
    app.request_class = _RecordingRequest
    web = app.extensions["lmsplugins"]
    logins = {"full_access": "fz_full", "none": "fz_none"}
    add_user(host, "fz_full", PASSWORD, rights="full_access")
    add_user(host, "fz_none", PASSWORD, rights="")
    for i, permission in enumerate(sorted(web.permissions)):
        logins[permission] = f"fz_p{i}"
        add_user(host, f"fz_p{i}", PASSWORD, rights=permission)
    return app, host, logins


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Host, dict[str, str]]]:
    app, host, logins = _fuzz_app(dbs.sqlite_host(tmp_path_factory.mktemp("fuzz"), seeded=True))
    yield app, host, logins
    host.dispose()


@pytest.fixture(scope="module")
def pg_fuzz_app(
    tmp_path_factory: pytest.TempPathFactory, pg_template: str
) -> Iterator[tuple[Flask, Host, dict[str, str]]]:
    """The same on the real PostgreSQL schema, which refuses what SQLite stores: NUL bytes in text,
    integers beyond a column's type (SQLAlchemy binds ``$1::INTEGER``)."""
    name = dbs.create_pg_database(pg_template)
    host = Host(dbs.write_ini(tmp_path_factory.mktemp("fuzz_pg"), "postgres", name))
    with host.engine.begin() as conn:
        conn.execute(countries.delete().where(countries.c.name == "Poland"))  # the real schema ships the list
        seed(conn)
    app, host, logins = _fuzz_app(host)
    yield app, host, logins
    host.dispose()
    dbs.drop_pg_database_later(name)


@pytest.fixture(scope="module")
def mysql_fuzz_app(
    tmp_path_factory: pytest.TempPathFactory, mysql_pool: Pool
) -> Iterator[tuple[Flask, Host, dict[str, str]]]:
    """The same on the real MariaDB schema (a database from the session's pool), which refuses what the
    others store: 4-byte UTF-8 in ``utf8mb3`` columns, and in strict mode integers beyond a column's
    range and strings longer than the column."""
    name = mysql_pool.acquire()
    host = Host(dbs.write_ini(tmp_path_factory.mktemp("fuzz_my"), "mysql", name))
    try:
        with host.engine.begin() as conn:
            seed(conn)
        app, host, logins = _fuzz_app(host)
        yield app, host, logins
    finally:
        host.dispose()
        mysql_pool.release(name)


def _client(app: Flask, login_name: str | None) -> tuple[FlaskClient, str]:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    if login_name is None:
        return client, token
    response = client.post("/login", data={"csrf_token": token, "login": login_name, "password": PASSWORD})
    assert response.status_code == 302, f"{login_name} could not log in"
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    return client, found.group(1) if found else token


def _targets(app: Flask) -> list[Target]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append(Target(rule, method))
    return out


def _send(client: FlaskClient, target: Target, path: str, token: str, value: str | None) -> Any:
    query = {name: value for name in target.query} if value is not None else {}
    if target.method == "GET":
        return client.get(path, query_string=query)
    form = {name: value for name in target.form} if value is not None else {}
    form["csrf_token"] = token
    return client.open(path, method=target.method, query_string=query, data=form)


def _discover(client: FlaskClient, token: str, targets: list[Target]) -> None:
    by_rule: dict[str, set[str]] = {}
    for target in targets:
        keys: set[str] = set()
        _ReadKeys.log = keys
        try:
            _send(client, target, _path(target.rule, {}), token, None)
        finally:
            _ReadKeys.log = None
        keys.discard("csrf_token")
        if target.method == "GET":
            target.query = keys
            by_rule[target.rule.rule] = keys
        else:
            target.form = keys
    for target in targets:
        if target.method != "GET":
            target.query = set(by_rule.get(target.rule.rule, set()))


def _walk(client: FlaskClient, token: str, targets: list[Target], values: tuple[str, ...], errors: _Errors,
          level: str, found: list[str]) -> int:  # fmt: skip
    sent = 0
    for target in targets:
        cases = [(p, None) for p in _path_variants(target.rule, short=values is SHORT)]
        cases += [(_path(target.rule, {}), v) for v in values]
        for path, value in cases:
            errors.last = None
            response = _send(client, target, path, token, value)
            sent += 1
            if response.status_code >= 500:
                shown = path if value is None else f"{path} with fields = {value[:30]!r}"
                found.append(f"[{level}] {target.method} {shown} -> {response.status_code} ({errors.last})")
    return sent


def _server_pass(fuzz: tuple[Flask, Host, dict[str, str]]) -> None:
    """Full access and anonymous only (the other levels reach no query the SQLite pass does not)."""
    app, _host, logins = fuzz
    targets = _targets(app)
    errors = _Errors()
    logger = logging.getLogger("lmsplugins.web")
    logger.addHandler(errors)
    found: list[str] = []
    try:
        client, token = _client(app, logins["full_access"])
        _discover(client, token, targets)
        sent = _walk(client, token, targets, HOSTILE, errors, "full_access", found)
        anonymous, anon_token = _client(app, None)
        sent += _walk(anonymous, anon_token, targets, SHORT, errors, "anonymous", found)
    finally:
        logger.removeHandler(errors)
    assert not found, f"{len(found)} of {sent} requests answered 5xx:\n" + "\n".join(sorted(set(found))[:80])


@pytest.mark.postgres
def test_no_route_answers_500_on_postgresql(pg_fuzz_app):
    """PostgreSQL's own refusals."""
    _server_pass(pg_fuzz_app)


@pytest.mark.mysql
def test_no_route_answers_500_on_mariadb(mysql_fuzz_app):
    """MariaDB's own refusals."""
    _server_pass(mysql_fuzz_app)


def test_no_route_answers_500_to_hostile_input(fuzz_app):
    app, _host, logins = fuzz_app
    targets = _targets(app)
    assert any(t.rule.endpoint.startswith("core.") for t in targets)
    plugin_endpoints = {t.rule.endpoint.split(".")[0] for t in targets} - {"core", "admin"}
    assert plugin_endpoints, "no plugin routes registered: the walk would not cover plugins"

    errors = _Errors()
    logger = logging.getLogger("lmsplugins.web")
    logger.addHandler(errors)
    found: list[str] = []
    try:
        client, token = _client(app, logins["full_access"])
        _discover(client, token, targets)
        sent = _walk(client, token, targets, HOSTILE, errors, "full_access", found)
        anonymous, anon_token = _client(app, None)
        sent += _walk(anonymous, anon_token, targets, SHORT, errors, "anonymous", found)
        for level, login_name in logins.items():
            if level == "full_access":
                continue
            client, token = _client(app, login_name)
            sent += _walk(client, token, targets, SHORT, errors, level, found)
    finally:
        logger.removeHandler(errors)
    assert sent > len(targets) * 10
    assert not found, f"{len(found)} of {sent} requests answered 5xx:\n" + "\n".join(sorted(set(found))[:80])


def test_the_walk_sees_what_views_read(fuzz_app):
    """The discovery step must find the query fields a list view reads, or the fuzzing misses them."""
    app, _host, logins = fuzz_app
    targets = [t for t in _targets(app) if t.rule.endpoint == "core.customers"]
    client, token = _client(app, logins["full_access"])
    _discover(client, token, targets)
    assert {"q", "page", "sort", "order"} <= targets[0].query


def test_bad_values_reach_plugin_views_too(fuzz_app):
    """Path values built for plugin rules are routed to those plugin views (not all 404 before them)."""
    app, _host, logins = fuzz_app
    client, _token = _client(app, logins["full_access"])
    plugin_get = [
        t
        for t in _targets(app)
        if t.method == "GET" and not t.rule.arguments and t.rule.endpoint.split(".")[0] not in ("core", "admin")
    ]
    assert plugin_get
    assert any(client.get(_path(t.rule, {})).status_code == 200 for t in plugin_get)


@pytest.mark.parametrize("value", ["2147483648", "9223372036854775808", "99999999999999999999999999999"])
def test_huge_ids_in_the_path_are_not_found(fuzz_app, value):
    app, _host, logins = fuzz_app
    client, _token = _client(app, logins["full_access"])
    assert client.get(f"/customers/{value}").status_code == 404
