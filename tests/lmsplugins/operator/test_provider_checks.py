"""Connection tests (``lmsplugins NAME check``) and attention items of the provider plugins, against
their simulators: what worked is said, a wrong password or missing setting is a clear failure, and
no secret is ever printed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from lmsplugins.cli import main
from lmsplugins.host import Host
from lmsplugins.simserver import serve
from lmsplugins.testing.databases import install
from plugins.hiperus_c5 import operator as hiperus_operator
from plugins.hiperus_c5.simulator import Scale
from plugins.hiperus_c5.simulator import make_app as hiperus_app
from plugins.hiperus_c5.tables import hv_billing, hv_customers
from plugins.metroport_mvno import operator as mvno_operator
from plugins.metroport_mvno.simulator import make_app as mvno_app

HV_PASSWORD = "Hv-pa55word!"
MVNO_PASSWORD = "Mv-pa55word!"


def cli(host: Host, *args: str):
    result = CliRunner().invoke(main, ["-C", str(host.ini_config.path), *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def hiperus_server() -> Iterator[str]:
    sim = hiperus_app(
        1,
        Scale(customers=4, terminals_per_customer=1, ranges=1, range_size=5, cdrs_per_day=2),
        password=HV_PASSWORD,
        rate_limit=None,
    )
    with serve(sim) as server:
        yield server.url + "/hiperusapi.php"


@pytest.fixture(scope="module")
def mvno_server() -> Iterator[str]:
    with serve(mvno_app(seed=3, users=5, billings=4, login="op", password=MVNO_PASSWORD)) as server:
        yield server.url


@pytest.fixture
def hiperus_host(sqlite_host: Host, hiperus_server: str, tmp_path) -> Host:
    install(sqlite_host, "hiperus_c5")
    for key, value in {
        "api_url": hiperus_server, "username": "reseller", "password": HV_PASSWORD, "domain": "demo.hiperus.pl",
        "state_dir": str(tmp_path / "state"), "throttle_calls": "1000", "throttle_period": "1",
    }.items():  # fmt: skip
        sqlite_host.set_uiconfig(f"hiperus_c5.{key}", value)
    return sqlite_host


@pytest.fixture
def mvno_host(sqlite_host: Host, mvno_server: str) -> Host:
    install(sqlite_host, "metroport_mvno")
    for key, value in {"api_url": mvno_server, "api_login": "op", "api_password": MVNO_PASSWORD}.items():
        sqlite_host.set_uiconfig(f"metroportmvno.{key}", value)
    return sqlite_host


def test_hiperus_check_says_what_worked(hiperus_host, hiperus_server):
    code, out = cli(hiperus_host, "hiperus-c5", "check")
    assert code == 0, out
    assert f"ok: logged in to {hiperus_server} as reseller (demo.hiperus.pl)" in out
    assert "ok: session confirmed by CheckLogin (services: VoIP)" in out
    assert "ok: read the price lists (" in out and "Hiperus C5: the connection works" in out
    assert HV_PASSWORD not in out


def test_hiperus_check_wrong_password_fails_without_showing_it(hiperus_host):
    hiperus_host.set_uiconfig("hiperus_c5.password", "Wrong-pa55")
    code, out = cli(hiperus_host, "hiperus-c5", "check")
    assert code == 1 and "FAILED: " in out and "Invalid username, password or domain" in out
    assert "Wrong-pa55" not in out and "Traceback" not in out and "the connection does not work" in out


def test_hiperus_check_missing_setting_is_exit_2(hiperus_host):
    hiperus_host.set_uiconfig("hiperus_c5.username", "")
    code, out = cli(hiperus_host, "hiperus-c5", "check")
    assert code == 2 and "FAILED: Hiperus C5: hiperus_c5.username not set" in out


def test_mvno_check_says_what_worked_and_refuses_a_wrong_password(mvno_host, mvno_server):
    code, out = cli(mvno_host, "metroport-mvno", "check")
    assert code == 0, out
    assert f"ok: logged in to {mvno_server} as op" in out and "ok: read the list of users (5 user(s))" in out
    mvno_host.set_uiconfig("metroportmvno.api_password", "Wrong-pa55")
    code, out = cli(mvno_host, "metroport-mvno", "check")
    assert code == 1 and "FAILED: " in out and "Wrong-pa55" not in out and MVNO_PASSWORD not in out


def test_hiperus_attention_counts_unlinked_accounts_and_orphan_billing(hiperus_host):
    code, out = cli(hiperus_host, "hiperus-c5", "import", "--all")
    assert code == 0, out
    with hiperus_host.engine.begin() as conn:
        total = conn.execute(select(func.count()).select_from(hv_customers)).scalar()
        some = conn.execute(select(hv_customers.c.id).order_by(hv_customers.c.id).limit(1)).scalar()
        conn.execute(hv_customers.update().where(hv_customers.c.id != some).values(ext_billing_id=None))
        conn.execute(hv_customers.update().where(hv_customers.c.id == some).values(ext_billing_id=1))
        items = {i.title: i for i in hiperus_operator.attention(hiperus_host, conn)}
    unlinked = items["Hiperus C5: VoIP accounts not linked to a customer"]
    assert unlinked.count == total - 1 and unlinked.params == {"hvext": "2"}
    assert "Hiperus C5: billing records without an account" not in items
    with hiperus_host.engine.begin() as conn:
        conn.execute(hv_billing.insert().values(
            id=1, customerid=999999, cost=0, price=0, init_charge=0, reseller_price=0, reseller_cost=0,
            reseller_init_charge=0, margin=0,
        ))  # fmt: skip
        items = {i.title: i for i in hiperus_operator.attention(hiperus_host, conn)}
    assert items["Hiperus C5: billing records without an account"].count == 1


def test_mvno_attention_reads_the_latest_sync_counters(mvno_host):
    from lmsplugins.store import job_runs

    def record(counters: str, test: int = 0) -> None:
        with mvno_host.engine.begin() as conn:
            conn.execute(job_runs.insert().values(
                job="metroport_mvno.sync", status="done", test=test, started=1, finished=2, counters=counters,
                message="", argv="", host="h", pid=1,
            ))  # fmt: skip

    record('{"customers_not_bound": 4, "customers_ambiguous": 1}')
    record('{"cdrs": 10, "cdrs_orphan": 3}')
    record('{"customers_not_bound": 0, "customers_ambiguous": 0}', test=1)
    with mvno_host.engine.connect() as conn:
        items = {i.title: i for i in mvno_operator.attention(mvno_host, conn)}
    assert items["Metroport MVNO: users not bound to a customer"].count == 5
    orphans = items["Metroport MVNO: billing records without an account"]
    assert orphans.count == 3 and orphans.endpoint == "admin.job" and orphans.params == {"run_id": 2}
    record('{"customers_not_bound": 0, "customers_ambiguous": 0}')
    with mvno_host.engine.connect() as conn:
        titles = [i.title for i in mvno_operator.attention(mvno_host, conn)]
    assert titles == ["Metroport MVNO: billing records without an account"]


@pytest.mark.parametrize("name", ["hiperus_c5", "metroport_mvno"])
def test_counter_labels_of_the_provider_plugins_have_polish_texts(name):
    import importlib

    plugin = importlib.import_module(f"plugins.{name}.plugin").plugin
    polish = importlib.import_module(f"plugins.{name}.messages").PL
    assert plugin.counter_labels
    assert [label for label in plugin.counter_labels.values() if label not in polish] == []
