"""Declaration of the Metroport MVNO plugin, the drop-in for PHP's LMSMetroportMVNOPlugin (spec metroport_mvno.md).

The settings are the PHP plugin's four keys in section ``metroportmvno`` with its defaults, plus what the
Python side needs to run unattended and safely: TLS verification (the PHP plugin turned it off; here it
is on unless switched off), the time zone of the API's wall-clock dates (PHP used its implicit default),
and the invoicing path (``link_numbers``), which the PHP plugin left to the operator's hands.

The web part (``blueprint``, ``menu``, ``panels``) lives in ``views.py``; every extension point is
named through ``deferred`` or a small function, so the web code is imported only when the web host
asks for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lmsplugins.plugin import DemoContext, MenuEntry, Panel, Permission, Plugin, Setting, deferred, deferred_call

if TYPE_CHECKING:
    from lmsplugins.host import Host

PROVIDER_NAME = "Metroport MVNO"
DEFAULT_API_URL = "https://api.mmsc.metroport.pl"
DEFAULT_TAG = "metroport-mvno"
PLACEHOLDERS = {"api_login": "api_login", "api_password": "api_password"}
"""What the PHP install SQL seeds into ``uiconfig`` for the credentials (spec §3, §8.1)."""


def _demo(ctx: DemoContext) -> None:
    """Point the settings at the simulator, then run a full sync of the previous month."""
    for key, value in (*ctx.simulator_settings.items(), ("metroportmvno.link_numbers", "1")):
        ctx.set_setting(key, value)
    _demo_bind(ctx)
    ctx.run(["metroport-mvno", "sync", "--customers", "--accounts"])
    ctx.run(["metroport-mvno", "sync", "--billings", "--chunk-size=7", "--chunking"])


def _demo_bind(ctx: DemoContext, count: int = 6) -> None:
    """The demo ISP's customers and the simulator's users share no identifiers, so do what an
    administrator does on the unbound-users page: bind a few by hand, and give those customers the
    MVNO-tagged phone tariff, so accounts and billings have someone to land on."""
    import time

    from sqlalchemy import select

    from lmsplugins.lms.assignments import assign_tariff, tariffs_tagged
    from lmsplugins.lms.customers import bind_extid, service_provider_id
    from lmsplugins.lms.tables import customers

    from .client import MetroportMVNOClient

    settings = ctx.host.plugin_settings(plugin)
    with MetroportMVNOClient.from_settings(settings) as client:
        users = client.users()[:count]
    with ctx.host.engine.begin() as conn:
        spid = service_provider_id(conn, PROVIDER_NAME, create=True)
        tagged = tariffs_tagged(conn, settings["metroportmvno.tariff_tag"])
        ids = conn.execute(
            select(customers.c.id).where(customers.c.deleted == 0).order_by(customers.c.id).limit(len(users))
        ).scalars()
        for cid, user in zip(ids, users, strict=False):
            bind_extid(conn, cid, str(user.id), spid)
            if tagged:
                assign_tariff(conn, cid, tagged[0], int(time.time()) - 90 * 86400)


def _checks(host: Host) -> list[str]:
    """Spec §8.1: enabled ``uiconfig`` rows for the credentials override lms.ini (LMS gives uiconfig the
    last word), so the PHP install's placeholder rows silently replace the real login from lms.ini."""
    from lmsplugins.lms.settings import read_uiconfig

    warnings: list[str] = []
    with host.engine.connect() as conn:
        for var, placeholder in PLACEHOLDERS.items():
            key = f"metroportmvno.{var}"
            rows = [r for r in read_uiconfig(conn, key) if not r["disabled"]]
            stale = [r for r in rows if (r["value"] or "").strip() == placeholder]
            if stale:
                ids = ", ".join(f"#{r['id']}" for r in stale)
                warnings.append(
                    f"uiconfig row(s) {ids} set {key} to the placeholder {placeholder!r} left by the PHP plugin's "
                    "install; uiconfig overrides lms.ini, so the real value in lms.ini is ignored. Set the real "
                    "value in that row, or disable or delete it"
                )
            ini_value = host.ini_config.get(key)
            others = [r for r in rows if r not in stale and ini_value is not None and r["value"] != ini_value]
            if others:
                ids = ", ".join(f"#{r['id']}" for r in others)
                warnings.append(f"uiconfig row(s) {ids} override {key} of lms.ini with a different value")
        from lmsplugins.lms.customers import service_provider_id

        if service_provider_id(conn, PROVIDER_NAME) is None:
            warnings.append(f"service provider {PROVIDER_NAME!r} is missing; run 'lmsplugins db upgrade'")
    return warnings


