"""``lmsplugins demo``: a small realistic ISP on SQLite, every real plugin against its simulator.

The demo is also the quickest end-to-end check: it builds the embedded LMS schema, installs the
host and plugin tables through the real migrations, seeds LMS data the way LMS stores it, starts
each plugin's simulator on loopback, points the plugin's settings at it (uiconfig rows, as an admin
would), runs the plugins' jobs through the real CLI, and serves the web panels.
"""

from __future__ import annotations

import random
import secrets
import shutil
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import bcrypt
import click
from sqlalchemy import select
from sqlalchemy.engine import Connection

from lmsplugins.checks import sources
from lmsplugins.host import Host
from lmsplugins.lms import tables as t
from lmsplugins.lms.embedded import create_core_schema
from lmsplugins.loader import discover
from lmsplugins.migrate import upgrade
from lmsplugins.plugin import DemoContext
from lmsplugins.simserver import RunningServer, serve

DEMO_LOGIN = "admin"
DEMO_PASSWORD = "demo1234"

_FIRST = ["Jan", "Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Paweł", "Agnieszka", "Marek", "Ewa"]
_LAST = ["Kowalski", "Nowak", "Wiśniewska", "Wójcik", "Kamiński", "Lewandowska", "Zieliński", "Szymańska"]
_COMPANIES = ["Piekarnia Kłos sp. z o.o.", "Auto-Serwis Rybak", "Biuro Rachunkowe Saldo", "Hotel Pod Lipami"]
_STREETS = ["Długa", "Krótka", "Polna", "Leśna", "Słoneczna", "Kościuszki", "Mickiewicza"]


def _nip(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(9)]
        check = sum(d * w for d, w in zip(digits, (6, 5, 7, 2, 3, 4, 5, 6, 7), strict=True)) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


