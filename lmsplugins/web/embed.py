"""Our customer panels framed on LMS's own customer card (the bridge's box, ``lms-bridge/``).

The page holds only the panels, for a frame inside LMS. Who may see it is decided as for our own
customer card (a customer right, each panel's own permission); the user is recognised by LMS's
``SID`` cookie (single sign-on), so the frame carries no credentials. Only the LMS origin named by
``lmsplugins.lms_url`` may frame it (:func:`lmsplugins.web.security.allow_framing_by`); without that
setting the page keeps the frame's same-origin policy.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, make_response, render_template

from lmsplugins.web.context import current_user, require_any_permission, web_state
from lmsplugins.web.rights import CUSTOMER_READ
from lmsplugins.web.security import allow_framing_by
from lmsplugins.web.slots import render_panels

blueprint = Blueprint("embed", __name__)


@blueprint.route("/embed/customers/<int:customer_id>/panels")
def customer_panels(customer_id: int) -> Any:
    require_any_permission(*CUSTOMER_READ)
    user = current_user()
    assert user is not None
    panels = render_panels(web_state(), customer_id, user)
    response = make_response(render_template("embed_panels.html", panels=panels, customer_id=customer_id))
    return allow_framing_by(response, web_state().host.config().get("lmsplugins.lms_url"))
