"""The ``core`` blueprint: login/logout, language, home, customer search and the customer card.

Endpoint names are part of the plugin API: templates link to ``url_for('core.customer',
customer_id=...)`` and ``url_for('core.customers', q=...)``.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from lmsplugins.lms import customer_card
from lmsplugins.store import DbState
from lmsplugins.web import auth, sessions
from lmsplugins.web.context import (
    add_breadcrumb,
    current_host,
    current_user,
    gettext,
    int_arg,
    read_engine,
    require_any_permission,
    web_state,
)
from lmsplugins.web.i18n import LANGUAGES
from lmsplugins.web.rights import CUSTOMER_READ
from lmsplugins.web.slots import render_panels

blueprint = Blueprint("core", __name__)


class LoginForm(FlaskForm):
    login = StringField("Login", validators=[InputRequired(), Length(max=32)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)])
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField("Authentication code", validators=[Length(max=10)])
    back = SubmitField("Back to login")


class LanguageForm(FlaskForm):
    lang = SelectField("Language", choices=list(LANGUAGES))
    next = HiddenField()


class LogoutForm(FlaskForm):
    pass


def safe_next(target: str | None) -> str:
    """A path inside the app (as ``request.full_path`` gives it) as a URL under the app's prefix.

    Only a local path: an open redirect after login would be a phishing helper. The prefix the
    panels are mounted under (``SCRIPT_NAME``, or nginx's ``X-Forwarded-Prefix``) is put in front.
    """
    if not target:
        return url_for("core.index")
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return url_for("core.index")
    return request.script_root + target


def _lang_state(user_id: int) -> DbState:
    return DbState(current_host().engine, f"web.lang.{user_id}")


@blueprint.route("/healthz")
def healthz() -> Any:
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user() is not None and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    error = None
    if form.validate_on_submit():
        web = web_state()
        ip = auth.normalize_ip(request.remote_addr)
        login_name = (form.login.data or "").strip()
        if web.throttle.blocked(ip, login_name):
            current_app.config["SLEEP"](current_app.config["LOGIN_FAIL_DELAY"])
            error = gettext("Too many failed login attempts. Try again in a few minutes.")
        else:
            result = auth.authenticate(
                current_host().engine,
                login_name,
                form.password.data or "",
                ip,
                two_factor_required=current_app.config["TWO_FACTOR_REQUIRED"],
            )
            if result.pending is not None:
                _clear_session()
                session["2fa"] = sessions.put_pending(current_host().engine, result.pending, safe_next(form.next.data))
                return redirect(url_for("core.login_code"))
            if result.error in auth.LMS_ACTION_NEEDED:
                error = gettext(result.error)
            elif result.user is None:
                web.throttle.record_failure(ip, login_name)
                current_app.logger.warning("failed login for %r from %s: %s", login_name, ip, result.error)
                current_app.config["SLEEP"](current_app.config["LOGIN_FAIL_DELAY"])
                error = gettext(result.error or auth.WRONG_LOGIN)
            else:
                return _start_session(result.user, safe_next(form.next.data))
    elif request.method == "POST" and not form.errors.get("csrf_token"):
        error = gettext(auth.WRONG_LOGIN)
    return render_template("login.html", form=form, error=error), (200 if error is None else 401)


def _clear_session() -> None:
    """Forget everything of the session but the language chosen on the login page."""
    lang = session.get("lang")
    session.clear()
    if lang in LANGUAGES:
        session["lang"] = lang


def _start_session(user: auth.User, target: str) -> Any:
    """A fresh session for *user*; the user's stored language wins over the one chosen before."""
    _clear_session()
    now = int(time.time())
    session["sid"] = sessions.start_session(current_host().engine, user.id, current_app.config["LMS_SESSION_TIMEOUT"])
    session["uid"] = user.id
    session["pt"] = user.passwd_tag
    session["seen"] = session["stamped"] = now
    web_state().throttle.reset(auth.normalize_ip(request.remote_addr), user.login)
    stored = _lang_state(user.id).get()
    if stored in LANGUAGES:
        session["lang"] = stored
    current_app.logger.info("user %s logged in from %s", user.login, auth.normalize_ip(request.remote_addr))
    return redirect(target)


def _drop_pending() -> None:
    sessions.drop_pending(current_host().engine, session.pop("2fa", None))


@blueprint.route("/login/code", methods=["GET", "POST"])
def login_code() -> Any:
    """The second step of a two-factor login: the code from the user's authenticator app."""
    found = sessions.get_pending(current_host().engine, session.get("2fa"))
    if found is None:
        if "2fa" in session:
            _drop_pending()
            flash(gettext("The login has expired. Log in again."), "info")
        return redirect(url_for("core.login"))
    pending = found[0]
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        web = web_state()
        ip = auth.normalize_ip(request.remote_addr)
        code = (form.code.data or "").strip()
        if form.back.data:
            _drop_pending()
            return redirect(url_for("core.login"))
        if not code:
            error = gettext("Enter the code from your authenticator app.")
        elif web.throttle.blocked(ip, pending.login):
            current_app.config["SLEEP"](current_app.config["LOGIN_FAIL_DELAY"])
            error = gettext(auth.CODE_LOCKED)
        else:
            result = auth.verify_code(current_host().engine, pending, code, ip)
            if result.user is not None:
                target = found[1] or url_for("core.index")
                _drop_pending()
                return _start_session(result.user, target)
            if result.error in auth.LMS_ACTION_NEEDED:
                _drop_pending()
                flash(gettext(result.error), "error")
                return redirect(url_for("core.login"))
            web.throttle.record_failure(ip, pending.login)
            current_app.logger.warning("failed code for %r from %s: %s", pending.login, ip, result.error)
            current_app.config["SLEEP"](current_app.config["LOGIN_FAIL_DELAY"])
            if result.error not in (auth.WRONG_CODE, auth.CODE_USED, auth.CODE_LOCKED):
                _drop_pending()
                flash(gettext(result.error or auth.WRONG_LOGIN), "error")
                return redirect(url_for("core.login"))
            error = gettext(result.error or auth.WRONG_CODE)
    elif request.method == "POST" and not form.errors.get("csrf_token"):
        error = gettext(auth.WRONG_CODE)
    return render_template("login_code.html", form=form, error=error), (200 if error is None else 401)


@blueprint.route("/logout", methods=["POST"])
def logout() -> Any:
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400)
    sid = request.cookies.get("SID")
    sessions.end_session(current_host().engine, session.get("sid"))
    from lmsplugins.web import forget_user_cache

    forget_user_cache()
    _clear_session()
    if sid:
        from lmsplugins.web import sid_tag

        session["sso_off"] = sid_tag(sid)
    flash(gettext("You have been logged out."), "info")
    return redirect(url_for("core.login"))


