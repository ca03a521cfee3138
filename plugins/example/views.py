"""The example plugin's web part: a page listing notes and a panel on the customer card."""

from __future__ import annotations

from flask import Blueprint, render_template
from markupsafe import escape
from sqlalchemy import select

from .tables import example_notes

blueprint = Blueprint("example", __name__, template_folder="templates", url_prefix="/example")


@blueprint.route("/")
def index():
    from lmsplugins.web.context import current_host, require_permission

    require_permission("example_read")
    with current_host().engine.connect() as conn:
        notes = conn.execute(select(example_notes).order_by(example_notes.c.customerid).limit(200)).all()
    return render_template("example/index.html", notes=notes)


def customer_panel(host, customer_id: int) -> str:
    with host.engine.connect() as conn:
        note = conn.execute(select(example_notes).where(example_notes.c.customerid == customer_id)).first()
    if note is None:
        return "<p>No greeting yet: run <code>lmsplugins example sync</code>.</p>"
    state = " (blocked)" if note.blocked else ""
    return f"<p>{escape(note.greeting)}{state}</p>"
