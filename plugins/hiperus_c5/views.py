"""The Hiperus C5 web panel: accounts, terminals, numbers, end users, catalogues, ranges, CDRs, search,
and the box on the LMS customer card (spec §6, issue 4 item 6).

Reads come from the local ``hv_*`` mirror the import job keeps: lists filter, sort and page in SQL and
a card opens even while the platform is down or rate-limited (7 calls in 5 s, shared with cron). A
"refresh from the platform" button re-reads one account or the catalogues on demand.

Writes are LIVE (:mod:`.live`): the platform first, through the client built by
:func:`.runtime.make_client` (so web and cron share one session id and one request budget), then the
mirror in one transaction. A refusal of the platform changes nothing locally and comes back to the
user as the platform's own message in a flash, with the form as it was filled in.

Billing on the account card is read from ``hv_billing``, not from ``GetBilling``: the platform answers
CDR queries slowly (the PHP plugin slept 5 s after each call type, six types per month), the daily
import keeps the table complete up to yesterday, and the invoice job bills exactly these rows, so the
card shows what will be invoiced.

Rights (spec §1): ``hiperus_read_only`` opens every page but sees no form and no button;
``hiperus_full_access`` (or LMS's ``full_access``) is needed for every POST.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.engine import Connection
from wtforms import SelectChoice
from wtforms.validators import Length, Optional

from lmsplugins.errors import ConfigError, ProviderError
from lmsplugins.host import Host
from lmsplugins.lms import customer_card
from lmsplugins.lms.tables import customers
from lmsplugins.web.context import (
    add_breadcrumb,
    current_host,
    current_settings,
    gettext,
    has_permission,
    int_arg,
    parse_id,
    require_any_permission,
    require_permission,
)
from lmsplugins.web.i18n import add_messages
from lmsplugins.web.slots import mask_secrets

from . import live
from .client import HiperusCallError, HiperusClient
from .forms import (
    INVOICE_NAMES,
    AccountForm,
    ConfirmForm,
    LinkForm,
    NumberForm,
    RangeUsageForm,
    TerminalForm,
    choice_labels,
    select_choices,
)
from .messages import EN, PL
from .plugin import plugin
from .tables import (
    hv_assign,
    hv_billing,
    hv_borough,
    hv_county,
    hv_customers,
    hv_enduserlist,
    hv_pcb,
    hv_pricelist,
    hv_province,
    hv_pstn,
    hv_pstnrange,
    hv_pstnusage,
    hv_subscriptionlist,
    hv_terminal,
)

FULL, READ_ONLY = "hiperus_full_access", "hiperus_read_only"
READ = (READ_ONLY, FULL)
SEARCH_LIMIT = 15
CALLTYPES = ("incoming", "outgoing", "disa", "forwarded", "internal", "vpbx")
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

add_messages("pl", PL)
add_messages("en", EN)

blueprint = Blueprint("hiperus_c5", __name__, template_folder="templates", url_prefix="/hiperus-c5")


# --------------------------------------------------------------------------------------------------
# Helpers


def _require_read() -> None:
    require_any_permission(*READ)


def _can_write() -> bool:
    return has_permission(FULL)


SEARCH_TEXT_ERROR = "Search text may not contain emoji or other characters beyond U+FFFF."


def _search_text(raw: str, length: int = 100) -> str:
    """The search text of a list or of the quick search, or 400 with one message when it holds characters
    beyond U+FFFF: the MariaDB ``hv_*`` tables are ``utf8`` (3 bytes at most, as the PHP plugin made
    them), where comparing such a text fails (error 1267) and no stored name can hold one. Refused on
    every database, so a search means the same whichever one LMS runs on."""
    text = raw.strip()[:length]
    if any(ord(ch) > 0xFFFF for ch in text):
        abort(400, gettext(SEARCH_TEXT_ERROR))
    return text


def _ascii_digits(raw: str) -> str:
    """Only 0-9: ``str.isdigit`` also takes superscripts and other scripts' digits, which no number holds."""
    return "".join(ch for ch in raw if ch in "0123456789")


def _settings() -> Any:
    return current_settings(plugin)


def _client() -> HiperusClient:
    from .runtime import make_client

    return make_client(current_host(), _settings())


def _engine() -> Any:
    return current_host().engine


def _provider_message(exc: Exception) -> str:
    """What the platform said (its ``error_message``), else the client's one-line summary; no secret."""
    text = exc.platform_message if isinstance(exc, HiperusCallError) and exc.platform_message else str(exc)
    return mask_secrets(current_host(), text.splitlines()[0][:400] if text else type(exc).__name__)


def _refused(exc: Exception) -> None:
    current_app.logger.warning("Hiperus refused a change: %s", exc)
    flash(gettext("Nothing changed: the Hiperus platform answered: {error}", error=_provider_message(exc)), "error")


def _live_change(
    change: Callable[[], Any],
    done: str | Callable[[Any], str],
    target: str | Callable[[Any], str],
    stale_target: str | None = None,
) -> Any:
    """Run one LIVE change on the platform and say how it went.

    Returns the redirect after a change that went through (*done* flashed; *target* may depend on the
    change's result, *stale_target* serves when the result could not be read back), or None when the
    platform refused it (the reason flashed, so the form is shown again with what was typed).
    """
    try:
        result = change()
    except live.MirrorStale as exc:
        _stale(exc)
        return redirect(stale_target or (target if isinstance(target, str) else url_for("hiperus_c5.accounts")))
    except (ProviderError, ConfigError) as exc:
        _refused(exc)
        return None
    flash(done(result) if callable(done) else done, "success")
    return redirect(target(result) if callable(target) else target)


def _account_crumbs(acc: Mapping[str, Any] | None, last: str) -> None:
    add_breadcrumb(gettext("Hiperus C5: accounts"), url_for("hiperus_c5.accounts"))
    if acc is not None:
        add_breadcrumb(f"{acc['name']} (#{acc['id']})", url_for("hiperus_c5.account", account_id=acc["id"]))
    add_breadcrumb(last)


