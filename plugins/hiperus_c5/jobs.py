"""Cron jobs ``lmsplugins hiperus-c5 import`` and ``... invoice``: the PHP scripts' replacements.

``import`` accepts every spelling the PHP script (``lms_hiperus_c5_import.php``), its README and the
older iNET script accepted, so a crontab line only changes its program path (spec §4). Unlike PHP it
is strict: a bad date, billing type or success value is a usage error (exit 2) before anything is
touched, where PHP silently fell back to a default and imported something else.

How each step writes (spec §4, with §7 bugs fixed): the platform's answers for a step are fetched
first, then written in ONE transaction, so an API failure half-way leaves the old rows and a database
failure rolls the step back. ``-i`` wipes the step's tables inside that same transaction; without it
rows are upserted by the platform id and the rows the platform no longer returns are deleted. CDRs
are streamed (client -> mapping -> upsert in batches, committed every :data:`CDR_COMMIT_ROWS`), so a
million rows cost no more memory than a thousand, and re-importing a period updates the same rows.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from sqlalchemy import Table, delete, select, update
from sqlalchemy.engine import Connection

from lmsplugins.cli import config_option, get_host
from lmsplugins.db import upsert
from lmsplugins.errors import ConfigError, UsageError
from lmsplugins.host import Host
from lmsplugins.jobs import Job, run_job
from lmsplugins.lms.settings import write_uiconfig
from lmsplugins.store import get_value, put_value

from . import mapping
from .client import CALLTYPES, HiperusClient
from .tables import (
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

PLUGIN = "hiperus_c5"
CDR_COMMIT_ROWS = 100_000
CDR_BATCH_ROWS = 10_000
_DELETE_BATCH = 1000

DATE_PRESETS = {
    "currday": "currday",
    "lastday": "lastday",
    "currmonth": "currmonth",
    "lastmonth": "lastmonth",
    "currweek": "currweek",
    "nowday": "currday",
    "leftday": "lastday",
    "nowmonth": "currmonth",
    "leftmonth": "lastmonth",
}
SUCCESS_VALUES = {"all": (True, False), "yes": (True,), "no": (False,)}
STEPS = ("customers", "terminals", "numbers", "end_users", "price_lists", "subscriptions", "billing", "wlr")


@click.group("hiperus-c5")
def cli() -> None:
    """Hiperus C5 VoIP: import the platform's data and CDRs, invoice the calls."""


# --------------------------------------------------------------------------------------------------
# Flags


