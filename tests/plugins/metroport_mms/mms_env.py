"""Shared set-up for the Metroport MMS job tests: an LMS database with the plugin installed, LMS customers
carrying the simulator users' identifiers (written the ways operators type them), the simulator on
loopback, the settings pointing at it, and a runner for ``lmsplugins metroport-mms`` commands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import text

from lmsplugins.cli import main
from lmsplugins.host import Host
from lmsplugins.lms import tables as t
from lmsplugins.simserver import RunningServer, serve
from lmsplugins.testing import databases as dbs
from plugins.metroport_mms.simulator import MMSSimulator, make_app

LOGIN, PASSWORD = "api-operator", "api-secret"
PLUGIN_TABLES = (
    "metroport_customers",
    "metroport_fsecure_packages",
    "metroport_metrotv_packages",
    "metroport_metrotv_stb",
)


@dataclass
class Env:
    host: Host
    sim: MMSSimulator
    server: RunningServer
    ini: Path

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["-C", str(self.ini), "metroport-mms", *args], catch_exceptions=False)

    def sql(self, statement: str, **params: Any) -> list[Any]:
        with self.host.engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return list(result) if result.returns_rows else []

    def snapshot(self) -> dict[str, list[tuple]]:
        return {
            name: sorted(tuple(str(v) for v in r) for r in self.sql(f"SELECT * FROM {name}"))
            for name in (*PLUGIN_TABLES, "assignments")
        }


def install_plugin(host: Host) -> None:
    """The host's and this plugin's migrations, as ``lmsplugins db upgrade`` runs them."""
    dbs.install(host, "metroport_mms")


def add_customer(
    host: Host,
    lastname: str,
    *,
    type_: int = 0,
    ssn: str = "",
    ten: str = "",
    name: str = "",
    deleted: int = 0,
    moddate: int = 0,
    email: str = "",
    address: dict[str, str] | None = None,
    address_type: int = 1,
) -> int:
    with host.engine.begin() as conn:
        cid = int(
            conn.execute(
                t.customers.insert().values(
                    lastname=lastname,
                    name=name,
                    type=type_,
                    ssn=ssn,
                    ten=ten,
                    status=3,
                    deleted=deleted,
                    creationdate=0,
                    moddate=moddate,
                )
            ).inserted_primary_key[0]
        )
        if email:
            conn.execute(t.customercontacts.insert().values(customerid=cid, contact=email, name="", type=8))
        if address:
            aid = conn.execute(t.addresses.insert().values(**address)).inserted_primary_key[0]
            conn.execute(t.customer_addresses.insert().values(customer_id=cid, address_id=aid, type=address_type))
        return cid


def seed_customers(env: Env) -> dict[int, int]:
    """An LMS customer for every simulator user with an identifier: MMS user id -> LMS customer id."""
    result = {}
    for n, user in enumerate(env.sim.data.users.values()):
        if user["pesel"]:
            ssn = user["pesel"] if n % 2 else f"{user['pesel'][:6]} {user['pesel'][6:]}"
            result[user["userid"]] = add_customer(env.host, user["lastname"], name=user["name"], ssn=ssn)
        elif user["nip"]:
            ten = user["nip"] if n % 2 else "PL" + user["nip"].replace("-", "")
            result[user["userid"]] = add_customer(env.host, user["lastname"], type_=1, ten=ten)
    return result


def make_env(host: Host, *, users: int = 30, stbs: int = 40, install: bool = True, **sim: Any) -> Env:
    if install:
        install_plugin(host)
    app = make_app(seed=4, users=users, stbs=stbs, login=LOGIN, password=PASSWORD, **sim)
    server = serve(app)
    for key, value in {"serwer_url": server.url, "api_login": LOGIN, "api_pass": PASSWORD}.items():
        host.set_uiconfig(f"metroport.{key}", value)
    return Env(host, app, server, Path(host.ini_config.path))
