"""What the Metroport MVNO pages read and the one thing they write, kept apart from Flask.

Why a separate module: the views only parse requests and render; the questions asked of the database
(which records belong to an account, what a month costs, who could be bound to whom) are tested here
against SQLite and the real PostgreSQL schema without a browser in between.

Three rules shape it:

* **Records of an account are the ones the sync gave it** (spec §5): an outgoing record
  (``direction`` 2) belongs to its caller's account, an incoming one (1) to its callee's. A call
  between two of the operator's own subscribers exists twice at Metroport (once per subscriber), so
  counting "caller OR callee" would bill both halves to both accounts.
* **Candidates come from the sync's own matching** (:func:`mapping.plan_bindings` over
  :class:`IdentityIndex`), so the page shows exactly what the next ``--customers`` run would do and
  why it would not bind someone; nothing is re-implemented here.
* **A manual binding is written only through** :func:`lmsplugins.lms.customers.bind_extid`, under the
  sync job's own lock, after the refusals that keep the binding one-to-one (the accounts sync skips a
  Metroport user bound to two customers, and a customer with two Metroport users is ambiguous to it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection, Engine

from lmsplugins.db import named_lock
from lmsplugins.errors import LockHeld
from lmsplugins.http import HttpPolicy
from lmsplugins.lms import customers as lms_customers
from lmsplugins.lms import voip
from lmsplugins.lms.tables import customerextids, voip_cdr, voipaccounts

from . import mapping
from .client import MetroportMVNOClient, MetroportUser
from .formatting import TYPE_NAMES
from .jobs import JOB
from .plugin import PROVIDER_NAME

SYNC_JOB = JOB
"""The sync's job name, which is also its lock: a manual binding waits for no sync and vice versa."""
WEB_POLICY = HttpPolicy(timeout=(5.0, 20.0), retries=1, backoff=0.2, backoff_max=1.0)
"""A person is waiting for the page: fail within seconds instead of the cron job's patient retries."""
DEFAULT_ZONE = "Europe/Warsaw"
ACCESS_STATUS = {1: "active", 0: "blocked", -1: "deleted"}
"""``voipaccounts.access`` as the sync sets it from the SIM status (mapping.ACCESS; active and new are
both 1)."""


class BindRefused(Exception):
    """A manual binding that must not be written; the message is shown to the operator."""

    def __init__(self, message: str, **values: Any):
        self.message = message
        self.values = values
        super().__init__(message.format(**values) if values else message)


# --------------------------------------------------------------------------------------------------
# Small shared pieces


def zone_of(settings: Mapping[str, Any]) -> ZoneInfo:
    """The API's time zone from the settings; a bad name falls back to Warsaw (a page must render)."""
    try:
        return ZoneInfo(str(settings.get("metroportmvno.timezone") or DEFAULT_ZONE))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def month_bounds(today: date, zone: ZoneInfo) -> tuple[int, int]:
    """[first second, last second] of *today*'s calendar month in *zone*, as unix times."""
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return day_start(first, zone), day_start(following, zone) - 1


def day_start(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp())


def provider_id(conn: Connection) -> int | None:
    return lms_customers.service_provider_id(conn, PROVIDER_NAME)


def own_records(account_ids: int | Sequence[int]) -> Any:
    """The SQL condition "this record belongs to one of these accounts" (see the module doc)."""
    c = voip_cdr
    if isinstance(account_ids, int):
        caller, callee = c.c.callervoipaccountid == account_ids, c.c.calleevoipaccountid == account_ids
    else:
        ids = list(account_ids)
        caller, callee = c.c.callervoipaccountid.in_(ids), c.c.calleevoipaccountid.in_(ids)
    return or_(
        and_(c.c.direction == voip.DIRECTION_OUTGOING, caller),
        and_(c.c.direction == voip.DIRECTION_INCOMING, callee),
    )


@dataclass(frozen=True)
class Usage:
    """Records of one type in a period: how many, their summed ``billedtime`` and price."""

    type: int
    count: int
    quantity: int
    price: Decimal

    @property
    def name(self) -> str:
        return TYPE_NAMES.get(self.type, str(self.type))


def usage_by_type(conn: Connection, condition: Any) -> list[Usage]:
    c = voip_cdr
    query = (
        select(
            c.c.type,
            func.count(),
            func.coalesce(func.sum(c.c.billedtime), 0),
            func.coalesce(func.sum(c.c.price), 0),
        )
        .where(condition)
        .group_by(c.c.type)
        .order_by(c.c.type)
    )
    return [Usage(int(t), int(n), int(q), Decimal(str(p))) for t, n, q, p in conn.execute(query)]


# --------------------------------------------------------------------------------------------------
# The customer-card panel


@dataclass
class Account:
    id: int
    login: str
    numbers: list[str]
    access: int
    extid: str | None

    @property
    def status(self) -> str:
        return ACCESS_STATUS.get(self.access, "unknown")