def parse_day(value: str, flag_name: str) -> date:
    """``YYYY/MM/DD`` (the PHP script's format) or ``YYYY-MM-DD``; anything else is a usage error."""
    text = value.strip()
    for fmt in ("%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise UsageError(f"{flag_name} {value!r} is not a valid date; use YYYY/MM/DD (e.g. 2024/01/31)")


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """The date range of a ``--billing-date`` preset (spec §4; currweek is a rolling 7 days)."""
    if preset == "currday":
        return today, today
    if preset == "lastday":
        day = today - timedelta(days=1)
        return day, day
    if preset == "currmonth":
        return today.replace(day=1), today
    if preset == "lastmonth":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if preset == "currweek":
        return today - timedelta(days=7), today
    raise UsageError(f"unknown --billing-date {preset!r}")


def billing_range(
    preset: str | None, date_from: str | None, date_to: str | None, today: date
) -> tuple[date, date, str]:
    """Dates to import and a note on where they came from; strict about every value given."""
    if preset is not None:
        key = DATE_PRESETS.get(preset.strip().lower())
        if key is None:
            raise UsageError(
                f"--billing-date {preset!r} is not one of {', '.join(DATE_PRESETS)} "
                "(the PHP script fell back to currday; this one refuses)"
            )
        first, last = preset_range(key, today)
        for value, name in ((date_from, "--billing-from"), (date_to, "--billing-to")):
            if value is not None:
                parse_day(value, name)
        note = f"--billing-date={key}"
        if date_from or date_to:
            note += " (wins over --billing-from/--billing-to, as in the PHP script)"
        return first, last, note
    if date_from is None and date_to is None:
        return today, today, "currday (no dates given)"
    if date_from is None or date_to is None:
        raise UsageError("--billing-from and --billing-to go together; give both, or --billing-date")
    first, last = parse_day(date_from, "--billing-from"), parse_day(date_to, "--billing-to")
    if last < first:
        raise UsageError(f"--billing-to {date_to} is before --billing-from {date_from}")
    return first, last, f"{first:%Y/%m/%d}-{last:%Y/%m/%d}"


def billing_types(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ("outgoing",)
    text = value.strip().lower()
    if text == "all":
        return CALLTYPES
    if text in CALLTYPES:
        return (text,)
    raise UsageError(
        f"--billing-type {value!r} is not one of all, {', '.join(CALLTYPES)} "
        "(the PHP script fell back to outgoing; this one refuses)"
    )


def billing_success(value: str | None) -> tuple[bool, ...]:
    if value is None:
        return (True,)
    found = SUCCESS_VALUES.get(value.strip().lower())
    if found is None:
        raise UsageError(
            f"--billing-success {value!r} is not one of all, yes, no "
            "(the PHP script fell back to yes; this one refuses)"
        )
    return found


def zone_of(settings: Mapping[str, Any]) -> str:
    zone = settings["hiperus_c5.timezone"] or "Europe/Warsaw"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"setting hiperus_c5.timezone = {zone!r} is not a known time zone") from None
    return zone


# --------------------------------------------------------------------------------------------------
# Writing helpers


def _dedupe(rows: Iterable[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Last record wins for a repeated id (a second row with one key would break the upsert)."""
    return list({row[key]: row for row in rows}.values())


def _delete_keys(conn: Connection, table: Table, key: str, keys: Iterable[Any]) -> int:
    column = table.c[key]
    pending = sorted(keys)
    deleted = 0
    for start in range(0, len(pending), _DELETE_BATCH):
        deleted += conn.execute(delete(table).where(column.in_(pending[start : start + _DELETE_BATCH]))).rowcount or 0
    return deleted


def sync_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: str = "id",
    full: bool,
    update_columns: Sequence[str] | None = None,
) -> tuple[int, int]:
    """Make *table* hold *rows*: wipe first (``full``), else upsert and delete keys not in *rows*.

    Returns (rows written, rows deleted). The caller owns the transaction.
    """
    deleted = 0
    if full:
        deleted = conn.execute(delete(table)).rowcount or 0
    else:
        seen = {row[key] for row in rows}
        existing = {r[0] for r in conn.execute(select(table.c[key]))}
        deleted = _delete_keys(conn, table, key, existing - seen)
    written = upsert(conn, table, rows, key=[key], update=update_columns) if rows else 0
    return written, deleted


def _map_all(
    job: Job, kind: str, records: Iterable[Mapping[str, Any]], fn: Callable[..., dict[str, Any]], *args: Any
) -> list[dict[str, Any]]:
    out = []
    for rec in records:
        try:
            out.append(fn(rec, *args))
        except ValueError as exc:
            job.fail(f"{kind}: record skipped: {exc}")
    return out


# --------------------------------------------------------------------------------------------------
# Import steps


class Importer:
    """The steps of one ``import`` run, in the PHP script's order, sharing one client and job."""

    def __init__(self, job: Job, client: HiperusClient, settings: Mapping[str, Any], full: bool):
        self.job = job
        self.client = client
        self.settings = settings
        self.full = full

    def account_ids(self) -> list[int]:
        with self.job.host.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(hv_customers.c.id).order_by(hv_customers.c.id))]

    def _per_account(
        self, title: str, accounts: Sequence[int], fetch: Callable[[int], list[Mapping[str, Any]]]
    ) -> Iterator[tuple[int, Mapping[str, Any]]]:
        with self.job.progress(title, total=len(accounts)) as bar:
            for account in accounts:
                for rec in fetch(account):
                    yield account, rec
                bar.advance()

    def customers(self) -> None:
        job = self.job
        records = self.client.get_customer_list()
        if not records:
            job.warn("GetCustomerList returned no accounts; local accounts left as they are")
            return
        rows = _dedupe(_map_all(job, "account", records, mapping.customer_row), "id")
        source = str(self.settings["hiperus_c5.invoice_source"] or "0")
        with job.chunk() as conn:
            written, deleted = sync_rows(conn, hv_customers, rows, full=self.full)
            ids = {row["id"] for row in rows}
            a = hv_assign
            current: dict[int, str] = {}
            for r in conn.execute(
                select(a.c.customerid, a.c.keyvalue).where(a.c.keytype == "issue_invoice").order_by(a.c.id)
            ):
                current[r.customerid] = r.keyvalue
            unset = 0
            for row in rows:
                value = mapping.assign_value(row["issue_invoice"], current.get(row["id"]), source)
                if row["issue_invoice"] == "t" and value == "0":
                    unset += 1
                if row["id"] not in current:
                    conn.execute(a.insert().values(customerid=row["id"], keytype="issue_invoice", keyvalue=value))
                elif current[row["id"]] != value:
                    conn.execute(
                        update(a)
                        .where(a.c.customerid == row["id"], a.c.keytype == "issue_invoice")
                        .values(keyvalue=value)
                    )
            stale = {cid for (cid,) in conn.execute(select(a.c.customerid).distinct())} - ids
            _delete_keys(conn, a, "customerid", {c for c in stale if c is not None})
        job.count("accounts", written)
        job.count("accounts_deleted", deleted)
        if unset:
            job.warn(
                f"{unset} account(s) have issue_invoice=t on the platform but hiperus_c5.invoice_source is 0, so "
                "nobody invoices them; set hiperus_c5.invoice_source = 2 to invoice them from LMS"
            )

    def terminals(self, accounts: Sequence[int]) -> None:
        pairs = self._per_account("terminals", accounts, self.client.get_terminal_list)
        rows = _dedupe(_map_all(self.job, "terminal", pairs, lambda p: mapping.terminal_row(p[1], p[0])), "id")
        with self.job.chunk() as conn:
            written, deleted = sync_rows(
                conn, hv_terminal, rows, full=self.full, update_columns=mapping.TERMINAL_UPDATE
            )
        self.job.count("terminals", written)
        self.job.count("terminals_deleted", deleted)

    def numbers(self, accounts: Sequence[int]) -> None:
        job = self.job
        pairs = self._per_account("numbers", accounts, self.client.get_extension_list)
        pstn = _dedupe(_map_all(job, "number", pairs, lambda p: mapping.pstn_row(p[1], p[0])), "id")
        ranges = _dedupe(
            _map_all(job, "numbering range", self.client.get_platform_numbering_range(), mapping.range_row), "id"
        )
        usage: list[dict[str, Any]] = []
        with job.progress("numbering usage", total=len(ranges)) as bar:
            for rng in ranges:
                records = self.client.get_platform_numbering_usage(rng["id"])
                usage.extend(_map_all(job, "numbering usage", records, mapping.usage_row, rng["id"]))
                bar.advance()
        usage = _dedupe(usage, "extension")
        with job.chunk() as conn:
            written, deleted = sync_rows(conn, hv_pstn, pstn, full=self.full)
            job.count("numbers", written)
            job.count("numbers_deleted", deleted)
            if self.full:
                conn.execute(delete(hv_pstnrange))
                conn.execute(delete(hv_pstnusage))
            if not ranges:
                job.warn("GetPlatformNumberingRange returned no ranges; local ranges and usage left as they are")
                return
            keep_local = [c.name for c in hv_pstnrange.columns if c.name not in ("id", "ussage")]
            written, _ = sync_rows(conn, hv_pstnrange, ranges, full=False, update_columns=keep_local)
            job.count("ranges", written)
            usage_cols = [c.name for c in hv_pstnusage.columns if c.name not in ("id", "extension")]
            written, deleted = sync_rows(
                conn, hv_pstnusage, usage, key="extension", full=False, update_columns=usage_cols
            )
            job.count("range_numbers", written)

    def end_users(self, accounts: Sequence[int]) -> None:
        pairs = self._per_account("end users", accounts, self.client.get_end_user_auth_list)
        rows = _dedupe(_map_all(self.job, "end user", pairs, lambda p: mapping.enduser_row(p[1], p[0])), "id")
        with self.job.chunk() as conn:
            written, deleted = sync_rows(conn, hv_enduserlist, rows, full=self.full)
        self.job.count("end_users", written)
        self.job.count("end_users_deleted", deleted)

    def price_lists(self) -> None:
        rows = _dedupe(
            _map_all(self.job, "price list", self.client.get_customer_pricelist_list(), mapping.pricelist_row), "id"
        )
        with self.job.chunk() as conn:
            written, _ = sync_rows(conn, hv_pricelist, rows, full=self.full)
        self.job.count("price_lists", written)

    def subscriptions(self) -> None:
        rows = _dedupe(
            _map_all(self.job, "subscription", self.client.get_subscription_list(), mapping.subscription_row), "id"
        )
        with self.job.chunk() as conn:
            written, _ = sync_rows(conn, hv_subscriptionlist, rows, full=self.full)
        self.job.count("subscriptions", written)

    def wlr(self) -> None:
        status = self.client.check_login()
        with self.job.chunk() as conn:
            write_uiconfig(conn, "hiperus_c5.voip_services", "1" if status.voip_services else "0")
            write_uiconfig(conn, "hiperus_c5.wlr", "1" if status.wlr_services else "0")
        self.job.info(f"platform services: voip={int(status.voip_services)} wlr={int(status.wlr_services)}")
        self.job.count("wlr", 1)

    def billing(self, first: date, last: date, types: Sequence[str], flags: Sequence[bool]) -> None:
        job = self.job
        with job.host.engine.connect() as conn:
            terminals = {
                r.username: r.customerid
                for r in conn.execute(
                    select(hv_terminal.c.username, hv_terminal.c.customerid).where(hv_terminal.c.username.is_not(None))
                )
            }
        mapper = mapping.CdrMapper(zone_of(self.settings), terminals)
        months = max(1, int(self.settings["hiperus_c5.billing_chunk_months"]))
        bad: list[str] = []
        columns = mapping.BILLING_COLUMNS

        def rows(records: Iterable[Mapping[str, Any]], success: bool) -> Iterator[tuple[Any, ...]]:
            for rec in records:
                try:
                    yield mapper.row(rec, success)
                except ValueError as exc:
                    if len(bad) < 20:
                        bad.append(str(exc))
                    job.count("cdrs_bad")

        with job.progress("CDRs") as bar, cdr_stream_gc() as collect:
            for calltype in types:
                for success in flags:
                    stream = rows(
                        self.client.iter_billing(
                            first, last, success_calls=success, calltype=calltype, chunk_months=months
                        ),
                        success,
                    )
                    while True:
                        with job.chunk() as conn:
                            n = upsert(
                                conn,
                                hv_billing,
                                islice(stream, CDR_COMMIT_ROWS),
                                key=["id"],
                                batch_size=CDR_BATCH_ROWS,
                                columns=columns,
                            )
                        collect()
                        if not n:
                            break
                        job.count("cdrs", n)
                        bar.advance(n)
        if mapper.no_terminal:
            job.warn(
                f"{mapper.no_terminal} CDR(s) without a terminal name were stored with no account "
                f"(not invoiced), e.g. {', '.join(mapper.no_terminal_samples)}"
            )
            job.count("cdrs_without_terminal", mapper.no_terminal)
        if mapper.unknown_terminal:
            job.warn(
                f"{mapper.unknown_terminal} CDR(s) name a terminal unknown here (run --terminals first?); stored "
                f"with no account, e.g. {', '.join(mapper.unknown_terminal_samples)}"
            )
            job.count("cdrs_unknown_terminal", mapper.unknown_terminal)
        if bad:
            job.fail(f"{job.counters['cdrs_bad']} CDR(s) could not be read and were skipped: {'; '.join(bad[:5])}")


@contextlib.contextmanager
def cdr_stream_gc() -> Iterator[Callable[[], None]]:
    """Cyclic garbage collection paused for a CDR stream; the caller runs the returned step per commit.

    Why: a stream makes a few container objects per CDR (the decoded record, its row, the batch
    lists) and keeps a batch of them alive at a time, so the collector keeps promoting rows that
    are about to die and walking every object of the process to find no garbage: a quarter of the
    database stage's time. Rows are freed by reference counting anyway. Cycles (a transaction's or
    a cursor's bookkeeping) are still collected, by a young-generation pass after each commit, which
    only walks what was made since the last one, so memory stays flat.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield lambda: gc.collect(0)
    finally:
        if enabled:
            gc.enable()


def _plan(opts: Mapping[str, Any]) -> list[str]:
    chosen = set()
    if opts["all_"]:
        chosen.update(s for s in STEPS if s != "billing")
    for step in STEPS:
        if opts[step]:
            chosen.add(step)
    return [s for s in STEPS if s in chosen]


IMPORT_HELP = """Import accounts, terminals, numbers, end users, price lists, subscriptions, platform
capabilities and CDRs from Hiperus C5 into the hv_* tables (lms_hiperus_c5_import.php).

Every flag of the PHP script works, in short and long form, plus the README's --import and the
iNET script's names (--customer, --terminal, --pstn, --b_date=leftday, ...). Order of the steps:
customers, terminals, numbers, end users, price lists, subscriptions, billing, wlr.

Strict where the PHP script guessed: an invalid date, --billing-type or --billing-success value is an
error (exit 2) and nothing is touched; PHP silently imported currday / outgoing / successful calls.
Test mode is --test (long only: -t is --terminals)."""


@cli.command("import", help=IMPORT_HELP)
@config_option
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--test", is_flag=True, help="Do everything, then roll every database change back.")
@click.option(
    "-i",
    "--full-import",
    "--import",
    "full_import",
    is_flag=True,
    help="Wipe each chosen step's tables and reload them (in one transaction per step).",
)
@click.option("-c", "--customers", "--customer", "customers", is_flag=True, help="Accounts (hv_customers).")
@click.option("-t", "--terminals", "--terminal", "terminals", is_flag=True, help="SIP terminals.")
@click.option("-n", "--numbers", "--pstn", "numbers", is_flag=True, help="PSTN numbers, ranges and their usage.")
@click.option("-e", "--end-users", "--enduser", "--endusers", "end_users", is_flag=True, help="End-user logins.")
@click.option("-p", "--price-lists", "--pricelist", "--pricelists", "price_lists", is_flag=True, help="Price lists.")
@click.option("-s", "--subscriptions", "--subscription", "subscriptions", is_flag=True, help="Subscriptions.")
@click.option("-w", "--wlr", "wlr", is_flag=True, help="Platform capabilities into uiconfig (wlr, voip_services).")
@click.option("-a", "--all", "all_", is_flag=True, help="-c -t -n -e -p -s -w (no billing).")
@click.option("-b", "--billing", "billing", is_flag=True, help="CDRs into hv_billing.")
@click.option(
    "-D",
    "--billing-date",
    "--b_date",
    "billing_date",
    metavar="PRESET",
    help="currday|lastday|currmonth|lastmonth|currweek (iNET: nowday|leftday|nowmonth|leftmonth).",
)
@click.option("-F", "--billing-from", "--b_from", "billing_from", metavar="YYYY/MM/DD")
@click.option("-T", "--billing-to", "--b_to", "billing_to", metavar="YYYY/MM/DD")
@click.option(
    "-Y",
    "--billing-type",
    "--b_type",
    "billing_type",
    metavar="TYPE",
    help="all|incoming|outgoing|disa|forwarded|internal|vpbx (default outgoing).",
)
@click.option(
    "-S", "--billing-success", "--b_success", "billing_success_", metavar="WHICH", help="all|yes|no (default yes)."
)
def import_cmd(**opts: Any) -> None:
    host = get_host()
    sys.exit(run_import(host, opts))


def run_import(host: Host, opts: Mapping[str, Any]) -> int:
    """The import job; *opts* as the click command parses them (tests call this through the CLI)."""
    plugin = host.plugin(PLUGIN)
    state: dict[str, Any] = {}

    def validate() -> None:
        steps = _plan(opts)
        if not steps:
            raise UsageError("nothing to import: choose steps (-c -t -n -e -p -s -w, -a for all, -b for billing)")
        assert plugin is not None
        settings = host.plugin_settings(plugin)
        from .runtime import require_credentials, throttle_path

        require_credentials(settings)
        throttle_path(settings)
        zone = zone_of(settings)
        state["steps"] = steps
        state["settings"] = settings
        if "billing" in steps:
            today = datetime.now(ZoneInfo(zone)).date()
            state["range"] = billing_range(opts["billing_date"], opts["billing_from"], opts["billing_to"], today)
            state["types"] = billing_types(opts["billing_type"])
            state["flags"] = billing_success(opts["billing_success_"])
        elif any(
            opts[k] is not None
            for k in ("billing_date", "billing_from", "billing_to", "billing_type", "billing_success_")
        ):
            state["note"] = "billing options given without -b/--billing are ignored (as the PHP script did)"

    def body(job: Job) -> None:
        from .runtime import make_client

        settings = state["settings"]
        if state.get("note"):
            job.warn(state["note"])
        importer = Importer(job, make_client(host, settings), settings, bool(opts["full_import"]))
        steps = state["steps"]
        if "customers" in steps:
            importer.customers()
        per_account = [s for s in ("terminals", "numbers", "end_users") if s in steps]
        if per_account:
            accounts = importer.account_ids()
            if not accounts:
                job.warn("no accounts in hv_customers: terminals, numbers and end users skipped (import -c first)")
            else:
                for step in per_account:
                    getattr(importer, step)(accounts)
        if "price_lists" in steps:
            importer.price_lists()
        if "subscriptions" in steps:
            importer.subscriptions()
        if "billing" in steps:
            first, last, note = state["range"]
            job.info(
                f"billing {first:%Y-%m-%d}..{last:%Y-%m-%d} ({note}), types {','.join(state['types'])}, "
                f"success {'/'.join('yes' if f else 'no' for f in state['flags'])}"
            )
            importer.billing(first, last, state["types"], state["flags"])
        if "wlr" in steps:
            importer.wlr()
        job.count("api_calls", importer.client.calls_made)

    return run_job(
        host, "hiperus_c5.import", body, test=bool(opts["test"]), quiet=bool(opts["quiet"]), validate=validate
    )


# --------------------------------------------------------------------------------------------------
# Invoices

INVOICE_HELP = """Invoice last month's VoIP subscriptions and calls of accounts set to LMS invoicing
(hv_assign issue_invoice = 2), as lms_hiperus_c5_invoice.php did, through LMS's numbering.

Fixed against the PHP script: terminals without a subscription still bill their calls; connection
charges (init_charge) are billed; amounts are rounded to grosze as LMS stores them; a second run for
the same month creates nothing (in both hiperus_c5.add_new_invoices modes); an account that is not
linked to an existing LMS customer is reported (exit 1) while the others are invoiced."""


def _invoice_to_append_to(
    conn: Any, documents: Any, customer_id: int, plan_id: int | None, month_start: int, now_ts: int
) -> int | None:
    """The invoice ``add_new_invoices = false`` appends to: the customer's newest one of the plan the
    job would number with, issued (sale date) from the 1st of this month until now."""
    from lmsplugins.lms.tables import customers

    if plan_id is None:
        cust = conn.execute(
            select(customers.c.divisionid, customers.c.type).where(customers.c.id == customer_id)
        ).first()
        plan_id = documents.default_plan(conn, documents.DOC_INVOICE, now_ts, cust.divisionid, cust.type)
    return documents.latest_invoice(conn, customer_id, month_start, now_ts, numberplanid=plan_id)


def invoice_extid(account_id: int, year: int, month: int) -> str:
    """``documents.extid`` of the invoice of one account and month: the idempotency key of a re-run."""
    return f"hiperus_c5:{account_id}:{year:04d}-{month:02d}"


@cli.command("invoice", help=INVOICE_HELP)
@config_option
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--test", is_flag=True, help="Do everything, then roll every database change back.")
@click.option(
    "-l",
    "--leftmonth",
    type=click.IntRange(0, 1200),
    default=None,
    help="Months back (default hiperus_c5.leftmonth, 1).",
)
@click.option("-f", "--fakedate", default=None, metavar="YYYY/MM/DD", help="Run as if today were this day.")
@click.option(
    "-s",
    "--subscription-in-advance",
    is_flag=True,
    help="Label the subscription line with the following month (amounts unchanged).",
)
def invoice_cmd(
    quiet: bool, test: bool, leftmonth: int | None, fakedate: str | None, subscription_in_advance: bool
) -> None:
    host = get_host()
    sys.exit(
        run_invoice(
            host, leftmonth=leftmonth, fakedate=fakedate, advance=subscription_in_advance, quiet=quiet, test=test
        )
    )


def run_invoice(
    host: Host,
    *,
    leftmonth: int | None = None,
    fakedate: str | None = None,
    advance: bool = False,
    quiet: bool = False,
    test: bool = False,
) -> int:

    from lmsplugins.lms.tables import customers, taxes

    from . import invoicing

    plugin = host.plugin(PLUGIN)
    st: dict[str, Any] = {}

    def validate() -> None:
        assert plugin is not None
        settings = host.plugin_settings(plugin)
        zone = zone_of(settings)
        try:
            now = invoicing.now_for(fakedate, zone)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        back = leftmonth if leftmonth is not None else settings["hiperus_c5.leftmonth"]
        if back is None or back < 0:
            raise UsageError(f"--leftmonth {back} must be 0 or more")
        year, month = invoicing.billed_month(now.date(), back)
        try:
            rate = invoicing.tax_rate(settings, host.config().get("phpui.default_taxrate"))
        except ArithmeticError:
            bad = settings["hiperus_c5.taxrate"]
            raise ConfigError(f"setting hiperus_c5.taxrate = {bad!r} is not a number") from None
        with host.engine.connect() as conn:
            taxid = conn.execute(select(taxes.c.id).where(taxes.c.value == rate).order_by(taxes.c.id)).scalar()
        if taxid is None:
            raise ConfigError(f"no tax rate {rate}% in LMS (taxes); set hiperus_c5.taxrate to an existing rate")
        writer = invoicing.invoice_writer(host.config())
        st.update(settings=settings, now=now, year=year, month=month, rate=rate, taxid=int(taxid), writer=writer)

    def body(job: Job) -> None:
        from lmsplugins.lms import documents  # the host's invoice writer (numbering, snapshots, cash)

        settings = st["settings"]
        now: datetime = st["now"]
        opts = invoicing.Options(
            year=st["year"],
            month=st["month"],
            rate=st["rate"],
            subscription_comment=settings["hiperus_c5.invoice_subscription_comment"],
            call_comment=settings["hiperus_c5.invoice_call_comment"],
            subscription_in_advance=advance,
        )
        with host.engine.connect() as conn:
            plans = invoicing.plan_invoices(conn, opts)
            linked = {r.id for r in conn.execute(select(customers.c.id).where(customers.c.deleted == 0))}
        if not plans:
            job.info(f"no charges to invoice for {opts.year}-{opts.month:02d}")
            return
        append_mode = not settings["hiperus_c5.add_new_invoices"]
        now_ts = int(now.timestamp())
        month_start = int(now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp())
        plan_id = settings["hiperus_c5.numberplanid"]
        for plan in plans:
            if plan.customer_id is None or plan.customer_id not in linked:
                job.fail(
                    f"account {plan.account_id} ({plan.account_name}) is set to LMS invoicing but is not linked to an "
                    f"existing LMS customer (ext_billing_id={plan.customer_id}); not invoiced: {plan.total} zł"
                )
                continue
            extid = invoice_extid(plan.account_id, opts.year, opts.month)
            lines = [
                documents.InvoiceLine(
                    description=line.description,
                    value=line.gross,
                    taxid=st["taxid"],
                    count=1,
                    content=settings["hiperus_c5.content"] or "szt",
                    tariffid=None,
                    prodid=settings["hiperus_c5.prodid"] or "",
                )
                for line in plan.lines
            ]
            with job.chunk() as conn:
                appended_key = f"hiperus_c5.appended:{extid.split(':', 1)[1]}"
                if documents.find_invoice(conn, plan.customer_id, extid) is not None or get_value(conn, appended_key):
                    job.count("already_invoiced")
                    continue
                if append_mode:
                    target = _invoice_to_append_to(conn, documents, plan.customer_id, plan_id, month_start, now_ts)
                    if target is not None:
                        added = documents.append_lines(conn, target, lines, writer=st["writer"])
                        put_value(conn, appended_key, str(target))
                        job.info(f"account {plan.account_id}: {added.total} zł added to document {target}")
                        job.count("appended")
                        job.count("lines", len(lines))
                        continue
                draft = documents.InvoiceDraft(
                    customerid=plan.customer_id,
                    lines=lines,
                    cdate=now_ts,
                    sdate=now_ts,
                    numberplanid=plan_id,
                    extid=extid,
                )
                try:
                    written = documents.write_invoice(conn, draft, st["writer"])
                except documents.InvoiceExists:
                    job.count("already_invoiced")
                    continue
                job.info(f"account {plan.account_id}: invoice {written.fullnumber} for {written.total} zł")
                job.count("invoices")
                job.count("lines", len(lines))

    return run_job(host, "hiperus_c5.invoice", body, test=test, quiet=quiet, validate=validate)
