"""Metroport MVNO in the fault matrix: ``metroport-mvno sync --customers --accounts --billings``.

LMS customers carrying the simulator users' identities and a tagged phone tariff are seeded the way
the plugin's own tests seed them (``tests/plugins/metroport_mvno/mvno_env.py``). Surrogate ids
(``voipaccounts.id``, ``voip_numbers.id``, ``voip_cdr.id``) and clocks (``creationdate``, ``moddate``)
are left out of the checksums: a rolled-back transaction may have used sequence values, which changes
no row. Accounts are named by their ``extid`` (the provider's SIM id) instead.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fault_matrix import REPO, Declaration

from lmsplugins.host import Host

sys.path.insert(0, str(REPO / "tests" / "plugins" / "metroport_mvno"))
import mvno_env

PERIOD = ("-s", "2023-01-02", "-e", "2023-01-04 23:59:59")
ARGV = ("metroport-mvno", "sync", "--customers", "--accounts", "--billings", *PERIOD)

_ACCOUNT = "(SELECT a.extid FROM voipaccounts a WHERE a.id = {col})"
TABLES = {
    "customerextids": "SELECT customerid, extid, serviceproviderid FROM customerextids",
    "voipaccounts": (
        "SELECT ownerid, login, access, flags, cost_limit, description, serviceproviderid, extid FROM voipaccounts"
    ),
    "voip_numbers": (
        f"SELECT {_ACCOUNT.format(col='n.voip_account_id')}, n.phone, n.number_index, n.info, n.tariff_id "
        "FROM voip_numbers n"
    ),
    "voip_number_assignments": (
        "SELECT n.phone, x.assignment_id FROM voip_number_assignments x JOIN voip_numbers n ON n.id = x.number_id"
    ),
    "voip_cdr": (
        "SELECT caller, callee, call_start_time, totaltime, billedtime, price, status, direction, type, "
        f"{_ACCOUNT.format(col='callervoipaccountid')}, {_ACCOUNT.format(col='calleevoipaccountid')}, "
        "caller_flags, callee_flags, caller_prefix_group, callee_prefix_group, uniqueid, fraction, prefix, "
        "prefixname, incremental FROM voip_cdr"
    ),
}

_SWITCHES: dict[str, dict] = {
    "timeout": {"latency": 2.0},
    "http_5xx": {"http_5xx": 2},
    "rate_limit_429": {"rate_limit": 2, "retry_after": 1},
    "truncated_body": {"truncate": 1, "truncate_after_rows": 20},
    "malformed_body": {"malformed": 1, "malformed_body": '[3, [{"id": 1, "login": "x"'},
    "error_body": {"malformed": 1, "malformed_body": '{"status":false,"message":"Unexpected error"}'},
    "session_expired": {"expire_session": 1},
}


@dataclass
class MvnoProvider:
    env: mvno_env.Env

    def inject(self, fault: str) -> None:
        self.env.sim.faults.update(_SWITCHES[fault])

    def clear(self) -> None:
        self.env.sim.faults.restore_defaults()

    def change(self) -> None:
        """One SIM blocked, another deleted, and every billing record six hours earlier."""
        mobiles = self.env.sim.data.mobiles
        mobiles[0]["status"] = "blocked" if mobiles[0]["status"] != "blocked" else "active"
        mobiles[1]["status"] = "deleted"
        self.env.sim.data.epoch -= timedelta(hours=6)

    def stop(self) -> None:
        self.env.server.stop()


def start(host: Host, tmp_path: Path) -> MvnoProvider:
    env = mvno_env.make_env(host, install=False, users=8, mobiles_per_user=2, billings=60)
    mvno_env.seed_customers(env)
    return MvnoProvider(env)


def bad_csv(folder: Path) -> tuple[str, ...]:
    path = folder / "bad-prices.csv"
    path.write_text('prefix;name;price\n48;Polska\n4822;"Warszawa;0,10\n', encoding="utf-8")
    return (*ARGV, "--pricelist-file", str(path))


DECLARATION = Declaration(
    plugin="metroport_mvno",
    argv=ARGV,
    tables=TABLES,
    start=start,
    committed_in_parts=frozenset({"voip_cdr"}),
    pause_table="voip_number_assignments",
    bad_cli=(
        ("metroport-mvno", "sync", "--billings", "-s", "2023-02-30", "-e", "2023-03-01"),
        ("metroport-mvno", "sync", "--customers", "--customerid", "abc"),
        ("metroport-mvno", "sync", "--billings", "-m", "sideways"),
    ),
    bad_csv=bad_csv,
)
