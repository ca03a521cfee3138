"""Cron job ``lmsplugins metroport-mvno sync``: the replacement of ``lms-metroportmvno-sync.php``.

Every flag of the PHP script works in its short and long form with the same defaults (spec §2), and the
same fatal checks are usage errors (exit 2) raised before anything is touched. Deliberate differences,
each a defect of spec §8 fixed:

* only the requested parts run: no login, no user list and no date check beyond the flags' own;
* ``--test`` rolls every transaction back AND uploads nothing (PHP uploaded the price list in test
  mode); it prints what would change, per table, with the first rows;
* a price list is validated before upload; a bad file is an error and nothing is sent;
* ``--customerid`` must be a positive whole number (PHP pasted the raw string into SQL);
* billing records are streamed through :func:`lmsplugins.lms.voip.write_cdrs` (upsert on
  ``(direction, uniqueid)``), so a re-import never fails on the unique key; a record is stored only
  for the customer owning the LMS account of its own number (48 + ano): records of numbers without
  such an account are counted and reported, never given to somebody else;
* incremental by last id takes the highest id as a NUMBER, per customer in customer mode, and deletes
  nothing (PHP deleted in-window rows it did not fetch again: spec §8.5);
* an empty interval after the incremental adjustment means "nothing new", not a fatal error.

Transactions: customers one, accounts one, billings one per (customer, sub-period) in customer mode
and one per sub-period in provider mode, so a long import commits as it goes and a failure rolls back
only the piece in progress.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from lmsplugins.cli import config_option, get_host
from lmsplugins.errors import ConfigError, UsageError
from lmsplugins.host import Host
from lmsplugins.jobs import Job, run_job
from lmsplugins.lms import customers as lms_customers
from lmsplugins.lms import voip

from . import mapping
from .client import MetroportMVNOClient, PassedRecord, PriceListError, validate_price_list
from .plugin import PROVIDER_NAME

PLUGIN = "metroport_mvno"
JOB = "metroport_mvno.sync"
NET_FLAG = 16
"""``tariffs.flags`` bit TARIFF_FLAG_NET_ACCOUNT: the customer's records are priced net."""
SAMPLE_ROWS = 5
_CALLER, _CALLEE, _START, _CREATED, _PRICE, _DIRECTION, _UNIQUEID = (
    voip.CDR_COLUMNS.index(c)
    for c in ("caller", "callee", "call_start_time", "creationdate", "price", "direction", "uniqueid")
)
PARTS = ("customers", "accounts", "billings")


