"""``lmsplugins wildcore import-onus FILE``: fill ``wildcore_onus`` for ISPs that keep their ONUs outside
LMS's network devices (a GPON system's export, a spreadsheet).

The file is CSV (comma or semicolon), one ONU a line: ``customer_id,ident[,description]``; the ident is
an ONU serial or MAC in any usual spelling and is stored as the feed sends it. The whole file is
checked before anything is written (flags -> file -> customers): a bad line is named with its number
and the run exits 2 with the table as it was. ``--replace`` makes the table exactly the file's
content; without it, lines are added (a pair already there is left alone).
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy import delete, select, tuple_

from lmsplugins.cli import config_option, get_host
from lmsplugins.errors import UsageError
from lmsplugins.jobs import Job, run_job
from lmsplugins.lms.tables import customers

from . import mapping
from .tables import wildcore_onus

MAX_LINES = 1_000_000


@dataclass(frozen=True)
class OnuLine:
    line: int
    customer_id: int
    ident: str
    description: str


def parse_onus(text: str) -> list[OnuLine]:
    """The file's lines, validated; raises UsageError naming the first bad line."""
    dialect = ";" if text.count(";") > text.count(",") else ","
    out: list[OnuLine] = []
    for number, row in enumerate(csv.reader(text.splitlines(), delimiter=dialect), start=1):
        if not row or not "".join(row).strip() or row[0].strip().startswith("#"):
            continue
        if number == 1 and not row[0].strip().isdigit() and (len(row) < 2 or mapping.onu_ident(row[1]) is None):
            continue  # a header line
        if len(row) < 2:
            raise UsageError(f"line {number}: expected customer_id,ident[,description]")
        raw_id, raw_ident = row[0].strip(), row[1].strip()
        if not raw_id.isdigit() or int(raw_id) < 1:
            raise UsageError(f"line {number}: {raw_id[:40]!r} is not a customer id")
        ident = mapping.onu_ident(raw_ident)
        if ident is None:
            raise UsageError(f"line {number}: {raw_ident[:40]!r} is neither an ONU serial nor a MAC address")
        description = (row[2].strip() if len(row) > 2 else "")[:255]
        out.append(OnuLine(number, int(raw_id), ident, description))
        if len(out) > MAX_LINES:
            raise UsageError(f"more than {MAX_LINES} lines; split the file")
    return out


@click.group("wildcore", context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Wildcore DMS: ONUs kept outside LMS's network devices."""


@cli.command("import-onus")
@config_option
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Make the table exactly the file's content.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--test", is_flag=True, help="Roll every change back.")
def import_onus(path: Path, replace: bool, quiet: bool, test: bool) -> None:
    """Import customer_id,ident[,description] lines into wildcore_onus."""
    host = get_host()
    state: dict[str, list[OnuLine]] = {}

    def validate() -> None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path}: {exc.__class__.__name__}") from None
        lines = parse_onus(text)
        ids = sorted({line.customer_id for line in lines})
        with host.engine.connect() as conn:
            known: set[int] = set()
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                known.update(
                    conn.execute(
                        select(customers.c.id).where(customers.c.id.in_(chunk), customers.c.deleted == 0)
                    ).scalars()
                )
        missing = next((line for line in lines if line.customer_id not in known), None)
        if missing is not None:
            raise UsageError(f"line {missing.line}: no customer #{missing.customer_id} in LMS (or deleted)")
        state["lines"] = lines

    def body(job: Job) -> None:
        lines = state["lines"]
        wanted = {(line.customer_id, line.ident): line for line in lines}
        with job.chunk() as conn:
            present = {(r[0], r[1]) for r in conn.execute(select(wildcore_onus.c.customerid, wildcore_onus.c.ident))}
            if replace:
                gone = [pair for pair in present if pair not in wanted]
                for start in range(0, len(gone), 500):
                    part = gone[start : start + 500]
                    conn.execute(
                        delete(wildcore_onus).where(tuple_(wildcore_onus.c.customerid, wildcore_onus.c.ident).in_(part))
                    )
                job.count("removed", len(gone))
            new = [
                {"customerid": c, "ident": i, "description": line.description}
                for (c, i), line in wanted.items()
                if (c, i) not in present
            ]
            if new:
                conn.execute(wildcore_onus.insert(), new)
            job.count("added", len(new))

    sys.exit(run_job(host, "wildcore.import-onus", body, test=test, quiet=quiet, validate=validate))