def _stale(exc: live.MirrorStale) -> None:
    flash(
        gettext(
            "Saved on the Hiperus platform, but reading it back failed ({error}); "
            "the local data catches up with the next refresh or import.",
            error=_provider_message(exc.cause),
        ),
        "warning",
    )


def _int_arg(name: str, default: int) -> int:
    return int_arg(name, default)


@dataclass
class Page:
    """What ``macros.pager`` needs."""

    page: int
    per_page: int
    total: int
    total_capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def _page(total: int, per_page: int) -> Page:
    per_page = max(1, per_page or 50)
    page = Page(_int_arg("page", 1), per_page, total)
    page.page = min(page.page, page.pages)
    return page


def _account_or_404(conn: Connection, account_id: int) -> Mapping[str, Any]:
    row = conn.execute(select(hv_customers).where(hv_customers.c.id == account_id)).mappings().first()
    if row is None:
        abort(404)
    return row


def _lms_customer(conn: Connection, customer_id: int | None) -> Mapping[str, Any] | None:
    if not customer_id:
        return None
    return (
        conn.execute(
            select(customers.c.id, customers.c.lastname, customers.c.name, customers.c.deleted).where(
                customers.c.id == customer_id
            )
        )
        .mappings()
        .first()
    )


def _lms_customer_ok(conn: Connection, customer_id: int | None) -> bool:
    row = _lms_customer(conn, customer_id)
    return row is not None and not row["deleted"]


def _lms_name(row: Mapping[str, Any] | None) -> str:
    return customer_card.display_name(row["lastname"], row["name"]) if row else ""


def _pricelists(conn: Connection) -> list[tuple[int, str]]:
    return [(r.id, r.name or f"#{r.id}") for r in conn.execute(select(hv_pricelist).order_by(hv_pricelist.c.name))]


def _subscriptions(conn: Connection) -> list[tuple[int, str]]:
    t = hv_subscriptionlist
    return [(r.id, r.name or f"#{r.id}") for r in conn.execute(select(t).order_by(t.c.name))]


def _locations(conn: Connection) -> list[tuple[int, str]]:
    """Emergency locations (``hv_pcb``) as "province / county / borough", in that order."""
    p, c, b, pcb = hv_province, hv_county, hv_borough, hv_pcb
    rows = conn.execute(
        select(pcb.c.id, p.c.name.label("p"), c.c.name.label("c"), b.c.name.label("b"))
        .select_from(
            pcb.join(p, p.c.id == pcb.c.province).join(c, c.c.id == pcb.c.county).join(b, b.c.id == pcb.c.borough)
        )
        .order_by(p.c.name, c.c.name, b.c.name, pcb.c.id)
    )
    return [(r.id, f"{(r.p or '').strip()} / {r.c} / {r.b}") for r in rows]


def _tax_multiplier() -> Decimal:
    from .invoicing import tax_rate

    try:
        rate = tax_rate(_settings(), current_host().config().get("phpui.default_taxrate"))
    except ArithmeticError:
        rate = Decimal(23)
    return (rate + 100) / 100


# --------------------------------------------------------------------------------------------------
# Account list


SORTS = {"name": hv_customers.c.name, "id": hv_customers.c.id}


def _invoice_value() -> Any:
    a = hv_assign
    return (
        select(func.max(a.c.keyvalue))
        .where(a.c.customerid == hv_customers.c.id, a.c.keytype == "issue_invoice")
        .scalar_subquery()
    )


def _count_of(table: Any) -> Any:
    return select(func.count()).select_from(table).where(table.c.customerid == hv_customers.c.id).scalar_subquery()


@blueprint.route("/")
@blueprint.route("/accounts")
def accounts() -> Any:
    """hv_accountlist: filters hvext (1 linked, 2 unlinked), hvvat (0/1/2), hvpayment, hvprice (id or
    ``noprice``) and the sort ``hvlistsort`` = ``name,asc|desc`` (also ``id,...``), as the PHP page."""
    _require_read()
    args = {k: request.args.get(k, "").strip() for k in ("hvext", "hvvat", "hvpayment", "hvprice")}
    args["q"] = _search_text(request.args.get("q", ""))
    sort_key, _, order = (request.args.get("hvlistsort") or "name,asc").partition(",")
    sort_col = SORTS.get(sort_key, hv_customers.c.name)
    order = "desc" if order == "desc" else "asc"
    t = hv_customers
    invoice = _invoice_value()
    conds = []
    if args["hvext"] == "1":
        conds.append(t.c.ext_billing_id.isnot(None))
    elif args["hvext"] == "2":
        conds.append(t.c.ext_billing_id.is_(None))
    if args["hvvat"] in ("0", "1", "2"):
        conds.append(func.coalesce(func.trim(invoice), "0") == args["hvvat"])
    if args["hvpayment"] in ("prepaid", "postpaid"):
        conds.append(t.c.payment_type == args["hvpayment"])
    if args["hvprice"] == "noprice":
        conds.append(t.c.id_default_pricelist.is_(None))
    elif parse_id(args["hvprice"]) is not None:
        conds.append(t.c.id_default_pricelist == parse_id(args["hvprice"]))
    if args["q"]:
        q = args["q"]
        like = func.lower(t.c.name).contains(q.lower(), autoescape=True)
        conds.append(or_(like, t.c.id == int(q)) if q.isascii() and q.isdigit() and len(q) < 10 else like)
    where = and_(*conds) if conds else literal(True)
    per_page = _settings()["hiperus_c5.accountlist_pagelimit"] or 50
    with _engine().connect() as conn:
        total = conn.execute(select(func.count()).select_from(t).where(where)).scalar() or 0
        page = _page(total, per_page)
        rows = (
            conn.execute(
                select(
                    t.c.id,
                    t.c.name,
                    t.c.ext_billing_id,
                    t.c.payment_type,
                    t.c.active,
                    t.c.city,
                    invoice.label("invoice"),
                    hv_pricelist.c.name.label("pricelist"),
                    _count_of(hv_terminal).label("terminals"),
                    _count_of(hv_pstn).label("numbers"),
                    customers.c.lastname.label("lms_lastname"),
                    customers.c.name.label("lms_name"),
                )
                .select_from(
                    t.outerjoin(hv_pricelist, hv_pricelist.c.id == t.c.id_default_pricelist).outerjoin(
                        customers, customers.c.id == t.c.ext_billing_id
                    )
                )
                .where(where)
                .order_by(sort_col.desc() if order == "desc" else sort_col.asc(), t.c.id)
                .limit(page.per_page)
                .offset(page.offset)
            )
            .mappings()
            .all()
        )
        pricelists = _pricelists(conn)
    add_breadcrumb(gettext("Hiperus C5: accounts"), url_for("hiperus_c5.accounts"))
    return render_template(
        "hiperus_c5/accounts.html",
        rows=rows,
        page=page,
        args=args,
        sort=f"{sort_key if sort_key in SORTS else 'name'},{order}",
        pricelists=pricelists,
        invoice_names=INVOICE_NAMES,
        can_write=_can_write(),
        display_name=customer_card.display_name,
    )


