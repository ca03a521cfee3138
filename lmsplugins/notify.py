"""``lmsplugins notify``: block debtors and unblock the rest exactly as ``lms-notify -c block|unblock``.

The crontab lines of an ISP (``-t debtors -s SECTION -c block -a ACTIONS``) move here unchanged and
leave the database as LMS's own script would (specs/lms_core.md 6):

1. debtors are chosen by LMS's rules and filters (:mod:`lmsplugins.lms.debtors`);
2. block takes the debtors, unblock everybody else (as coded: contractors, deleted customers when
   ``debtors_deleted_customers`` is on), narrowed by the *prechecks*, which default to the action
   list, so unblock never touches a customer who was never blocked;
3. core actions run in the order given (:mod:`lmsplugins.lms.notify_actions`), then every enabled
   plugin's :class:`~lmsplugins.plugin.NotifyAction`, as LMS fires ``notification_blocks`` after its
   own actions; every change goes to LMS's transaction log when ``logs.enabled`` is on.

``notify apply`` is the same action runner without the debtor choice: LMS's own lms-notify, through
the PHP bridge in ``lms-bridge/``, hands it the customers and nodes it picked. ``notify actions``
lists what the bridge registers in LMS's ``get_supported_actions``.

Deliberate differences from lms-notify, all on bad input: an unknown action name is a warning and is
skipped (``--strict``: an error); an unknown section, division, customer status alias or type, or a
non-numeric id, is an error (LMS silently drops the filter); debug mode also rolls back.
"""

from __future__ import annotations

import contextvars
import json
import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import click
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from lmsplugins.cli import config_option, get_host
from lmsplugins.errors import UsageError
from lmsplugins.host import Host
from lmsplugins.jobs import Job, run_job
from lmsplugins.lms.customers import STATUS_ALIASES, STATUS_CONNECTED, STATUS_DEBT_COLLECTION
from lmsplugins.lms.debtors import DebtorQuery, customer_filters, debtors, parse_groups
from lmsplugins.lms.notify_actions import CORE_ACTIONS, Apply, chunks, precheck
from lmsplugins.lms.syslog import Syslog
from lmsplugins.lms.tables import customers, divisions, nodes
from lmsplugins.plugin import NotifyAction

SYSLOG_MODULE = "lmsplugins-notify"
DEFAULT_ACTIONS = "node-access,customer-status,assignment-invoice"
LMS_CHANNELS = {"mail", "sms", "backend", "userpanel", "userpanel-urgent", "www"}
LMS_TYPES = {
    "documents", "contracts", "reminder", "income", "invoices", "notes",
    "birthday", "warnings", "messages", "timetable", "events",
}  # fmt: skip
_LIST_RE = re.compile(r"^[^,(]+(\([^)]+\))?(,[^,(]+(\([^)]+\))?)*$")
_ITEM_RE = re.compile(r"([^,(]+)(?:\(([^)]+)\))?")
_SECTION_RE = re.compile(r"^[a-z0-9_-]+$", re.IGNORECASE)
CUSTOMER_TYPES = {"private": 0, "company": 1}


@dataclass(frozen=True)
class Action:
    """A notify action by name: LMS core (``core``) or a plugin's (``plugin``)."""

    name: str
    params: int
    origin: str = "LMS"
    core: Any = None
    plugin: NotifyAction | None = None


@dataclass
class NotifyRun:
    """What a running action may ask about its run: ``lmsplugins.notify.current_run()``."""

    channel: str
    debug: bool
    quiet: bool
    customers: list[int]
    nodes: list[int]
    actions: dict[str, str | None] = field(default_factory=dict)


_RUN: contextvars.ContextVar[NotifyRun | None] = contextvars.ContextVar("lmsplugins_notify_run", default=None)


def current_run() -> NotifyRun | None:
    """The notify run in progress (None outside a plugin action)."""
    return _RUN.get()


@contextmanager
def _running(run: NotifyRun) -> Iterator[None]:
    token = _RUN.set(run)
    try:
        yield
    finally:
        _RUN.reset(token)


def registry(host: Host) -> dict[str, Action]:
    """LMS's core actions and every enabled plugin's, by name."""
    known = {name: Action(name, core.params, core=core) for name, core in CORE_ACTIONS.items()}
    for plugin in host.registry.enabled:
        for na in plugin.notify_actions:
            known[na.name] = Action(na.name, na.params, origin=plugin.title, plugin=na)
    return known


