"""LIVE writes of the web panel: the platform first, then the local ``hv_*`` mirror (spec §6).

Why a module of its own (no Flask in it): the order of effects is the whole point and deserves tests
that do not go through HTML. Every operation here

1. calls the platform through :class:`~.client.HiperusClient` (a :class:`ProviderError` propagates
   before anything local is touched),
2. reads back what the platform now holds for the account (``GetCustomerData``, ``GetTerminalList``,
   ``GetExtensionList``, ...), still outside any transaction,
3. writes the mirror in ONE transaction, scoped to the account it changed.

If step 2 fails the platform has already changed and cannot be rolled back; the operation raises
:class:`MirrorStale` (carrying what was done), the mirror stays as it was and the next refresh or
import catches up. The page says so instead of pretending nothing happened.

Bugs of the PHP plugin fixed here (spec §7): the per-account number refresh deletes only that
account's ``hv_pstn`` rows (7.4: PHP's ``ImportPSTNList(cid)`` deleted every other account's
numbers); an account with no remote terminals loses its stale local ones (7.6); a number keeps its
``clir``, ``disa_enabled`` and ``voicemail_enabled`` (7.8); a terminal is created with the form's
``screen_numbers`` and ``t38_fax`` (7.9); a terminal edit writes its location only after the platform
accepted the change, and its dates go out as ``YYYY-MM-DD`` (7.10); deleting an account works on
every database (7.11: PHP used MySQL's ``ISNULL()``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.engine import Connection, Engine

from lmsplugins.db import upsert
from lmsplugins.errors import ProviderError

from . import mapping
from .client import HiperusClient, Record
from .tables import (
    TERMINAL_LOCAL_COLUMNS,
    hv_assign,
    hv_billing,
    hv_customers,
    hv_enduserlist,
    hv_pricelist,
    hv_pstn,
    hv_pstnrange,
    hv_pstnusage,
    hv_subscriptionlist,
    hv_terminal,
)

CUSTOMER_WRITABLE = (
    "name",
    "email",
    "address",
    "street_number",
    "apartment_number",
    "postcode",
    "city",
    "country",
    "b_name",
    "b_address",
    "b_street_number",
    "b_apartment_number",
    "b_postcode",
    "b_city",
    "b_country",
    "b_nip",
    "b_regon",
    "ext_billing_id",
    "issue_invoice",
    "id_default_pricelist",
    "payment_type",
    "active",
    "is_wlr",
    "consent_data_processing",
)
"""Account fields the platform accepts in AddCustomer / SaveCustomerData (the rest are its own)."""


class MirrorStale(Exception):
    """The platform accepted the change but reading it back failed; the mirror is one step behind."""

    def __init__(self, done: str, cause: ProviderError, object_id: int | None = None):
        self.done = done
        self.cause = cause
        self.object_id = object_id
        super().__init__(f"{done}; {cause}")


@dataclass(frozen=True)
class AccountSnapshot:
    """What the platform holds for one account, fetched before the mirror transaction opens."""

    customer: Record | None = None
    terminals: list[Record] | None = None
    numbers: list[Record] | None = None
    end_users: list[Record] | None = None


def fetch(
    client: HiperusClient,
    account_id: int,
    *,
    customer: bool = False,
    terminals: bool = False,
    numbers: bool = False,
    end_users: bool = False,
) -> AccountSnapshot:
    return AccountSnapshot(
        customer=client.get_customer_data(account_id) if customer else None,
        terminals=client.get_terminal_list(account_id) if terminals else None,
        numbers=client.get_extension_list(account_id) if numbers else None,
        end_users=client.get_end_user_auth_list(account_id) if end_users else None,
    )


# --------------------------------------------------------------------------------------------------
# Mirror writers (the caller owns the transaction)


def _sync_scoped(
    conn: Connection,
    table: Any,
    rows: Sequence[dict[str, Any]],
    scope: Any,
    update_columns: Sequence[str] | None = None,
) -> None:
    """Make the rows of *table* matching *scope* equal *rows*: upsert them, delete the rest of the scope."""
    seen = {row["id"] for row in rows}
    existing = {r[0] for r in conn.execute(select(table.c.id).where(scope))}
    stale = existing - seen
    if stale:
        conn.execute(delete(table).where(table.c.id.in_(sorted(stale))))
    if rows:
        upsert(conn, table, rows, key=["id"], update=update_columns)


def store_customer(conn: Connection, record: Record) -> dict[str, Any]:
    row = mapping.customer_row(record)
    upsert(conn, hv_customers, [row], key=["id"])
    return row


def store_terminals(conn: Connection, account_id: int, records: Sequence[Record]) -> None:
    """The account's terminals as the platform lists them; location columns (local only) survive."""
    rows = [mapping.terminal_row(r, account_id) for r in records]
    _sync_scoped(conn, hv_terminal, rows, hv_terminal.c.customerid == account_id, mapping.TERMINAL_UPDATE)


