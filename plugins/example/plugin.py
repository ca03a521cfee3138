"""Declaration of the example plugin: copy this folder to start a new integration.

Everything a plugin offers is declared here. The host declares every installed plugin, enabled or
not, so this file imports nothing heavy: the click group, blueprint, panel, tables and simulator are
named by ``"package.module:attr"`` strings (built on ``__package__``, so they follow the folder when
it is copied or installed elsewhere), which ``deferred`` (the object itself) and ``deferred_call`` (a
function called with the host's arguments) import only when the host uses them. Write a function
here only where the host's call needs adapting, as ``_demo`` and the notify actions do.
"""

from __future__ import annotations

from lmsplugins.plugin import MenuEntry, NotifyAction, Panel, Permission, Plugin, Setting, deferred, deferred_call


def _demo(ctx):
    for key, value in ctx.simulator_settings.items():
        ctx.set_setting(key, value)
    ctx.run(["example", "sync"])


def _block(host, conn, customer_ids, param):
    from .notify import set_flag

    return set_flag(conn, customer_ids, blocked=True)


def _unblock(host, conn, customer_ids, param):
    from .notify import set_flag

    return set_flag(conn, customer_ids, blocked=False)


plugin = Plugin(
    name="example",
    title="Example",
    lms_class="LMSExamplePlugin",
    version="1.0.0",
    db_version="2026112300",
    description="A template plugin: fetches greetings from its simulator and notes them per customer.",
    settings=[
        Setting("example.api_url", "str", default="http://127.0.0.1:8765", description="Greeting service URL"),
        Setting("example.api_token", "str", default="", secret=True, description="Token for the service"),
        Setting("example.batch_size", "int", default=500, description="Customers per transaction"),
        Setting("example.enabled_greetings", "bool", default=True, description="Fetch greetings at all"),
    ],
    permissions=[Permission("example_read", "See example notes")],
    counter_labels={"notes": "Notes stored"},
    cli=deferred(f"{__package__}.jobs:cli"),
    blueprint=deferred(f"{__package__}.views:blueprint"),
    menu=[MenuEntry("Example notes", "example.index", permission="example_read")],
    panels=[
        Panel(
            "example-notes",
            "Example notes",
            render=deferred_call(f"{__package__}.views:customer_panel"),
            permission="example_read",
        )
    ],
    notify_actions=[NotifyAction("example-flag", _block, _unblock, params=0, description="Flag notes as blocked")],
    tables=deferred(f"{__package__}.tables:TABLES"),
    simulator=deferred_call(f"{__package__}.simulator:make_app"),
    demo=_demo,
)