@click.group("metroport-mvno", context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Metroport MVNO (mobile): bind customers, mirror SIM accounts, import billing records."""


# --------------------------------------------------------------------------------------------------
# Flags

_RELATIVE = re.compile(r"^([+-]?\d+)\s*(second|sec|minute|min|hour|day|week|month|year)s?(\s+ago)?$", re.IGNORECASE)


def _add_months(moment: datetime, months: int) -> datetime:
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(
        moment.day,
        [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][
            month - 1
        ],
    )
    return moment.replace(year=year, month=month, day=day)


def parse_when(value: str, now: datetime) -> datetime:
    """A date as ``strtotime`` commonly gets it: ``YYYY-MM-DD[ HH:MM[:SS]]`` (also with ``/`` or ``T``),
    ``now``, ``today``, ``yesterday``, ``tomorrow`` and ``[+-]N unit[s] [ago]``. Naive local wall time
    (*now* is naive too). Anything else raises ValueError: a guess would import the wrong period."""
    text = value.strip()
    lower = text.lower()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    keywords = {
        "now": now,
        "today": midnight,
        "midnight": midnight,
        "yesterday": midnight - timedelta(days=1),
        "tomorrow": midnight + timedelta(days=1),
    }
    if lower in keywords:
        return keywords[lower]
    match = _RELATIVE.match(lower)
    if match:
        n = int(match.group(1)) * (-1 if match.group(3) else 1)
        unit = match.group(2)
        if unit in ("month", "year"):
            return _add_months(now, n * (12 if unit == "year" else 1))
        seconds = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "day": 86400, "week": 604800}
        return now + timedelta(seconds=n * seconds[unit])
    candidate = re.sub(r"^(\d{4})/(\d{1,2})/(\d{1,2})", r"\1-\2-\3", text)
    candidate = re.sub(r"^(\d{4})-(\d)(?=-)", r"\1-0\2", candidate)
    candidate = re.sub(r"^(\d{4}-\d{2})-(\d)(?=\D|$)", r"\1-0\2", candidate)
    if not re.match(r"^\d{4}-\d{2}-\d{2}", candidate):
        raise ValueError(value)
    parsed = datetime.fromisoformat(candidate)
    if parsed.tzinfo is not None:
        raise ValueError(value)
    return parsed


def default_period(now: datetime) -> tuple[datetime, datetime]:
    """1st of the previous month 00:00:00 to a month later minus 1 s, capped at yesterday 23:59:59."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = _add_months(first, -1)
    return start, _cap(_add_months(start, 1) - timedelta(seconds=1), now)


def _cap(end: datetime, now: datetime) -> datetime:
    if end > now:
        return yesterday_end(now)
    return end


def yesterday_end(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(seconds=1)


def subperiods(start: datetime, end: datetime, chunking: bool, size_days: int) -> list[tuple[datetime, datetime]]:
    """Spec §2 "Chunking": pieces of *size_days* calendar days; the last one may be up to 1.5 x long."""
    pieces = []
    cur = start
    size = timedelta(days=max(1, size_days))
    while cur < end:
        stop = cur + size - timedelta(seconds=1) if chunking and end - cur >= size * 1.5 else end
        pieces.append((cur, stop))
        cur = stop + timedelta(seconds=1)
    return pieces


@dataclass
class Options:
    """The validated flags of one run."""

    parts: tuple[str, ...]
    start: datetime
    end: datetime
    customerid: int | None
    update: bool
    mode: str
    incremental: str | None
    chunking: bool
    chunk_size: int
    pricelist: Path | None


def parse_options(opts: Mapping[str, Any], now: datetime) -> Options:
    """The PHP script's checks, in its order and with its messages (raised as UsageError, exit 2)."""
    start = end = None
    if opts.get("start_date") is not None:
        try:
            start = parse_when(opts["start_date"], now)
        except ValueError:
            raise UsageError("Fatal error: invalid --start-date format!") from None
    if opts.get("end_date") is not None:
        try:
            end = parse_when(opts["end_date"], now)
        except ValueError:
            raise UsageError("Fatal error: invalid --end-date format!") from None
    if start is None:
        start = default_period(now)[0]
    if end is None:
        end = _cap(_add_months(start, 1) - timedelta(seconds=1), now)
    if end <= start:
        raise UsageError("Fatal error: --start-date and --end-date define empty interval!")
    mode = (opts.get("mode") or "customer").strip()
    if mode not in ("customer", "provider"):
        raise UsageError(f'Fatal error: unsupported mode "{mode}"!')
    incremental = None
    if opts.get("use_last_id") and not opts.get("incremental"):
        raise UsageError("Fatal error: --use-last-id requires --incremental!")
    if opts.get("use_call_start_time") and not opts.get("incremental"):
        raise UsageError("Fatal error: --use-call-start-time requires --incremental!")
    if opts.get("use_last_id") and opts.get("use_call_start_time"):
        raise UsageError("Fatal error: --use-last-id and --use-call-start-time cannot be used together!")
    if opts.get("incremental"):
        incremental = "call-start-time" if opts.get("use_call_start_time") else "last-id"
    chunking = bool(opts.get("chunking") or incremental) and not opts.get("no_chunking")
    size_raw = opts.get("chunk_size")
    chunk_size = 1
    if size_raw is not None:
        if not re.fullmatch(r"\s*-?\d+\s*", str(size_raw)):
            raise UsageError(f"Fatal error: --chunk-size {size_raw!r} is not a whole number of days!")
        chunk_size = max(1, int(size_raw))
    customerid = None
    raw_id = opts.get("customerid")
    if raw_id is not None:
        if not re.fullmatch(r"\s*[0-9]{1,10}\s*", str(raw_id)) or not 1 <= int(raw_id) <= 2**31 - 1:
            raise UsageError(f"Fatal error: --customerid {raw_id!r} is not a customer id (a positive number)!")
        customerid = int(raw_id)
    pricelist = None
    if opts.get("pricelist_file") is not None:
        pricelist = Path(opts["pricelist_file"])
        if not pricelist.is_file():
            raise UsageError(f"Price list file ({pricelist}) does not exist!")
    parts = tuple(p for p in PARTS if opts.get(p))
    if not parts and pricelist is None:
        raise UsageError("nothing to do: choose --customers, --accounts, --billings and/or --pricelist-file")
    return Options(
        parts, start, end, customerid, bool(opts.get("update")), mode, incremental, chunking, chunk_size, pricelist
    )


def zone_of(settings: Mapping[str, Any]) -> ZoneInfo:
    name = settings["metroportmvno.timezone"] or "Europe/Warsaw"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"setting metroportmvno.timezone = {name!r} is not a known time zone") from None


# --------------------------------------------------------------------------------------------------
# The parts


@dataclass
class Changes:
    """What a run changed (or, under --test, would have): counts per table and the first rows."""

    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    samples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, table: str, action: str, n: int = 1, sample: Any = None) -> None:
        if n:
            self.counts[table][action] += n
        if sample is not None and len(self.samples[table]) < SAMPLE_ROWS:
            self.samples[table].append(f"{action} {sample}")

    def report(self, job: Job) -> None:
        verb = "would be" if job.test else "were"
        for table in sorted(self.counts):
            done = ", ".join(f"{k} {v}" for k, v in sorted(self.counts[table].items()))
            job.info(f"{table}: rows that {verb} changed: {done}")
            for line in self.samples.get(table, []):
                job.info(f"  {line}")