@blueprint.route("/language", methods=["POST"])
def language() -> Any:
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    session["lang"] = form.lang.data
    user = current_user()
    if user is not None:
        _lang_state(user.id).set(form.lang.data)
    return redirect(safe_next(form.next.data))


@blueprint.route("/")
def index() -> Any:
    from lmsplugins.web.views_status import start_page

    return start_page()


@blueprint.route("/customers")
def customers() -> Any:
    require_any_permission(*CUSTOMER_READ)
    q = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "name")
    order = request.args.get("order", "asc")
    page_no = int_arg("page", 1)
    per_page = current_app.config["PER_PAGE"]
    with read_engine().connect() as conn:
        page = customer_card.list_customers(
            conn, q=q, page=page_no, per_page=per_page, sort=sort, desc=(order == "desc")
        )
    if q and page_no == 1 and len(page.rows) == 1 and not page.has_next:
        return redirect(url_for("core.customer", customer_id=page.rows[0].id))
    add_breadcrumb(gettext("Customers"), url_for("core.customers"))
    return render_template(
        "customers.html",
        page=page,
        q=q,
        sort=sort if sort in customer_card.SORTS else "name",
        order="desc" if order == "desc" else "asc",
        statuses=customer_card.STATUSES,
    )


@blueprint.route("/customers/<int:customer_id>")
def customer(customer_id: int) -> Any:
    require_any_permission(*CUSTOMER_READ)
    with read_engine().connect() as conn:
        card = customer_card.get_card(conn, customer_id)
    if card is None:
        abort(404)
    user = current_user()
    assert user is not None
    panels = render_panels(web_state(), customer_id, user)
    add_breadcrumb(gettext("Customers"), url_for("core.customers"))
    add_breadcrumb(f"{card.full_name} (#{card.id})")
    return render_template(
        "customer.html",
        card=card,
        panels=panels,
        statuses=customer_card.STATUSES,
        types=customer_card.CUSTOMER_TYPES,
    )


# The start page, job detail, /metrics and connection tests add their routes to this blueprint and
# to admin's; importing them here registers the routes before the app registers the blueprints.
from lmsplugins.web import views_status  # noqa: E402,F401
