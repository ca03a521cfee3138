"""The example cron job: ``lmsplugins example sync`` (flags -> client -> mapping -> tables).

It shows the shape every job follows: validate before touching anything, then chunks of work in
transactions owned by the job runner, counters, progress and the run record.
"""

from __future__ import annotations

import sys
import time

import click
from sqlalchemy import func, select

from lmsplugins.cli import config_option, get_host
from lmsplugins.db import upsert
from lmsplugins.errors import UsageError
from lmsplugins.jobs import Job, run_job
from lmsplugins.lms.tables import customers

from .client import GreetingClient
from .tables import example_notes


@click.group("example")
def cli() -> None:
    """Example plugin: greetings for every customer."""


@cli.command("sync")
@config_option
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--test", is_flag=True, help="Roll every change back.")
@click.option("--limit", type=click.IntRange(max=2**31 - 1), default=None, help="Only the first N customers.")
def sync(quiet: bool, test: bool, limit: int | None) -> None:
    """Fetch a greeting for each active customer and store it in example_notes."""
    host = get_host()
    plugin = host.plugin("example")
    state: dict = {}

    def validate() -> None:
        if limit is not None and limit < 1:
            raise UsageError("--limit must be at least 1")
        assert plugin is not None
        state["settings"] = host.plugin_settings(plugin)

    def body(job: Job) -> None:
        settings = state["settings"]
        client = GreetingClient(settings["example.api_url"], settings["example.api_token"])
        batch = max(1, settings["example.batch_size"])
        with host.engine.connect() as conn:
            query = select(customers.c.id).where(customers.c.deleted == 0).order_by(customers.c.id)
            total = conn.execute(select(func.count()).select_from(customers).where(customers.c.deleted == 0)).scalar()
            ids = [r.id for r in conn.execute(query.limit(limit) if limit else query)]
        with job.progress("greetings", total=min(total or 0, limit or total or 0)) as bar:
            for start in range(0, len(ids), batch):
                chunk_ids = ids[start : start + batch]
                greetings = client.greetings(chunk_ids)
                rows = [
                    {"customerid": cid, "greeting": greetings[cid], "blocked": 0, "mtime": int(time.time())}
                    for cid in chunk_ids
                    if cid in greetings
                ]
                for cid in chunk_ids:
                    if cid not in greetings:
                        job.fail(f"no greeting returned for customer #{cid}")
                with job.chunk() as conn:
                    upsert(conn, example_notes, rows, key=["customerid"], update=["greeting", "mtime"])
                job.count("notes", len(rows))
                bar.advance(len(chunk_ids))

    sys.exit(run_job(host, "example.sync", body, test=test, quiet=quiet, validate=validate))
