"""VoIP accounts, their numbers and call records (``voip_cdr``) as LMS keeps them.

CDRs are the hot path: millions of rows a month per operator. :func:`write_cdrs` streams rows into
``voip_cdr`` in batches through :func:`lmsplugins.db.upsert` keyed on LMS's unique
``(direction, uniqueid)``, so a re-import of the same period updates rows instead of failing or
duplicating them, and memory stays flat whatever the number of rows.
"""

from __future__ import annotations

import time
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.engine import Connection

from lmsplugins.db import bulk_insert, upsert
from lmsplugins.lms import syslog
from lmsplugins.lms.syslog import (
    OPER_ADD,
    OPER_DELETE,
    OPER_UPDATE,
    RES_ADDRESS,
    RES_CUST,
    RES_VOIP_ACCOUNT,
    RES_VOIP_ACCOUNT_NUMBER,
)
from lmsplugins.lms.tables import (
    assignments,
    tariffassignments,
    tariffs,
    tarifftags,
    voip_cdr,
    voip_number_assignments,
    voip_numbers,
    voipaccounts,
)

DIRECTION_INCOMING, DIRECTION_OUTGOING = 1, 2
TYPE_VOICE, TYPE_SMS, TYPE_MMS, TYPE_DATA, TYPE_VIDEO = 0, 1, 2, 3, 4
STATUS_BUSY, STATUS_ANSWERED, STATUS_NO_ANSWER, STATUS_FAILED, STATUS_UNKNOWN = 1, 2, 3, 4, 5

CDR_COLUMNS: tuple[str, ...] = (
    "caller",
    "callee",
    "call_start_time",
    "creationdate",
    "totaltime",
    "billedtime",
    "price",
    "status",
    "direction",
    "type",
    "callervoipaccountid",
    "calleevoipaccountid",
    "caller_flags",
    "callee_flags",
    "caller_prefix_group",
    "callee_prefix_group",
    "uniqueid",
    "fraction",
    "prefix",
    "prefixname",
    "incremental",
)
CDR_KEY = ("direction", "uniqueid")
_CDR_DEFAULTS: dict[str, Any] = {
    "creationdate": None,
    "type": TYPE_VOICE,
    "callervoipaccountid": None,
    "calleevoipaccountid": None,
    "caller_flags": 0,
    "callee_flags": 0,
    "caller_prefix_group": None,
    "callee_prefix_group": None,
    "fraction": None,
    "prefix": None,
    "prefixname": None,
    "incremental": 0,
}
_CDR_TEMPLATE = {col: _CDR_DEFAULTS.get(col) for col in CDR_COLUMNS}
_REQUIRED = (
    "caller",
    "callee",
    "call_start_time",
    "totaltime",
    "billedtime",
    "price",
    "status",
    "direction",
    "uniqueid",
)


def cdr_row(**values: Any) -> dict[str, Any]:
    """A complete voip_cdr row in :data:`CDR_COLUMNS` order, defaults filled, lengths checked.

    Raises ValueError for a missing required field or a value LMS's columns cannot hold, so a bad
    provider record is reported instead of aborting a whole batch inside the database.
    """
    missing = [k for k in _REQUIRED if values.get(k) is None]
    if missing:
        raise ValueError(f"CDR lacks {', '.join(missing)}")
    row = dict(_CDR_TEMPLATE)
    row.update(values)
    if len(row) != len(CDR_COLUMNS):
        raise ValueError(f"unknown CDR field(s): {', '.join(sorted(set(values) - set(CDR_COLUMNS)))}")
    for col, limit in (("caller", 20), ("callee", 20), ("uniqueid", 80)):
        if len(str(row[col])) > limit:
            raise ValueError(f"CDR {col} {row[col]!r} is longer than {limit} characters")
    row["price"] = Decimal(str(row["price"])).quantize(Decimal("0.00001"))
    if row["direction"] not in (DIRECTION_INCOMING, DIRECTION_OUTGOING):
        raise ValueError(f"CDR direction {row['direction']!r} is neither 1 (incoming) nor 2 (outgoing)")
    return row


