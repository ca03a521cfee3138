"""Operator actions shared by the jobs and the web panels: pair or create an LMS customer in MMS (spec §6
manual add, both the private and the company branch), and the F-Secure licence's link to the LMS
assignment added with it.

Every action is provider-first: MMS is asked before anything local changes, and a refusal raises with
the provider's message, leaving the database as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection, Engine

from lmsplugins.errors import UsageError
from lmsplugins.lms.customer_export import CustomerExport, export_customers

from . import mapping, store
from .client import MMSClient, MMSError
from .tables import metroport_settings


@dataclass(frozen=True)
class Added:
    userid: int
    created: bool
    missing: tuple[str, ...] = ()


def customer_export(conn: Connection, customer_id: int) -> CustomerExport:
    found = list(export_customers(conn, [customer_id]))
    if not found:
        raise UsageError(f"no LMS customer {customer_id}")
    if found[0].deleted:
        raise UsageError(f"LMS customer {customer_id} is deleted")
    return found[0]


def pair_or_create(engine: Engine, client: MMSClient, customer_id: int, *, dry_run: bool = False) -> Added | None:
    """Pair the customer with the MMS user holding its PESEL (private) or NIP (company); when MMS has
    none, create one from LMS data and pair it. Returns None in a dry run that would create."""
    with engine.connect() as conn:
        export = customer_export(conn, customer_id)
        current = store.mms_user_of(conn, customer_id)
        paired = store.pairs(conn)
    if current is not None:
        raise UsageError(f"LMS customer {customer_id} is already paired with MMS user {current}")
    lms = mapping.LmsCustomer(export.id, export.type, export.lastname, export.name, export.ssn, export.ten)
    key = mapping.customer_key(lms)
    if key is None:
        raise UsageError(
            f"LMS customer {customer_id}: Uzupełnij PESEL/NIP (a valid PESEL for a private customer, NIP for a company)"
        )
    kind, value = key
    hits = client.search_users(**{kind: value if kind == "pesel" else mapping.format_nip(value)})
    if len(hits) > 1:
        raise MMSError(f"several MMS users have {kind} {value}: {', '.join(str(u.id) for u in hits)}; not paired")
    missing = tuple(mapping.missing_for_activation(export))
    if hits:
        uid = hits[0].id
        owners = [cid for u, cid in paired if u == uid]
        if owners:
            raise MMSError(f"MMS user {uid} is already paired with LMS customer {owners[0]}")
        created = False
    elif dry_run:
        return None
    else:
        uid = client.create_user(mapping.user_payload(export))
        created = True
    if not dry_run:
        with engine.begin() as conn:
            store.pair(conn, uid, customer_id)
    return Added(uid, created, missing)


def _link_name(service_id: int) -> str:
    return f"fsecure_assignment:{int(service_id)}"


def link_assignment(conn: Connection, service_id: int, assignment_id: int) -> None:
    """Remember which LMS assignment was added with an F-Secure licence."""
    store.write_setting(conn, _link_name(service_id), str(int(assignment_id)))


def linked_assignment(conn: Connection, service_id: int) -> int | None:
    found = store.read_setting(conn, _link_name(service_id))
    return int(found[0]) if found and found[0].isdigit() else None


def unlink_assignment(conn: Connection, service_id: int) -> None:
    conn.execute(metroport_settings.delete().where(metroport_settings.c.name == _link_name(service_id)))
