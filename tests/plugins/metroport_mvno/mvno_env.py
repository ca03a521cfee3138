"""Shared set-up for the Metroport MVNO sync tests: an LMS database with the plugin installed, LMS
customers carrying the simulator users' identities, a tagged phone tariff assigned to them, the
simulator on loopback, settings pointing at it, and a runner for ``lmsplugins`` commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import select, text

from lmsplugins.cli import main
from lmsplugins.host import Host
from lmsplugins.lms import tables as t
from lmsplugins.simserver import RunningServer, serve
from lmsplugins.testing import databases as dbs
from plugins.metroport_mvno.simulator import MetroportSimulator, make_app

LOGIN, PASSWORD = "api-operator", "api-secret"
PERIOD = ["-s", "2023-01-02", "-e", "2023-01-04 23:59:59"]


@dataclass
class Env:
    host: Host
    sim: MetroportSimulator
    server: RunningServer
    ini: Path

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["-C", str(self.ini), "metroport-mvno", "sync", *args], catch_exceptions=False)

    def sql(self, statement: str, **params: Any) -> list[Any]:
        with self.host.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return list(result) if result.returns_rows else []

    def count(self, table: str) -> int:
        return dbs.table_count(self.host, table)

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of the tables the sync writes, to prove a run changed nothing."""
        out = {}
        for table in ("customerextids", "voipaccounts", "voip_numbers", "voip_cdr", "voip_number_assignments"):
            out[table] = sorted(tuple(str(v) for v in r) for r in self.sql(f"SELECT * FROM {table}"))
        return out

    def provider_id(self) -> int:
        return int(self.sql("SELECT id FROM serviceproviders WHERE name = 'Metroport MVNO'")[0][0])

    def bind_all(self) -> None:
        assert self.run("--customers").exit_code == 0


def ensure_tariff(host: Host) -> int:
    """The install's tagged phone tariff (created here when the database has no 23% tax to build it)."""
    with host.engine.begin() as conn:
        found = conn.execute(
            select(t.tariffs.c.id)
            .join(t.tariffassignments, t.tariffassignments.c.tariffid == t.tariffs.c.id)
            .join(t.tarifftags, t.tarifftags.c.id == t.tariffassignments.c.tarifftagid)
            .where(t.tarifftags.c.name == "metroport-mvno")
        ).scalar()
        if found is not None:
            return int(found)
        tax = conn.execute(select(t.taxes.c.id).where(t.taxes.c.value == 23)).scalar()
        if tax is None:
            tax = conn.execute(t.taxes.insert().values(value=23, taxed=1, label="23%")).inserted_primary_key[0]
        tariff = conn.execute(t.tariffs.insert().values(name="METROPORT MVNO", type=4, taxid=tax)).inserted_primary_key[
            0
        ]
        tag = conn.execute(select(t.tarifftags.c.id).where(t.tarifftags.c.name == "metroport-mvno")).scalar()
        conn.execute(t.tariffassignments.insert().values(tariffid=tariff, tarifftagid=tag))
        return int(tariff)


def add_customer(host: Host, lastname: str, ten: str = "", ssn: str = "", icn: str = "", **extra: Any) -> int:
    with host.engine.begin() as conn:
        return int(
            conn.execute(
                t.customers.insert().values(
                    lastname=lastname,
                    name="",
                    ten=ten,
                    ssn=ssn,
                    icn=icn,
                    status=3,
                    type=0,
                    deleted=0,
                    creationdate=0,
                    moddate=0,
                    **extra,
                )
            ).inserted_primary_key[0]
        )


def assign(host: Host, customer_id: int, tariff_id: int, flags: int | None = None) -> int:
    with host.engine.begin() as conn:
        if flags is not None:
            conn.execute(t.tariffs.update().where(t.tariffs.c.id == tariff_id).values(flags=flags))
        return int(
            conn.execute(
                t.assignments.insert().values(
                    tariffid=tariff_id,
                    customerid=customer_id,
                    period=3,
                    at=1,
                    datefrom=0,
                    dateto=0,
                    commited=1,
                    suspended=0,
                )
            ).inserted_primary_key[0]
        )


def seed_customers(env: Env, assign_tariff: bool = True) -> dict[int, int]:
    """One LMS customer per simulator user with a usable identity (clean values; the simulator's own
    are messy): Metroport user id -> LMS customer id. Users sharing identifiers share the customer."""
    tariff = ensure_tariff(env.host)
    result: dict[int, int] = {}
    seen: dict[tuple, int] = {}
    for user in env.sim.data.users:
        key = (user["_nip"], user["_pesel"], user["_card"])
        if key == (None, None, None):
            continue
        if key in seen:
            result[user["id"]] = seen[key]
            continue
        cid = add_customer(
            env.host,
            f"CUSTOMER {user['id']}",
            ten=user["_nip"] or "",
            ssn=user["_pesel"] or "",
            icn=user["_card"] or "",
        )
        if assign_tariff:
            assign(env.host, cid, tariff)
        seen[key] = cid
        result[user["id"]] = cid
    return result


def make_env(
    host: Host,
    *,
    install: bool = True,
    users: int = 12,
    mobiles_per_user: int = 2,
    billings: int = 48,
    epoch: datetime | None = None,
    settings: dict[str, str] | None = None,
    **sim_options: Any,
) -> Env:
    if install:
        dbs.install(host, "metroport_mvno")
    if epoch is not None:
        sim_options["epoch"] = epoch
    sim = make_app(
        seed=3,
        users=users,
        mobiles_per_user=mobiles_per_user,
        billings=billings,
        login=LOGIN,
        password=PASSWORD,
        **sim_options,
    )
    server = serve(sim)
    values = {"api_url": server.url, "api_login": LOGIN, "api_password": PASSWORD, **(settings or {})}
    for key, value in values.items():
        host.set_uiconfig(f"metroportmvno.{key}", value)
    return Env(host, sim, server, Path(host.ini_config.path))
