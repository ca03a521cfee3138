"""Cron jobs of ``lmsplugins metroport-mms``: the four PHP bin scripts and the customer push.

Each PHP script keeps its name as a drop-in (``bin_scripts`` of the plugin) and its flags ``-C -q -h
-v``, plus ``--test`` (everything rolled back, nothing sent to MMS). Deliberate differences, each a
defect of spec §5, §6 or §10 fixed:

* ``customer-update`` lists the MMS users ONCE and pairs locally (PHP searched once per customer);
  empty or invalid identifiers are never searched; ambiguous hits, users paired elsewhere and deleted
  customers are reported, not paired;
* the package and STB syncs are real upserts by id (the PHP STB sync always inserted, so a re-run failed
  or double counted); rows gone at the provider are reported (``--prune`` deletes them); a STB whose MAC
  or serial number another id now holds replaces the stale row;
* a bad row (a MAC that does not parse, a price that is not a sum, a date that is no date) stops the sync
  with one message per row and the database unchanged;
* ``push-customers`` makes ``automatically_update_customer_data`` real without a hook into LMS's PHP
  form: the changes of paired customers since its last run (``customers.moddate``) are sent.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import click
from sqlalchemy import select

from lmsplugins import __version__
from lmsplugins.cli import config_option, get_host
from lmsplugins.db import bulk_insert, upsert
from lmsplugins.errors import LMSPluginsError, UsageError
from lmsplugins.host import Host
from lmsplugins.jobs import Job, run_job
from lmsplugins.lms.customer_export import export_customers
from lmsplugins.lms.tables import customers

from . import mapping, service, store
from .client import MMSClient, MMSError, describe_ids
from .tables import (
    STB_COLUMNS,
    metroport_customers,
    metroport_fsecure_packages,
    metroport_metrotv_packages,
    metroport_metrotv_stb,
)

PLUGIN = "metroport_mms"
PUSH_MARKER = "push_customers_since"
STB_BATCH = 5000
PROBLEMS = ("ambiguous", "taken", "contested", "invalid_identifier")
"""Pairing outcomes an operator must look at: printed as warnings, also under -q."""


class SyncRejected(LMSPluginsError):
    """Provider rows that cannot be stored: the sync wrote nothing."""


@click.group("metroport-mms", context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Metroport MMS (F-Secure, MetroTV): pairing, package and STB mirrors, customer data to MMS."""


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"{ctx.info_name} (lmsplugins {__version__}, Metroport MMS plugin)")
        ctx.exit(0)


