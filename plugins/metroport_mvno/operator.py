"""What the administrator's start page and connection test need from Metroport MVNO (host extension points).

``attention`` reads what the sync counted, not the API: the start page must not wait for the
provider. Users not bound are the ones the latest customer sync could not bind (no match, or several);
billing records without an account are the ones the latest billing sync left out (their number has
no LMS account), with the run's detail page naming examples. ``connection_test`` logs in and reads
the list of users once, with the web's short timeouts.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.engine import Connection

from lmsplugins.host import Host
from lmsplugins.jobstatus import last_counters
from lmsplugins.plugin import AttentionItem, CheckStep
from lmsplugins.web.i18n import add_messages

from .client import MetroportMVNOClient
from .jobs import JOB, zone_of
from .webdata import WEB_POLICY

READ, MANAGE = "metroportmvno_read", "metroportmvno_manage"
NOT_BOUND = ("customers_not_bound", "customers_ambiguous")


PL = {
    "Metroport MVNO: users not bound to a customer": "Metroport MVNO: użytkownicy niepowiązani z klientem",
    "Metroport MVNO: billing records without an account": "Metroport MVNO: billingi bez konta",
}
"""Polish titles of the start-page items (the start page translates them when it shows them)."""
add_messages("pl", PL)


def attention(host: Host, conn: Connection) -> list[AttentionItem]:
    items = []
    bindings = last_counters(conn, JOB, *NOT_BOUND)
    if bindings is not None and bindings.total(*NOT_BOUND):
        items.append(
            AttentionItem(
                "Metroport MVNO: users not bound to a customer",
                bindings.total(*NOT_BOUND),
                endpoint="metroport_mvno.unbound",
                permission=(READ, MANAGE),
            )
        )
    billing = last_counters(conn, JOB, "cdrs_orphan")
    if billing is not None and billing.total("cdrs_orphan"):
        items.append(
            AttentionItem(
                "Metroport MVNO: billing records without an account",
                billing.total("cdrs_orphan"),
                endpoint="admin.job",
                params={"run_id": billing.run_id},
                permission="lmsplugins_admin",
            )
        )
    return items


def connection_test(host: Host) -> Iterator[CheckStep]:
    from .plugin import plugin

    settings = host.plugin_settings(plugin)
    zone = zone_of(settings)
    with MetroportMVNOClient.from_settings(settings, policy=WEB_POLICY, timezone=zone.key, call_retries=1) as client:
        client.login()
        yield CheckStep(f"logged in to {settings['metroportmvno.api_url']} as {settings['metroportmvno.api_login']}")
        users = client.users()
        yield CheckStep("read the list of users", detail=f"{len(users)} user(s)")