COUNTER_LABELS = {
    "customers_bound": "Users bound to a customer in this run",
    "customers_already_bound": "Users already bound",
    "customers_not_bound": "Users not bound (no matching customer)",
    "customers_ambiguous": "Users matching several customers",
    "accounts_of_unbound_users": "SIM accounts of unbound users (skipped)",
    "accounts_conflict": "SIM accounts held by another customer",
    "numbers_linked": "Numbers linked to the MVNO tariff",
    "numbers_without_tariff": "Numbers whose customer has no MVNO tariff",
    "cdrs": "Billing records stored",
    "cdrs_api": "Billing records read from the API",
    "cdrs_orphan": "Billing records without an account (not imported)",
    "cdrs_bad": "Billing records that could not be stored",
    "api_requests": "API requests",
}
"""Job counters as the job run page labels them (Polish in ``messages.py``)."""


plugin = Plugin(
    name="metroport_mvno",
    title="Metroport MVNO",
    lms_class="LMSMetroportMVNOPlugin",
    version="1.2.0",
    db_version="2023050400",
    description="Mobile (MVNO) subscribers of Metroport MMSC: customer binding, SIM accounts, billing records.",
    settings=[
        Setting("metroportmvno.api_url", "str", default=DEFAULT_API_URL, description="API base URL"),
        Setting("metroportmvno.api_login", "str", default="", description="API login"),
        Setting("metroportmvno.api_password", "str", default="", secret=True, description="API password"),
        Setting(
            "metroportmvno.tariff_tag",
            "str",
            default=DEFAULT_TAG,
            description="Tariff tag of MVNO tariffs: their customers' records are imported",
        ),
        Setting(
            "metroportmvno.verify_tls",
            "bool",
            default=True,
            description="Verify the API's TLS certificate (the PHP plugin never did)",
        ),
        Setting(
            "metroportmvno.timezone",
            "str",
            default="Europe/Warsaw",
            description="Time zone of the API's dates (period bounds and call dates)",
        ),
        Setting(
            "metroportmvno.link_numbers",
            "bool",
            default=False,
            description="Link synchronized numbers to the customer's MVNO-tagged phone tariff assignment, so "
            "lms-payments invoices the imported records",
        ),
    ],
    permissions=[
        Permission("metroportmvno_read", "Metroport MVNO: read"),
        Permission("metroportmvno_manage", "Metroport MVNO: manage (synchronize, upload price lists)"),
    ],
    cli=deferred(f"{__package__}.jobs:cli"),
    blueprint=deferred(f"{__package__}.views:blueprint"),
    menu=[MenuEntry("Metroport MVNO: unbound users", "metroport_mvno.unbound", permission="metroportmvno_read")],
    panels=[
        Panel(
            "metroport-mvno",
            "Metroport MVNO",
            deferred_call(f"{__package__}.views:customer_panel"),
            permission="metroportmvno_read",
        )
    ],
    simulator=deferred_call(f"{__package__}.simulator:make_app"),
    demo=_demo,
    checks=_checks,
    attention=deferred_call(f"{__package__}.operator:attention"),
    connection_test=deferred_call(f"{__package__}.operator:connection_test"),
    counter_labels=COUNTER_LABELS,
    bin_scripts={"lms-metroportmvno-sync": ["metroport-mvno", "sync"]},
)