# --------------------------------------------------------------------------------------------------
# Account card


def _billing_filter(account_id: int) -> tuple[dict[str, Any], list[Any]]:
    """Year/month/terminal/type/success filters of the card's summary and the CDR list."""
    zone = ZoneInfo(_settings()["hiperus_c5.timezone"] or "Europe/Warsaw")
    today = datetime.now(zone).date()
    try:
        year = int(request.args.get("year", today.year))
        month = int(request.args.get("month", today.month))
        if not (1 <= month <= 12 and 2000 <= year <= 2100):
            raise ValueError
    except ValueError:
        year, month = today.year, today.month
    terminal = request.args.get("terminal", "").strip()[:100]
    calltype = request.args.get("calltype", "")
    success = request.args.get("success", "")
    b = hv_billing
    conds = [b.c.customerid == account_id, b.c.start_time.like(f"{year:04d}-{month:02d}-%")]
    if terminal:
        conds.append(b.c.terminal_name == terminal)
    if calltype in CALLTYPES:
        conds.append(b.c.calltype == calltype)
    else:
        calltype = ""
    if success in ("t", "f"):
        conds.append(b.c.success_call == success)
    else:
        success = ""
    args = {"year": year, "month": month, "terminal": terminal, "calltype": calltype, "success": success}
    return args, conds


def _billing_summary(conn: Connection, conds: list[Any]) -> list[Mapping[str, Any]]:
    b = hv_billing
    return (
        conn.execute(
            select(
                b.c.terminal_name,
                func.count().label("calls"),
                func.coalesce(func.sum(b.c.duration), 0).label("duration"),
                func.coalesce(func.sum(b.c.cost), 0).label("cost"),
                func.coalesce(func.sum(b.c.init_charge), 0).label("init_charge"),
            )
            .where(*conds)
            .group_by(b.c.terminal_name)
            .order_by(b.c.terminal_name)
        )
        .mappings()
        .all()
    )


@blueprint.route("/accounts/<int:account_id>")
def account(account_id: int) -> Any:
    _require_read()
    filters, conds = _billing_filter(account_id)
    with _engine().connect() as conn:
        acc = _account_or_404(conn, account_id)
        choice = live.invoice_choice(conn, account_id)
        lms = _lms_customer(conn, acc["ext_billing_id"])
        terminals = (
            conn.execute(
                select(hv_terminal, hv_pcb.c.id.label("pcb"))
                .select_from(hv_terminal.outerjoin(hv_pcb, hv_pcb.c.id == hv_terminal.c.id_terminal_location))
                .where(hv_terminal.c.customerid == account_id)
                .order_by(hv_terminal.c.username)
            )
            .mappings()
            .all()
        )
        numbers = (
            conn.execute(select(hv_pstn).where(hv_pstn.c.customerid == account_id).order_by(hv_pstn.c.number))
            .mappings()
            .all()
        )
        end_users = (
            conn.execute(
                select(hv_enduserlist).where(hv_enduserlist.c.customerid == account_id).order_by(hv_enduserlist.c.email)
            )
            .mappings()
            .all()
        )
        summary = _billing_summary(conn, conds)
        pricelist = conn.execute(
            select(hv_pricelist.c.name).where(hv_pricelist.c.id == acc["id_default_pricelist"])
        ).scalar()
    vat = _tax_multiplier()
    totals = {
        "calls": sum(r["calls"] for r in summary),
        "duration": sum(int(r["duration"] or 0) for r in summary),
        "cost": sum(Decimal(r["cost"] or 0) for r in summary),
    }
    add_breadcrumb(gettext("Hiperus C5: accounts"), url_for("hiperus_c5.accounts"))
    add_breadcrumb(f"{acc['name']} (#{acc['id']})")
    hide = _hide_passwords()
    return render_template(
        "hiperus_c5/account.html",
        acc=acc,
        choice=choice,
        invoice_names=INVOICE_NAMES,
        lms=lms,
        lms_name=_lms_name(lms),
        pricelist=pricelist,
        terminals=terminals,
        numbers=numbers,
        end_users=end_users,
        summary=summary,
        totals=totals,
        vat=vat,
        filters=filters,
        months=MONTHS,
        calltypes=CALLTYPES,
        can_write=_can_write(),
        hide_passwords=hide,
        link_form=LinkForm(customer_id=acc["ext_billing_id"]),
        confirm_form=ConfirmForm(),
    )


