"""Helpers shared by the web tests (imported by name; pytest puts this folder on sys.path)."""

from __future__ import annotations

import re
import time
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from lmsplugins.demo import DEMO_LOGIN, DEMO_PASSWORD
from lmsplugins.host import Host
from lmsplugins.lms.tables import divisions, userdivisions, users
from lmsplugins.web.auth import hash_password

_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Sleeps(list):
    """Records the delays the app asked for instead of sleeping them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    response = client.get(path)
    found = _TOKEN.search(response.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({response.status_code})"
    return found.group(1)


def login(client: FlaskClient, user: str = DEMO_LOGIN, password: str = DEMO_PASSWORD, **extra: str):
    token = csrf_token(client)
    return client.post("/login", data={"csrf_token": token, "login": user, "password": password, **extra})


def add_user(host: Host, login_name: str, password: str = "secret123", *, division: bool = True, **values: Any) -> int:
    """A user the way LMS's user form stores it (bcrypt ``$2y$``, a division)."""
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


def now() -> int:
    return int(time.time())
