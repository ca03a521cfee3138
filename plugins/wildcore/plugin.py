"""Declaration of the Wildcore DMS plugin (issue 14, spec userside_wildcore.md §3–§7).

Two directions, one plugin:

- LMS -> Wildcore: the MikBill feed Wildcore's ``mikbill_integration`` pulls (``feed.py``), under
  ``/wildcore/mikbill`` of the panels' prefix, with the key in ``wildcore.feed_key``;
- Wildcore -> LMS: ONU and switch-port diagnostics on the customer card (``views.py``), read from
  Wildcore's REST API at ``wildcore.api_url`` with the key ``wildcore.api_key``.

The PHP world had no LMS plugin for Wildcore, so there is no PHP schema to take over; the class name
and schema version are this plugin's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lmsplugins.plugin import MenuEntry, Panel, Permission, Plugin, Setting, deferred, deferred_call

if TYPE_CHECKING:
    from lmsplugins.host import Host

READ = "wildcore_read"
MIN_KEY_LENGTH = 16


def _checks(host: Host) -> list[str]:
    config = host.config()
    warnings = []
    key = config.get("wildcore.feed_key") or ""
    if not key:
        warnings.append("wildcore.feed_key is not set: the MikBill feed for Wildcore answers 403 to everyone")
    elif len(key) < MIN_KEY_LENGTH:
        warnings.append(
            f"wildcore.feed_key is shorter than {MIN_KEY_LENGTH} characters: it guards the whole customer base"
        )
    if not config.get("wildcore.lms_url"):
        warnings.append("wildcore.lms_url is not set: Wildcore's billing links cannot lead to LMS's customer card")
    return warnings


SETTINGS = [
    Setting(
        "wildcore.feed_key",
        "str",
        default="",
        secret=True,
        description="Key Wildcore sends as MIKBILL_AUTH_KEY when it pulls the feed (unset: the feed is off)",
    ),
    Setting(
        "wildcore.feed_allow",
        "str",
        default="",
        description="Addresses or networks allowed to pull the feed (comma-separated; empty: any)",
    ),
    Setting(
        "wildcore.lms_url",
        "str",
        default="",
        description="LMS's URL (https://lms.example.com/): Wildcore's billing links redirect to its customer card",
    ),
    Setting("wildcore.api_url", "str", default="", description="Wildcore's address, e.g. https://wildcore.example.com"),
    Setting(
        "wildcore.api_key",
        "str",
        default="",
        secret=True,
        description="Wildcore API key (X-Auth-Key) of a user with diag_interface, olts_info, switches_info",
    ),
    Setting("wildcore.timeout", "int", default=5, description="Seconds one call to Wildcore may take"),
    Setting("wildcore.cache_seconds", "int", default=60, description="Seconds a diagnostics answer is reused"),
    Setting("wildcore.verify_tls", "bool", default=True, description="Verify Wildcore's TLS certificate"),
]

plugin = Plugin(
    name="wildcore",
    title="Wildcore DMS",
    lms_class="LMSWildcorePlugin",
    version="1.0.0",
    db_version="2026120700",
    description="Wildcore DMS: MikBill-style customer feed for ONU/port binding, diagnostics on the customer card.",
    settings=SETTINGS,
    permissions=[Permission(READ, "Wildcore: diagnostics and matching problems")],
    cli=deferred(f"{__package__}.jobs:cli"),
    blueprint=deferred(f"{__package__}.views:blueprint"),
    menu=[MenuEntry("Wildcore: unmatched and duplicates", "wildcore.problems", permission=READ)],
    panels=[Panel("wildcore", "Wildcore", deferred_call(f"{__package__}.views:customer_panel"), permission=READ)],
    tables=deferred(f"{__package__}.tables:TABLES"),
    simulator=deferred_call(f"{__package__}.simulator:make_app"),
    demo=deferred_call(f"{__package__}.demo:run_demo"),
    checks=_checks,
)