@blueprint.route("/accounts/<int:account_id>/billing")
def billing(account_id: int) -> Any:
    """hv_billinginfoext: the account's CDRs of a month, filtered, with totals and paging."""
    _require_read()
    filters, conds = _billing_filter(account_id)
    b = hv_billing
    with _engine().connect() as conn:
        acc = _account_or_404(conn, account_id)
        totals = (
            conn.execute(
                select(
                    func.count().label("calls"),
                    func.coalesce(func.sum(b.c.duration), 0).label("duration"),
                    func.coalesce(func.sum(b.c.cost), 0).label("cost"),
                    func.coalesce(func.sum(b.c.init_charge), 0).label("init_charge"),
                ).where(*conds)
            )
            .mappings()
            .one()
        )
        page = _page(int(totals["calls"] or 0), current_app.config["PER_PAGE"])
        rows = (
            conn.execute(
                select(b).where(*conds).order_by(b.c.start_time, b.c.id).limit(page.per_page).offset(page.offset)
            )
            .mappings()
            .all()
        )
        terminal_names = [
            r[0]
            for r in conn.execute(
                select(hv_terminal.c.username)
                .where(hv_terminal.c.customerid == account_id)
                .order_by(hv_terminal.c.username)
            )
        ]
    _account_crumbs(acc, gettext("Calls"))
    return render_template(
        "hiperus_c5/billing.html",
        acc=acc,
        rows=rows,
        page=page,
        totals=totals,
        vat=_tax_multiplier(),
        filters=filters,
        months=MONTHS,
        calltypes=CALLTYPES,
        terminal_names=terminal_names,
    )


# --------------------------------------------------------------------------------------------------
# Account add / edit / delete / link / refresh


def _account_form(conn: Connection, form: AccountForm) -> None:
    form.id_default_pricelist.choices = select_choices([(0, "—"), *_pricelists(conn)])


def _prefill_from_lms(form: AccountForm, customer_id: int) -> None:
    """hv_accountadd?cusid=: name, address split into street/number/flat, zip, city, e-mail, NIP/PESEL."""
    with _engine().connect() as conn:
        card = customer_card.get_card(conn, customer_id)
    if card is None or card.deleted:
        return
    form.name.data = card.full_name
    form.b_name.data = card.full_name
    form.ext_billing_id.data = card.id
    form.b_nip.data = card.ten
    form.b_regon.data = card.regon if card.type == 1 else card.ssn
    email = next((c["contact"] for c in card.contacts if "email" in c["kinds"] and not c["disabled"]), "")
    form.email.data = email
    from lmsplugins.lms.tables import addresses, customer_addresses

    with _engine().connect() as conn:
        row = conn.execute(
            select(addresses.c.street, addresses.c.house, addresses.c.flat, addresses.c.zip, addresses.c.city)
            .select_from(customer_addresses.join(addresses, addresses.c.id == customer_addresses.c.address_id))
            .where(customer_addresses.c.customer_id == customer_id)
            .order_by(customer_addresses.c.type, customer_addresses.c.id)
            .limit(1)
        ).first()
    if row is not None:
        form.address.data, form.street_number.data, form.apartment_number.data = row.street, row.house, row.flat
        form.postcode.data, form.city.data = row.zip, row.city
        form.b_address.data, form.b_street_number.data = row.street, row.house
        form.b_apartment_number.data, form.b_postcode.data, form.b_city.data = row.flat, row.zip, row.city


def _check_lms_link(conn: Connection, form: AccountForm) -> bool:
    if form.ext_billing_id.data and not _lms_customer_ok(conn, form.ext_billing_id.data):
        form.ext_billing_id.errors = [*form.ext_billing_id.errors, gettext("No such LMS customer.")]
        return False
    return True


@blueprint.route("/accounts/new", methods=["GET", "POST"])
def account_add() -> Any:
    require_permission(FULL)
    settings = _settings()
    form = AccountForm(force_relationship=bool(settings["hiperus_c5.force_relationship"]))
    if request.method == "GET":
        form.invoice_choice.data = str(settings["hiperus_c5.invoice_source"] or "0")
        cusid = request.args.get("cusid", "")
        if parse_id(cusid) is not None:
            _prefill_from_lms(form, parse_id(cusid))
        if form.invoice_choice.data == "2" and not form.ext_billing_id.data:
            form.invoice_choice.data = "0"
    with _engine().connect() as conn:
        _account_form(conn, form)
        valid = form.validate_on_submit() and _check_lms_link(conn, form)
    if valid:
        done = _live_change(
            lambda: live.add_account(_engine(), _client(), form.platform_values(), form.invoice_choice.data),
            lambda account_id: gettext("VoIP account #{id} created.", id=account_id),
            lambda account_id: url_for("hiperus_c5.account", account_id=account_id),
            stale_target=url_for("hiperus_c5.accounts"),
        )
        if done is not None:
            return done
    _account_crumbs(None, gettext("New VoIP account"))
    return render_template("hiperus_c5/account_form.html", form=form, acc=None)


@blueprint.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
def account_edit(account_id: int) -> Any:
    require_permission(FULL)
    with _engine().connect() as conn:
        acc = _account_or_404(conn, account_id)
        choice = live.invoice_choice(conn, account_id)
    form = AccountForm(
        data={**dict(acc), "invoice_choice": choice} if request.method == "GET" else None,
        force_relationship=bool(_settings()["hiperus_c5.force_relationship"]),
    )
    if request.method == "GET":
        for key in ("active", "is_wlr", "consent_data_processing"):
            getattr(form, key).data = acc[key] == "t"
        form.id_default_pricelist.data = acc["id_default_pricelist"]
    with _engine().connect() as conn:
        _account_form(conn, form)
        valid = form.validate_on_submit() and _check_lms_link(conn, form)
    if valid:
        done = _live_change(
            lambda: live.edit_account(
                _engine(), _client(), account_id, form.platform_values(), form.invoice_choice.data
            ),
            gettext("VoIP account saved."),
            url_for("hiperus_c5.account", account_id=account_id),
        )
        if done is not None:
            return done
    _account_crumbs(acc, gettext("Edit"))
    return render_template("hiperus_c5/account_form.html", form=form, acc=acc)