def store_numbers(conn: Connection, account_id: int, records: Sequence[Record]) -> None:
    """The account's numbers, and the range usage rows that name them.

    Only rows of *this* account are deleted (spec §7 bug 4). Usage rows are keyed by the extension
    (country code + number): the account's numbers are marked taken by it, numbers it no longer holds
    are marked free, other accounts' rows are not touched.
    """
    rows = [mapping.pstn_row(r, account_id) for r in records]
    _sync_scoped(conn, hv_pstn, rows, hv_pstn.c.customerid == account_id)
    name = conn.execute(select(hv_customers.c.name).where(hv_customers.c.id == account_id)).scalar()
    held = {mapping.to_int(f"{r['country_code'] or ''}{r['number'] or ''}") for r in rows} - {None}
    u = hv_pstnusage
    freed = [
        ext for (ext,) in conn.execute(select(u.c.extension).where(u.c.customerid == account_id)) if ext not in held
    ]
    if freed:
        conn.execute(update(u).where(u.c.extension.in_(freed)).values(customerid=0, customer_name=None))
    if held:
        conn.execute(update(u).where(u.c.extension.in_(sorted(held))).values(customerid=account_id, customer_name=name))


def store_end_users(conn: Connection, account_id: int, records: Sequence[Record]) -> None:
    rows = [mapping.enduser_row(r, account_id) for r in records]
    _sync_scoped(conn, hv_enduserlist, rows, hv_enduserlist.c.customerid == account_id)


def set_invoice_choice(conn: Connection, account_id: int, choice: str) -> None:
    """``hv_assign`` issue_invoice: '0' nobody, '1' Hiperus, '2' LMS (one row per account)."""
    a = hv_assign
    cond = and_(a.c.customerid == account_id, a.c.keytype == "issue_invoice")
    if conn.execute(select(a.c.id).where(cond)).first() is None:
        conn.execute(a.insert().values(customerid=account_id, keytype="issue_invoice", keyvalue=choice))
    else:
        conn.execute(update(a).where(cond).values(keyvalue=choice))


def invoice_choice(conn: Connection, account_id: int) -> str:
    a = hv_assign
    value = conn.execute(
        select(a.c.keyvalue).where(a.c.customerid == account_id, a.c.keytype == "issue_invoice").order_by(a.c.id)
    ).scalar()
    return (value or "0").strip()


def apply_snapshot(conn: Connection, account_id: int, snap: AccountSnapshot) -> None:
    if snap.customer is not None:
        store_customer(conn, snap.customer)
    if snap.terminals is not None:
        store_terminals(conn, account_id, snap.terminals)
    if snap.numbers is not None:
        store_numbers(conn, account_id, snap.numbers)
    if snap.end_users is not None:
        store_end_users(conn, account_id, snap.end_users)


