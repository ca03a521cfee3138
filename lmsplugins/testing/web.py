"""Web test helpers for the host's and plugins' tests: CSRF tokens, logins, LMS users.

Every view test needs a logged-in client, and a user with exactly the rights under test; doing it
through the real login form (with its CSRF token) keeps the tests on the path a browser takes.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lmsplugins.demo import DEMO_LOGIN, DEMO_PASSWORD
from lmsplugins.host import Host
from lmsplugins.lms.tables import divisions, userdivisions, users
from lmsplugins.web.auth import hash_password

_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token on the page at *path* (one per session, so any form page will do)."""
    response = client.get(path)
    found = _TOKEN.search(response.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({response.status_code})"
    return found.group(1)


def login(client: FlaskClient, user: str = DEMO_LOGIN, password: str = DEMO_PASSWORD, **extra: str) -> Any:
    """Post the login form as a browser does; returns the response."""
    token = csrf_token(client)
    return client.post("/login", data={"csrf_token": token, "login": user, "password": password, **extra})


def log_in(app: Flask, user: str = DEMO_LOGIN, password: str = DEMO_PASSWORD, language: str = "en") -> FlaskClient:
    """A new client of *app*, logged in (asserted), asking for pages in *language*."""
    client = app.test_client()
    response = login(client, user, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def add_user(host: Host, login_name: str, password: str = "secret123", *, division: bool = True, **values: Any) -> int:
    """A user the way LMS's user form stores it (bcrypt ``$2y$``, the first division)."""
    row = {
        "login": login_name,
        "firstname": "Test",
        "lastname": login_name.title(),
        "email": f"{login_name}@example.pl",
        "rights": "",
        "passwd": hash_password(password),
        **values,
    }
    with host.engine.begin() as conn:
        uid = int(conn.execute(users.insert().values(**row)).inserted_primary_key[0])
        if division:
            div = conn.execute(select(divisions.c.id).order_by(divisions.c.id).limit(1)).scalar()
            conn.execute(userdivisions.insert().values(userid=uid, divisionid=div))
    return uid


def user_with(app: Flask, host: Host, login_name: str, rights: str) -> FlaskClient:
    """A logged-in client of a new user holding exactly *rights*."""
    add_user(host, login_name, "haslo123", rights=rights)
    return log_in(app, login_name, "haslo123")
