"""LMS's transaction log for changes made from our web pages, as LMS logs its own UI's.

Each request of a logged-in user opens a log scope (:func:`lmsplugins.lms.syslog.open_scope`): a
gateway change made while handling it (a manual binding, a tariff assignment, ...) is written to
LMS's log tables with that LMS user's id and the page as module (``lmsplugins:<endpoint>``), on the
same connection, so it commits or rolls back with the change itself. Nothing is written unless LMS's
``logs.enabled`` is on.
"""

from __future__ import annotations

import contextlib

from flask import Flask, g, request

from lmsplugins.lms import syslog
from lmsplugins.web.context import current_user, web_state


def init_app(app: Flask) -> None:
    """Register after the request hook that recognises the user."""
    app.before_request(_open_scope)
    app.teardown_request(_close_scope)


def _open_scope() -> None:
    user = current_user()
    if user is not None:
        g.lms_syslog_scope = syslog.open_scope(web_state().host, f"lmsplugins:{request.endpoint}", user.id)


def _close_scope(_exc: BaseException | None) -> None:
    token = g.pop("lms_syslog_scope", None)
    if token is not None:
        with contextlib.suppress(ValueError):  # set in another context: it dies with that context
            syslog.close_scope(token)
