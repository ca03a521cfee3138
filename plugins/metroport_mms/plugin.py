"""Declaration of the Metroport MMS plugin (F-Secure and MetroTV), the drop-in for PHP's LMSMetroportPlugin.

The settings are the PHP plugin's keys in section ``metroport`` with its code fallbacks (spec §1), plus
``verify_tls`` (on unless switched off). The schema version and ``dbinfo`` key are the PHP plugin's
(``dbversion_LMSMetroportPlugin`` = 2026032302), so a database where it ran is used as it is.
Every extension point is named through ``deferred`` or a small function: the client, jobs and simulator
are imported only when used.
"""

from __future__ import annotations

from typing import Any

from lmsplugins.plugin import (
    DemoContext,
    MenuEntry,
    NotifyAction,
    Panel,
    Permission,
    Plugin,
    Setting,
    deferred,
    deferred_call,
)

DB_VERSION = "2026032302"
DEFAULT_API_URL = "https://api.mmsc.metroport.pl"
PERM_READ = "metroport_readonly"
PERM_WRITE = "metroportcustomerupdate_ajax"
PERM_TEST = "metroportconnectiontest"
PERM_FSECURE_ACTION = "metroportfsecureservicesaction"
PERM_TV_READ = "metroport_metrotv_read"
PERM_TV_WRITE = "metroport_metrotv_write"


def _lock_action(name: str, description: str) -> NotifyAction:
    def block(host: Any, conn: Any, ids: Any, _param: Any) -> int:
        from .notify import run_named

        return run_named(name, host, conn, ids, True)

    def unblock(host: Any, conn: Any, ids: Any, _param: Any) -> int:
        from .notify import run_named

        return run_named(name, host, conn, ids, False)

    return NotifyAction(name, block, unblock, description=description, dry_run=True)


def _demo(ctx: DemoContext) -> None:
    """Point the settings at the simulator; send a few demo customers to MMS the way an operator does
    (``add-customer``), give them a licence and a TV account there, then run the four cron jobs."""
    from sqlalchemy import select

    from lmsplugins.lms.customers import TYPE_COMPANY, TYPE_PRIVATE, normalize_ssn, normalize_ten
    from lmsplugins.lms.tables import customers

    for key, value in ctx.simulator_settings.items():
        ctx.set_setting(key, value)
    with ctx.host.engine.connect() as conn:
        rows = conn.execute(
            select(customers.c.id, customers.c.type, customers.c.ssn, customers.c.ten)
            .where(customers.c.deleted == 0)
            .order_by(customers.c.id)
        ).all()
    chosen = [
        r.id
        for r in rows
        if (r.type == TYPE_PRIVATE and normalize_ssn(r.ssn)) or (r.type == TYPE_COMPANY and normalize_ten(r.ten))
    ][:6]
    for cid in chosen:
        ctx.run(["metroport-mms", "add-customer", str(cid)])
    _demo_services(ctx)
    for command in ("customer-update", "fsecure-packages-update", "metrotv-packages-update", "metrotv-stb-list-update"):
        ctx.run(["metroport-mms", command, "-q"])


def _demo_services(ctx: DemoContext) -> None:
    from .client import MMSClient
    from .store import DbTokenStore, pairs

    with ctx.host.engine.connect() as conn:
        paired = pairs(conn)
    client = MMSClient.from_settings(ctx.host.plugin_settings(plugin), DbTokenStore(ctx.host.engine))
    with client:
        networks = client.networks()
        warehouse = [s for s in client.stbs() if int(s.get("status") or 0) == 1]
        for n, (userid, _cid) in enumerate(paired):
            client.fsecure_add(userid, 12, 3)
            if n % 2 or not networks:
                continue
            client.tv_account_add({"userid": userid, "iptv_networkid": networks[0]["id"]})
            account = client.tv_accounts(userid)[-1]
            order = client.order_add(int(account["id"]), 101, "29.99")
            if warehouse:
                stb = warehouse.pop(0)
                client.stb_link(int(account["id"]), int(order["id"]), int(networks[0]["id"]), stb["mac"])


PLACEHOLDERS = {"api_login": "loginki", "api_pass": "pass"}
"""What the PHP install seeds into ``uiconfig`` for the credentials (enabled rows override lms.ini)."""


def _checks(host: Any) -> list[str]:
    """Spec §1/§2: the PHP install's enabled placeholder credentials override lms.ini, and its seeded
    ``serwer_url`` has no scheme (no HTTP client can use it)."""
    from lmsplugins.lms.settings import read_uiconfig

    warnings: list[str] = []
    with host.engine.connect() as conn:
        for var, placeholder in PLACEHOLDERS.items():
            stale = [
                r
                for r in read_uiconfig(conn, f"metroport.{var}")
                if not r["disabled"] and (r["value"] or "").strip() == placeholder
            ]
            if stale:
                ids = ", ".join(f"#{r['id']}" for r in stale)
                warnings.append(
                    f"uiconfig row(s) {ids} set metroport.{var} to the PHP install's placeholder {placeholder!r}; "
                    "uiconfig overrides lms.ini: set the real value there, or disable the row"
                )
        for row in read_uiconfig(conn, "metroport.serwer_url"):
            value = (row["value"] or "").strip()
            if not row["disabled"] and value and not value.lower().startswith(("http://", "https://")):
                warnings.append(
                    f"uiconfig row #{row['id']} metroport.serwer_url = {value!r} has no scheme; use https://{value}"
                )
    return warnings