def parse_actions(
    text: str, known: dict[str, Action], *, what: str = "actions", strict: bool = False, warn: Any = None
) -> dict[str, tuple[Action, str | None]]:
    """``name(param),name`` -> {name: (action, param)}, by LMS's grammar and parameter rules.

    A malformed list, a parameter where none is taken or missing where one is required, and a
    parameter outside the action's choices are usage errors. An unknown name is a warning and is
    skipped (an error with *strict*).
    """
    text = re.sub(r"\s*([,()])\s*", r"\1", text.strip())
    if not _LIST_RE.match(text):
        raise UsageError(f"--{what} {text!r} is malformed; write name or name(param), comma separated")
    parsed: dict[str, tuple[Action, str | None]] = {}
    for name, param in _ITEM_RE.findall(text):
        action = known.get(name)
        if action is None:
            message = f"unknown {what[:-1]} {name!r} skipped; known: {', '.join(sorted(known))}"
            if strict:
                raise UsageError(message.replace(" skipped", ""))
            if warn:
                warn(message)
            continue
        if action.params == 0 and param:
            raise UsageError(f"action {name} takes no parameter (got {name}({param}))")
        if action.params == 1 and not param:
            raise UsageError(f"action {name} needs a parameter: {name}(...)")
        if param and "," in param:
            raise UsageError(f"action {name} takes one parameter (got {param!r})")
        choices = action.core.choices if action.core else ()
        if param and choices and param not in choices:
            raise UsageError(f"{name}({param}): use one of {', '.join(choices)}")
        parsed[name] = (action, param or None)
    return parsed


def parse_ids(text: str | None, flag: str) -> list[int] | None:
    """Comma-separated ids, or ``@FILE`` holding them (the bridge's way past the argv length limit)."""
    if text is None or not text.strip():
        return None
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="ascii") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{flag} {text!r}: cannot read the file ({exc})") from None
        if not text.strip():
            return []
    try:
        return [int(x) for x in re.split(r"[,\s]+", text.strip()) if x]
    except ValueError:
        raise UsageError(f"{flag} {text!r} must be comma-separated customer numbers") from None


def parse_statuses(text: str) -> list[int] | None:
    """``allowed_customer_status`` as LMS reads it: aliases, ``!alias`` to exclude; empty: no filter."""
    items = [s for s in re.split(r"[\s,;]+", text.strip()) if s]
    if not items:
        return None
    for item in items:
        if item.lstrip("!") not in STATUS_ALIASES:
            raise UsageError(f"customer status {item!r} is unknown; use {', '.join(STATUS_ALIASES)} (or !alias)")
    normal = {STATUS_ALIASES[s] for s in items if not s.startswith("!")}
    negated = {STATUS_ALIASES[s[1:]] for s in items if s.startswith("!")}
    chosen = (normal or set(STATUS_ALIASES.values())) - negated
    return sorted(chosen) or [STATUS_CONNECTED, STATUS_DEBT_COLLECTION]