def job_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``-C -q -v --test`` of the PHP scripts (``-h`` is the group's help option)."""
    func = click.option("--test", is_flag=True, help="Do everything, roll every change back, send nothing.")(func)
    func = click.option("-q", "--quiet", is_flag=True, help="Print only errors.")(func)
    func = click.option(
        "-v", "--version", is_flag=True, expose_value=False, is_eager=True, callback=_version, help="Show version."
    )(func)
    return config_option(func)


def make_client(host: Host, settings: Mapping[str, Any]) -> MMSClient:
    return MMSClient.from_settings(settings, store.DbTokenStore(host.engine))


def launch(
    name: str,
    body: Callable[[Job, MMSClient, Mapping[str, Any]], None],
    quiet: bool,
    test: bool,
    check: Callable[[Mapping[str, Any]], None] | None = None,
) -> int:
    """Run *body* as job ``metroport_mms.<name>``: settings and client validated before anything."""
    host = get_host()
    state: dict[str, Any] = {}

    def validate() -> None:
        plugin = host.plugin(PLUGIN)
        assert plugin is not None
        settings = host.plugin_settings(plugin)
        if check is not None:
            check(settings)
        state["settings"] = settings
        state["client"] = make_client(host, settings)

    def run(job: Job) -> None:
        client: MMSClient = state["client"]
        try:
            body(job, client, state["settings"])
        finally:
            job.count("api_calls", client.calls)
            client.close()

    return run_job(host, f"{PLUGIN}.{name}", run, test=test, quiet=quiet, validate=validate)


# --------------------------------------------------------------------------------------------------
# metroport_customer_update


def pair_customers(job: Job, client: MMSClient, _settings: Mapping[str, Any]) -> None:
    users = client.users()
    with job.chunk() as conn:
        c = customers
        paired = store.pairs(conn)
        paired_customers = {cid for _uid, cid in paired}
        by_user: dict[int, list[int]] = {}
        for uid, cid in paired:
            by_user.setdefault(uid, []).append(cid)
        rows = conn.execute(
            select(c.c.id, c.c.type, c.c.lastname, c.c.name, c.c.ssn, c.c.ten, c.c.deleted).order_by(c.c.id)
        )
        candidates = [
            mapping.LmsCustomer(
                r.id, int(r.type or 0), r.lastname or "", r.name or "", r.ssn or "", r.ten or "", bool(r.deleted)
            )
            for r in rows
            if r.id not in paired_customers
        ]
        plan = mapping.plan_pairing(candidates, mapping.UserIndex(users), by_user)
        for outcome in plan.outcomes:
            if outcome.result in PROBLEMS:
                job.warn(mapping.describe_outcome(outcome))
            else:
                job.info(mapping.describe_outcome(outcome))
        pairs = plan.pairs
        bulk_insert(
            conn,
            metroport_customers,
            ((uid, cid, 0, 0, 0, 0) for uid, cid in pairs),
            columns=(
                "metroport_user_id",
                "lms_user_id",
                "metrotv_suspend",
                "metrotv_suspend_billing",
                "metro_fsecure_suspend",
                "metro_fsecure_suspend_billing",
            ),
        )
    counts = plan.count()
    for key, value in counts.items():
        job.count(key, value)
    job.count("mms_users", len(users))


# --------------------------------------------------------------------------------------------------
# Package syncs


def _map_all(
    rows: list[Mapping[str, Any]], mapper: Callable[[Mapping[str, Any]], dict[str, Any]], what: str
) -> list[dict[str, Any]]:
    mapped, errors = [], []
    for n, row in enumerate(rows, 1):
        try:
            mapped.append(mapper(row))
        except mapping.RowError as exc:
            errors.append(f"{what} #{n} (id {row.get('id')!r}): {exc}")
    if errors:
        raise SyncRejected("; ".join(errors[:20]) + f" -- {len(errors)} bad row(s), nothing was stored")
    return mapped


def _sync_packages(job: Job, rows: list[dict[str, Any]], table: Any, label: str, name_key: str, prune: bool) -> None:
    with job.chunk() as conn:
        existing = {int(r[0]) for r in conn.execute(select(table.c.id))}
        for row in rows:
            action = "UPDATE" if row["id"] in existing else "INSERT"
            job.count(action.lower())
            job.info(f"{action} - {label} ID: {row['id']} ({row[name_key]})")
        upsert(conn, table, rows, key=["id"])
        gone = sorted(existing - {r["id"] for r in rows})
        if gone:
            job.count("gone", len(gone))
            if prune:
                conn.execute(table.delete().where(table.c.id.in_(gone)))
                job.warn(f"{len(gone)} {label} row(s) gone at the provider deleted: ids {describe_ids(gone)}")
            else:
                job.warn(
                    f"{len(gone)} {label} row(s) gone at the provider (kept; --prune deletes them): "
                    f"ids {describe_ids(gone)}"
                )


def sync_fsecure(prune: bool) -> Callable[[Job, MMSClient, Mapping[str, Any]], None]:
    def body(job: Job, client: MMSClient, _settings: Mapping[str, Any]) -> None:
        rows = _map_all(client.fsecure_packages(), mapping.fsecure_package_row, "F-Secure package")
        if not rows:
            job.info("Brak pakietów F-Secure do synchronizacji.")
        _sync_packages(job, rows, metroport_fsecure_packages, "Pakiet F-Secure", "name", prune)
        job.info("Synchronizacja pakietów F-Secure zakończona.")

    return body


def sync_tv_packages(prune: bool) -> Callable[[Job, MMSClient, Mapping[str, Any]], None]:
    def body(job: Job, client: MMSClient, _settings: Mapping[str, Any]) -> None:
        rows = _map_all(client.tv_packages(), mapping.tv_package_row, "MetroTV package")
        if not rows:
            job.info("Brak pakietów MetroTV do synchronizacji.")
        _sync_packages(job, rows, metroport_metrotv_packages, "Pakiet", "pkg_name", prune)
        job.info("Synchronizacja pakietów MetroTV zakończona.")

    return body


# --------------------------------------------------------------------------------------------------
# STB list


class StbSync:
    """Streams ``/Iptv/Stbs`` into ``metroport_metrotv_stb`` in batches inside one transaction, keeping
    the MAC and serial owners current so a STB that took over another's MAC replaces the stale row."""

    def __init__(self, job: Job, conn: Any):
        self.job, self.conn = job, conn
        t = metroport_metrotv_stb
        self.existing: set[int] = set()
        self.mac_owner: dict[str, int] = {}
        self.serial_owner: dict[str, int] = {}
        self.of_id: dict[int, tuple[str, str | None]] = {}
        for sid, mac, serial in conn.execute(select(t.c.id, t.c.mac, t.c.serialnumber)):
            self.existing.add(sid)
            self._own(sid, mac, serial)
        self.seen: set[int] = set()
        self.stale: set[int] = set()
        self.errors: list[str] = []
        self.added = self.updated = self.replaced = 0

    def _own(self, sid: int, mac: str, serial: str | None) -> None:
        old = self.of_id.get(sid)
        if old:
            if self.mac_owner.get(old[0]) == sid:
                del self.mac_owner[old[0]]
            if old[1] and self.serial_owner.get(old[1]) == sid:
                del self.serial_owner[old[1]]
        self.of_id[sid] = (mac, serial)
        self.mac_owner[mac] = sid
        if serial:
            self.serial_owner[serial] = sid

    def _forget(self, sid: int) -> None:
        mac, serial = self.of_id.pop(sid)
        self.mac_owner.pop(mac, None)
        if serial:
            self.serial_owner.pop(serial, None)
        self.stale.add(sid)
        self.existing.discard(sid)

    def take(self, n: int, raw: Mapping[str, Any]) -> tuple[Any, ...] | None:
        try:
            row = mapping.stb_row(raw)
        except mapping.RowError as exc:
            self.errors.append(f"STB #{n} (id {raw.get('id')!r}): {exc}")
            return None
        sid, mac, serial = row[0], row[1 + STB_COLUMNS.index("mac")], row[1 + STB_COLUMNS.index("serialnumber")]
        if sid in self.seen:
            self.errors.append(f"STB #{n}: id {sid} listed twice")
            return None
        for value, owners, label in ((mac, self.mac_owner, "mac"), (serial, self.serial_owner, "serial number")):
            owner = owners.get(value) if value else None
            if owner is not None and owner != sid:
                if owner in self.seen:
                    self.errors.append(f"STB #{n}: {label} {value} is given to ids {owner} and {sid}")
                    return None
                self._forget(owner)
                self.replaced += 1
        self.seen.add(sid)
        if sid in self.existing:
            self.updated += 1
        else:
            self.added += 1
        self._own(sid, mac, serial)
        return row

    def write(self, batch: list[tuple[Any, ...]]) -> None:
        if self.errors or not batch:
            return
        t = metroport_metrotv_stb
        if self.stale:
            self.conn.execute(t.delete().where(t.c.id.in_(sorted(self.stale))))
            self.stale.clear()
        upsert(self.conn, t, batch, key=["id"], columns=("id", *STB_COLUMNS))


def sync_stbs(prune: bool) -> Callable[[Job, MMSClient, Mapping[str, Any]], None]:
    def body(job: Job, client: MMSClient, _settings: Mapping[str, Any]) -> None:
        with job.chunk() as conn:
            sync = StbSync(job, conn)
            before = set(sync.existing)
            batch: list[tuple[Any, ...]] = []
            for n, raw in enumerate(client.iter_stbs(), 1):
                row = sync.take(n, raw)
                if row is not None and not sync.errors:
                    batch.append(row)
                    if len(batch) >= STB_BATCH:
                        sync.write(batch)
                        batch = []
            sync.write(batch)
            if sync.errors:
                raise SyncRejected(
                    "; ".join(sync.errors[:20]) + f" -- {len(sync.errors)} bad STB row(s), nothing was stored"
                )
            gone = sorted(before - sync.seen - sync.stale)
            if gone:
                job.count("gone", len(gone))
                t = metroport_metrotv_stb
                if prune:
                    conn.execute(t.delete().where(t.c.id.in_(gone)))
                    job.warn(f"{len(gone)} STB row(s) gone at the provider deleted: ids {describe_ids(gone)}")
                else:
                    job.warn(
                        f"{len(gone)} STB row(s) gone at the provider (kept; --prune deletes them): "
                        f"ids {describe_ids(gone)}"
                    )
        job.count("added", sync.added)
        job.count("updated", sync.updated)
        if sync.replaced:
            job.count("replaced", sync.replaced)
        job.info(f"Synchronizacja STB zakończona. Dodano: {sync.added}, zaktualizowano: {sync.updated}")

    return body


# --------------------------------------------------------------------------------------------------
# Customer data to MMS


def push_customers(since: int | None) -> Callable[[Job, MMSClient, Mapping[str, Any]], None]:
    def body(job: Job, client: MMSClient, settings: Mapping[str, Any]) -> None:
        if (settings.get("metroport.automatically_update_customer_data") or "").strip() != "true":
            job.warn("metroport.automatically_update_customer_data is not 'true': nothing sent")
            return
        started = int(time.time())
        with job.chunk() as conn:
            marker = store.read_setting(conn, PUSH_MARKER)
            start = since if since is not None else int(marker[0]) if marker and marker[0].isdigit() else 0
            c = customers
            m = metroport_customers
            changed = (
                conn.execute(
                    select(c.c.id)
                    .join(m, m.c.lms_user_id == c.c.id)
                    .where(c.c.moddate >= start, c.c.deleted == 0)
                    .distinct()
                )
                .scalars()
                .all()
            )
            users = store.users_by_customer(conn, list(changed)) if changed else {}
            exports = list(export_customers(conn, changed))
        job.info(f"{len(exports)} paired customer(s) changed since {start}")
        for export in exports:
            payload = mapping.user_payload(export)
            for uid in users.get(export.id, []):
                if job.test:
                    job.info(f"test mode: would send customer {export.id} to MMS user {uid}")
                    job.count("would_send")
                    continue
                try:
                    client.update_user(uid, payload)
                except MMSError as exc:
                    job.fail(f"customer {export.id} -> MMS user {uid}: {exc}")
                    continue
                job.count("sent")
                job.info(f"Zaktualizowano w MMS: klient LMS {export.id} -> użytkownik MMS {uid}")
        if not job.failures and since is None:
            with job.chunk() as conn:
                store.write_setting(conn, PUSH_MARKER, str(started))

    return body


def add_customer(customer_id: int) -> Callable[[Job, MMSClient, Mapping[str, Any]], None]:
    """Spec §6 manual add: pair by PESEL/NIP when MMS knows the customer, else create and pair."""

    def body(job: Job, client: MMSClient, _settings: Mapping[str, Any]) -> None:
        added = service.pair_or_create(job.host.engine, client, customer_id, dry_run=job.test)
        if added is None:
            job.info(f"test mode: would create an MMS user for LMS customer {customer_id}")
            return
        if added.created:
            job.count("created")
            job.info(f"MMS user {added.userid} created")
        else:
            job.info(f"MMS user {added.userid} found by PESEL/NIP")
        if added.missing:
            lacking = ", ".join(added.missing)
            job.warn(f"LMS customer {customer_id} lacks what MMS needs to activate services: {lacking}")
        job.count("paired")
        job.info(
            f"Powiązano klienta LMS {customer_id} z Metroport ID: {added.userid}"
            + (" (test mode: not stored)" if job.test else "")
        )

    return body


def update_customer(customer_id: int) -> Callable[[Job, MMSClient, Mapping[str, Any]], None]:
    """The infobox's "Zaktualizuj dane klienta w Metroport", with the NIP sent (PHP sent it empty)."""

    def body(job: Job, client: MMSClient, _settings: Mapping[str, Any]) -> None:
        with job.chunk() as conn:
            export = service.customer_export(conn, customer_id)
            uid = store.mms_user_of(conn, customer_id)
        if uid is None:
            raise UsageError(f"LMS customer {customer_id} is not paired with an MMS user")
        if job.test:
            job.info(f"test mode: would send customer {customer_id} to MMS user {uid}")
            return
        client.update_user(uid, mapping.user_payload(export, with_firstname=True))
        job.count("sent")
        job.info(f"Zaktualizowano dane klienta {customer_id} w Metroport (MMS user {uid})")

    return body


# --------------------------------------------------------------------------------------------------
# Commands

_PRUNE = click.option("--prune", is_flag=True, help="Delete rows the provider no longer lists.")


@cli.command("customer-update")
@job_options
def customer_update_cmd(quiet: bool, test: bool) -> None:
    """Pair LMS customers with MMS users by PESEL (private) or NIP (company): metroport_customer_update."""
    sys.exit(launch("customer_update", pair_customers, quiet, test))


@cli.command("fsecure-packages-update")
@job_options
@_PRUNE
def fsecure_packages_cmd(quiet: bool, test: bool, prune: bool) -> None:
    """Mirror the F-Secure packages into metroport_fsecure_packages: metroport_fsecure_packages_update."""
    sys.exit(launch("fsecure_packages_update", sync_fsecure(prune), quiet, test))


@cli.command("metrotv-packages-update")
@job_options
@_PRUNE
def metrotv_packages_cmd(quiet: bool, test: bool, prune: bool) -> None:
    """Mirror the MetroTV packages into metroport_metrotv_packages: metroport_metrotv_packages_update."""
    sys.exit(launch("metrotv_packages_update", sync_tv_packages(prune), quiet, test))


@cli.command("metrotv-stb-list-update")
@job_options
@_PRUNE
def metrotv_stb_cmd(quiet: bool, test: bool, prune: bool) -> None:
    """Mirror every STB (all statuses) into metroport_metrotv_stb: metroport_metrotv_stb_list_update."""
    sys.exit(launch("metrotv_stb_list_update", sync_stbs(prune), quiet, test))


def _number(value: str | None, what: str, minimum: int) -> int | None:
    """A whole number flag or argument, checked as the jobs' other input is (one ``error:`` line, exit 2)."""
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit() or int(text) < minimum:
        raise UsageError(f"{what} {value!r} is not a whole number of at least {minimum}")
    return int(text)


def _launch_checked(
    name: str, make: Callable[[Any], Any], raw: str | None, what: str, minimum: int, quiet: bool, test: bool
) -> int:
    """Validate *raw* inside the job runner's validation (so a bad value is its one error line, exit 2)."""
    chosen: dict[str, Any] = {}

    def check(_settings: Mapping[str, Any]) -> None:
        chosen["value"] = _number(raw, what, minimum)

    def body(job: Job, client: MMSClient, settings: Mapping[str, Any]) -> None:
        make(chosen["value"])(job, client, settings)

    return launch(name, body, quiet, test, check=check)


@cli.command("push-customers")
@job_options
@click.option("--since", default=None, metavar="UNIXTIME", help="Send changes from this time (default: the last run).")
def push_customers_cmd(quiet: bool, test: bool, since: str | None) -> None:
    """Send paired customers changed in LMS since the last run to MMS (automatically_update_customer_data)."""
    sys.exit(_launch_checked("push_customers", push_customers, since, "--since", 0, quiet, test))


@cli.command("add-customer")
@job_options
@click.argument("customer_id")
def add_customer_cmd(quiet: bool, test: bool, customer_id: str) -> None:
    """Pair an LMS customer with MMS, creating the MMS user from LMS data when MMS has none."""
    sys.exit(_launch_checked("add_customer", add_customer, customer_id, "customer id", 1, quiet, test))


@cli.command("update-customer")
@job_options
@click.argument("customer_id")
def update_customer_cmd(quiet: bool, test: bool, customer_id: str) -> None:
    """Send a paired customer's LMS data to MMS now."""
    sys.exit(_launch_checked("update_customer", update_customer, customer_id, "customer id", 1, quiet, test))