def _read_back(
    engine: Engine,
    client: HiperusClient,
    account_id: int,
    done: str,
    object_id: int | None = None,
    local: Callable[[Connection], None] | None = None,
    **what: bool,
) -> None:
    """Step 2 and 3: fetch the account's current state, then write it (and *local*) in one transaction."""
    try:
        snap = fetch(client, account_id, **what)
    except ProviderError as exc:
        raise MirrorStale(done, exc, object_id) from None
    with engine.begin() as conn:
        if local is not None:
            local(conn)
        apply_snapshot(conn, account_id, snap)


# --------------------------------------------------------------------------------------------------
# Accounts


def platform_fields(values: Mapping[str, Any], choice: str) -> dict[str, Any]:
    """Form values -> AddCustomer/SaveCustomerData arguments; the platform flag issue_invoice is set
    only for choice '1' (Hiperus invoices), as the PHP forms did (spec §7 bug 3)."""
    out = {k: values.get(k) for k in CUSTOMER_WRITABLE if k in values}
    out["issue_invoice"] = choice == "1"
    for key in ("active", "is_wlr", "consent_data_processing"):
        if key in out:
            out[key] = bool(out[key])
    return out


def add_account(engine: Engine, client: HiperusClient, values: Mapping[str, Any], choice: str) -> int:
    account_id = client.add_customer(platform_fields(values, choice))

    def local(conn: Connection) -> None:
        set_invoice_choice(conn, account_id, choice)

    try:
        snap = fetch(client, account_id, customer=True)
    except ProviderError as exc:
        raise MirrorStale(f"account {account_id} created", exc, account_id) from None
    with engine.begin() as conn:
        apply_snapshot(conn, account_id, snap)
        local(conn)
    return account_id


def edit_account(
    engine: Engine, client: HiperusClient, account_id: int, values: Mapping[str, Any], choice: str
) -> None:
    """SaveCustomerData with every writable field (the platform overwrites them all), then read back.

    A new name is carried into the copies the mirror keeps of it (CDRs, terminals, range usage)."""
    with engine.connect() as conn:
        old_name = conn.execute(select(hv_customers.c.name).where(hv_customers.c.id == account_id)).scalar()
    client.save_customer_data(account_id, platform_fields(values, choice))
    try:
        snap = fetch(client, account_id, customer=True)
    except ProviderError as exc:
        raise MirrorStale(f"account {account_id} saved", exc, account_id) from None
    with engine.begin() as conn:
        apply_snapshot(conn, account_id, snap)
        set_invoice_choice(conn, account_id, choice)
        new_name = snap.customer.get("name") if snap.customer else None
        if new_name and new_name != old_name:
            for table in (hv_billing, hv_terminal, hv_pstnusage):
                conn.execute(update(table).where(table.c.customerid == account_id).values(customer_name=new_name))


def link_account(engine: Engine, client: HiperusClient, account_id: int, customer_id: int | None) -> None:
    """Set the account's ``ext_billing_id`` (the LMS customer) on the platform, then locally.

    The platform overwrites every field on SaveCustomerData, so the current fields are read first and
    sent back with only the link changed. Unlinking an account invoiced by LMS sets the choice to
    '0': an invoice for customer 0 breaks LMS's foreign keys (spec §7 bug 13)."""
    current = client.get_customer_data(account_id)
    if current is None:
        raise ProviderError(f"Hiperus GetCustomerData returned no account {account_id}")
    fields = {k: current.get(k) for k in CUSTOMER_WRITABLE}
    fields["ext_billing_id"] = customer_id
    for key in ("issue_invoice", "active", "is_wlr", "consent_data_processing"):
        fields[key] = mapping.flag(fields[key]) == "t"
    client.save_customer_data(account_id, fields)

    def local(conn: Connection) -> None:
        if customer_id is None and invoice_choice(conn, account_id) == "2":
            set_invoice_choice(conn, account_id, "0")

    try:
        snap = fetch(client, account_id, customer=True)
    except ProviderError as exc:
        raise MirrorStale(f"account {account_id} linked", exc, account_id) from None
    with engine.begin() as conn:
        apply_snapshot(conn, account_id, snap)
        local(conn)


