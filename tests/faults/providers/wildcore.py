"""Wildcore DMS in the fault matrix: ``wildcore import-onus FILE --replace``.

The plugin's only job reads a CSV export and calls no provider (the Wildcore API is called by the web
card's diagnostics), so the provider faults do not apply to it; the process, database, concurrency,
command-line and CSV faults do. The "provider" here is the export file: :meth:`OnuExport.change`
rewrites it (some ONUs gone, others new), and the job is paused by holding the row lock of an ONU
the new file drops, so it waits inside its DELETE after deleting the rows before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fault_matrix import PROVIDER_FAULTS, Declaration

from lmsplugins.host import Host
from lmsplugins.lms.tables import customers

CUSTOMERS = 30
ONUS = 240
DROPPED = range(0, 60)
"""Lines of the first file missing from the changed one (their rows are deleted by --replace)."""


def mac(n: int) -> str:
    return f"02:00:00:00:{n // 256:02x}:{n % 256:02x}"


def lines(numbers: range | list[int], tag: str) -> str:
    return "customer_id;ident;description\n" + "".join(f"{n % CUSTOMERS + 1};{mac(n)};ONU {n} {tag}\n" for n in numbers)


@dataclass
class OnuExport:
    path: Path

    @property
    def argv(self) -> tuple[str, ...]:
        return ("wildcore", "import-onus", str(self.path), "--replace")

    def inject(self, fault: str) -> None:
        raise AssertionError(f"{fault} does not apply to a job that calls no provider")

    def clear(self) -> None:
        return None

    def change(self) -> None:
        kept = [n for n in range(ONUS) if n not in DROPPED]
        self.path.write_text(lines([*kept, *range(ONUS, ONUS + 40)], "b"), encoding="utf-8")

    def stop(self) -> None:
        return None


def start(host: Host, folder: Path) -> OnuExport:
    with host.engine.begin() as conn:
        for i in range(CUSTOMERS):
            conn.execute(
                customers.insert().values(
                    id=i + 1,
                    lastname=f"ONU CUSTOMER {i + 1}",
                    name="",
                    status=3,
                    type=0,
                    deleted=0,
                    creationdate=0,
                    moddate=0,
                )
            )
    path = folder / "onus.csv"
    path.write_text(lines(range(ONUS), "a"), encoding="utf-8")
    return OnuExport(path)


def bad_csv(folder: Path) -> tuple[str, ...]:
    path = folder / "bad-onus.csv"
    path.write_text("customer_id;ident\n1;02:00:00:00:00:01\n2;not-an-onu\n", encoding="utf-8")
    return ("wildcore", "import-onus", str(path), "--replace")


DECLARATION = Declaration(
    plugin="wildcore",
    argv=(),
    tables={"wildcore_onus": "SELECT customerid, ident, description FROM wildcore_onus"},
    start=start,
    pause_table="wildcore_onus",
    pause_sql=f"SELECT id FROM wildcore_onus WHERE description = 'ONU {DROPPED[len(DROPPED) // 2]} a' FOR UPDATE",
    bad_cli=(("wildcore", "import-onus", "/nonexistent/onus.csv"),),
    bad_csv=bad_csv,
    not_applicable=dict.fromkeys(PROVIDER_FAULTS, "the job reads a file and calls no provider"),
)
