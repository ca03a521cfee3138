"""Declaration of the Hiperus C5 plugin, the drop-in for PHP's LMSHiperusPlugin (spec hiperus_c5.md §1).

The settings are the PHP plugin's keys in section ``hiperus_c5`` with its defaults, plus what the
Python side needs to run unattended (endpoint, time zone of the platform's timestamps, request
throttle, billing chunk size, a state directory for the throttle file). The web part (``blueprint``,
``menu``, ``panels``) lives in ``views.py``; every extension point is named through ``deferred`` or
a small function, so the web code is imported only by the web host.
"""

from __future__ import annotations

from typing import Any

from lmsplugins.plugin import DemoContext, MenuEntry, Panel, Permission, Plugin, Setting, deferred, deferred_call

DEFAULT_ENDPOINT = "https://backend.hiperus.pl:8080/hiperusapi.php"

SUBSCRIPTION_COMMENT = "Abonament VoIP: %pricelist %numbers za okres %month_name %year"
CALL_COMMENT = "Kosz rozmów poza abonamentem %pricelist %numbers za okres %month_name %year"


READ = ("hiperus_read_only", "hiperus_full_access")


def _simulator(**kwargs: Any) -> Any:
    """The simulated platform. Its request limit is off unless asked for, so the demo does not wait
    out 7-calls-per-5-seconds windows; the client's own throttle is tested against it separately."""
    from .simulator import make_app

    kwargs.setdefault("rate_limit", None)
    return make_app(**kwargs)


def _demo(ctx: DemoContext) -> None:
    from datetime import date, timedelta

    for key, value in (
        *ctx.simulator_settings.items(),
        ("hiperus_c5.invoice_source", "2"),
        ("hiperus_c5.state_dir", str(ctx.data_dir)),
        ("hiperus_c5.throttle_calls", "100"),
        ("hiperus_c5.throttle_period", "1"),
    ):
        ctx.set_setting(key, value)
    first_of_month = date.today().replace(day=1)
    last_month_start = (first_of_month - timedelta(days=1)).replace(day=1)
    ctx.run(["hiperus-c5", "import", "--all"])
    ctx.run(
        [
            "hiperus-c5",
            "import",
            "--billing",
            "--billing-type=all",
            "--billing-success=all",
            f"--billing-from={last_month_start:%Y/%m/%d}",
            f"--billing-to={date.today():%Y/%m/%d}",
        ]
    )
    ctx.run(["hiperus-c5", "invoice"])


COUNTER_LABELS = {
    "accounts": "VoIP accounts",
    "terminals": "Terminals",
    "numbers": "Numbers",
    "cdrs": "Call records stored",
    "cdrs_without_terminal": "Call records without a terminal",
    "cdrs_unknown_terminal": "Call records of an unknown terminal",
    "invoices": "Invoices issued",
    "lines": "Invoice lines",
    "already_invoiced": "Already invoiced (skipped)",
    "api_calls": "API calls",
}
"""Job counters as the job run page labels them (Polish in ``messages.py``)."""