def write_cdrs(
    conn: Connection,
    rows: Iterable[Any],
    update: bool = True,
    batch_size: int | None = None,
    ordered: bool = False,
    keep: Sequence[str] = (),
) -> int:
    """Write CDR rows (from :func:`cdr_row`); existing (direction, uniqueid) rows are updated when
    *update*, else left as they are. Returns the number of rows sent. Columns in *keep* are never
    updated: ``creationdate`` is when LMS first had the record, and lms-payments bills by it.

    With *ordered*, rows are complete sequences in :data:`CDR_COLUMNS` order (an importer's hot path
    need not build a dict per row). The default batch suits each engine: PostgreSQL keeps a batch's
    rows for its conflict fallback, so 20,000; MySQL keeps a file instead and pays per LOAD DATA
    statement, so 200,000.
    """
    if batch_size is None:
        batch_size = 200_000 if conn.dialect.name == "mysql" else 20_000
    upd = [c for c in CDR_COLUMNS if c not in CDR_KEY and c not in keep] if update else []
    return upsert(
        conn, voip_cdr, rows, key=CDR_KEY, update=upd, batch_size=batch_size, columns=CDR_COLUMNS if ordered else None
    )


def insert_cdrs(conn: Connection, rows: Iterable[Mapping[str, Any]], batch_size: int = 10000) -> int:
    """Plain bulk insert, for callers that know the rows are new (fails on a duplicate key)."""
    return bulk_insert(conn, voip_cdr, rows, batch_size=batch_size)


def delete_cdrs(
    conn: Connection,
    start: int,
    end: int,
    account_ids: Sequence[int] | None = None,
    uniqueids_keep: Sequence[str] | None = None,
) -> int:
    """Delete CDRs with call_start_time in [start, end] of the given accounts (as caller or callee)."""
    c = voip_cdr
    stmt = c.delete().where(c.c.call_start_time >= start, c.c.call_start_time <= end)
    if account_ids is not None:
        if not account_ids:
            return 0
        ids = list(account_ids)
        stmt = stmt.where(c.c.callervoipaccountid.in_(ids) | c.c.calleevoipaccountid.in_(ids))
    if uniqueids_keep:
        stmt = stmt.where(c.c.uniqueid.not_in(list(uniqueids_keep)))
    return conn.execute(stmt).rowcount or 0


def number_accounts(conn: Connection, phones: Iterable[str] | None = None) -> dict[str, tuple[int, int | None]]:
    """phone -> (voip account id, owner customer id), for every number or just *phones*."""
    n, a = voip_numbers, voipaccounts
    query = select(n.c.phone, a.c.id, a.c.ownerid).join(a, a.c.id == n.c.voip_account_id)
    if phones is not None:
        query = query.where(n.c.phone.in_(list(phones)))
    return {r.phone: (r.id, r.ownerid) for r in conn.execute(query)}


def accounts_by_extid(conn: Connection, serviceproviderid: int) -> dict[str, Mapping]:
    """extid -> voipaccounts row, for accounts of this service provider."""
    a = voipaccounts
    rows = conn.execute(select(a).where(a.c.serviceproviderid == serviceproviderid, a.c.extid.is_not(None))).mappings()
    return {r["extid"]: r for r in rows}


