"""``lmsplugins bridge``: what the LMS bridge plugin (``lms-bridge/``) reads to show us inside LMS.

The PHP side runs ``lmsplugins bridge menu --json`` and puts one LMS menu item per entry the LMS user
has the permission for (LMS's ``checkPrivilege``). Paths are relative to the web app's root; the
bridge prefixes ``lmsplugins.url``. Only entries of plugins whose web part loads are listed, exactly
the menu of our own frame.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from lmsplugins.cli import config_option, get_host
from lmsplugins.errors import LMSPluginsError


def menu_entries(host: Any) -> list[dict[str, Any]]:
    """[{title, path, permission (list, empty: everyone), order, plugin}] of the web frame's menu."""
    from flask import url_for

    from lmsplugins.web import create_app
    from lmsplugins.web.context import web_state

    app = create_app(host)
    rows = []
    with app.test_request_context("/"):
        for item in web_state().menu:
            entry = item.entry
            permission = entry.permission
            names = [] if permission is None else [permission] if isinstance(permission, str) else list(permission)
            rows.append(
                {
                    "title": entry.title,
                    "path": url_for(entry.endpoint),
                    "permission": names,
                    "order": entry.order,
                    "plugin": item.plugin.name if item.plugin else "lmsplugins",
                }
            )
    return rows


@click.group("bridge")
def bridge_group() -> None:
    """What the LMS bridge plugin reads (lms-bridge/)."""


@bridge_group.command("menu")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON list (what the LMS bridge reads).")
def menu_cmd(as_json: bool) -> None:
    """List the web frame's menu entries with their permissions."""
    try:
        rows = menu_entries(get_host())
    except LMSPluginsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        rights = ", ".join(row["permission"]) or "everyone"
        click.echo(f"{row['path']:<40} {row['title']:<30} {rights}")
