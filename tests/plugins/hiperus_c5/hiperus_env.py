"""Shared set-up for the Hiperus C5 job tests: an LMS database with the plugin installed, the
simulator served on loopback, settings pointing at it, and a runner for ``lmsplugins`` commands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import select, text

from lmsplugins.cli import main
from lmsplugins.host import Host
from lmsplugins.simserver import RunningServer, serve
from lmsplugins.testing import databases as dbs
from plugins.hiperus_c5.simulator import HiperusSimulator, Scale, make_app

HV_TABLES = (
    "hv_customers",
    "hv_assign",
    "hv_terminal",
    "hv_pstn",
    "hv_pstnrange",
    "hv_pstnusage",
    "hv_enduserlist",
    "hv_pricelist",
    "hv_subscriptionlist",
    "hv_billing",
)


@dataclass
class Env:
    host: Host
    sim: HiperusSimulator
    server: RunningServer
    ini: Path

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["-C", str(self.ini), "hiperus-c5", *args], catch_exceptions=False)

    def counts(self) -> dict[str, int]:
        return {t: dbs.table_count(self.host, t) for t in HV_TABLES}

    def rows(self, table: Any, order: str = "id") -> list[dict]:
        with self.host.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(table).order_by(table.c[order])).mappings()]

    def sql(self, statement: str, **params: Any) -> list[Any]:
        with self.host.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return list(result) if result.returns_rows else []


def make_env(
    host: Host,
    tmp_path: Path,
    *,
    scale: Scale | None = None,
    install: bool = True,
    wrap: Callable[[Any], Any] | None = None,
    settings: dict[str, str] | None = None,
    seed: int = 1,
    **sim_options: Any,
) -> Env:
    if install:
        dbs.install(host, "hiperus_c5")
    sim_options.setdefault("rate_limit", None)
    sim = make_app(
        seed,
        scale or Scale(customers=6, terminals_per_customer=2, ranges=2, range_size=20, cdrs_per_day=10),
        **sim_options,
    )
    server = serve(wrap(sim) if wrap else sim)
    values = {
        "api_url": server.url + "/hiperusapi.php",
        "username": "reseller",
        "password": "secret",
        "domain": "demo.hiperus.pl",
        "state_dir": str(tmp_path / "state"),
        "throttle_calls": "1000",
        "throttle_period": "1",
        "invoice_source": "2",
        **(settings or {}),
    }
    for key, value in values.items():
        host.set_uiconfig(f"hiperus_c5.{key}", value)
    ini = Path(host.ini_config.path)
    return Env(host, sim, server, ini)


def count_actions(sim: HiperusSimulator, prefix: Sequence[str] = ()) -> int:
    return sum(v for k, v in sim.stats.items() if k.startswith("action:") and (not prefix or k[7:] in prefix))