class Sync:
    """One run's parts sharing the client, options, settings and change log."""

    def __init__(
        self,
        job: Job,
        client: MetroportMVNOClient,
        opts: Options,
        settings: Mapping[str, Any],
        zone: ZoneInfo,
        defaults: Mapping[str, Any],
    ):
        self.job = job
        self.client = client
        self.opts = opts
        self.settings = settings
        self.zone = zone
        self.defaults = defaults
        self.changes = Changes()

    def provider_id(self, conn: Any) -> int:
        spid = lms_customers.service_provider_id(conn, PROVIDER_NAME)
        if spid is None:
            raise ConfigError(f"service provider {PROVIDER_NAME!r} is missing; run 'lmsplugins db upgrade'")
        return spid

    def ts(self, moment: datetime) -> int:
        return mapping.unix_time(moment, self.zone)

    def local(self, ts: int) -> datetime:
        return datetime.fromtimestamp(ts, self.zone).replace(tzinfo=None)

    # -- price list --------------------------------------------------------------------------------

    def price_list(self) -> None:
        path = self.opts.pricelist
        assert path is not None
        if self.job.test:
            self.job.info(f"test mode: price list {path} is valid and was NOT uploaded")
            self.job.count("pricelist_not_uploaded")
            return
        result = self.client.upload_price_list(path)
        print(result.body, flush=True)
        self.job.count("pricelist_uploaded")

    # -- customers ---------------------------------------------------------------------------------

    def customers(self) -> None:
        job = self.job
        users = self.client.users()
        with job.chunk() as conn:
            spid = self.provider_id(conn)
            index = lms_customers.IdentityIndex.load(conn)
            bound = lms_customers.extids(conn, spid)
            only = self.opts.customerid
            if only is not None and not any(only in ids for t in index.by_kind.values() for ids in t.values()):
                job.warn(f"customer #{only} is deleted, missing or has no TEN/SSN/ICN; nothing to bind")
            plan = mapping.plan_bindings(users, index, bound, only)
            written = lms_customers.bind_extids(conn, [(cid, str(u.id)) for cid, u, _ in plan.bindings], spid)
            names = lms_customers.get_customers(conn, [cid for cid, _, _ in plan.bindings]) if plan.bindings else {}
        for cid, user, by in plan.bindings:
            row = names.get(cid, {})
            who = lms_customers.display_name(row.get("lastname", ""), row.get("name", ""))
            job.info(
                f"LMS customer {who} (#{cid}) has been bound with MMSC user {user.name} (#{user.id}) by {by.upper()}"
            )
            self.changes.add("customerextids", "insert", 1, f"customerid={cid} extid={user.id}")
        for user in plan.insufficient:
            job.info(f"Insufficient Metroport user data {user.name} (#{user.id})")
        for user in plan.unmatched:
            job.info(
                f"Metroport user {user.name} {mapping.describe_identity(mapping.identity(user))} (#{user.id}) "
                "could not be bound with any LMS customer"
            )
        for user, match in plan.ambiguous_lms:
            ids = ", ".join(f"#{c}" for c in match.ambiguous)
            job.warn(
                f"Metroport user {user.name} (#{user.id}) not bound: LMS customers {ids} share "
                f"{(match.by or '').upper()} {match.value}; bind the right one by hand (customer card, "
                f"External IDs, provider {PROVIDER_NAME!r}, ext id {user.id})"
            )
        for user, match, others in plan.ambiguous_users:
            ids = ", ".join(f"#{u}" for u in others)
            job.warn(
                f"Metroport user {user.name} (#{user.id}) not bound to LMS customer #{match.customer_id}: "
                f"Metroport users {ids} have the same {(match.by or '').upper()} {match.value}"
            )
        for user, cid, extids in plan.customer_taken:
            job.info(
                f"Metroport user {user.name} (#{user.id}) matches LMS customer #{cid}, which is already bound "
                f"to Metroport user(s) {', '.join(extids)}; left as it is"
            )
        job.count("customers_bound", written)
        job.count("customers_already_bound", plan.already_bound)
        job.count("customers_not_bound", plan.not_bound)
        job.count("customers_ambiguous", len(plan.ambiguous_lms) + len(plan.ambiguous_users))
        job.info(f"Synchronized: {written}")
        job.info(f"Not synchronized: {plan.not_bound}")

    # -- accounts ----------------------------------------------------------------------------------

    def _extid_of(self, conn: Any, spid: int, customer_id: int) -> str | None:
        values = lms_customers.extids(conn, spid).get(customer_id, [])
        return values[0] if len(values) == 1 else None

    def accounts(self) -> None:
        job = self.job
        only = self.opts.customerid
        with job.host.engine.connect() as conn:
            spid = self.provider_id(conn)
            extid = self._extid_of(conn, spid, only) if only is not None else None
        if only is not None and extid is None:
            job.warn(f"customer #{only} is not bound to exactly one Metroport user; no accounts to synchronize")
            return
        userid = int(extid) if extid is not None and extid.isdigit() else None
        if extid is not None and userid is None:
            job.warn(f"customer #{only} has Metroport ext id {extid!r}, not a numeric user id; bind again")
            return
        mobiles = self.client.mobiles(userid=userid)
        with job.chunk() as conn:
            owners = lms_customers.extid_owners(conn, spid)
            user_customer: dict[str, int] = {}
            for ext, cids in owners.items():
                if len(cids) > 1:
                    job.warn(
                        f"Metroport user {ext} is bound to several LMS customers "
                        f"({', '.join(f'#{c}' for c in cids)}); their SIM accounts are skipped"
                    )
                elif only is None or cids[0] == only:
                    user_customer[ext] = cids[0]
            if not mobiles or not user_customer:
                job.info("no Metroport accounts of bound customers")
                return
            accounts = voip.customer_accounts(conn, sorted(set(user_customer.values())))
            by_extid: dict[str, dict[str, Any]] = {}
            for row in voip.accounts_by_extid(conn, spid).values():
                own = next((a for a in accounts.get(row["ownerid"], []) if a["id"] == row["id"]), None)
                by_extid[str(row["extid"])] = own if own is not None else {**row, "numbers": []}
            phones = voip.number_accounts(conn)
            synced: dict[int, list[int]] = defaultdict(list)
            for mobile in sorted(mobiles, key=lambda m: m.id):
                cid = user_customer.get(str(mobile.userid))
                if cid is None:
                    job.count("accounts_of_unbound_users")
                    continue
                try:
                    action = mapping.plan_account(mobile, cid, accounts.get(cid, []), by_extid)
                except mapping.UnknownStatus as exc:
                    job.warn(f"Customer #{cid}: {exc}; account left as it is")
                    job.count("accounts_unknown_status")
                    continue
                account_id = self._apply(conn, spid, cid, action, accounts, by_extid, phones)
                if account_id is not None:
                    synced[cid].append(account_id)
            if self.settings["metroportmvno.link_numbers"]:
                self._link_numbers(conn, synced)

    def _apply(
        self,
        conn: Any,
        spid: int,
        cid: int,
        action: mapping.AccountAction,
        accounts: dict[int, list[dict[str, Any]]],
        by_extid: dict[str, dict[str, Any]],
        phones: dict[str, tuple[int, int | None]],
    ) -> int | None:
        job, m = self.job, action.mobile
        phone = mapping.phone_of(m.ano)
        job.count(f"accounts_{action.kind}")
        if action.kind == "bind":
            assert action.account_id is not None
            voip.update_account(conn, action.account_id, extid=str(m.id), serviceproviderid=spid)
            account = next(a for a in accounts[cid] if a["id"] == action.account_id)
            account.update(extid=str(m.id), serviceproviderid=spid)
            by_extid[str(m.id)] = account
            job.info(f"Customer #{cid} - LMS account #{action.account_id} has been bound with MVNO account #{m.id}.")
            self.changes.add("voipaccounts", "bind", 1, f"id={action.account_id} extid={m.id}")
            return action.account_id
        if action.kind == "create":
            holder = phones.get(phone)
            if holder is not None:
                job.warn(
                    f"Customer #{cid}: MVNO account #{m.id} not added: number {phone} belongs to LMS account "
                    f"#{holder[0]} of customer #{holder[1]}"
                )
                job.count("accounts_conflict")
                return None
            account_id = voip.create_account(
                conn,
                ownerid=cid,
                login=m.ano,
                passwd="",
                phones=[phone],
                access=action.values["access"],
                balance=self.defaults["cost_limit"],
                flags=self.defaults["flags"],
                serviceproviderid=spid,
                extid=str(m.id),
            )
            phones[phone] = (account_id, cid)
            job.info(f"Customer #{cid} - LMS account #{phone} has been added.")
            self.changes.add("voipaccounts", "insert", 1, f"ownerid={cid} login={m.ano} extid={m.id}")
            self.changes.add("voip_numbers", "insert", 1, f"phone={phone}")
            return account_id
        if action.kind == "update":
            assert action.account_id is not None
            if action.values:
                voip.update_account(conn, action.account_id, **action.values)
            if action.old_phone is not None or not any(True for _ in by_extid[str(m.id)].get("numbers", [])):
                holder = phones.get(phone)
                if holder is not None and holder[0] != action.account_id:
                    job.warn(
                        f"Customer #{cid}: number {phone} of MVNO account #{m.id} belongs to LMS account "
                        f"#{holder[0]}; number of account #{action.account_id} left as it is"
                    )
                    job.count("accounts_conflict")
                elif action.old_phone is not None:
                    voip.replace_number(conn, action.account_id, action.old_phone, phone)
                    phones[phone] = (action.account_id, cid)
                    self.changes.add("voip_numbers", "update", 1, f"{action.old_phone} -> {phone}")
                else:
                    voip.set_numbers(conn, action.account_id, [phone])
                    self.changes.add("voip_numbers", "insert", 1, f"phone={phone}")
            job.info(f"Customer #{cid} - LMS account #{action.account_id} has been updated.")
            self.changes.add("voipaccounts", "update", 1, f"id={action.account_id} {dict(action.values)}")
            return action.account_id
        if action.kind == "delete":
            assert action.account_id is not None
            voip.delete_account(conn, action.account_id)
            by_extid.pop(str(m.id), None)
            job.info(f"Customer #{cid} - LMS account #{action.account_id} has been deleted.")
            self.changes.add("voipaccounts", "delete", 1, f"id={action.account_id} extid={m.id}")
            return None
        if action.kind == "skip":
            job.info(f"Customer #{cid} - MVNO account #{m.id}: {action.reason}")
            return None
        return action.account_id

    def _link_numbers(self, conn: Any, synced: Mapping[int, list[int]]) -> None:
        """The invoicing path: link each synchronized number to the customer's one assignment of an
        MVNO-tagged phone tariff, so lms-payments bills its records (the PHP plugin left this manual)."""
        job = self.job
        now = self.ts(datetime.now(self.zone).replace(tzinfo=None))
        tag = self.settings["metroportmvno.tariff_tag"]
        found = voip.phone_tariff_assignments(conn, tag, now, now, list(synced))
        per_customer: dict[int, list[int]] = defaultdict(list)
        for row in found:
            if row["type"] == 4:
                per_customer[row["customerid"]].append(row["id"])
        numbers = voip.customer_accounts(conn, list(synced))
        for cid, account_ids in synced.items():
            targets = per_customer.get(cid, [])
            if len(targets) != 1:
                if targets:
                    job.warn(
                        f"Customer #{cid} has {len(targets)} {tag!r}-tagged phone tariff assignments "
                        f"({', '.join(f'#{a}' for a in targets)}); numbers not linked, link them by hand"
                    )
                job.count("numbers_without_tariff" if not targets else "numbers_ambiguous_tariff", len(account_ids))
                continue
            wanted = set(account_ids)
            number_ids = [nid for a in numbers.get(cid, []) if a["id"] in wanted for nid, _ in a["numbers"]]
            linked = voip.number_assignments(conn, number_ids)
            for nid in number_ids:
                if linked.get(nid):
                    continue
                if voip.link_number_to_assignment(conn, nid, targets[0]):
                    job.count("numbers_linked")
                    self.changes.add(
                        "voip_number_assignments", "insert", 1, f"number_id={nid} assignment_id={targets[0]}"
                    )

    # -- billings ----------------------------------------------------------------------------------

    def billings(self) -> None:
        job, opts = self.job, self.opts
        only = opts.customerid
        start, end = opts.start, opts.end
        types = {t.id: t.type for t in self.client.traffic_types()}
        with job.host.engine.connect() as conn:
            spid = self.provider_id(conn)
            bound = lms_customers.extids(conn, spid)
            numbers = voip.provider_numbers(conn, spid)
        if opts.incremental is not None:
            end = yesterday_end(datetime.now(self.zone).replace(tzinfo=None))
        tag = self.settings["metroportmvno.tariff_tag"]
        with job.host.engine.connect() as conn:
            assigned = voip.phone_tariff_assignments(
                conn, tag, self.ts(start), self.ts(end), [only] if only is not None else None
            )
        netflag: dict[int, bool] = {}
        not_numeric: dict[int, str] = {}
        for row in assigned:
            extids = bound.get(row["customerid"], [])
            if len(extids) != 1:
                continue
            if not extids[0].strip().isdigit():
                not_numeric[row["customerid"]] = extids[0]
                continue
            netflag[row["customerid"]] = bool((row["flags"] or 0) & NET_FLAG)
        if not_numeric:
            shown = ", ".join(f"#{cid} ({extid!r})" for cid, extid in sorted(not_numeric.items())[:20])
            job.warn(
                f"{len(not_numeric)} customer(s) skipped: their Metroport ext id is not a numeric user id "
                f"(bound before the PHP plugin's 1.1.0?): {shown}; bind them again with --customers"
            )
            job.count("customers_bad_extid", len(not_numeric))
        if not netflag:
            job.fail(f'Fatal error: no customers with "{tag}"-tagged tariffs assigned!')
            return
        mapper = mapping.CdrMapper(types, numbers, self.zone, created=int(time.time()))
        if mapper.unknown_types:
            job.warn(f"traffic types unknown to LMS: {', '.join(mapper.unknown_types)}; their records are skipped")
        self.stats: Counter[str] = Counter()
        self.bad: list[str] = []
        self.orphans: list[str] = []
        with job.progress("billing records") as bar:
            self.bar = bar
            if opts.mode == "customer":
                for cid in sorted(netflag):
                    self._fetch(spid, mapper, start, end, cid, int(bound[cid][0]), netflag)
            else:
                self._fetch(spid, mapper, start, end, only, None, netflag)
        for key, n in sorted(self.stats.items()):
            job.count(key, n)
        if self.orphans:
            job.warn(
                f"{self.stats['cdrs_orphan']} billing record(s) not imported: their number has no LMS "
                f"account of {PROVIDER_NAME} for the customer (run --accounts first?), e.g. " + "; ".join(self.orphans)
            )
        if self.bad:
            job.fail(
                f"{self.stats['cdrs_bad']} billing record(s) could not be stored and were skipped: "
                + "; ".join(self.bad)
            )

    def _window(
        self, spid: int, start: datetime, end: datetime, owner: int | None
    ) -> tuple[datetime, datetime, int | None] | None:
        """The period after the incremental adjustment (spec §6.3 step 3), or None when empty."""
        opts, job = self.opts, self.job
        id_after = None
        if opts.incremental == "last-id":
            with job.host.engine.connect() as conn:
                last = voip.last_provider_cdr(conn, spid, self.ts(start), owner)
            if last is not None:
                id_after, started = last
                start = self.local(started) - timedelta(days=3)
        elif opts.incremental == "call-start-time":
            with job.host.engine.connect() as conn:
                latest = voip.last_provider_cdr_start(conn, spid, self.ts(start), owner)
            if latest is not None:
                start = max(start, self.local(latest))
        if end <= start:
            job.info(
                f"nothing new for {'customer #' + str(owner) if owner else 'the provider'}: "
                f"{start:%Y-%m-%d %H:%M:%S} - {end:%Y-%m-%d %H:%M:%S} is empty"
            )
            return None
        after = f" after id {id_after}" if id_after is not None else ""
        job.info(f"Getting billing records for period {start:%Y-%m-%d %H:%M:%S} - {end:%Y-%m-%d %H:%M:%S}{after}")
        return start, end, id_after

    def _fetch(
        self,
        spid: int,
        mapper: mapping.CdrMapper,
        start: datetime,
        end: datetime,
        owner: int | None,
        userid: int | None,
        netflag: Mapping[int, bool],
    ) -> None:
        window = self._window(spid, start, end, owner)
        if window is None:
            return
        start, end, id_after = window
        opts = self.opts
        pieces = subperiods(start, end, opts.chunking, opts.chunk_size)
        for piece_start, piece_end in pieces:
            if len(pieces) > 1:
                self.job.info(
                    f"Getting billing records for subperiod {piece_start:%Y-%m-%d %H:%M:%S} - "
                    f"{piece_end:%Y-%m-%d %H:%M:%S}..."
                )
            records = self.client.billings(
                piece_start, piece_end, userid=userid, id_after=id_after, wanted=mapper.holds
            )
            self._store(spid, mapper, records, self.ts(piece_start), self.ts(piece_end), owner, netflag)

    def _store(
        self,
        spid: int,
        mapper: mapping.CdrMapper,
        records: Iterator[Any],
        lo: int,
        hi: int,
        owner: int | None,
        netflag: Mapping[int, bool],
    ) -> None:
        """One transaction: (delete or purge) and upsert the records of one sub-period (and customer)."""
        job, opts, stats = self.job, self.opts, self.stats
        replace = opts.incremental != "last-id"
        seen: dict[int, set[str]] = {1: set(), 2: set()}
        got = Counter[str]()
        samples: list[str] = []

        kept_created: dict[tuple[int, str], int] = {}

        def rows() -> Iterator[tuple[Any, ...]]:
            bar = self.bar
            for record in records:
                got["api"] += 1
                # A passed record's number has no LMS account (the client was told which are wanted).
                holder = None if type(record) is PassedRecord else mapper.owner(record)
                customer = holder[1] if holder is not None else None
                if customer is None or (owner is not None and customer != owner) or customer not in netflag:
                    if holder is None or (owner is not None and customer != owner):
                        stats["cdrs_orphan"] += 1
                        if len(self.orphans) < 5:
                            self.orphans.append(f"#{record.id} {record.src} -> {record.dst} (ano {record.ano})")
                    else:
                        stats["cdrs_not_billable"] += 1
                    continue
                try:
                    row = mapper.values(record, netflag[customer])  # type: ignore[arg-type]
                except ValueError as exc:
                    stats["cdrs_bad"] += 1
                    if len(self.bad) < 5:
                        self.bad.append(str(exc))
                    continue
                if replace and opts.update:
                    seen[row[_DIRECTION]].add(row[_UNIQUEID])
                if kept_created:
                    created = kept_created.get((row[_DIRECTION], row[_UNIQUEID]))
                    if created is not None:
                        row = (*row[:_CREATED], created, *row[_CREATED + 1 :])
                if len(samples) < SAMPLE_ROWS:
                    samples.append(
                        f"uniqueid={row[_UNIQUEID]} direction={row[_DIRECTION]} {row[_CALLER]} -> "
                        f"{row[_CALLEE]} at {row[_START]} price {row[_PRICE]}"
                    )
                got["rows"] += 1
                if got["rows"] % 10000 == 0:
                    bar.advance(10000)
                yield row

        with job.chunk() as conn:
            before = voip.count_provider_cdrs(conn, lo, hi, spid, owner)
            deleted = 0
            if replace and not opts.update:
                kept_created.update(voip.provider_cdr_creationdates(conn, lo, hi, spid, owner))
                deleted = voip.delete_provider_cdrs(conn, lo, hi, spid, owner)
            written = voip.write_cdrs(conn, rows(), update=True, ordered=True, keep=("creationdate",))
            if replace and opts.update:
                deleted += voip.purge_provider_cdrs(conn, lo, hi, spid, seen, owner)
            after = voip.count_provider_cdrs(conn, lo, hi, spid, owner)
        self.bar.advance(got["rows"] % 10000)
        new = max(0, after - before + deleted) if replace else written
        if not replace:
            new = written
        stats["cdrs"] += written
        stats["cdrs_api"] += got["api"]
        stats["cdrs_deleted"] += deleted
        self.changes.add("voip_cdr", "delete", deleted)
        self.changes.add("voip_cdr", "write", written)
        if opts.update and replace:
            self.changes.add("voip_cdr", "insert", min(new, written))
        for line in samples[: SAMPLE_ROWS - len(self.changes.samples["voip_cdr"])]:
            self.changes.add("voip_cdr", "write", 0, line)
        if owner is not None:
            job.info(
                f"Customer #{owner} (netflag: {int(netflag.get(owner, False))}): {written} records "
                f"(got {got['api']} records via API)."
            )