def parse_date(value: str | None) -> int:
    if not value:
        return int(time.time())
    if value.startswith("@") and value[1:].isdigit():
        return int(value[1:])
    for fmt in ("%Y/%m/%d", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"):
        try:
            return int(datetime.strptime(value, fmt).timestamp())
        except ValueError:
            continue
    raise UsageError(f"--fakedate {value!r} is not a date (use YYYY/MM/DD [HH:MM:SS])")


def _php_intval(value: str, key: str) -> int:
    m = re.match(r"^\s*([+-]?\d+)(\.\d*)?\s*$", value)
    if not m:
        raise UsageError(f"setting {key} = {value!r} is not a number")
    return int(m.group(1))


def choose(
    conn: Connection,
    channel: str,
    q: DebtorQuery,
    debtor_ids: Sequence[int],
    checks: dict[str, tuple[Action, str | None]],
) -> tuple[list[int], dict[int, str], list[int]]:
    """(customers, their display names, nodes) a channel processes, as lms-notify picks them."""
    c = customers
    cust_where, node_where = [], []
    for name, (_action, param) in checks.items():
        on_customer, on_node = precheck(name, param, channel)
        if on_customer is not None:
            cust_where.append(on_customer)
        if on_node is not None:
            node_where.append(on_node)
    query = select(c.c.id, c.c.lastname, c.c.name).where(*cust_where)
    rows: list[Any] = []
    if channel == "block":
        for part in chunks(list(debtor_ids)):
            rows.extend(conn.execute(query.where(c.c.id.in_(part))).all())
    else:
        filters = customer_filters(q, with_deleted=False)
        if debtor_ids and not q.include_deleted:
            filters.append(c.c.deleted == 0)
        excluded = set(debtor_ids)
        rows = [r for r in conn.execute(query.where(*filters)) if r[0] not in excluded]
    rows.sort(key=lambda r: r[0])
    ids = [int(r[0]) for r in rows]
    names = {int(r[0]): f"{r[1]} {r[2]}" for r in rows}
    node_ids: list[int] = []
    for part in chunks(ids):
        node_ids.extend(r[0] for r in conn.execute(select(nodes.c.id).where(nodes.c.ownerid.in_(part), *node_where)))
    return ids, names, sorted(node_ids)


def names_of(conn: Connection, ids: Sequence[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for part in chunks(list(ids)):
        for cid, last, first in conn.execute(
            select(customers.c.id, customers.c.lastname, customers.c.name).where(customers.c.id.in_(part))
        ):
            names[int(cid)] = f"{last} {first}"
    return names


def run_actions(
    host: Host,
    job: Job,
    conn: Connection,
    channel: str,
    actions: dict[str, tuple[Action, str | None]],
    targets: tuple[list[int], dict[int, str], list[int]],
    *,
    debug: bool,
    quiet: bool,
    assignment_update: bool = True,
) -> None:
    """Core actions in the order given, then plugin actions (LMS's hook after its own actions)."""
    ids, names, node_ids = targets
    syslog = Syslog.for_host(host, conn, SYSLOG_MODULE)
    ap = Apply(
        conn, channel, ids, names, node_ids, syslog, debug=debug, echo=job.info, assignment_update=assignment_update
    )
    ordered = [a for a in actions.values() if a[0].core] + [a for a in actions.values() if a[0].plugin]
    run = NotifyRun(channel, debug, quiet, ids, node_ids, {n: p for n, (_a, p) in actions.items()})
    for action, param in ordered:
        label = f"{action.name}({param})" if param else action.name
        if action.core:
            changed = action.core.run(ap, param) if ids else 0
        elif debug and not action.plugin.dry_run:
            job.info(f"[{channel}/{action.name}] debug: {action.origin} not called for {len(ids)} customer(s)")
            continue
        else:
            handler = action.plugin.block if channel == "block" else action.plugin.unblock
            with _running(run):
                changed = handler(host, conn, ids, param) if ids else 0
        job.count(label, changed)
        job.info(f"{label} [{action.origin}]: {changed} change(s)")
    logged = syslog.flush()
    if logged:
        job.count("logged", logged)


def _channels(text: str) -> list[str]:
    chosen = [c.strip() for c in text.split(",") if c.strip()]
    for ch in chosen:
        if ch in LMS_CHANNELS:
            raise UsageError(f"channel {ch!r} is lms-notify's own; lmsplugins handles only block and unblock")
        if ch not in ("block", "unblock"):
            raise UsageError(f"unknown channel {ch!r}; use block, unblock or block,unblock")
    if not chosen:
        raise UsageError("-c/--channel is required: block, unblock or block,unblock")
    return [ch for ch in ("block", "unblock") if ch in chosen]


@click.group("notify", invoke_without_command=True)
@config_option
@click.option("-c", "--channel", default=None, help="block, unblock, or block,unblock.")
@click.option("-a", "--actions", default=None, help=f"Comma-separated actions (default: {DEFAULT_ACTIONS}).")
@click.option("--block-prechecks", default=None, help="Prechecks of block (default: the actions; 'none': no check).")
@click.option("--unblock-prechecks", default=None, help="Prechecks of unblock (default: the actions; 'none').")
@click.option("-t", "--type", "types", default="debtors", show_default=True, help="Notification types: debtors.")
@click.option("-s", "--section", default="notify", show_default=True, help="Config section of the limits.")
@click.option("-f", "--fakedate", default=None, help="Pretend today is this date (YYYY/MM/DD).")
@click.option("-g", "--customergroups", default=None, help="Only customers of these groups (a,b any; a+b all; !a not).")
@click.option("--customer-status", default=None, help="Only these statuses (aliases, !alias excludes).")
@click.option("--customer-types", default=None, help="Only these customer types: private, company.")
@click.option("--division", default=None, help="Only customers of the division with this short name.")
@click.option("--customerid", default=None, help="Only this customer (or comma-separated customers).")
@click.option("--strict", is_flag=True, help="An unknown action is an error, not a warning.")
@click.option("-d", "--debug", "--test", "debug", is_flag=True, help="Change nothing, call no provider; print.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.pass_context
def notify_cmd(ctx: click.Context, **opts: Any) -> None:
    """Block debtors' services, or unblock everybody else's, as lms-notify -c block|unblock does."""
    if ctx.invoked_subcommand is not None:
        return
    host = get_host()
    state: dict[str, Any] = {}

    def validate() -> None:
        state["channels"] = _channels(opts["channel"] or "")
        types = {t.strip() for t in opts["types"].split(",") if t.strip()}
        if types - {"debtors"}:
            other = sorted(types - {"debtors"})
            known = [t for t in other if t in LMS_TYPES]
            raise UsageError(
                f"type {', '.join(other)} is "
                + ("lms-notify's own; lmsplugins blocks by -t debtors only" if known else "unknown; use -t debtors")
            )
        section = opts["section"]
        if not _SECTION_RE.match(section):
            raise UsageError(f"section {section!r} is not a section name (letters, digits, - and _)")
        cfg = host.config()
        if section.lower() != "notify" and not cfg.section(section):
            raise UsageError(f"section [{section}] has no settings in lms.ini or uiconfig")
        with host.engine.connect() as conn:
            division_id = None
            if opts["division"]:
                division_id = conn.execute(
                    select(divisions.c.id).where(divisions.c.shortname == opts["division"])
                ).scalar()
                if division_id is None:
                    raise UsageError(f"--division {opts['division']!r}: no division has that short name")
        ctypes = None
        if opts["customer_types"]:
            names = [t.strip() for t in opts["customer_types"].split(",") if t.strip()]
            bad = [t for t in names if t not in CUSTOMER_TYPES]
            if bad:
                raise UsageError(f"invalid customer type {bad[0]!r}; use private or company")
            ctypes = [CUSTOMER_TYPES[t] for t in names]
        statuses = opts["customer_status"]
        if statuses is None:
            statuses = cfg.get_str(f"{section}.allowed_customer_status", "")
        groups = (
            opts["customergroups"] if opts["customergroups"] is not None else cfg.get_str(f"{section}.customergroups")
        )
        deadline = cfg.get("payments.deadline") or cfg.get("invoices.paytime") or "0"
        state["query"] = DebtorQuery(
            now=parse_date(opts["fakedate"]),
            limit=_php_intval(cfg.get_str(f"{section}.debtors_limit", "0"), f"{section}.debtors_limit"),
            days=_php_intval(cfg.get_str(f"{section}.debtors_days", "0"), f"{section}.debtors_days"),
            deadline=_php_intval(deadline, "payments.deadline"),
            include_deleted=cfg.get_bool(f"{section}.debtors_deleted_customers", True),
            customer_ids=parse_ids(opts["customerid"], "--customerid"),
            division_id=division_id,
            statuses=parse_statuses(statuses),
            types=ctypes,
            groups=parse_groups(groups),
        )
        state["assignment_update"] = cfg.get_bool(f"{section}.assignment_update", True)
        known = registry(host)
        warnings: list[str] = []
        actions = parse_actions(opts["actions"] or DEFAULT_ACTIONS, known, strict=opts["strict"], warn=warnings.append)
        state["actions"], state["warnings"] = actions, warnings
        for channel in ("block", "unblock"):
            given = opts[f"{channel}_prechecks"]
            if given is None:
                state[channel] = actions
            elif given.strip() == "none":
                state[channel] = {}
            else:
                state[channel] = parse_actions(given, known, what=f"{channel}-prechecks", strict=True)

    def body(job: Job) -> None:
        for message in state["warnings"]:
            job.warn(message)
        with job.chunk() as conn:
            found = debtors(conn, state["query"])
            job.count("debtors", len(found))
            job.info(f"{len(found)} debtor(s)")
            for channel in state["channels"]:
                targets = choose(conn, channel, state["query"], list(found), state[channel])
                job.info(f"{channel}: {len(targets[0])} customer(s), {len(targets[2])} node(s)")
                run_actions(
                    host, job, conn, channel, state["actions"], targets,
                    debug=opts["debug"], quiet=opts["quiet"], assignment_update=state["assignment_update"],
                )  # fmt: skip

    name = "notify." + (opts["channel"] or "block").replace(",", "+")
    sys.exit(run_job(host, name, body, test=opts["debug"], quiet=opts["quiet"], validate=validate, lock_name="notify"))


@notify_cmd.command("apply")
@config_option
@click.option("--block", "channel", flag_value="block", help="Run the actions' block side.")
@click.option("--unblock", "channel", flag_value="unblock", help="Run the actions' unblock side.")
@click.option("-a", "--actions", required=True, help="Comma-separated actions, name or name(param).")
@click.option("--customers", "customer_list", required=True, help="Customer ids, comma-separated or @FILE.")
@click.option("--nodes", "node_list", default=None, help="Node ids, comma-separated or @FILE (default: all theirs).")
@click.option("--strict", is_flag=True, help="An unknown action is an error, not a warning.")
@click.option("-d", "--debug", "debug", is_flag=True, help="Change nothing, call no provider; print.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def apply_cmd(
    channel: str | None, actions: str, customer_list: str, node_list: str | None, strict: bool, debug: bool, quiet: bool
) -> None:
    """Run actions on customers another program chose (LMS's lms-notify through the bridge)."""
    host = get_host()
    state: dict[str, Any] = {}

    def validate() -> None:
        if channel is None:
            raise UsageError("say --block or --unblock")
        state["customers"] = parse_ids(customer_list, "--customers") or []
        state["nodes"] = parse_ids(node_list, "--nodes")
        warnings: list[str] = []
        state["actions"] = parse_actions(actions, registry(host), strict=strict, warn=warnings.append)
        state["warnings"] = warnings

    def body(job: Job) -> None:
        for message in state["warnings"]:
            job.warn(message)
        with job.chunk() as conn:
            ids = sorted(set(state["customers"]))
            names = names_of(conn, ids)
            missing = [cid for cid in ids if cid not in names]
            if missing:
                job.warn(f"{len(missing)} customer(s) not in LMS skipped: {', '.join(map(str, missing[:10]))}")
            ids = [cid for cid in ids if cid in names]
            node_ids = state["nodes"]
            if node_ids is None:
                node_ids = []
                for part in chunks(ids):
                    node_ids.extend(r[0] for r in conn.execute(select(nodes.c.id).where(nodes.c.ownerid.in_(part))))
            else:
                owned = and_(nodes.c.id.in_(node_ids), nodes.c.ownerid.in_(ids)) if ids else nodes.c.id.in_([])
                node_ids = [r[0] for r in conn.execute(select(nodes.c.id).where(owned))]
            run_actions(
                host,
                job,
                conn,
                channel or "block",
                state["actions"],
                (ids, names, sorted(node_ids)),
                debug=debug,
                quiet=quiet,
            )

    sys.exit(
        run_job(host, f"notify.apply.{channel}", body, test=debug, quiet=quiet, validate=validate, lock_name="notify")
    )


@notify_cmd.command("actions")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON list (what the LMS bridge reads).")
@click.option("--plugins-only", is_flag=True, help="Only the enabled plugins' actions, not LMS's own.")
def actions_cmd(as_json: bool, plugins_only: bool) -> None:
    """List the notify actions: name, parameter rule (0 none, 1 required, -1 optional), origin."""
    host = get_host()
    try:
        known = registry(host)
    except Exception as exc:  # a broken plugin must not break LMS's lms-notify through the bridge
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    rows = [
        {
            "name": a.name,
            "params": a.params,
            "origin": a.origin,
            "description": a.plugin.description if a.plugin else "",
        }
        for a in known.values()
        if not (plugins_only and a.core)
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['name']:<28} params={row['params']:>2}  {row['origin']}  {row['description']}")
