"""Declaration of the example plugin: copy this folder to start a new integration.

Everything a plugin offers is declared here; the heavy parts (click group, blueprint, simulator) are
referenced through small factories so the host imports them only when it needs them.
"""

from __future__ import annotations

from lmsplugins.plugin import MenuEntry, NotifyAction, Panel, Permission, Plugin, Setting


def _cli():
    from .jobs import cli

    return cli


def _blueprint():
    from .views import blueprint

    return blueprint


def _tables():
    from .tables import example_notes

    return [example_notes]


def _simulator(**kwargs):
    from .simulator import make_app

    return make_app(**kwargs)


def _panel(host, customer_id):
    from .views import customer_panel

    return customer_panel(host, customer_id)


def _demo(ctx):
    ctx.set_setting("example.api_url", ctx.simulator_url or "")
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
    cli=_cli,
    blueprint=_blueprint,
    menu=[MenuEntry("Example notes", "example.index", permission="example_read")],
    panels=[Panel("example-notes", "Example notes", _panel, permission="example_read")],
    notify_actions=[NotifyAction("example-flag", _block, _unblock, params=0, description="Flag notes as blocked")],
    tables=_tables,
    simulator=_simulator,
    demo=_demo,
)
