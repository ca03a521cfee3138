"""What the LMS bridge frames and lists: the panels-only page (framing only by the configured LMS
origin) and ``lmsplugins bridge menu --json`` (entries with their permissions), and the PHP menu
hook filtering them by the LMS user's rights."""

from __future__ import annotations

import json
import os

from bridge_support import LMSPLUGINS, lms_notify, require_php
from click.testing import CliRunner

from lmsplugins.cli import main
from lmsplugins.testing.databases import install
from lmsplugins.testing.web import user_with
from lmsplugins.web import create_app


def _app(host, lms_url: str | None):
    if lms_url is not None:
        host.set_uiconfig("lmsplugins.lms_url", lms_url)
    return create_app(host, TESTING=True)


def test_panels_page_framed_only_by_the_lms_origin(sqlite_host):
    install(sqlite_host, "example")
    app = _app(sqlite_host, "https://lms.example:8443/lms/?x=1")
    reader = user_with(app, sqlite_host, "reader", "customer_management,example_read")
    page = reader.get("/embed/customers/1/panels")
    assert page.status_code == 200
    assert 'id="panel-example-notes"' in page.get_data(as_text=True)
    assert "frame-ancestors 'self' https://lms.example:8443;" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "ALLOW-FROM https://lms.example:8443"
    # every other page still refuses any foreign frame
    card = reader.get("/customers/1")
    assert "frame-ancestors 'self';" in card.headers["Content-Security-Policy"]
    assert card.headers["X-Frame-Options"] == "SAMEORIGIN"
    # without a customer right: refused; without the panel's permission: no panel
    assert user_with(app, sqlite_host, "nobody", "").get("/embed/customers/1/panels").status_code == 403
    plain = user_with(app, sqlite_host, "plain", "customer_management").get("/embed/customers/1/panels")
    assert plain.status_code == 200 and "panel-example-notes" not in plain.get_data(as_text=True)


def test_bad_or_missing_lms_url_keeps_same_origin(sqlite_host):
    install(sqlite_host, "example")
    for value in ("https://lms.example;script-src *", "javascript:alert(1)", "not a url"):
        app = _app(sqlite_host, value)
        page = user_with(app, sqlite_host, f"u{abs(hash(value)) % 10000}", "full_access").get(
            "/embed/customers/1/panels"
        )
        assert page.status_code == 200
        assert page.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self';" in page.headers["Content-Security-Policy"]


def test_menu_for_lms_with_permissions(sqlite_host, tmp_path):
    install(sqlite_host, "example")
    result = CliRunner().invoke(main, ["-C", str(sqlite_host.ini_config.path), "bridge", "menu", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    example = [r for r in rows if r["plugin"] == "example"]
    assert example and example[0]["permission"] == ["example_read"] and example[0]["path"].startswith("/")

    require_php()

    settings = {
        "lmsplugins.command": str(LMSPLUGINS),
        "lmsplugins.config_file": str(sqlite_host.ini_config.path),
        "lmsplugins.url": "https://lms.example/plugins",
    }
    (tmp_path / "a").mkdir()
    _r, out = lms_notify(tmp_path / "a", settings, "block", "node-access", [1], rights=["example_read"])
    items = out["menu"]["lmsplugins"]["submenu"]
    assert {"name": "Example notes", "link": "https://lms.example/plugins" + example[0]["path"]}.items() <= items[
        0
    ].items()
    # the menu is kept in the PHP user's private cache: the next page load starts no Python
    cached = {**settings, "lmsplugins.command": "/bin/false"}
    _r, out = lms_notify(tmp_path / "a", cached, "block", "node-access", [1], rights=["example_read"])
    assert out["menu"]["lmsplugins"]["submenu"] == items
    _r, out = lms_notify(tmp_path / "a", {**cached, "lmsplugins.cache_seconds": "0"}, "block", "node-access", [1])
    assert "lmsplugins" not in out["menu"]
    assert oct((tmp_path / "a" / f"lmsplugins-bridge-{os.getuid()}").stat().st_mode & 0o777) == "0o700"
    (tmp_path / "b").mkdir()
    _r, out = lms_notify(tmp_path / "b", settings, "block", "node-access", [1], rights=["customer_management"])
    assert "lmsplugins" not in out["menu"] or all(
        i["name"] != "Example notes" for i in out["menu"]["lmsplugins"]["submenu"]
    )