def account_numbers(conn: Connection, account_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(account_ids)
    result: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return result
    n = voip_numbers
    for row in conn.execute(
        select(n.c.voip_account_id, n.c.phone).where(n.c.voip_account_id.in_(ids)).order_by(n.c.number_index, n.c.id)
    ):
        result[row.voip_account_id].append(row.phone)
    return result


def create_account(
    conn: Connection,
    *,
    ownerid: int,
    login: str,
    passwd: str = "",
    phones: Sequence[str],
    access: int = 1,
    balance: Decimal | int = 0,
    flags: int = 0,
    cost_limit: Decimal | None = None,
    description: str = "",
    serviceproviderid: int | None = None,
    extid: str | None = None,
    address_id: int | None = None,
    userid: int | None = None,
) -> int:
    """Create a VoIP account with its numbers (LMS rolls back an account without numbers)."""
    if not phones:
        raise ValueError("a VoIP account needs at least one number")
    now = int(time.time())
    account_id = int(
        conn.execute(
            voipaccounts.insert().values(
                ownerid=ownerid,
                login=login,
                passwd=passwd,
                access=access,
                creationdate=now,
                moddate=now,
                creatorid=userid,
                balance=balance,
                flags=flags,
                cost_limit=cost_limit,
                description=description,
                serviceproviderid=serviceproviderid,
                extid=extid,
                address_id=address_id,
            )
        ).inserted_primary_key[0]
    )
    fields = [
        (RES_CUST, ownerid),
        ("login", login),
        ("passwd", passwd),
        ("access", access),
        ("balance", balance),
        ("flags", flags),
        ("cost_limit", cost_limit),
        (RES_ADDRESS, address_id),
        ("description", description),
        ("extid", extid),
        ("serviceproviderid", serviceproviderid),
        (RES_VOIP_ACCOUNT, account_id),
    ]
    syslog.record(conn, RES_VOIP_ACCOUNT, OPER_ADD, fields)
    set_numbers(conn, account_id, phones, _same_transaction=True)
    return account_id


def _owner(conn: Connection, account_id: int) -> int | None:
    return conn.execute(select(voipaccounts.c.ownerid).where(voipaccounts.c.id == account_id)).scalar()


def update_account(conn: Connection, account_id: int, userid: int | None = None, **values: Any) -> None:
    """Update the given columns only (an update never wipes what it was not told about)."""
    allowed = {c.name for c in voipaccounts.columns} - {"id", "creationdate", "creatorid"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"unknown voipaccounts column(s): {', '.join(sorted(unknown))}")
    conn.execute(
        voipaccounts.update()
        .where(voipaccounts.c.id == account_id)
        .values(**values, moddate=int(time.time()), modid=userid)
    )
    if syslog.active(conn) is not None:
        named = [(RES_ADDRESS if k == "address_id" else k, v) for k, v in values.items() if k != "ownerid"]
        fields = [(RES_VOIP_ACCOUNT, account_id), (RES_CUST, _owner(conn, account_id)), *named]
        syslog.record(conn, RES_VOIP_ACCOUNT, OPER_UPDATE, fields)


def delete_account(conn: Connection, account_id: int) -> None:
    if syslog.active(conn) is not None:
        owner = _owner(conn, account_id)
        if owner is not None:
            syslog.record(conn, RES_VOIP_ACCOUNT, OPER_DELETE, [(RES_VOIP_ACCOUNT, account_id), (RES_CUST, owner)])
            numbers = conn.execute(select(voip_numbers.c.id).where(voip_numbers.c.voip_account_id == account_id))
            for (number_id,) in numbers.all():
                fields = [(RES_VOIP_ACCOUNT, account_id), (RES_VOIP_ACCOUNT_NUMBER, number_id), (RES_CUST, owner)]
                syslog.record(conn, RES_VOIP_ACCOUNT_NUMBER, OPER_DELETE, fields, new=False)
    conn.execute(voipaccounts.delete().where(voipaccounts.c.id == account_id))


def set_numbers(
    conn: Connection, account_id: int, phones: Sequence[str], *, _same_transaction: bool = False
) -> tuple[int, int]:
    """Make the account's numbers exactly *phones* (in order), keeping rows of numbers that stay, so
    their ``tariff_id``, ``info`` and ``voip_number_assignments`` survive. Returns (added, removed)."""
    n = voip_numbers
    existing = {
        r.phone: r
        for r in conn.execute(select(n.c.id, n.c.phone, n.c.number_index).where(n.c.voip_account_id == account_id))
    }
    wanted = list(dict.fromkeys(phones))
    removed = [r.id for p, r in existing.items() if p not in wanted]
    log = syslog.active(conn)
    owner = _owner(conn, account_id) if log is not None else None
    if log is not None and not _same_transaction:
        log.new_transaction()
    if removed:
        conn.execute(n.delete().where(n.c.id.in_(removed)))
        for number_id in removed:
            fields = [(RES_VOIP_ACCOUNT, account_id), (RES_VOIP_ACCOUNT_NUMBER, number_id), (RES_CUST, owner)]
            syslog.record(conn, RES_VOIP_ACCOUNT_NUMBER, OPER_DELETE, fields, new=False)
    # Park kept rows on negative indexes first: (voip_account_id, number_index) is unique.
    for i, phone in enumerate(wanted, 1):
        if phone in existing and existing[phone].number_index != i:
            conn.execute(n.update().where(n.c.id == existing[phone].id).values(number_index=-i))
    added = 0
    for i, phone in enumerate(wanted, 1):
        if phone in existing:
            if existing[phone].number_index != i:
                conn.execute(n.update().where(n.c.id == existing[phone].id).values(number_index=i))
        else:
            conn.execute(n.insert().values(voip_account_id=account_id, phone=phone, number_index=i))
            added += 1
            fields = [
                (RES_VOIP_ACCOUNT, account_id),
                (RES_CUST, owner),
                ("phone", phone),
                ("number_index", i),
                ("info", ""),
            ]
            syslog.record(conn, RES_VOIP_ACCOUNT_NUMBER, OPER_ADD, fields, new=False)
    return added, len(removed)


def link_number_to_assignment(conn: Connection, number_id: int, assignment_id: int) -> bool:
    """Link a number to an ``assignments`` row of a phone tariff, so lms-payments bills its CDRs."""
    va = voip_number_assignments
    exists = conn.execute(
        select(va.c.id).where(va.c.number_id == number_id, va.c.assignment_id == assignment_id)
    ).first()
    if exists:
        return False
    conn.execute(va.insert().values(number_id=number_id, assignment_id=assignment_id))
    return True


def iter_cdrs(conn: Connection, account_id: int, start: int, end: int) -> Iterator[Mapping]:
    c = voip_cdr
    query = (
        select(c)
        .where(
            (c.c.callervoipaccountid == account_id) | (c.c.calleevoipaccountid == account_id),
            c.c.call_start_time >= start,
            c.c.call_start_time <= end,
        )
        .order_by(c.c.call_start_time)
    )
    yield from conn.execute(query).mappings()


# --------------------------------------------------------------------------------------------------
# Provider-scoped helpers (a provider's accounts are those with its ``serviceproviderid``). Scopes are
# subqueries, not id lists, so a provider with 100,000 accounts never builds a 100,000-item IN list.


def provider_account_ids(serviceproviderid: int, owner_id: int | None = None) -> Select:
    """``SELECT id FROM voipaccounts`` of one provider (and one owner), for use as an IN subquery."""
    a = voipaccounts
    query = select(a.c.id).where(a.c.serviceproviderid == serviceproviderid)
    if owner_id is not None:
        query = query.where(a.c.ownerid == owner_id)
    return query


def _provider_cdr_scope(start: int, end: int, serviceproviderid: int, owner_id: int | None) -> Any:
    c = voip_cdr
    ids = provider_account_ids(serviceproviderid, owner_id)
    return and_(
        c.c.call_start_time >= start,
        c.c.call_start_time <= end,
        or_(c.c.callervoipaccountid.in_(ids), c.c.calleevoipaccountid.in_(ids)),
    )


def provider_numbers(
    conn: Connection, serviceproviderid: int, owner_id: int | None = None
) -> dict[str, tuple[int, int | None]]:
    """phone -> (voip account id, owner) for the accounts of one provider (and one owner)."""
    n, a = voip_numbers, voipaccounts
    query = (
        select(n.c.phone, a.c.id, a.c.ownerid)
        .join(a, a.c.id == n.c.voip_account_id)
        .where(a.c.serviceproviderid == serviceproviderid)
    )
    if owner_id is not None:
        query = query.where(a.c.ownerid == owner_id)
    return {r.phone: (r.id, r.ownerid) for r in conn.execute(query)}


def count_provider_cdrs(
    conn: Connection, start: int, end: int, serviceproviderid: int, owner_id: int | None = None
) -> int:
    """CDRs with call_start_time in [start, end] where a provider account is caller or callee."""
    scope = _provider_cdr_scope(start, end, serviceproviderid, owner_id)
    return int(conn.execute(select(func.count()).select_from(voip_cdr).where(scope)).scalar() or 0)


def provider_cdr_creationdates(
    conn: Connection, start: int, end: int, serviceproviderid: int, owner_id: int | None = None
) -> dict[tuple[int, str], int]:
    """(direction, uniqueid) -> creationdate of the CDRs in :func:`count_provider_cdrs`'s scope that
    have one: an importer that deletes and re-inserts a period keeps them, or lms-payments (which
    bills by ``COALESCE(creationdate, call_start_time)``) would bill a re-imported record twice."""
    c = voip_cdr
    scope = _provider_cdr_scope(start, end, serviceproviderid, owner_id)
    query = select(c.c.direction, c.c.uniqueid, c.c.creationdate).where(scope, c.c.creationdate.is_not(None))
    return {(int(r.direction), r.uniqueid): int(r.creationdate) for r in conn.execute(query)}


def delete_provider_cdrs(
    conn: Connection, start: int, end: int, serviceproviderid: int, owner_id: int | None = None
) -> int:
    """Delete the CDRs of :func:`count_provider_cdrs`'s scope; returns how many went."""
    scope = _provider_cdr_scope(start, end, serviceproviderid, owner_id)
    return conn.execute(voip_cdr.delete().where(scope)).rowcount or 0


def purge_provider_cdrs(
    conn: Connection,
    start: int,
    end: int,
    serviceproviderid: int,
    keep: Mapping[int, Container[str]],
    owner_id: int | None = None,
    batch_size: int = 1000,
) -> int:
    """Delete in-scope CDRs whose uniqueid is not in ``keep[direction]``: what a re-import no longer
    returned. The scope is streamed and deleted by id in batches, so memory is the caller's *keep*."""
    c = voip_cdr
    scope = _provider_cdr_scope(start, end, serviceproviderid, owner_id)
    doomed: list[int] = []
    empty: frozenset[str] = frozenset()
    query = select(c.c.id, c.c.direction, c.c.uniqueid).where(scope).execution_options(yield_per=20000)
    for row in conn.execute(query):
        if row.uniqueid not in keep.get(row.direction, empty):
            doomed.append(row.id)
    deleted = 0
    for i in range(0, len(doomed), batch_size):
        deleted += conn.execute(c.delete().where(c.c.id.in_(doomed[i : i + batch_size]))).rowcount or 0
    return deleted


def last_provider_cdr(
    conn: Connection, serviceproviderid: int, since: int, owner_id: int | None = None, incremental: int = 0
) -> tuple[int, int] | None:
    """(highest uniqueid compared as a NUMBER, its call_start_time) among the provider's CDRs started
    after *since*, or None.

    ``uniqueid`` is varchar, so ``MAX(uniqueid)`` is lexicographic ("999" > "1000") and would send an
    incremental import back to an old id (spec metroport_mvno §8.5). Ordering by length, then text,
    is the numeric order for digit strings without leading zeros on every engine; rows that are not
    digit strings are skipped.
    """
    c = voip_cdr
    ids = provider_account_ids(serviceproviderid, owner_id)
    query = (
        select(c.c.uniqueid, c.c.call_start_time)
        .where(
            c.c.call_start_time > since,
            c.c.incremental == incremental,
            or_(c.c.callervoipaccountid.in_(ids), c.c.calleevoipaccountid.in_(ids)),
        )
        .order_by(func.length(c.c.uniqueid).desc(), c.c.uniqueid.desc())
    )
    for row in conn.execute(query.limit(50)):
        text = str(row.uniqueid)
        if text.isdigit() and (text == "0" or not text.startswith("0")):
            return int(text), int(row.call_start_time)
    return None


def last_provider_cdr_start(
    conn: Connection, serviceproviderid: int, since: int, owner_id: int | None = None
) -> int | None:
    """Latest call_start_time (>= *since*) of the provider's CDRs, for incremental imports by time."""
    c = voip_cdr
    ids = provider_account_ids(serviceproviderid, owner_id)
    found = conn.execute(
        select(func.max(c.c.call_start_time)).where(
            c.c.call_start_time >= since, or_(c.c.callervoipaccountid.in_(ids), c.c.calleevoipaccountid.in_(ids))
        )
    ).scalar()
    return None if found is None else int(found)


def customer_accounts(conn: Connection, owner_ids: Iterable[int] | None = None) -> dict[int, list[dict[str, Any]]]:
    """owner -> its VoIP accounts (dicts of every column) with ``numbers``: [(number id, phone)] in
    number_index order; like LMS's ``getCustomerVoipAccounts``, for many customers in two queries."""
    a, n = voipaccounts, voip_numbers
    query = select(a).order_by(a.c.login, a.c.id)
    ids = None if owner_ids is None else list(owner_ids)
    if ids is not None:
        if not ids:
            return {}
        query = query.where(a.c.ownerid.in_(ids))
    accounts = {r["id"]: {**r, "numbers": []} for r in conn.execute(query).mappings()}
    nquery = select(n.c.id, n.c.voip_account_id, n.c.phone).order_by(n.c.voip_account_id, n.c.number_index, n.c.id)
    if ids is not None:
        nquery = nquery.where(n.c.voip_account_id.in_(select(a.c.id).where(a.c.ownerid.in_(ids))))
    for row in conn.execute(nquery):
        if row.voip_account_id in accounts:
            accounts[row.voip_account_id]["numbers"].append((row.id, row.phone))
    result: dict[int, list[dict[str, Any]]] = {}
    for account in accounts.values():
        result.setdefault(account["ownerid"], []).append(account)
    return result


def replace_number(conn: Connection, account_id: int, old_phone: str, new_phone: str) -> bool:
    """Change one number of an account in place, so its row id, ``tariff_id``, ``info`` and
    ``voip_number_assignments`` links survive (a provider renumbered the SIM)."""
    n = voip_numbers
    done = conn.execute(
        n.update().where(n.c.voip_account_id == account_id, n.c.phone == old_phone).values(phone=new_phone)
    ).rowcount
    if done and syslog.active(conn) is not None:
        fields = [(RES_VOIP_ACCOUNT, account_id), (RES_CUST, _owner(conn, account_id)), ("phone", new_phone)]
        syslog.record(conn, RES_VOIP_ACCOUNT_NUMBER, OPER_UPDATE, fields)
    return bool(done)


def phone_tariff_assignments(
    conn: Connection, tag: str, start: int, end: int, customer_ids: Iterable[int] | None = None
) -> list[dict[str, Any]]:
    """Assignments of tariffs tagged *tag* (case-insensitive) that are committed, not suspended and
    overlap [start, end]: what lms-payments would bill. Dicts of assignment id, customerid, tariffid,
    tariff type and flags (flag 16: net prices), ordered by customer and assignment id."""
    s, t, ta, tg = assignments, tariffs, tariffassignments, tarifftags
    query = (
        select(s.c.id, s.c.customerid, s.c.tariffid, t.c.type, t.c.flags)
        .join(t, t.c.id == s.c.tariffid)
        .join(ta, ta.c.tariffid == t.c.id)
        .join(tg, tg.c.id == ta.c.tarifftagid)
        .where(
            func.lower(tg.c.name) == tag.lower(),
            s.c.suspended == 0,
            s.c.commited == 1,
            s.c.datefrom <= end,
            or_(s.c.dateto == 0, s.c.dateto >= start),
        )
        .order_by(s.c.customerid, s.c.id)
    )
    if customer_ids is not None:
        query = query.where(s.c.customerid.in_(list(customer_ids)))
    return [dict(r) for r in conn.execute(query).mappings()]


def number_assignments(conn: Connection, number_ids: Iterable[int]) -> dict[int, list[int]]:
    """number id -> the assignment ids it is linked to (``voip_number_assignments``)."""
    ids = list(number_ids)
    result: dict[int, list[int]] = {i: [] for i in ids}
    va = voip_number_assignments
    for i in range(0, len(ids), 1000):
        part = ids[i : i + 1000]
        for row in conn.execute(select(va.c.number_id, va.c.assignment_id).where(va.c.number_id.in_(part))):
            result[row.number_id].append(row.assignment_id)
    return result
