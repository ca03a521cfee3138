"""Block and unblock debtors' services the way ``lms-notify -c block|unblock`` does.

LMS's notifier picks debtors (overdue balance below a limit), then runs block actions for them and
unblock actions for everybody else; plugins join through ``notification_blocks`` hooks. Here the
same actions form one registry: LMS's core actions (``node-access``, ``node-warning``,
``customer-status(alias)``, ``assignment-invoice(type)``) plus every enabled plugin's
:class:`~lmsplugins.plugin.NotifyAction`, parsed from the same ``name(param),name`` syntax and run
as one job (lock, run record, ``--test``).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import click
from sqlalchemy import update
from sqlalchemy.engine import Connection

from lmsplugins.cli import config_option, get_host
from lmsplugins.errors import UsageError
from lmsplugins.host import Host
from lmsplugins.jobs import Job, run_job
from lmsplugins.lms.customers import STATUS_ALIASES, STATUS_CONNECTED, STATUS_DEBT_COLLECTION, set_status
from lmsplugins.lms.debtors import DebtorQuery, split_debtors
from lmsplugins.lms.tables import assignments, nodes

Handler = Callable[[Host, Connection, Sequence[int], "str | None"], int]
DEFAULT_ACTIONS = "node-access,customer-status,assignment-invoice"
_ACTION_RE = re.compile(r"\s*([a-z0-9_-]+)\s*(?:\(\s*([^)]*?)\s*\))?\s*(?:,|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Action:
    name: str
    block: Handler
    unblock: Handler
    params: int = 0
    validate: Callable[[str | None], None] | None = None
    origin: str = "LMS"


def _node_flag(column: str, blocked_value: int) -> tuple[Handler, Handler]:
    col = nodes.c[column]

    def apply(conn: Connection, ids: Sequence[int], value: int) -> int:
        if not ids:
            return 0
        stmt = update(nodes).where(nodes.c.ownerid.in_(list(ids)), col != value).values({column: value})
        return conn.execute(stmt).rowcount or 0

    return (
        lambda _h, conn, ids, _p: apply(conn, ids, blocked_value),
        lambda _h, conn, ids, _p: apply(conn, ids, 1 - blocked_value),
    )


def _status_target(param: str | None, default: int) -> int:
    if not param:
        return default
    if param.isdigit():
        return int(param)
    return STATUS_ALIASES[param.lower()]


def _validate_status(param: str | None) -> None:
    if param and not param.isdigit() and param.lower() not in STATUS_ALIASES:
        raise UsageError(f"customer-status({param}): use one of {', '.join(STATUS_ALIASES)} or a number")


def _status_block(_h: Host, conn: Connection, ids: Sequence[int], param: str | None) -> int:
    target = _status_target(param, STATUS_DEBT_COLLECTION)
    return set_status(conn, ids, target) if ids else 0


def _status_unblock(_h: Host, conn: Connection, ids: Sequence[int], param: str | None) -> int:
    target = _status_target(param, STATUS_CONNECTED)
    return set_status(conn, ids, target, only_from=[STATUS_DEBT_COLLECTION]) if ids else 0


_INVOICE_TYPES = {"invoice": 1, "note": 5, "proforma": 6}


def _validate_invoice(param: str | None) -> None:
    if param and param not in _INVOICE_TYPES:
        raise UsageError(f"assignment-invoice({param}): use invoice, proforma or note")


def _assignment_block(_h: Host, conn: Connection, ids: Sequence[int], param: str | None) -> int:
    if not ids:
        return 0
    target = _INVOICE_TYPES.get(param or "", 0)
    a = assignments
    stmt = update(a).where(a.c.customerid.in_(list(ids)), a.c.invoice == 1).values(invoice=target)
    return conn.execute(stmt).rowcount or 0


def _assignment_unblock(_h: Host, conn: Connection, ids: Sequence[int], param: str | None) -> int:
    if not ids:
        return 0
    source = _INVOICE_TYPES.get(param or "", 0)
    a = assignments
    stmt = update(a).where(a.c.customerid.in_(list(ids)), a.c.invoice == source).values(invoice=1)
    return conn.execute(stmt).rowcount or 0


def registry(host: Host) -> dict[str, Action]:
    """LMS's core actions and the enabled plugins' ones, by name."""
    node_access = _node_flag("access", 0)
    node_warning = _node_flag("warning", 1)
    actions = {
        "node-access": Action("node-access", *node_access),
        "node-warning": Action("node-warning", *node_warning),
        "customer-status": Action("customer-status", _status_block, _status_unblock, -1, _validate_status),
        "assignment-invoice": Action(
            "assignment-invoice", _assignment_block, _assignment_unblock, -1, _validate_invoice
        ),
    }
    for plugin in host.registry.enabled:
        for na in plugin.notify_actions:
            actions[na.name] = Action(na.name, na.block, na.unblock, na.params, origin=plugin.title)
    return actions


def parse_actions(text: str, known: dict[str, Action]) -> list[tuple[Action, str | None]]:
    """``name(param),name`` -> actions; unknown names and wrong parameters are usage errors."""
    parsed: list[tuple[Action, str | None]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _ACTION_RE.match(text, pos)
        if not m or m.end() == pos:
            raise UsageError(f"cannot parse actions at {text[pos:]!r}; write name or name(param), comma separated")
        name, param = m.group(1).lower(), m.group(2)
        pos = m.end()
        action = known.get(name)
        if action is None:
            raise UsageError(f"unknown action {name!r}; known: {', '.join(sorted(known))}")
        if action.params == 0 and param:
            raise UsageError(f"action {name} takes no parameter")
        if action.params == 1 and not param:
            raise UsageError(f"action {name} needs a parameter: {name}(...)")
        if action.validate:
            action.validate(param)
        parsed.append((action, param or None))
    return parsed


def _parse_date(value: str | None) -> int:
    if not value:
        return int(time.time())
    for fmt in ("%Y/%m/%d", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return int(datetime.strptime(value, fmt).timestamp())
        except ValueError:
            continue
    raise UsageError(f"--fakedate {value!r} is not a date (use YYYY/MM/DD)")


@click.command("notify")
@config_option
@click.option("-c", "--channel", type=click.Choice(["block", "unblock"]), required=True, help="What to do.")
@click.option("-a", "--actions", default=None, help=f"Comma-separated actions (default: {DEFAULT_ACTIONS}).")
@click.option("-t", "--type", "types", default="debtors", help="Notification types; only 'debtors' is supported.")
@click.option("-s", "--section", default="notify", show_default=True, help="Config section of the limits.")
@click.option("-f", "--fakedate", default=None, help="Pretend today is this date (YYYY/MM/DD).")
@click.option("--customerid", default=None, help="Only these customers (comma-separated ids).")
@click.option("-d", "--debug", "--test", "test", is_flag=True, help="Change nothing (roll everything back).")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def notify_cmd(
    channel: str,
    actions: str | None,
    types: str,
    section: str,
    fakedate: str | None,
    customerid: str | None,
    test: bool,
    quiet: bool,
) -> None:
    """Block debtors' services, or unblock everybody else's, as lms-notify -c block|unblock does."""
    host = get_host()
    state: dict[str, Any] = {}

    def validate() -> None:
        if {t.strip() for t in types.split(",")} - {"debtors"}:
            raise UsageError("only -t debtors is supported for block/unblock")
        ids = None
        if customerid:
            try:
                ids = [int(x) for x in customerid.split(",") if x.strip()]
            except ValueError:
                raise UsageError(f"--customerid {customerid!r} must be comma-separated numbers") from None
        cfg = host.config()
        try:
            limit = Decimal(cfg.get_str(f"{section}.debtors_limit", "0") or "0")
        except InvalidOperation:
            raise UsageError(f"{section}.debtors_limit must be a number") from None
        state["query"] = DebtorQuery(
            now=_parse_date(fakedate),
            limit=limit,
            days=cfg.get_int(f"{section}.debtors_days", 0),
            deadline=cfg.get_int("payments.deadline", cfg.get_int("invoices.paytime", 14)),
            include_deleted=cfg.get_bool(f"{section}.debtors_deleted_customers", False),
            customer_ids=ids,
        )
        state["actions"] = parse_actions(actions or DEFAULT_ACTIONS, registry(host))

    def body(job: Job) -> None:
        with job.chunk() as conn:
            debtors, others = split_debtors(conn, state["query"])
            targets = list(debtors) if channel == "block" else others
            job.count("debtors", len(debtors))
            job.info(f"{len(debtors)} debtor(s); {channel} for {len(targets)} customer(s)")
            for action, param in state["actions"]:
                handler = action.block if channel == "block" else action.unblock
                changed = handler(host, conn, targets, param)
                label = f"{action.name}({param})" if param else action.name
                job.count(label, changed)
                job.info(f"{label} [{action.origin}]: {changed} change(s)")

    sys.exit(run_job(host, f"notify.{channel}", body, test=test, quiet=quiet, validate=validate, lock_name="notify"))
