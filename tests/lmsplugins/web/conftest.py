"""Fixtures for the web frame: a seeded LMS (SQLite, or the real PostgreSQL or MySQL schema), an app.

``web_host`` runs each test on SQLite, and on PostgreSQL and MariaDB loaded with the real LMS schemas (seeded
with the demo data and the example plugin's tables), so login, SSO and the customer queries are
proved against LMS's own column types, defaults and triggers, not only our generated schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_helpers import Sleeps

from lmsplugins.demo import seed
from lmsplugins.host import Host
from lmsplugins.lms.tables import countries
from lmsplugins.testing import databases as dbs
from lmsplugins.testing.web import login
from lmsplugins.web import create_app


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def web_host(request: pytest.FixtureRequest) -> Iterator[Host]:
    if request.param == "sqlite":
        host = request.getfixturevalue("sqlite_host")
    else:
        host = request.getfixturevalue("pg_host" if request.param == "postgres" else "mysql_host")
        with host.engine.begin() as conn:
            # The real schema ships the countries list; demo.seed inserts "Poland" itself.
            conn.execute(countries.delete().where(countries.c.name == "Poland"))
            seed(conn)
    dbs.install(host, "example")
    yield host


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_app(web_host: Host, sleeps: Sleeps) -> Callable[..., Flask]:
    def factory(**overrides: Any) -> Flask:
        options: dict[str, Any] = {"SLEEP": sleeps, "USER_CACHE_SECONDS": 0, "TESTING": True}
        options.update(overrides)
        return create_app(web_host, **options)

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def logged_in(client: FlaskClient) -> FlaskClient:
    response = login(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