def _confirmed() -> None:
    """POST buttons: the frame already refused a missing CSRF token (400); this keeps it explicit."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


@blueprint.route("/accounts/<int:account_id>/delete", methods=["POST"])
def account_delete(account_id: int) -> Any:
    require_permission(FULL)
    _confirmed()
    with _engine().connect() as conn:
        acc = _account_or_404(conn, account_id)
    try:
        live.delete_account(_engine(), _client(), account_id)
    except (ProviderError, ConfigError) as exc:
        _refused(exc)
        return redirect(url_for("hiperus_c5.account", account_id=account_id))
    flash(gettext("VoIP account {name} deleted.", name=acc["name"]), "success")
    return redirect(url_for("hiperus_c5.accounts"))


@blueprint.route("/accounts/<int:account_id>/link", methods=["POST"])
def account_link(account_id: int) -> Any:
    require_permission(FULL)
    form = LinkForm()
    target = url_for("hiperus_c5.account", account_id=account_id)
    if not form.validate_on_submit():
        if form.errors.get("csrf_token"):
            abort(400)
        flash(gettext("Give an LMS customer ID (or leave it empty to unlink)."), "error")
        return redirect(target)
    customer_id = form.customer_id.data or None
    with _engine().connect() as conn:
        _account_or_404(conn, account_id)
        if customer_id is not None and not _lms_customer_ok(conn, customer_id):
            flash(gettext("No such LMS customer."), "error")
            return redirect(target)
    done = (
        gettext("Linked to LMS customer #{id}.", id=customer_id)
        if customer_id
        else gettext("Unlinked from the LMS customer.")
    )
    return _live_change(lambda: live.link_account(_engine(), _client(), account_id, customer_id), done, target) or (
        redirect(target)
    )


@blueprint.route("/accounts/<int:account_id>/refresh", methods=["POST"])
def account_refresh(account_id: int) -> Any:
    require_permission(FULL)
    _confirmed()
    try:
        live.refresh_account(_engine(), _client(), account_id)
    except (ProviderError, ConfigError) as exc:
        flash(gettext("The platform could not be read: {error}", error=_provider_message(exc)), "error")
    else:
        flash(gettext("Refreshed from the Hiperus platform."), "success")
    return redirect(url_for("hiperus_c5.account", account_id=account_id))


# --------------------------------------------------------------------------------------------------
# Terminals


def _terminal_form(conn: Connection, form: TerminalForm) -> None:
    form.id_pricelist.choices = select_choices(_pricelists(conn))
    form.id_subscription.choices = select_choices([(0, "—"), *_subscriptions(conn)])
    form.id_terminal_location.choices = select_choices([(0, "—"), *_locations(conn)])


def _hide_passwords() -> bool:
    """SIP passwords are shown to full-access users only, and to them not when ``hide_passwords``."""
    return not _can_write() or bool(_settings()["hiperus_c5.hide_passwords"])


def _keep_hidden_password(form: TerminalForm) -> None:
    """An edit form under ``hide_passwords``: the password field starts empty; left empty, it keeps it."""
    form.password.validators = [Optional(), Length(min=6, max=100)]
    form.password.render_kw = {"type": "password", "autocomplete": "new-password"}
    if request.method == "GET":
        form.password.data = ""


def _terminal_values(form: TerminalForm, stored_password: str | None = None) -> live.TerminalValues:
    location = form.id_terminal_location.data if not form.no_location.data else None
    return live.TerminalValues(
        username=form.username.data.strip(),
        password=form.password.data or stored_password or "",
        id_pricelist=form.id_pricelist.data,
        screen_numbers=bool(form.screen_numbers.data),
        t38_fax=bool(form.t38_fax.data),
        id_subscription=form.id_subscription.data,
        subscription_from=form.subscription_from.data,
        subscription_to=form.subscription_to.data,
        id_terminal_location=location,
        location={"location": form.location.data or None},
    )


def _default_username(account_id: int, lms_id: int | None, count: int) -> str:
    pattern = _settings()["hiperus_c5.default_terminal_username"] or ""
    if not pattern:
        return ""
    return pattern.replace("%cid", str(lms_id or account_id)).replace("%tcount", str(count + 1))


@blueprint.route("/accounts/<int:account_id>/terminals/new", methods=["GET", "POST"])
def terminal_add(account_id: int) -> Any:
    require_permission(FULL)
    form = TerminalForm()
    with _engine().connect() as conn:
        acc = _account_or_404(conn, account_id)
        _terminal_form(conn, form)
        if request.method == "GET":
            count = (
                conn.execute(
                    select(func.count()).select_from(hv_terminal).where(hv_terminal.c.customerid == account_id)
                ).scalar()
                or 0
            )
            form.username.data = _default_username(account_id, acc["ext_billing_id"], count)
            form.id_pricelist.data = acc["id_default_pricelist"]
            form.id_terminal_location.data = _settings()["hiperus_c5.default_location"]
    if form.validate_on_submit():
        done = _live_change(
            lambda: live.add_terminal(_engine(), _client(), account_id, _terminal_values(form)),
            gettext("Terminal {name} created.", name=form.username.data),
            url_for("hiperus_c5.account", account_id=account_id),
        )
        if done is not None:
            return done
    _account_crumbs(acc, gettext("New terminal"))
    return render_template("hiperus_c5/terminal_form.html", form=form, acc=acc, terminal=None)


def _terminal_or_404(conn: Connection, terminal_id: int) -> Mapping[str, Any]:
    row = conn.execute(select(hv_terminal).where(hv_terminal.c.id == terminal_id)).mappings().first()
    if row is None:
        abort(404)
    return row


@blueprint.route("/terminals/<int:terminal_id>/edit", methods=["GET", "POST"])
def terminal_edit(terminal_id: int) -> Any:
    require_permission(FULL)
    with _engine().connect() as conn:
        terminal = _terminal_or_404(conn, terminal_id)
        acc = _account_or_404(conn, terminal["customerid"])
    form = TerminalForm(data=dict(terminal) if request.method == "GET" else None)
    if request.method == "GET":
        form.screen_numbers.data = terminal["screen_numbers"] == "t"
        form.t38_fax.data = terminal["t38_fax"] == "t"
        form.no_location.data = terminal["id_terminal_location"] is None
    if _hide_passwords():
        _keep_hidden_password(form)
    with _engine().connect() as conn:
        _terminal_form(conn, form)
    if form.validate_on_submit():
        values = _terminal_values(form, terminal["password"])
        done = _live_change(
            lambda: live.edit_terminal(_engine(), _client(), acc["id"], terminal_id, values),
            gettext("Terminal {name} saved.", name=form.username.data),
            url_for("hiperus_c5.account", account_id=acc["id"]),
        )
        if done is not None:
            return done
    _account_crumbs(acc, terminal["username"] or f"#{terminal_id}")
    return render_template("hiperus_c5/terminal_form.html", form=form, acc=acc, terminal=terminal)


@blueprint.route("/terminals/<int:terminal_id>/delete", methods=["POST"])
def terminal_delete(terminal_id: int) -> Any:
    require_permission(FULL)
    _confirmed()
    with _engine().connect() as conn:
        terminal = _terminal_or_404(conn, terminal_id)
    account_id = terminal["customerid"]
    try:
        live.delete_terminal(_engine(), _client(), account_id, terminal_id)
    except (ProviderError, ConfigError) as exc:
        _refused(exc)
    else:
        flash(gettext("Terminal {name} deleted.", name=terminal["username"]), "success")
    return redirect(url_for("hiperus_c5.account", account_id=account_id))


@blueprint.route("/terminals")
def terminals() -> Any:
    """hv_terminallist: every terminal, filtered by price list or subscription, sorted, paged."""
    _require_read()
    t = hv_terminal
    pricelist = request.args.get("pricelist", "")
    subscription = request.args.get("subscription", "")
    q = _search_text(request.args.get("q", ""))
    sort = request.args.get("sort", "username")
    order = "desc" if request.args.get("order") == "desc" else "asc"
    sorts = {"username": t.c.username, "customer": t.c.customer_name, "pricelist": t.c.pricelist_name}
    conds = []
    if parse_id(pricelist) is not None:
        conds.append(t.c.id_pricelist == parse_id(pricelist))
    if subscription == "none":
        conds.append(t.c.id_subscription.is_(None))
    elif parse_id(subscription) is not None:
        conds.append(t.c.id_subscription == parse_id(subscription))
    if q:
        conds.append(func.lower(t.c.username).contains(q.lower(), autoescape=True))
    col = sorts.get(sort, t.c.username)
    with _engine().connect() as conn:
        total = conn.execute(select(func.count()).select_from(t).where(*conds)).scalar() or 0
        page = _page(total, _settings()["hiperus_c5.terminallist_pagelimit"] or 50)
        rows = (
            conn.execute(
                select(t)
                .where(*conds)
                .order_by(col.desc() if order == "desc" else col.asc(), t.c.id)
                .limit(page.per_page)
                .offset(page.offset)
            )
            .mappings()
            .all()
        )
        pricelists, subscriptions = _pricelists(conn), _subscriptions(conn)
    add_breadcrumb(gettext("Hiperus C5: terminals"), url_for("hiperus_c5.terminals"))
    return render_template(
        "hiperus_c5/terminals.html",
        rows=rows,
        page=page,
        args={"pricelist": pricelist, "subscription": subscription, "q": q},
        sort=sort if sort in sorts else "username",
        order=order,
        pricelists=pricelists,
        subscriptions=subscriptions,
    )


# --------------------------------------------------------------------------------------------------
# Numbers


def _number_form(conn: Connection, form: NumberForm, account_id: int) -> None:
    form.id_terminal.choices = [
        SelectChoice(r.id, r.username)
        for r in conn.execute(
            select(hv_terminal.c.id, hv_terminal.c.username)
            .where(hv_terminal.c.customerid == account_id)
            .order_by(hv_terminal.c.username)
        )
    ]
    form.id_auth.choices = [SelectChoice(0, "—")] + [
        SelectChoice(r.id, r.email or f"#{r.id}")
        for r in conn.execute(
            select(hv_enduserlist.c.id, hv_enduserlist.c.email)
            .where(hv_enduserlist.c.customerid == account_id)
            .order_by(hv_enduserlist.c.email)
        )
    ]


def _number_values(form: NumberForm, terminal_names: dict[int, str]) -> live.NumberValues:
    return live.NumberValues(
        number=(form.number.data or "").strip(),
        country_code=form.country_code.data.strip(),
        id_terminal=form.id_terminal.data,
        terminal_name=terminal_names.get(form.id_terminal.data),
        is_main=bool(form.is_main.data),
        clir=bool(form.clir.data),
        virtual_fax=bool(form.virtual_fax.data),
        disa_enabled=bool(form.disa_enabled.data),
        voicemail_enabled=bool(form.voicemail_enabled.data),
        id_auth=form.id_auth.data,
        useremail=form.useremail.data or None,
        userpassword=form.userpassword.data or None,
    )


@blueprint.route("/accounts/<int:account_id>/numbers/new", methods=["GET", "POST"])
def number_add(account_id: int) -> Any:
    """hv_pstnadd: the form proposes the first free number of the ranges marked for use; with
    ``number_manually`` off the number is not typed but taken from there when the form is sent."""
    require_permission(FULL)
    manual = bool(_settings()["hiperus_c5.number_manually"])
    form = NumberForm()
    with _engine().connect() as conn:
        acc = _account_or_404(conn, account_id)
        _number_form(conn, form, account_id)
        free = live.first_free_number(conn)
    if request.method == "GET" and free is not None:
        form.number.data, form.country_code.data = free
    if not manual and request.method == "POST":
        form.number.data, form.country_code.data = free if free else ("", form.country_code.data or "48")
    if not form.id_terminal.choices and request.method == "GET":
        flash(gettext("The account has no terminal yet: add one first."), "warning")
    if form.validate_on_submit():
        names = choice_labels(form.id_terminal.choices)
        done = _live_change(
            lambda: live.add_number(_engine(), _client(), account_id, _number_values(form, names)),
            gettext("Number added."),
            url_for("hiperus_c5.account", account_id=account_id),
        )
        if done is not None:
            return done
    _account_crumbs(acc, gettext("New number"))
    return render_template("hiperus_c5/number_form.html", form=form, acc=acc, number=None, manual=manual, free=free)


def _number_or_404(conn: Connection, extension_id: int) -> Mapping[str, Any]:
    row = conn.execute(select(hv_pstn).where(hv_pstn.c.id == extension_id)).mappings().first()
    if row is None:
        abort(404)
    return row


@blueprint.route("/numbers/<int:extension_id>/edit", methods=["GET", "POST"])
def number_edit(extension_id: int) -> Any:
    require_permission(FULL)
    with _engine().connect() as conn:
        number = _number_or_404(conn, extension_id)
        acc = _account_or_404(conn, number["customerid"])
        form = NumberForm(data=dict(number) if request.method == "GET" else None)
        _number_form(conn, form, acc["id"])
    if request.method == "GET":
        for key in ("is_main", "clir", "virtual_fax", "disa_enabled", "voicemail_enabled"):
            getattr(form, key).data = number[key] == "t"
        form.id_terminal.data = next(
            (c.value for c in form.id_terminal.choices if c.label == number["terminal_name"]), None
        )
    if form.validate_on_submit() and not form.number.data:
        form.number.errors = [*form.number.errors, gettext("Give the number.")]
    elif form.validate_on_submit():
        names = choice_labels(form.id_terminal.choices)
        done = _live_change(
            lambda: live.edit_number(_engine(), _client(), acc["id"], extension_id, _number_values(form, names)),
            gettext("Number saved."),
            url_for("hiperus_c5.account", account_id=acc["id"]),
        )
        if done is not None:
            return done
    _account_crumbs(acc, number["number"] or f"#{extension_id}")
    return render_template("hiperus_c5/number_form.html", form=form, acc=acc, number=number, manual=True, free=None)


@blueprint.route("/numbers/<int:extension_id>/delete", methods=["POST"])
def number_delete(extension_id: int) -> Any:
    require_permission(FULL)
    _confirmed()
    with _engine().connect() as conn:
        number = _number_or_404(conn, extension_id)
    target = url_for("hiperus_c5.account", account_id=number["customerid"])
    return _live_change(
        lambda: live.delete_number(_engine(), _client(), number["customerid"], extension_id),
        gettext("Number {number} deleted.", number=number["number"]),
        target,
    ) or redirect(target)


@blueprint.route("/numbers")
def numbers() -> Any:
    """Numery PSTN: every number of every account, searchable, paged."""
    _require_read()
    p = hv_pstn
    q = _ascii_digits(request.args.get("q", ""))[:20]
    conds = [p.c.extension.contains(q, autoescape=True)] if q else []
    with _engine().connect() as conn:
        total = conn.execute(select(func.count()).select_from(p).where(*conds)).scalar() or 0
        page = _page(total, current_app.config["PER_PAGE"])
        rows = (
            conn.execute(
                select(p, hv_customers.c.name.label("account_name"))
                .select_from(p.outerjoin(hv_customers, hv_customers.c.id == p.c.customerid))
                .where(*conds)
                .order_by(p.c.extension, p.c.id)
                .limit(page.per_page)
                .offset(page.offset)
            )
            .mappings()
            .all()
        )
    add_breadcrumb(gettext("Hiperus C5: numbers"), url_for("hiperus_c5.numbers"))
    return render_template("hiperus_c5/numbers.html", rows=rows, page=page, q=q)


# --------------------------------------------------------------------------------------------------
# Catalogues and ranges


@blueprint.route("/pricelists")
def pricelists() -> Any:
    _require_read()
    t, s = hv_pricelist, hv_subscriptionlist
    with _engine().connect() as conn:
        prices = (
            conn.execute(
                select(
                    t,
                    select(func.count())
                    .select_from(hv_terminal)
                    .where(hv_terminal.c.id_pricelist == t.c.id)
                    .scalar_subquery()
                    .label("terminals"),
                ).order_by(t.c.name)
            )
            .mappings()
            .all()
        )
        subs = (
            conn.execute(
                select(
                    s,
                    select(func.count())
                    .select_from(hv_terminal)
                    .where(hv_terminal.c.id_subscription == s.c.id)
                    .scalar_subquery()
                    .label("terminals"),
                ).order_by(s.c.name)
            )
            .mappings()
            .all()
        )
    add_breadcrumb(gettext("Hiperus C5: price lists and subscriptions"), url_for("hiperus_c5.pricelists"))
    return render_template(
        "hiperus_c5/pricelists.html", prices=prices, subs=subs, can_write=_can_write(), confirm_form=ConfirmForm()
    )


@blueprint.route("/catalogues/refresh", methods=["POST"])
def catalogues_refresh() -> Any:
    require_permission(FULL)
    _confirmed()
    with_ranges = request.args.get("ranges") == "1"
    try:
        live.refresh_catalogues(_engine(), _client(), ranges=with_ranges)
    except (ProviderError, ConfigError) as exc:
        flash(gettext("The platform could not be read: {error}", error=_provider_message(exc)), "error")
    else:
        flash(gettext("Refreshed from the Hiperus platform."), "success")
    return redirect(url_for("hiperus_c5.ranges" if with_ranges else "hiperus_c5.pricelists"))


@blueprint.route("/ranges")
def ranges() -> Any:
    """hv_pstnrangelist: the ranges with how many numbers are used and free, and the local flag."""
    _require_read()
    r, u = hv_pstnrange, hv_pstnusage
    used = func.sum(case((func.coalesce(u.c.customerid, 0) != 0, 1), else_=0))
    with _engine().connect() as conn:
        usage = {
            row.idrange: (int(row.used or 0), int(row.total or 0))
            for row in conn.execute(
                select(u.c.idrange, used.label("used"), func.count().label("total")).group_by(u.c.idrange)
            )
        }
        rows = conn.execute(select(r).order_by(r.c.range_start)).mappings().all()
        free = live.first_free_number(conn)
    add_breadcrumb(gettext("Hiperus C5: number ranges"), url_for("hiperus_c5.ranges"))
    return render_template(
        "hiperus_c5/ranges.html",
        rows=rows,
        usage=usage,
        free=free,
        can_write=_can_write(),
        confirm_form=ConfirmForm(),
        range_form=RangeUsageForm(),
    )


@blueprint.route("/ranges/<int:range_id>")
def range_usage(range_id: int) -> Any:
    """hv_pstnusagelist / hv_searchemptypstn: the numbers of one range, all, used or free."""
    _require_read()
    u = hv_pstnusage
    show = request.args.get("show", "")
    conds = [u.c.idrange == range_id]
    if show == "free":
        conds.append(func.coalesce(u.c.customerid, 0) == 0)
    elif show == "used":
        conds.append(func.coalesce(u.c.customerid, 0) != 0)
    else:
        show = ""
    with _engine().connect() as conn:
        rng = conn.execute(select(hv_pstnrange).where(hv_pstnrange.c.id == range_id)).mappings().first()
        if rng is None:
            abort(404)
        total = conn.execute(select(func.count()).select_from(u).where(*conds)).scalar() or 0
        page = _page(total, current_app.config["PER_PAGE"])
        rows = (
            conn.execute(select(u).where(*conds).order_by(u.c.extension).limit(page.per_page).offset(page.offset))
            .mappings()
            .all()
        )
    add_breadcrumb(gettext("Hiperus C5: number ranges"), url_for("hiperus_c5.ranges"))
    add_breadcrumb(rng["description"] or f"#{range_id}")
    return render_template("hiperus_c5/range.html", rng=rng, rows=rows, page=page, show=show)


@blueprint.route("/ranges/<int:range_id>/usage", methods=["POST"])
def range_toggle(range_id: int) -> Any:
    require_permission(FULL)
    form = RangeUsageForm()
    if not form.validate_on_submit():
        abort(400)
    if not live.set_range_usage(_engine(), range_id, bool(form.enabled.data)):
        abort(404)
    current_app.logger.info("Hiperus range %s offered for new numbers: %s", range_id, bool(form.enabled.data))
    flash(gettext("Range saved."), "success")
    return redirect(url_for("hiperus_c5.ranges"))


# --------------------------------------------------------------------------------------------------
# Quick search


@dataclass(frozen=True)
class Hit:
    account_id: int
    account_name: str
    kind: str
    text: str


def search_hits(conn: Connection, q: str, limit: int = SEARCH_LIMIT) -> list[Hit]:
    """Quick search mode ``hiperus``: account id or name, number, terminal name; at most *limit* hits."""
    q = _search_text(q)
    if not q:
        return []
    hits: list[Hit] = []
    c, p, t = hv_customers, hv_pstn, hv_terminal
    digits = _ascii_digits(q)
    conds = [func.lower(c.c.name).contains(q.lower(), autoescape=True)]
    if q.isascii() and q.isdigit() and len(q) < 10:
        conds.append(c.c.id == int(q))
    for row in conn.execute(select(c.c.id, c.c.name).where(or_(*conds)).order_by(c.c.name, c.c.id).limit(limit)):
        hits.append(Hit(row.id, row.name or "", "account", f"#{row.id}"))
    if digits and len(digits) >= 3:
        for row in conn.execute(
            select(p.c.customerid, p.c.extension, p.c.number, c.c.name)
            .select_from(p.outerjoin(c, c.c.id == p.c.customerid))
            .where(or_(p.c.extension.contains(digits, autoescape=True), p.c.number.contains(digits, autoescape=True)))
            .order_by(p.c.extension)
            .limit(limit)
        ):
            hits.append(Hit(row.customerid, row.name or "", "number", row.extension or row.number or ""))
    for row in conn.execute(
        select(t.c.customerid, t.c.username, c.c.name)
        .select_from(t.outerjoin(c, c.c.id == t.c.customerid))
        .where(func.lower(t.c.username).contains(q.lower(), autoescape=True))
        .order_by(t.c.username)
        .limit(limit)
    ):
        hits.append(Hit(row.customerid, row.name or "", "terminal", row.username or ""))
    return hits[:limit]


@blueprint.route("/search")
def search() -> Any:
    _require_read()
    q = _search_text(request.args.get("q", ""))
    with _engine().connect() as conn:
        hits = search_hits(conn, q)
    if len(hits) == 1 and hits[0].account_id:
        return redirect(url_for("hiperus_c5.account", account_id=hits[0].account_id))
    add_breadcrumb(gettext("Hiperus C5: search"), url_for("hiperus_c5.search"))
    return render_template("hiperus_c5/search.html", q=q, hits=hits, limit=SEARCH_LIMIT)


# --------------------------------------------------------------------------------------------------
# Customer-card panel


def panel_accounts(conn: Connection, customer_id: int) -> list[Mapping[str, Any]]:
    t = hv_customers
    return (
        conn.execute(
            select(
                t.c.id,
                t.c.name,
                t.c.active,
                t.c.payment_type,
                _count_of(hv_terminal).label("terminals"),
                _count_of(hv_pstn).label("numbers"),
                _invoice_value().label("invoice"),
            )
            .where(t.c.ext_billing_id == customer_id)
            .order_by(t.c.name, t.c.id)
        )
        .mappings()
        .all()
    )


def customer_panel(host: Host, customer_id: int) -> str:
    """The box on the LMS customer card: the customer's VoIP accounts with their numbers."""
    with host.engine.connect() as conn:
        accounts = panel_accounts(conn, customer_id)
        ids = [a["id"] for a in accounts]
        numbers: dict[int, list[str]] = {}
        if ids:
            for row in conn.execute(
                select(hv_pstn.c.customerid, hv_pstn.c.number)
                .where(hv_pstn.c.customerid.in_(ids))
                .order_by(hv_pstn.c.number)
            ):
                numbers.setdefault(row.customerid, []).append(row.number)
    return render_template(
        "hiperus_c5/panel.html",
        accounts=accounts,
        numbers=numbers,
        customer_id=customer_id,
        can_write=has_permission(FULL),
        invoice_names=INVOICE_NAMES,
    )
