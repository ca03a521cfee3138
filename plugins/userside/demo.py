"""The demo ISP answers UserSide: a key is set, and one ``get_user_list`` is pulled over the WSGI app
as usm_billing would, so ``lmsplugins demo`` proves the API against the seeded customers."""

from __future__ import annotations

import json

from lmsplugins.plugin import DemoContext

DEMO_KEY = "demo-userside-key"


def run_demo(ctx: DemoContext) -> None:
    from lmsplugins.web import create_app

    ctx.set_setting("userside.api_key", DEMO_KEY)
    ctx.host.refresh_settings()
    app = create_app(ctx.host, TESTING=True)
    response = app.test_client().get(f"/userside/api?key={DEMO_KEY}&request=get_user_list")
    users = json.loads(response.data) if response.status_code == 200 else {}
    print(f"UserSide: get_user_list answered {response.status_code} with {len(users)} customers (key {DEMO_KEY})")