SETTINGS = [
    Setting("metroport.serwer_url", "str", default="", description="API base URL, with https://"),
    Setting("metroport.api_login", "str", default="", description="MMS operator login"),
    Setting("metroport.api_pass", "str", default="", secret=True, description="MMS operator password"),
    Setting(
        "metroport.api_token_expiration_time",
        "int",
        default=12000,
        description="Seconds a session (sess_ci) is reused after its login, less 30 s",
    ),
    Setting(
        "metroport.automatically_update_customer_data",
        "str",
        default="",
        description="'true': 'metroport-mms push-customers' sends changes of paired customers to MMS",
    ),
    Setting(
        "metroport.metrotv_suspend_billing",
        "str",
        default="",
        description="'1': a MetroTV lock also suspends the customer's MetroTV assignments",
    ),
    Setting(
        "metroport.fsecure_suspend_billing",
        "str",
        default="",
        description="'1': an F-Secure lock also suspends the customer's F-Secure assignments",
    ),
    Setting("metroport.list_pagelimit", "int", default=100, description="Rows per page of the lists"),
    Setting("metroport.show_fsecure_in_customer_tab", "str", default="1", description="'0' hides the F-Secure box"),
    Setting("metroport.show_metrotv_in_customer_tab", "str", default="1", description="'0' hides the MetroTV box"),
    Setting("metroport.verify_tls", "bool", default=True, description="Verify the API's TLS certificate"),
    Setting(
        "metroport.metrotv_tariff_tag",
        "str",
        default="metroport-metrotv",
        description="Tariff tag of MetroTV tariffs (their assignments are suspended while MetroTV is locked)",
    ),
    Setting(
        "metroport.fsecure_tariff_tag",
        "str",
        default="metroport-fsecure",
        description="Tariff tag of F-Secure tariffs (their assignments are suspended while F-Secure is locked)",
    ),
]

plugin = Plugin(
    name="metroport_mms",
    title="Metroport MMS",
    lms_class="LMSMetroportPlugin",
    version="1.0.0",
    db_version=DB_VERSION,
    description="Metroport MMS: F-Secure licences and MetroTV IPTV (pairing, package and STB mirrors, debtor locks).",
    settings=SETTINGS,
    tables=deferred(f"{__package__}.tables:TABLES"),
    cli=deferred(f"{__package__}.jobs:cli"),
    blueprint=deferred(f"{__package__}.views:blueprint"),
    permissions=[
        Permission(PERM_READ, "Metroport: read (MMS users, customer card)"),
        Permission(PERM_WRITE, "Metroport: add and update customers in MMS, F-Secure actions"),
        Permission(PERM_TEST, "Metroport: connection test"),
        Permission("metroportfsecureservicelist", "Metroport: F-Secure packages"),
        Permission("metroportfsecureclientslist", "Metroport: F-Secure clients"),
        Permission("metroportfsecureoperationlist", "Metroport: F-Secure operations"),
        Permission(PERM_FSECURE_ACTION, "Metroport: F-Secure licence actions"),
        Permission(PERM_TV_READ, "Metroport: MetroTV read"),
        Permission(PERM_TV_WRITE, "Metroport: MetroTV write (accounts, packages, STB)"),
    ],
    menu=[
        MenuEntry("Metroport: MMS users", "metroport_mms.users", permission=(PERM_READ, PERM_WRITE), order=12),
        MenuEntry(
            "F-Secure: packages",
            "metroport_mms.fsecure_packages",
            permission=("metroportfsecureservicelist", PERM_WRITE),
            order=12,
        ),
        MenuEntry(
            "F-Secure: clients",
            "metroport_mms.fsecure_clients",
            permission=("metroportfsecureclientslist", PERM_WRITE),
            order=12,
        ),
        MenuEntry(
            "F-Secure: operations",
            "metroport_mms.fsecure_operations",
            permission=("metroportfsecureoperationlist", PERM_WRITE),
            order=12,
        ),
        MenuEntry("MetroTV: packages", "metroport_mms.tv_packages", permission=(PERM_TV_READ, PERM_TV_WRITE), order=12),
        MenuEntry("MetroTV: subnets", "metroport_mms.tv_networks", permission=(PERM_TV_READ, PERM_TV_WRITE), order=12),
        MenuEntry(
            "MetroTV: STB models", "metroport_mms.tv_stb_models", permission=(PERM_TV_READ, PERM_TV_WRITE), order=12
        ),
        MenuEntry("MetroTV: STB", "metroport_mms.tv_stbs", permission=(PERM_TV_READ, PERM_TV_WRITE), order=12),
        MenuEntry("MetroTV: accounts", "metroport_mms.tv_accounts", permission=(PERM_TV_READ, PERM_TV_WRITE), order=12),
        MenuEntry("Metroport: connection test", "metroport_mms.connection_test", permission=PERM_TEST, order=12),
    ],
    panels=[
        Panel(
            "metroport-mms",
            "Metroport (F-Secure, MetroTV)",
            deferred_call(f"{__package__}.views:customer_panel"),
            permission=(PERM_READ, PERM_WRITE),
        )
    ],
    notify_actions=[
        _lock_action("metrotv-locks", "Block/unblock the customers' MetroTV accounts at Metroport MMS"),
        _lock_action("metrofsecure-locks", "Block/unblock the customers' F-Secure licences at Metroport MMS"),
    ],
    simulator=deferred_call(f"{__package__}.simulator:make_app"),
    demo=_demo,
    checks=_checks,
    bin_scripts={
        "metroport_customer_update": ["metroport-mms", "customer-update"],
        "metroport_fsecure_packages_update": ["metroport-mms", "fsecure-packages-update"],
        "metroport_metrotv_packages_update": ["metroport-mms", "metrotv-packages-update"],
        "metroport_metrotv_stb_list_update": ["metroport-mms", "metrotv-stb-list-update"],
    },
)
