"""lms-notify actions ``metrotv-locks`` and ``metrofsecure-locks``: block debtors' MetroTV accounts and
F-Secure licences at MMS, unblock them when the debt is gone (spec §8).

The port notes of §8 are followed where the PHP handler kept no state:

* the plugin's own flags drive it: a block touches only paired customers not yet blocked by this plugin
  (``metrotv_suspend`` / ``metro_fsecure_suspend`` = 0), an unblock only those it blocked (= 1), so a
  service someone blocked by hand is never unblocked here, and a re-run sends nothing twice;
* deleted F-Secure services are skipped (and already blocked ones on block);
* a flag is set only after MMS confirmed every account or service of the customer (and only when
  there was one to change); a refusal is reported and the customer is tried again on the next run;
* with ``metroport.metrotv_suspend_billing`` / ``fsecure_suspend_billing`` = 1 the ``*_suspend_billing``
  flag is set as in PHP AND made real: the customer's running assignments of tariffs tagged
  ``metroport.metrotv_tariff_tag`` / ``fsecure_tariff_tag`` are suspended in LMS (through the host's
  :mod:`lmsplugins.lms.suspensions`), their ids kept in ``metroport_settings``, and exactly those are
  resumed on unblock;
* in a debug run (``lmsplugins notify -d/--test``) nothing is sent to MMS (PHP called the API anyway):
  the action only names the paired customers it would block or unblock, from its own flags.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from lmsplugins.host import Host
from lmsplugins.lms.suspensions import running_tagged_assignments, set_suspended

from . import store
from .client import MMSClient, MMSError
from .tables import metroport_customers, metroport_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lock:
    """One kind of MMS service the lock actions handle."""

    name: str
    label: str
    flag: str
    billing_flag: str
    billing_setting: str
    tag_setting: str
    items: Callable[[MMSClient, int, bool], list[tuple[int, Any]]]
    """(client, MMS user id, block?) -> (id, row) of the services to change."""
    change: Callable[[MMSClient, int, bool], Any]


def _tv_items(client: MMSClient, userid: int, block: bool) -> list[tuple[int, Any]]:
    """The accounts to change, judged by each account's own ``active`` (1 = unblocked), as PHP read it."""
    items = []
    for account in client.tv_accounts(userid):
        card = client.tv_account(int(account["id"]))
        active = str(card.get("active", "1")).strip() == "1"
        if active == block:
            items.append((int(account["id"]), card))
    return items


def _fsecure_items(client: MMSClient, userid: int, block: bool) -> list[tuple[int, Any]]:
    skip = {"deleted", "blocked"} if block else {"deleted", "active", "reserved", "new"}
    return [(int(s["id"]), s) for s in client.fsecure_services(userid) if str(s.get("status")) not in skip]


METROTV = Lock(
    "metrotv-locks",
    "METROTV",
    "metrotv_suspend",
    "metrotv_suspend_billing",
    "metroport.metrotv_suspend_billing",
    "metroport.metrotv_tariff_tag",
    _tv_items,
    lambda c, i, b: c.tv_account_block(i, b),
)
FSECURE = Lock(
    "metrofsecure-locks",
    "METRO-FSECURE",
    "metro_fsecure_suspend",
    "metro_fsecure_suspend_billing",
    "metroport.fsecure_suspend_billing",
    "metroport.fsecure_tariff_tag",
    _fsecure_items,
    lambda c, i, b: c.fsecure_block(i, b),
)


def _say(line: str) -> None:
    print(line, flush=True)


def _error(line: str) -> None:
    log.error(line)
    print(f"error: {line}", file=sys.stderr, flush=True)


def _kept_name(lock: Lock, customer_id: int) -> str:
    return f"suspended:{lock.flag}:{customer_id}"


def _suspend_billing(conn: Connection, lock: Lock, settings: Mapping[str, Any], customer_id: int) -> int:
    ids = running_tagged_assignments(conn, [customer_id], settings.get(lock.tag_setting) or "").get(customer_id, [])
    changed = set_suspended(conn, ids, True)
    if ids:
        store.write_setting(conn, _kept_name(lock, customer_id), ",".join(str(i) for i in ids))
    return changed


def _resume_billing(conn: Connection, lock: Lock, customer_id: int) -> int:
    name = _kept_name(lock, customer_id)
    kept = store.read_setting(conn, name)
    if kept is None:
        return 0
    ids = [int(v) for v in kept[0].split(",") if v.strip().isdigit()]
    conn.execute(metroport_settings.delete().where(metroport_settings.c.name == name))
    return set_suspended(conn, ids, False)


def run_lock(lock: Lock, host: Host, conn: Connection, customer_ids: Sequence[int], block: bool) -> int:
    """Block (or unblock) *lock*'s services of the paired customers among *customer_ids*; returns how
    many accounts or services MMS changed."""
    from .plugin import plugin

    m = metroport_customers
    flag = m.c[lock.flag]
    wanted = [int(i) for i in customer_ids]
    targets: list[tuple[int, int]] = []
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        targets += [
            (r[0], r[1])
            for r in conn.execute(
                select(m.c.lms_user_id, m.c.metroport_user_id)
                .where(m.c.lms_user_id.in_(chunk), flag == (0 if block else 1))
                .order_by(m.c.lms_user_id, m.c.id)
            )
        ]
    if not targets:
        return 0
    from lmsplugins.notify import current_run

    run = current_run()
    if run is not None and run.debug:
        verb = "block" if block else "unblock"
        ids = ", ".join(str(cid) for cid, _uid in targets[:20]) + (" ..." if len(targets) > 20 else "")
        _say(f"{lock.label} debug: would {verb} the services of {len(targets)} paired customer(s): {ids}")
        return 0
    settings = host.plugin_settings(plugin)
    try:
        client = MMSClient.from_settings(settings, store.ConnTokenStore(conn))
        client.token()
    except Exception as exc:  # PHP: error_log and nothing done; the rest of the notify run goes on
        _error(f"{lock.name}: cannot use MMS, nothing {'blocked' if block else 'unblocked'}: {exc}")
        return 0
    billing = (settings.get(lock.billing_setting) or "").strip() == "1"
    verb = "BLOKADA" if block else "ODBLOKOWANO"
    changed = 0
    with client:
        for customer_id, userid in targets:
            try:
                items = lock.items(client, userid, block)
                answers = [(item_id, lock.change(client, item_id, block)) for item_id, _row in items]
            except MMSError as exc:
                _error(f"{lock.name}: LMS customer {customer_id} (MMS user {userid}): {exc}; flags left as they were")
                continue
            if not answers and block:
                continue
            values: dict[str, int] = {lock.flag: 1 if block else 0}
            if billing or not block:
                values[lock.billing_flag] = 1 if block and billing else 0
            conn.execute(
                m.update().where(m.c.lms_user_id == customer_id, m.c.metroport_user_id == userid).values(**values)
            )
            if block and billing:
                _suspend_billing(conn, lock, settings, customer_id)
            elif not block:
                _resume_billing(conn, lock, customer_id)
            for item_id, answer in answers:
                _say(
                    f"{lock.label} {verb} - Klient LMS: {customer_id}, Konto: {item_id}, Odpowiedź MetroportAPI: "
                    f"{answer}"
                )
            changed += len(answers)
    return changed


LOCKS = {METROTV.name: METROTV, FSECURE.name: FSECURE}


def run_named(name: str, host: Host, conn: Connection, customer_ids: Sequence[int], block: bool) -> int:
    return run_lock(LOCKS[name], host, conn, customer_ids, block)