def _pesel(rng: random.Random) -> str:
    year, month, day = rng.randint(1950, 1999), rng.randint(1, 12), rng.randint(1, 28)
    digits = [int(c) for c in f"{year % 100:02d}{month:02d}{day:02d}{rng.randint(0, 9999):04d}"]
    check = (10 - sum(d * w for d, w in zip(digits, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3), strict=True)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


def _address(conn: Connection, **values: object) -> int:
    return int(conn.execute(t.addresses.insert().values(**values)).inserted_primary_key[0])


def seed(conn: Connection, customers: int = 24, seed_value: int = 7) -> dict[str, int]:
    """Seed a small ISP: division, tax rates, number plan, tariffs, customers, an admin user."""
    rng = random.Random(seed_value)
    now = int(time.time())
    found = conn.execute(select(t.countries.c.id).where(t.countries.c.name == "Poland")).scalar()
    poland = int(
        found or conn.execute(t.countries.insert().values(name="Poland", ccode="pl_PL")).inserted_primary_key[0]
    )
    div_addr = _address(conn, city="Warszawa", street="ul. Sieciowa", house="1", zip="00-950", country_id=poland)
    division = int(
        conn.execute(
            t.divisions.insert().values(
                shortname="DEMO-NET",
                name="Demo-Net sp. z o.o.",
                ten="5252248481",
                regon="012345678",
                account="PL61109010140000071219812874",
                bank="Santander Bank Polska",
                inv_header="Demo-Net sp. z o.o.\nul. Sieciowa 1\n00-950 Warszawa",
                inv_author="Biuro Obsługi Klienta",
                inv_cplace="Warszawa",
                inv_paytime=14,
                address_id=div_addr,
            )
        ).inserted_primary_key[0]
    )
    hashed = bcrypt.hashpw(DEMO_PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode().replace("$2b$", "$2y$", 1)
    admin = int(
        conn.execute(
            t.users.insert().values(
                login=DEMO_LOGIN,
                firstname="Admin",
                lastname="Demo",
                email="admin@demo-net.example",
                rights="full_access",
                passwd=hashed,
            )
        ).inserted_primary_key[0]
    )
    conn.execute(t.userdivisions.insert().values(userid=admin, divisionid=division))
    vat23 = int(conn.execute(t.taxes.insert().values(value=23, taxed=1, label="23%")).inserted_primary_key[0])
    conn.execute(t.taxes.insert().values(value=8, taxed=1, label="8%"))
    conn.execute(t.taxes.insert().values(value=0, taxed=0, label="zw."))
    plan = int(
        conn.execute(
            t.numberplans.insert().values(template="FV/%N/%m/%Y", period=3, doctype=1, isdefault=1)
        ).inserted_primary_key[0]
    )
    conn.execute(t.numberplanassignments.insert().values(planid=plan, divisionid=division))
    internet = int(
        conn.execute(
            t.tariffs.insert().values(name="Internet 300 Mb/s", type=1, value=69, taxid=vat23, period=3, currency="PLN")
        ).inserted_primary_key[0]
    )
    phone = int(
        conn.execute(
            t.tariffs.insert().values(name="Telefon VoIP", type=4, value=19.99, taxid=vat23, period=3, currency="PLN")
        ).inserted_primary_key[0]
    )
    for i in range(customers):
        company = i % 6 == 5
        street = rng.choice(_STREETS)
        house = str(rng.randint(1, 120))
        values = {
            "lastname": (_COMPANIES[i // 6 % len(_COMPANIES)] if company else rng.choice(_LAST)).upper(),
            "name": "" if company else rng.choice(_FIRST),
            "status": 3 if i % 8 else 5,
            "type": 1 if company else 0,
            "ten": _nip(rng) if company else "",
            "ssn": "" if company else _pesel(rng),
            "icn": "" if company else f"ABC{rng.randint(100000, 999999)}",
            "ict": 0 if company else 1,
            "creationdate": now - rng.randint(30, 900) * 86400,
            "divisionid": division,
            "creatorid": admin,
        }
        cid = int(conn.execute(t.customers.insert().values(**values)).inserted_primary_key[0])
        addr = _address(
            conn,
            city="Warszawa",
            street=f"ul. {street}",
            house=house,
            zip=f"0{rng.randint(0, 4)}-{rng.randint(100, 999)}",
            country_id=poland,
        )
        conn.execute(t.customer_addresses.insert().values(customer_id=cid, address_id=addr, type=1))
        conn.execute(
            t.customercontacts.insert().values(customerid=cid, contact=f"klient{cid}@example.pl", type=8 | 32, name="")
        )
        conn.execute(
            t.customercontacts.insert().values(customerid=cid, contact=f"60{rng.randint(1000000, 9999999)}", type=1)
        )
        conn.execute(
            t.assignments.insert().values(
                customerid=cid, tariffid=internet, period=3, at=1, invoice=1, datefrom=now - 86400 * 60
            )
        )
        if i % 3 == 0:
            conn.execute(
                t.assignments.insert().values(customerid=cid, tariffid=phone, period=3, at=1, invoice=1, datefrom=now)
            )
        conn.execute(
            t.cash.insert().values(
                time=now - 86400 * 20,
                type=1,
                value=69 if i % 8 else 0,
                customerid=cid,
                comment="Wpłata",
                currency="PLN",
            )
        )
    return {"division": division, "admin": admin, "vat23": vat23, "numberplan": plan, "phone_tariff": phone}


NOT_IN_DEMO = frozenset({"example"})
"""Plugins installed but left out of the demo: ``example`` is the template for writing a plugin, not an
integration an ISP would run."""


def demo_plugins() -> list[str]:
    """The plugins the demo enables: every installed plugin that loads, except :data:`NOT_IN_DEMO`."""
    return sorted(p.name for p in discover().found if p.name not in NOT_IN_DEMO)


def write_ini(path: Path, db_path: Path, extra: str = "", plugins: Sequence[str] | None = None) -> None:
    """The demo's lms.ini, naming the plugins it runs (plugins are opt-in, as LMS's phpui.plugins);
    its session key is random (a clock-derived one could be guessed)."""
    names = demo_plugins() if plugins is None else list(plugins)
    path.write_text(
        "; lms.ini written by 'lmsplugins demo'\n"
        "[database]\ntype = sqlite\n"
        f"database = {db_path}\n\n"
        "[phpui]\nlang = pl\n\n"
        "[lmsplugins]\n"
        "; only the plugins named here run (Name[:priority], as phpui.plugins); 'example' is the template\n"
        f"plugins = {' '.join(names)}\n"
        f"secret_key = {secrets.token_urlsafe(32)}\n" + extra,
        encoding="utf-8",
    )


def prepare(data_dir: Path, fresh: bool = True, customers: int = 24) -> Host:
    """Create (or reuse) the demo database and return a Host on it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db_path = data_dir / "lms.sqlite"
    ini = data_dir / "lms.ini"
    if fresh:
        for p in data_dir.glob("lms.sqlite*"):
            p.unlink()
    new = not db_path.exists()
    if not ini.exists() or fresh:
        write_ini(ini, db_path.resolve())
    host = Host(ini)
    create_core_schema(host.engine)
    if new:
        with host.engine.begin() as conn:
            seed(conn, customers=customers)
    for source in sources(host):
        upgrade(host.engine, source, echo=click.echo)
    return host


def _runner(host: Host):
    from click.testing import CliRunner

    from lmsplugins.cli import main

    def run(args: Sequence[str]) -> int:
        argv = ["-C", str(host.ini_config.path), *args]
        click.echo(f"$ lmsplugins {' '.join(args)}")
        result = CliRunner().invoke(main, argv, catch_exceptions=True)
        click.echo(result.output, nl=False)
        if result.exception and not isinstance(result.exception, SystemExit):
            click.echo(f"  failed: {result.exception!r}", err=True)
            return 1
        return result.exit_code

    return run


def run_demo(data_dir: str | Path, serve: bool = True, port: int = 8080, fresh: bool = True) -> int:
    """Build the demo, run every enabled plugin's demo jobs, optionally serve the web app."""
    data = Path(data_dir).resolve()
    if fresh and data.exists() and not (data / "lms.ini").exists() and any(data.iterdir()):
        raise click.ClickException(f"{data} exists and is not a demo data directory; choose another --data-dir")
    if fresh and (data / "lms.ini").exists():
        shutil.rmtree(data)
    host = prepare(data, fresh=fresh)
    click.echo(f"demo LMS database: {data / 'lms.sqlite'} ({datetime.now():%Y-%m-%d %H:%M})")
    if host.registry.listed is None:
        ini = data / "lms.ini"
        click.echo(f"{ini} names no plugin (lmsplugins.plugins), so none runs; run the demo without --keep", err=True)
    servers: list[RunningServer] = []
    run = _runner(host)
    worst = 0
    try:
        for plugin in host.registry.enabled:
            sim_url = None
            sim_settings: dict[str, str] = {}
            if plugin.simulator is not None:
                server = _serve_simulator(plugin)
                servers.append(server)
                sim_url = server.url
                sim_settings = server.client_settings()
                click.echo(f"{plugin.title}: simulator on {sim_url}")
            if plugin.demo is not None:
                ctx = DemoContext(
                    host=host,
                    simulator_url=sim_url,
                    set_setting=lambda k, v: host.set_uiconfig(k, v, description="set by lmsplugins demo"),
                    run=lambda args: run(args),
                    data_dir=data,
                    simulator_settings=sim_settings,
                )
                try:
                    plugin.demo(ctx)
                except Exception as exc:
                    click.echo(f"{plugin.title}: demo failed: {type(exc).__name__}: {exc}", err=True)
                    worst = max(worst, 1)
        run(["jobs", "--limit", "10"])
        if serve:
            from lmsplugins.web import create_app

            app = create_app(host)
            click.echo(f"\nOpen http://127.0.0.1:{port}/ and log in as {DEMO_LOGIN} / {DEMO_PASSWORD}")
            click.echo("Press Ctrl+C to stop.")
            app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False)
    finally:
        for server in servers:
            server.stop()
    return worst


def _serve_simulator(plugin) -> RunningServer:
    return serve(plugin.simulator())