@dataclass
class PanelData:
    provider_missing: bool = False
    extids: list[str] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    usage: list[Usage] = field(default_factory=list)
    month_start: int = 0
    month_end: int = 0

    @property
    def usage_price(self) -> Decimal:
        return sum((u.price for u in self.usage), Decimal(0))


def panel_data(conn: Connection, customer_id: int, zone: ZoneInfo, today: date) -> PanelData:
    """Binding, mirrored SIM accounts and this month's usage of one customer: database only, so the
    card opens at once and still works while the provider is down."""
    spid = provider_id(conn)
    if spid is None:
        return PanelData(provider_missing=True)
    data = PanelData(extids=sorted(_customer_extids(conn, customer_id, spid)))
    for row in voip.customer_accounts(conn, [customer_id]).get(customer_id, []):
        if row["serviceproviderid"] == spid:
            data.accounts.append(
                Account(row["id"], row["login"], [p for _, p in row["numbers"]], int(row["access"]), row["extid"])
            )
    data.month_start, data.month_end = month_bounds(today, zone)
    if data.accounts:
        c = voip_cdr
        period = and_(c.c.call_start_time >= data.month_start, c.c.call_start_time <= data.month_end)
        data.usage = usage_by_type(conn, and_(period, own_records([a.id for a in data.accounts])))
    return data


def _customer_extids(conn: Connection, customer_id: int, spid: int) -> list[str]:
    e = customerextids
    query = select(e.c.extid).where(e.c.customerid == customer_id, e.c.serviceproviderid == spid)
    return [r.extid for r in conn.execute(query)]


