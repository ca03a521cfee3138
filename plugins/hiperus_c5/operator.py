"""What the administrator's start page and connection test need from Hiperus C5 (host extension points).

``attention``: VoIP accounts not linked to an LMS customer (LMS cannot invoice them; the accounts page
lists them with its "not linked" filter) and billing records whose account is not in the mirror
(calls nobody will be invoiced for). ``connection_test``: a login of its own (the session shared by
cron and web is left alone), ``CheckLogin`` and one read of the price lists, through the shared
request throttle so a test never pushes a running import over the platform's limit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from lmsplugins.host import Host
from lmsplugins.http import HttpPolicy
from lmsplugins.plugin import AttentionItem, CheckStep
from lmsplugins.web.i18n import add_messages

from .client import FileThrottle, HiperusClient
from .runtime import require_credentials, throttle_path
from .tables import hv_billing, hv_customers

READ = ("hiperus_read_only", "hiperus_full_access")
TEST_POLICY = HttpPolicy(timeout=(5.0, 20.0), retries=1, backoff=0.2, backoff_max=1.0, retry_post=True, budget=30.0)


def unlinked_accounts(conn: Connection) -> int:
    """Accounts of the mirror with no LMS customer (the accounts page's ``hvext=2``)."""
    t = hv_customers.c
    return int(conn.execute(select(func.count()).where(t.ext_billing_id.is_(None))).scalar() or 0)


def billing_without_account(conn: Connection) -> int:
    """Billing records whose account is missing from the mirror (or that name no account)."""
    b = hv_billing.c
    known = select(hv_customers.c.id).where(hv_customers.c.id == b.customerid).exists()
    return int(conn.execute(select(func.count()).where(or_(b.customerid.is_(None), ~known))).scalar() or 0)


PL = {
    "Hiperus C5: VoIP accounts not linked to a customer": "Hiperus C5: konta VoIP niepowiązane z klientem",
    "Hiperus C5: billing records without an account": "Hiperus C5: billingi bez konta",
}
"""Polish titles of the start-page items (the start page translates them when it shows them)."""
add_messages("pl", PL)


def attention(host: Host, conn: Connection) -> list[AttentionItem]:
    items = []
    unlinked = unlinked_accounts(conn)
    if unlinked:
        items.append(
            AttentionItem(
                "Hiperus C5: VoIP accounts not linked to a customer",
                unlinked,
                endpoint="hiperus_c5.accounts",
                params={"hvext": "2"},
                permission=READ,
            )
        )
    orphans = billing_without_account(conn)
    if orphans:
        items.append(
            AttentionItem(
                "Hiperus C5: billing records without an account",
                orphans,
                endpoint="admin.jobs",
                params={"job": "hiperus_c5.import"},
                severity="info",
                permission="lmsplugins_admin",
            )
        )
    return items


def connection_test(host: Host) -> Iterator[CheckStep]:
    from .plugin import plugin

    settings = host.plugin_settings(plugin)
    require_credentials(settings)
    throttle = FileThrottle(
        throttle_path(settings),
        calls=settings["hiperus_c5.throttle_calls"],
        period=float(settings["hiperus_c5.throttle_period"]),
    )
    client = HiperusClient(
        settings["hiperus_c5.username"],
        settings["hiperus_c5.password"],
        settings["hiperus_c5.domain"],
        settings["hiperus_c5.api_url"],
        throttle=throttle,
        policy=TEST_POLICY,
        call_retries=0,
    )
    client.login()
    who = f"{settings['hiperus_c5.username']} ({settings['hiperus_c5.domain']})"
    yield CheckStep(f"logged in to {settings['hiperus_c5.api_url']} as {who}")
    status = client.check_login()
    services = ", ".join(n for n, on in (("VoIP", status.voip_services), ("WLR", status.wlr_services)) if on)
    yield CheckStep("session confirmed by CheckLogin", status.logged, f"services: {services or 'none'}")
    pricelists = client.get_customer_pricelist_list()
    yield CheckStep("read the price lists", detail=f"{len(pricelists)} price list(s)")
    with contextlib.suppress(Exception):  # the test's own session; the platform expires it anyway
        client.logout()
