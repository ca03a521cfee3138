"""Metroport MMS in the fault matrix (``tests/faults``): ``metroport-mms metrotv-stb-list-update``, the job
that writes the most (every STB, in batches inside one transaction).

The STBs of the simulator are the plugin's own test data (``mms_env``); between the old and the new run
the provider deletes one STB, adds two and changes another's description and MAC, so the new rows differ
from the old in every way the sync handles. The table is checksummed over all its columns (its id is the
provider's, not a surrogate).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from fault_matrix import REPO, Declaration

from lmsplugins.host import Host

sys.path.insert(0, str(REPO / "tests" / "plugins" / "metroport_mms"))
import mms_env

from plugins.metroport_mms.simdata import WAREHOUSE, Dataset, mac_of
from plugins.metroport_mms.tables import STB_COLUMNS

ARGV = ("metroport-mms", "metrotv-stb-list-update")
TABLES = {"metroport_metrotv_stb": f"SELECT id, {', '.join(STB_COLUMNS)} FROM metroport_metrotv_stb"}

_SWITCHES: dict[str, dict] = {
    "timeout": {"latency": 3.0},
    "http_5xx": {"http_5xx": 2},
    "rate_limit_429": {"rate_limit": 2, "retry_after": 1},
    "truncated_body": {"truncate": 1},
    "malformed_body": {"malformed": 1, "malformed_body": '[{"id": 20001, "mac": "00:1A:79:00:00:00"'},
    "error_body": {"malformed": 1, "malformed_body": '{"status":false,"message":"Unexpected error"}'},
    "session_expired": {"expire_session": 1},
}


@dataclass
class MmsProvider:
    env: mms_env.Env

    def inject(self, fault: str) -> None:
        self.env.sim.faults.update(_SWITCHES[fault])

    def clear(self) -> None:
        self.env.sim.faults.restore_defaults()

    def change(self) -> None:
        stbs = self.env.sim.data.stbs
        ids = sorted(stbs)
        del stbs[ids[0]]
        stbs[ids[1]]["description"] = "wymieniony zasilacz"
        stbs[ids[2]]["mac"] = mac_of(900_000)
        for n in range(2):
            sid = max(stbs) + 1
            stbs[sid] = Dataset._stb(sid, 1, f"SN-NEW-{n}", mac_of(910_000 + n), WAREHOUSE)

    def stop(self) -> None:
        self.env.server.stop()


def start(host: Host, _tmp_path: Path) -> MmsProvider:
    return MmsProvider(mms_env.make_env(host, install=False, users=10, stbs=300))


DECLARATION = Declaration(
    plugin="metroport_mms",
    argv=ARGV,
    tables=TABLES,
    start=start,
    pause_table="metroport_metrotv_stb",
    pause_after_writes=False,
    bad_cli=(
        ("metroport-mms", "add-customer", "abc"),
        ("metroport-mms", "update-customer", "0"),
        ("metroport-mms", "push-customers", "--since", "yesterday"),
    ),
    not_applicable={"bad_csv": "no job of this plugin reads a file"},
)
