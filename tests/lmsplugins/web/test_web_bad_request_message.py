"""A 400 page shows the text a view gave ``abort(400, text)``, and nothing for werkzeug's generic one.

Views refuse input no database could take (a search text beyond U+FFFF for the ``utf8`` tables of
MariaDB, for instance) with one message saying why; the error page must carry it to the user.
"""

from __future__ import annotations

from flask import abort
from werkzeug.exceptions import BadRequest

from lmsplugins.testing.web import log_in
from lmsplugins.web import create_app

GENERIC = BadRequest.description


def test_a_400_shows_the_views_message_once_and_never_werkzeugs_generic_one(sqlite_host):
    app = create_app(sqlite_host, SLEEP=lambda s: None, USER_CACHE_SECONDS=0, TESTING=True)
    app.add_url_rule("/said-why", "said_why", lambda: abort(400, "Search text may not contain emoji."))
    app.add_url_rule("/said-nothing", "said_nothing", lambda: abort(400))
    client = log_in(app)

    said = client.get("/said-why")
    assert said.status_code == 400
    assert said.get_data(as_text=True).count("Search text may not contain emoji.") == 1

    plain = client.get("/said-nothing")
    assert plain.status_code == 400
    assert GENERIC not in plain.get_data(as_text=True)