# --------------------------------------------------------------------------------------------------
# The command

SYNC_HELP = """Synchronize LMS with Metroport MMSC (lms-metroportmvno-sync.php): bind customers,
mirror SIM accounts into VoIP accounts, import billing records into voip_cdr, upload a price list.

Every flag of the PHP script, short and long. Unlike it, only the requested parts run, --test uploads
nothing, and a bad price list is refused before anything is sent. Dates are local time of
metroportmvno.timezone (default Europe/Warsaw): YYYY-MM-DD[ HH:MM:SS], now, today, yesterday,
"-N days"."""


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from .plugin import plugin

        click.echo(
            f"lms-metroportmvno-sync (lmsplugins {plugin.title} {plugin.version}, drop-in for {plugin.lms_class} 1.1.3)"
        )
        ctx.exit(0)


@cli.command("sync", help=SYNC_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@config_option
@click.option(
    "-v",
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_version,
    help="Print the version and exit.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and warnings.")
@click.option("-t", "--test", is_flag=True, help="Roll every database change back and upload nothing.")
@click.option("--customers", is_flag=True, help="Bind LMS customers to Metroport users (NIP, PESEL, ID card).")
@click.option("--accounts", is_flag=True, help="Mirror SIM accounts into VoIP accounts of bound customers.")
@click.option("--billings", is_flag=True, help="Import billing records into voip_cdr.")
@click.option("-s", "--start-date", "start_date", metavar="'YYYY-MM-DD HH:mm:ss'", help="Period start.")
@click.option("-e", "--end-date", "end_date", metavar="'YYYY-MM-DD HH:mm:ss'", help="Period end.")
@click.option("--customerid", metavar="ID", help="Only this customer.")
@click.option("-u", "--update", is_flag=True, help="Update existing records instead of deleting and inserting.")
@click.option("-m", "--mode", metavar="customer|provider", help="Fetch per customer (default) or all at once.")
@click.option("-i", "--incremental", is_flag=True, help="Fetch only what is new (by last id by default).")
@click.option("--use-last-id", is_flag=True, help="With -i: records after the last imported id.")
@click.option("--use-call-start-time", is_flag=True, help="With -i: records after the last call start time.")
@click.option("--chunking", is_flag=True, help="Fetch the period in pieces (default with -i).")
@click.option("--no-chunking", is_flag=True, help="Never fetch in pieces.")
@click.option("--chunk-size", metavar="DAYS", help="Piece length in days (default 1).")
@click.option("--pricelist-file", metavar="CSV", help="Upload this retail price list first.")
def sync_cmd(**opts: Any) -> None:
    host = get_host()
    sys.exit(run_sync(host, opts))


def run_sync(host: Host, opts: Mapping[str, Any], argv: Sequence[str] | None = None) -> int:
    """The sync job; *opts* as the click command parses them."""
    plugin = host.plugin(PLUGIN)
    state: dict[str, Any] = {}

    def validate() -> None:
        assert plugin is not None
        settings = host.plugin_settings(plugin)
        zone = zone_of(settings)
        options = parse_options(opts, datetime.now(zone).replace(tzinfo=None, microsecond=0))
        if options.pricelist is not None:
            try:
                problems = validate_price_list(options.pricelist)
            except OSError as exc:
                raise UsageError(f"Price list file ({options.pricelist}) cannot be read: {exc}") from None
            if problems:
                raise UsageError(str(PriceListError(options.pricelist, problems)))
        client = MetroportMVNOClient.from_settings(settings, timezone=zone.key)
        config = host.config()
        try:
            defaults = {
                "cost_limit": int(config.get("voip.default_cost_limit") or 200),
                "flags": int(config.get("voip.default_account_flags") or 0),
            }
        except ValueError:
            raise ConfigError("voip.default_cost_limit / voip.default_account_flags must be whole numbers") from None
        state.update(settings=settings, zone=zone, options=options, client=client, defaults=defaults)

    def body(job: Job) -> None:
        options: Options = state["options"]
        sync = Sync(job, state["client"], options, state["settings"], state["zone"], state["defaults"])
        try:
            if options.pricelist is not None:
                sync.price_list()
            for part in options.parts:
                getattr(sync, part)()
        finally:
            sync.changes.report(job)
            job.count("api_requests", sync.client.requests_made)
            sync.client.close()

    return run_job(
        host, JOB, body, test=bool(opts.get("test")), quiet=bool(opts.get("quiet")), validate=validate, argv=argv
    )