def delete_account(engine: Engine, client: HiperusClient, account_id: int) -> None:
    """DelCustomer; the platform frees the account's terminals and numbers, so the mirror does too.

    CDRs stay when the account is linked to an LMS customer (they are that customer's history and
    may still be invoiced), as in the PHP plugin; an unlinked account's CDRs go with it."""
    client.del_customer(account_id)
    with engine.begin() as conn:
        linked = conn.execute(select(hv_customers.c.ext_billing_id).where(hv_customers.c.id == account_id)).scalar()
        for table in (hv_enduserlist, hv_terminal, hv_pstn):
            conn.execute(delete(table).where(table.c.customerid == account_id))
        conn.execute(delete(hv_assign).where(hv_assign.c.customerid == account_id))
        conn.execute(
            update(hv_pstnusage).where(hv_pstnusage.c.customerid == account_id).values(customerid=0, customer_name=None)
        )
        if linked is None:
            conn.execute(delete(hv_billing).where(hv_billing.c.customerid == account_id))
        conn.execute(delete(hv_customers).where(hv_customers.c.id == account_id))


def refresh_account(engine: Engine, client: HiperusClient, account_id: int) -> None:
    """Re-read one account and everything under it (the card's "refresh from the platform")."""
    snap = fetch(client, account_id, customer=True, terminals=True, numbers=True, end_users=True)
    with engine.begin() as conn:
        apply_snapshot(conn, account_id, snap)


# --------------------------------------------------------------------------------------------------
# Terminals


@dataclass(frozen=True)
class TerminalValues:
    username: str
    password: str
    id_pricelist: int
    screen_numbers: bool = True
    t38_fax: bool = False
    id_subscription: int | None = None
    subscription_from: str | None = None
    subscription_to: str | None = None
    id_terminal_location: int | None = None
    location: dict[str, Any] | None = None
    """Local-only TERYT columns (``TERMINAL_LOCAL_COLUMNS``) to write with the mirror."""


def _write_location(conn: Connection, terminal_id: int, location: Mapping[str, Any] | None) -> None:
    if location:
        values = {k: location.get(k) for k in TERMINAL_LOCAL_COLUMNS if k in location}
        if values:
            conn.execute(update(hv_terminal).where(hv_terminal.c.id == terminal_id).values(**values))


def add_terminal(engine: Engine, client: HiperusClient, account_id: int, v: TerminalValues) -> int:
    terminal_id = client.add_terminal(
        account_id,
        v.username,
        v.password,
        v.id_pricelist,
        screen_numbers=v.screen_numbers,
        t38_fax=v.t38_fax,
        id_subscription=v.id_subscription,
        subscription_from=v.subscription_from or None,
        subscription_to=v.subscription_to or None,
        id_terminal_location=v.id_terminal_location,
    )
    try:
        snap = fetch(client, account_id, terminals=True)
    except ProviderError as exc:
        raise MirrorStale(f"terminal {v.username} created", exc, terminal_id) from None
    with engine.begin() as conn:
        apply_snapshot(conn, account_id, snap)
        _write_location(conn, terminal_id, v.location)
    return terminal_id


