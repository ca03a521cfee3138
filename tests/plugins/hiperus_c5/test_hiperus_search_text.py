"""Search texts the Hiperus tables cannot hold are refused with one message, on every database.

Found by the MariaDB web fuzz pass: the plugin's MariaDB tables are ``utf8`` (``utf8mb3``, as the PHP
plugin created them), so comparing a name with a text holding a character beyond U+FFFF (an emoji,
``𝟗``) fails with error 1267 "Illegal mix of collations" and the page answered 500. The lists and the
quick search now answer 400 saying why; the number filter keeps ASCII digits only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hiperus_env import make_env

from lmsplugins.demo import seed
from lmsplugins.host import Host
from lmsplugins.testing.web import log_in
from lmsplugins.web import create_app

MESSAGE = "Search text may not contain emoji or other characters beyond U+FFFF."


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def admin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FlaskClient]:
    if request.param == "sqlite":
        host: Host = request.getfixturevalue("sqlite_host")
    else:
        host = request.getfixturevalue("mysql_host")
        with host.engine.begin() as conn:
            seed(conn)
    env = make_env(host, tmp_path)
    result = env.run("import", "--all")
    assert result.exit_code == 0, result.output
    yield log_in(create_app(env.host, SLEEP=lambda s: None, USER_CACHE_SECONDS=0, TESTING=True))
    env.server.stop()


PAGES = ("/hiperus-c5/", "/hiperus-c5/accounts", "/hiperus-c5/terminals", "/hiperus-c5/search")


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("q", ["zażółć 😀", "𝟗"])
def test_text_beyond_the_bmp_is_refused_with_one_message(admin, path, q):
    response = admin.get(path, query_string={"q": q})
    assert response.status_code == 400
    assert response.get_data(as_text=True).count(MESSAGE) == 1


def test_polish_letters_still_search(admin):
    response = admin.get("/hiperus-c5/accounts", query_string={"q": "zażółć"})
    assert response.status_code == 200
    assert MESSAGE not in response.get_data(as_text=True)


def test_the_number_filter_keeps_ascii_digits_only(admin):
    """``𝟗``.isdigit() is true; it must not reach the query (nor the search box) as a digit."""
    response = admin.get("/hiperus-c5/numbers", query_string={"q": "𝟗²"})
    assert response.status_code == 200
    assert "𝟗" not in response.get_data(as_text=True)