plugin = Plugin(
    name="hiperus_c5",
    title="Hiperus C5",
    lms_class="LMSHiperusPlugin",
    version="1.0.0",
    db_version="2017011900",
    description="VoIP accounts, terminals, numbers and calls of the Hiperus C5 platform; invoices for the calls.",
    settings=[
        Setting("hiperus_c5.username", "str", default="", description="API login (reseller user name)"),
        Setting("hiperus_c5.password", "str", default="", secret=True, description="API password"),
        Setting("hiperus_c5.domain", "str", default="", description="Reseller's platform domain"),
        Setting("hiperus_c5.api_url", "str", default=DEFAULT_ENDPOINT, description="hiperusapi.php endpoint"),
        Setting(
            "hiperus_c5.timezone",
            "str",
            default="Europe/Warsaw",
            description="Time zone of the platform's timestamps (CDR start times) and of billing dates",
        ),
        Setting("hiperus_c5.throttle_calls", "int", default=7, description="At most this many API calls ..."),
        Setting("hiperus_c5.throttle_period", "int", default=5, description="... in this many seconds"),
        Setting(
            "hiperus_c5.billing_chunk_months",
            "int",
            default=6,
            description="CDR ranges are fetched in "
            "pieces of this many months (the platform slows down on long ranges; 6 recommended)",
        ),
        Setting(
            "hiperus_c5.state_dir",
            "str",
            default="/var/tmp/lmsplugins",
            description="Directory for the throttle file shared by cron and web",
        ),
        Setting(
            "hiperus_c5.add_new_invoices",
            "bool",
            default=True,
            description="false: append to this month's invoice of the customer",
        ),
        Setting(
            "hiperus_c5.invoice_source",
            "str",
            default="0",
            choices=("0", "1", "2"),
            description="Who invoices accounts the platform flags issue_invoice: 1 Hiperus, 2 LMS",
        ),
        Setting("hiperus_c5.leftmonth", "int", default=1, description="Default for invoice --leftmonth"),
        Setting("hiperus_c5.taxrate", "str", default="", description="VAT %; default phpui.default_taxrate, else 23"),
        Setting("hiperus_c5.numberplanid", "int", default=None, description="Number plan of generated invoices"),
        Setting("hiperus_c5.prodid", "str", default="", description="PKWiU code on invoice lines"),
        Setting("hiperus_c5.content", "str", default="szt", description="Unit on invoice lines"),
        Setting("hiperus_c5.invoice_subscription_comment", "str", default=SUBSCRIPTION_COMMENT),
        Setting("hiperus_c5.invoice_call_comment", "str", default=CALL_COMMENT),
        Setting("hiperus_c5.number_manually", "bool", default=True),
        Setting("hiperus_c5.force_relationship", "bool", default=False),
        Setting("hiperus_c5.wlr", "bool", default=False, description="Written by import --wlr"),
        Setting("hiperus_c5.voip_services", "bool", default=False, description="Written by import --wlr"),
        Setting("hiperus_c5.default_location", "int", default=None),
        Setting("hiperus_c5.default_terminal_username", "str", default=""),
        Setting("hiperus_c5.accountlist_pagelimit", "int", default=50),
        Setting("hiperus_c5.terminallist_pagelimit", "int", default=50),
        Setting("hiperus_c5.hide_passwords", "bool", default=False),
        Setting("userpanel.hide_c5_passwd", "bool", default=False),
    ],
    permissions=[
        Permission("hiperus_full_access", "Hiperus C5: full access"),
        Permission("hiperus_read_only", "Hiperus C5: read only (lists, info, billing, ranges, search)"),
    ],
    cli=deferred(f"{__package__}.jobs:cli"),
    blueprint=deferred(f"{__package__}.views:blueprint"),
    menu=[
        MenuEntry("Hiperus C5: accounts", "hiperus_c5.accounts", permission=READ, order=40),
        MenuEntry("Hiperus C5: new account", "hiperus_c5.account_add", permission="hiperus_full_access", order=41),
        MenuEntry("Hiperus C5: numbers", "hiperus_c5.numbers", permission=READ, order=42),
        MenuEntry("Hiperus C5: terminals", "hiperus_c5.terminals", permission=READ, order=43),
    ],
    panels=[
        Panel(
            "hiperus-c5",
            "Hiperus C5 VoIP",
            deferred_call(f"{__package__}.views:customer_panel"),
            permission=READ,
            order=40,
        )
    ],
    tables=deferred(f"{__package__}.tables:ALL_TABLES"),
    simulator=_simulator,
    demo=_demo,
    attention=deferred_call(f"{__package__}.operator:attention"),
    connection_test=deferred_call(f"{__package__}.operator:connection_test"),
    counter_labels=COUNTER_LABELS,
    bin_scripts={
        "lms_hiperus_c5_import": ["hiperus-c5", "import"],
        "lms_hiperus_c5_invoice": ["hiperus-c5", "invoice"],
    },
)