def edit_terminal(engine: Engine, client: HiperusClient, account_id: int, terminal_id: int, v: TerminalValues) -> None:
    """SaveTerminalData first; the local location, a rename's copies and the read-back after it."""
    with engine.connect() as conn:
        old_name = conn.execute(select(hv_terminal.c.username).where(hv_terminal.c.id == terminal_id)).scalar()
    fields: dict[str, Any] = {
        "username": v.username,
        "password": v.password,
        "id_pricelist": v.id_pricelist,
        "screen_numbers": v.screen_numbers,
        "t38_fax": v.t38_fax,
        "id_subscription": v.id_subscription,
        "subscription_from": v.subscription_from or None,
        "subscription_to": v.subscription_to or None,
        "id_terminal_location": v.id_terminal_location,
    }
    client.save_terminal_data(terminal_id, fields)

    def local(conn: Connection) -> None:
        _write_location(conn, terminal_id, v.location)
        if old_name and v.username != old_name:
            conn.execute(
                update(hv_billing)
                .where(hv_billing.c.terminal_name == old_name, hv_billing.c.customerid == account_id)
                .values(terminal_name=v.username)
            )
            conn.execute(
                update(hv_pstn)
                .where(hv_pstn.c.terminal_name == old_name, hv_pstn.c.customerid == account_id)
                .values(terminal_name=v.username)
            )

    try:
        snap = fetch(client, account_id, terminals=True, numbers=True)
    except ProviderError as exc:
        raise MirrorStale(f"terminal {v.username} saved", exc, terminal_id) from None
    with engine.begin() as conn:
        local(conn)
        apply_snapshot(conn, account_id, snap)


def delete_terminal(engine: Engine, client: HiperusClient, account_id: int, terminal_id: int) -> None:
    """DelTerminal; the platform drops the terminal's numbers with it, so the mirror frees them too."""
    client.del_terminal(terminal_id)
    with engine.begin() as conn:
        username = conn.execute(select(hv_terminal.c.username).where(hv_terminal.c.id == terminal_id)).scalar()
        if username is not None:
            numbers = conn.execute(
                select(hv_pstn.c.country_code, hv_pstn.c.number).where(
                    hv_pstn.c.terminal_name == username, hv_pstn.c.customerid == account_id
                )
            ).all()
            extensions = [e for e in (mapping.to_int(f"{cc or ''}{n or ''}") for cc, n in numbers) if e is not None]
            if extensions:
                conn.execute(
                    update(hv_pstnusage)
                    .where(hv_pstnusage.c.extension.in_(extensions))
                    .values(customerid=0, customer_name=None)
                )
            conn.execute(delete(hv_pstn).where(hv_pstn.c.terminal_name == username, hv_pstn.c.customerid == account_id))
        conn.execute(delete(hv_terminal).where(hv_terminal.c.id == terminal_id))


# --------------------------------------------------------------------------------------------------
# Numbers


@dataclass(frozen=True)
class NumberValues:
    number: str
    country_code: str = "48"
    id_terminal: int | None = None
    terminal_name: str | None = None
    is_main: bool = True
    clir: bool = False
    virtual_fax: bool = False
    disa_enabled: bool = False
    voicemail_enabled: bool = True
    id_auth: int | None = None
    useremail: str | None = None
    userpassword: str | None = None


def first_free_number(conn: Connection) -> tuple[str, str] | None:
    """The first free number of the ranges marked for use (``hv_pstnrange.ussage``), from the mirror:
    ranges in the platform's order (their id), numbers ascending, as the platform itself hands them out."""
    u, r = hv_pstnusage, hv_pstnrange
    row = conn.execute(
        select(u.c.number, u.c.country_code, r.c.country_code.label("range_cc"))
        .select_from(u.join(r, r.c.id == u.c.idrange))
        .where(r.c.ussage == "t", func.coalesce(u.c.customerid, 0) == 0)
        .order_by(r.c.id, u.c.extension)
        .limit(1)
    ).first()
    if row is None or row.number is None:
        return None
    return str(row.number), str(row.country_code or row.range_cc or "48")


def add_number(engine: Engine, client: HiperusClient, account_id: int, v: NumberValues) -> int:
    """AddExtension, then the account's numbers, terminals (their ``extensions`` lists) and end users.

    An empty number asks the platform for its first free one, as the PHP plugin did."""
    number, country = v.number, v.country_code or "48"
    if not number:
        free = client.get_first_free_platform_number()
        if free is None:
            raise ProviderError("Hiperus: no free number left in the reseller's numbering")
        number, country = free.number, free.country_code
    extension_id = client.add_extension(
        account_id,
        number,
        country_code=country,
        is_main=v.is_main,
        clir=v.clir,
        virtual_fax=v.virtual_fax,
        id_terminal=v.id_terminal,
        id_auth=v.id_auth,
        useremail=v.useremail or None,
        userpassword=v.userpassword or None,
        disa_enabled=v.disa_enabled,
        voicemail_enabled=v.voicemail_enabled,
    )
    _read_back(
        engine,
        client,
        account_id,
        f"number {number} added",
        extension_id,
        terminals=True,
        numbers=True,
        end_users=bool(v.useremail),
    )
    return extension_id


