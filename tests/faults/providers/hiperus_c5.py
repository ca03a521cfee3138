"""Hiperus C5 in the fault matrix: ``hiperus-c5 import -a -b`` (every step and three days of CDRs).

The faults map onto the simulator's own switches (:class:`plugins.hiperus_c5.simulator.Faults`); a
timeout is a platform slower than the retry budget, which the fault run sets to one second.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from fault_matrix import REPO, Declaration

from lmsplugins.host import Host
from plugins.hiperus_c5.simulator import Scale

sys.path.insert(0, str(REPO / "tests" / "plugins" / "hiperus_c5"))
import hiperus_env

ARGV = ("hiperus-c5", "import", "-a", "-b", "-F", "2024/01/01", "-T", "2024/01/03", "-Y", "all")

TABLES = {
    "hv_customers": "SELECT * FROM hv_customers",
    "hv_assign": "SELECT customerid, keytype, keyvalue FROM hv_assign",
    "hv_terminal": "SELECT * FROM hv_terminal",
    "hv_pstn": "SELECT * FROM hv_pstn",
    "hv_pstnrange": "SELECT * FROM hv_pstnrange",
    "hv_pstnusage": "SELECT * FROM hv_pstnusage",
    "hv_enduserlist": "SELECT * FROM hv_enduserlist",
    "hv_pricelist": "SELECT * FROM hv_pricelist",
    "hv_subscriptionlist": "SELECT * FROM hv_subscriptionlist",
    "hv_billing": "SELECT * FROM hv_billing",
}

_SWITCHES: dict[str, dict] = {
    "timeout": {"latency": 2.0},
    "http_5xx": {"http_5xx": 2},
    "rate_limit_429": {"http_429": 2, "retry_after": 1},
    "truncated_body": {"truncate": 1, "truncate_after_rows": 25},
    "malformed_body": {"malformed": 1},
    "error_body": {"soap_fault": 1},
    "session_expired": {"expire_session_in": 12},
}


@dataclass
class HiperusProvider:
    env: hiperus_env.Env

    def inject(self, fault: str) -> None:
        if fault == "timeout":
            self.env.host.set_uiconfig("lmsplugins.http_retry_budget", "1")
        self.env.sim.faults.update(_SWITCHES[fault])

    def clear(self) -> None:
        self.env.host.set_uiconfig("lmsplugins.http_retry_budget", "120")
        self.env.sim.faults.restore_defaults()

    def change(self) -> None:
        """One account renamed, one terminal (and its number) gone, other CDR values."""
        state = self.env.sim.state
        first = min(state.customers)
        state.customers[first]["name"] = "Zmieniona Nazwa Sp. z o.o."
        gone = max(state.terminals)
        username = state.terminals.pop(gone)["username"]
        for key in [k for k, e in state.extensions.items() if e["terminal_name"] == username]:
            del state.extensions[key]
        self.env.sim.cdrs.seed += 1

    def stop(self) -> None:
        self.env.server.stop()


def start(host: Host, tmp_path: Path) -> HiperusProvider:
    scale = Scale(customers=5, terminals_per_customer=2, ranges=1, range_size=30, cdrs_per_day=40)
    return HiperusProvider(hiperus_env.make_env(host, tmp_path, scale=scale, install=False, seed=4))


DECLARATION = Declaration(
    plugin="hiperus_c5",
    argv=ARGV,
    tables=TABLES,
    start=start,
    committed_in_parts=frozenset({"hv_billing"}),
    pause_table="hv_assign",
    bad_cli=(
        ("hiperus-c5", "import", "-b", "-F", "2024/13/45", "-T", "2024/01/03"),
        ("hiperus-c5", "import"),
        ("hiperus-c5", "import", "-b", "-Y", "bogus"),
        ("hiperus-c5", "import", "-b", "-F", "2024/01/05", "-T", "2024/01/01"),
    ),
    not_applicable={"bad_csv": "no Hiperus C5 job reads a CSV file"},
)