def last_billing_run(runs: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The newest recorded sync run that imported billing records; *runs* come newest first from
    :func:`lmsplugins.jobs.recent_runs`. A run is recognised by ``--billings`` on its command line or,
    when it was started in-process (argv is then the caller's), by the ``cdrs*`` counters only the
    billing part records."""
    for run in runs:
        counters = run.get("counters") or {}
        if "--billings" in str(run.get("argv") or "").split() or any(k.startswith("cdrs") for k in counters):
            return run
    return None


# --------------------------------------------------------------------------------------------------
# The billing list of one account


@dataclass(frozen=True)
class BillingFilter:
    start: int
    end: int
    type: int | None = None
    direction: int | None = None
    number: str = ""

    def condition(self, account_id: int) -> Any:
        c = voip_cdr
        parts = [own_records(account_id), c.c.call_start_time >= self.start, c.c.call_start_time <= self.end]
        if self.type is not None:
            parts.append(c.c.type == self.type)
        if self.direction is not None:
            parts.append(c.c.direction == self.direction)
        if self.number:
            pattern = f"%{self.number}%"
            parts.append(or_(c.c.caller.like(pattern), c.c.callee.like(pattern)))
        return and_(*parts)


@dataclass
class BillingPage:
    """One page of records with the totals of every record the filter selects (not just this page).
    Has what ``macros.pager`` needs."""

    rows: list[Mapping[str, Any]]
    page: int
    per_page: int
    totals: list[Usage]
    total_capped: bool = False

    @property
    def total(self) -> int:
        return sum(u.count for u in self.totals)

    @property
    def price(self) -> Decimal:
        return sum((u.price for u in self.totals), Decimal(0))

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def provider_account(conn: Connection, account_id: int) -> Mapping[str, Any] | None:
    """The VoIP account if it is one of Metroport's (else None: the page is not for other providers)."""
    spid = provider_id(conn)
    if spid is None:
        return None
    a = voipaccounts
    row = conn.execute(select(a).where(a.c.id == account_id, a.c.serviceproviderid == spid)).mappings().first()
    if row is None:
        return None
    numbers = voip.account_numbers(conn, [account_id])[account_id]
    return {**row, "numbers": numbers}


def billing_page(conn: Connection, account_id: int, flt: BillingFilter, page: int, per_page: int) -> BillingPage:
    c = voip_cdr
    condition = flt.condition(account_id)
    totals = usage_by_type(conn, condition)
    result = BillingPage([], page, per_page, totals)
    page = min(page, result.pages)
    result.page = page
    query = (
        select(
            c.c.id,
            c.c.call_start_time,
            c.c.caller,
            c.c.callee,
            c.c.direction,
            c.c.type,
            c.c.billedtime,
            c.c.price,
            c.c.fraction,
            c.c.uniqueid,
        )
        .where(condition)
        .order_by(c.c.call_start_time.desc(), c.c.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    result.rows = [dict(r) for r in conn.execute(query).mappings()]
    return result


# --------------------------------------------------------------------------------------------------
# Unbound and ambiguous Metroport users


def fetch_users(settings: Mapping[str, Any]) -> list[MetroportUser]:
    """The operator's Metroport users, live. Raises ConfigError (settings) or MetroportError (provider)."""
    zone = zone_of(settings)
    with MetroportMVNOClient.from_settings(settings, policy=WEB_POLICY, timezone=zone.key, call_retries=1) as client:
        return client.users()


KINDS = ("ambiguous", "proposed", "taken", "unmatched", "insufficient")
"""Why a user is on the page, in display order: several LMS customers (or several Metroport users)
share its identifier; the next sync will bind it; its match already holds another Metroport user;
nothing matches; it has no identifier at all."""


@dataclass
class UserRow:
    user: MetroportUser
    kind: str
    identity: Mapping[str, str]
    candidates: list[int] = field(default_factory=list)
    by: str | None = None
    value: str = ""
    other_users: list[int] = field(default_factory=list)
    bound_to: list[str] = field(default_factory=list)


@dataclass
class UnboundReport:
    rows: list[UserRow]
    already_bound: int
    users: int
    lms_duplicates: int

    def count(self, kind: str) -> int:
        return sum(1 for r in self.rows if r.kind == kind)


def unbound_report(conn: Connection, users: Sequence[MetroportUser]) -> UnboundReport:
    """Every Metroport user the sync would not (or not yet) bind, with its LMS candidates."""
    spid = provider_id(conn)
    if spid is None:
        raise LookupError(f"service provider {PROVIDER_NAME!r} is missing; run 'lmsplugins db upgrade'")
    index = lms_customers.IdentityIndex.load(conn)
    plan = mapping.plan_bindings(users, index, lms_customers.extids(conn, spid))
    rows: list[UserRow] = []
    for user, match in plan.ambiguous_lms:
        rows.append(UserRow(user, "ambiguous", mapping.identity(user), list(match.ambiguous), match.by, match.value))
    for user, match, others in plan.ambiguous_users:
        assert match.customer_id is not None
        rows.append(
            UserRow(user, "ambiguous", mapping.identity(user), [match.customer_id], match.by, match.value, others)
        )
    for cid, user, by in plan.bindings:
        ident = mapping.identity(user)
        rows.append(UserRow(user, "proposed", ident, [cid], by, ident.get(by, "")))
    for user, cid, extids in plan.customer_taken:
        rows.append(UserRow(user, "taken", mapping.identity(user), [cid], bound_to=list(extids)))
    for user in plan.unmatched:
        rows.append(UserRow(user, "unmatched", mapping.identity(user)))
    for user in plan.insufficient:
        rows.append(UserRow(user, "insufficient", mapping.identity(user)))
    order = {k: i for i, k in enumerate(KINDS)}
    rows.sort(key=lambda r: (order[r.kind], r.user.id))
    duplicates = sum(len(v) for v in index.duplicates().values())
    return UnboundReport(rows, plan.already_bound, len(users), duplicates)


def filter_rows(rows: Iterable[UserRow], kind: str | None, q: str) -> list[UserRow]:
    """Rows of one *kind* whose name, id or identifier contains *q* (case-insensitive)."""
    needle = q.strip().lower()
    out = []
    for row in rows:
        if kind and row.kind != kind:
            continue
        if needle:
            hay = " ".join([row.user.name, str(row.user.id), *row.identity.values()]).lower()
            if needle not in hay:
                continue
        out.append(row)
    return out


# --------------------------------------------------------------------------------------------------
# Manual binding


def manual_bind(engine: Engine, customer_id: int, user_id: int, known_users: Iterable[int]) -> bool:
    """Bind LMS customer *customer_id* to Metroport user *user_id*; returns True when written.

    Refused (BindRefused) when the user is unknown to Metroport, the customer is missing or deleted,
    the user is bound to another customer, or the customer already holds another Metroport user.
    Runs under the sync's lock, so the checks and the write see no sync in between.
    """
    if user_id not in set(known_users):
        raise BindRefused("Metroport has no user #{user}.", user=user_id)
    extid = str(user_id)
    try:
        with named_lock(engine, SYNC_JOB), engine.begin() as conn:
            spid = provider_id(conn)
            if spid is None:
                raise BindRefused(
                    "Service provider {name} is missing; run 'lmsplugins db upgrade'.", name=PROVIDER_NAME
                )
            row = lms_customers.get_customers(conn, [customer_id]).get(customer_id)
            if row is None or row["deleted"]:
                raise BindRefused("LMS customer #{customer} does not exist or is deleted.", customer=customer_id)
            owners = lms_customers.extid_owners(conn, spid).get(extid, [])
            if customer_id in owners:
                raise BindRefused(
                    "Metroport user #{user} is already bound to customer #{customer}.",
                    user=user_id,
                    customer=customer_id,
                )
            if owners:
                raise BindRefused(
                    "Metroport user #{user} is already bound to customer #{other}; unbind it there first.",
                    user=user_id,
                    other=", #".join(str(o) for o in owners),
                )
            held = _customer_extids(conn, customer_id, spid)
            if held:
                raise BindRefused(
                    "Customer #{customer} is already bound to Metroport user #{held}; a second binding would be "
                    "ambiguous for the sync. Remove the old one first (customer card, External IDs).",
                    customer=customer_id,
                    held=", #".join(held),
                )
            return lms_customers.bind_extid(conn, customer_id, extid, spid)
    except LockHeld:
        raise BindRefused("A Metroport synchronization is running; try again in a moment.") from None