def edit_number(engine: Engine, client: HiperusClient, account_id: int, extension_id: int, v: NumberValues) -> None:
    country = v.country_code or "48"
    client.save_extension_data(
        extension_id,
        {
            "extension": f"{country}{v.number}",
            "country_code": country,
            "number": v.number,
            "is_main": v.is_main,
            "disa_enabled": v.disa_enabled,
            "clir": v.clir,
            "virtual_fax": v.virtual_fax,
            "terminal_name": v.terminal_name,
            "voicemail_enabled": v.voicemail_enabled,
            "id_auth": v.id_auth,
        },
    )
    _read_back(engine, client, account_id, f"number {v.number} saved", extension_id, terminals=True, numbers=True)


def delete_number(engine: Engine, client: HiperusClient, account_id: int, extension_id: int) -> None:
    client.del_extension(extension_id)

    def local(conn: Connection) -> None:
        conn.execute(delete(hv_pstn).where(hv_pstn.c.id == extension_id, hv_pstn.c.customerid == account_id))

    _read_back(
        engine,
        client,
        account_id,
        f"number #{extension_id} deleted",
        extension_id,
        local=local,
        terminals=True,
        numbers=True,
    )


# --------------------------------------------------------------------------------------------------
# Catalogues


def refresh_catalogues(engine: Engine, client: HiperusClient, *, ranges: bool = False) -> None:
    """Price lists and subscriptions (and with *ranges* the numbering ranges and their usage), as the
    import's -p -s (-n) steps do, keeping the local ``ussage`` flags."""
    pricelists = [mapping.pricelist_row(r) for r in client.get_customer_pricelist_list()]
    subscriptions = [mapping.subscription_row(r) for r in client.get_subscription_list()]
    range_rows: list[dict[str, Any]] = []
    usage: dict[int, dict[str, Any]] = {}
    if ranges:
        range_rows = [mapping.range_row(r) for r in client.get_platform_numbering_range()]
        for rng in range_rows:
            for rec in client.get_platform_numbering_usage(rng["id"]):
                row = mapping.usage_row(rec, rng["id"])
                usage[row["extension"]] = row
    with engine.begin() as conn:
        _sync_scoped(conn, hv_pricelist, pricelists, hv_pricelist.c.id.isnot(None))
        _sync_scoped(conn, hv_subscriptionlist, subscriptions, hv_subscriptionlist.c.id.isnot(None))
        if range_rows:
            keep_local = [c.name for c in hv_pstnrange.columns if c.name not in ("id", "ussage")]
            _sync_scoped(conn, hv_pstnrange, range_rows, hv_pstnrange.c.id.isnot(None), keep_local)
            existing = {e for (e,) in conn.execute(select(hv_pstnusage.c.extension))}
            stale = existing - set(usage)
            if stale:
                conn.execute(delete(hv_pstnusage).where(hv_pstnusage.c.extension.in_(sorted(stale))))
            cols = [c.name for c in hv_pstnusage.columns if c.name not in ("id", "extension")]
            if usage:
                upsert(conn, hv_pstnusage, list(usage.values()), key=["extension"], update=cols)


def set_range_usage(engine: Engine, range_id: int, enabled: bool) -> bool:
    """The local flag offering numbers of a range in the number form (no platform call: it is ours)."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(hv_pstnrange).where(hv_pstnrange.c.id == range_id).values(ussage="t" if enabled else "f")
        ).rowcount
    return bool(changed)
