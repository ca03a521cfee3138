"""Worlds of the fault matrix: one simulator and one snapshot database per provider and database kind.

Why snapshots: every case starts from the same "old" database (a clean run done once) and the same
changed provider, so a case costs a database copy (SQLite backup, PostgreSQL ``TEMPLATE`` clone)
plus its two runs, and the whole tier stays within its CI budget. (A module of its own, not the
conftest, so the test module imports it by a name no other conftest shares.)
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fault_matrix import (
    Declaration,
    Provider,
    checksums,
    discover,
    one_clear_line,
    run_in_process,
    run_job,
    table_rows,
)
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from lmsplugins.host import Host
from lmsplugins.testing import databases as dbs

DECLARATIONS = discover()
_ids = itertools.count(1)


def _pg_admin(statement: str) -> None:
    p = dbs.pg_params()
    engine = create_engine(
        f"postgresql+psycopg://{p['user']}@{p['host']}:{p['port']}/postgres",
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
    )
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _pg_clone(name: str, template: str) -> None:
    """``CREATE DATABASE ... TEMPLATE``, by file copy where the server has it (PostgreSQL 15+): several
    times faster than 15's default of writing every page of the template to the WAL."""
    try:
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    except Exception:  # an older server without STRATEGY
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


@dataclass
class World:
    """One provider's simulator (changed after the old run), its snapshot database and the checksums."""

    decl: Declaration
    kind: str
    root: Path
    provider: Provider
    snapshot: str
    old: dict = field(default_factory=dict)
    new: dict = field(default_factory=dict)
    old_rows: dict = field(default_factory=dict)
    new_rows: dict = field(default_factory=dict)
    clones: list[str] = field(default_factory=list)

    @property
    def argv(self) -> tuple[str, ...]:
        return self.decl.job_argv(self.provider)

    def clean_run(self, ini: Path) -> None:
        """A run without faults that must succeed (set-up, reference, re-run)."""
        runner = run_in_process if self.kind == "sqlite" else run_job
        one_clear_line(runner(ini, self.argv), (0,))

    def clone(self, directory: Path) -> tuple[Host, Path]:
        """A fresh copy of the snapshot database (the old rows), as a Host and its lms.ini."""
        directory.mkdir(parents=True, exist_ok=True)
        if self.kind == "sqlite":
            target = directory / "lms.sqlite"
            with closing(sqlite3.connect(self.snapshot)) as src, closing(sqlite3.connect(target)) as dst:
                src.backup(dst)  # WAL mode: a file copy could miss what is still in the -wal file
            ini = dbs.write_ini(directory, "sqlite", str(target))
        else:
            name = f"lmsplugins_fault_{os.getpid()}_{next(_ids)}"
            _pg_clone(name, self.snapshot)
            self.clones.append(name)
            ini = dbs.write_ini(directory, "postgres", name)
        return Host(ini), ini

    def close(self) -> None:
        self.provider.stop()
        if self.kind == "postgres":
            for name in [*self.clones, self.snapshot]:
                _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build(decl: Declaration, kind: str, root: Path, request: pytest.FixtureRequest) -> World:
    folder = root / f"{decl.plugin}-{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        host = dbs.sqlite_host(folder / "snapshot", seeded=False)
        snapshot = str(folder / "snapshot" / "lms.sqlite")
    else:
        template = request.getfixturevalue("pg_template")
        snapshot = f"lmsplugins_faultsnap_{os.getpid()}_{next(_ids)}"
        _pg_clone(snapshot, template)
        host = Host(dbs.write_ini(folder / "snapshot", "postgres", snapshot))
    dbs.install(host, decl.plugin, *decl.plugins)
    provider = decl.start(host, folder)
    world = World(decl, kind, folder, provider, snapshot)
    ini = Path(host.ini_config.path)
    world.clean_run(ini)
    world.old = checksums(host, decl.tables)
    world.old_rows = table_rows(host, {t: decl.tables[t] for t in decl.committed_in_parts})
    host.dispose()
    provider.change()
    reference, reference_ini = world.clone(folder / "reference")
    world.clean_run(reference_ini)
    world.new = checksums(reference, decl.tables)
    world.new_rows = table_rows(reference, {t: decl.tables[t] for t in decl.committed_in_parts})
    reference.dispose()
    assert world.new != world.old, "the provider's change() must make the next run write different rows"
    return world
