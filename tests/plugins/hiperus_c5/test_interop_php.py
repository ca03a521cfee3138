"""Interop with the real PHP SOAP stack (Debian's php-cli + php-soap), the peer the platform was built for.

(a) PHP's own ``SoapClient`` in non-WSDL mode, called the way HiperusLib calls the platform, runs against
our simulator: if PHP decodes our envelopes into the arrays and objects the PHP plugin reads, the
simulator speaks the platform's dialect. (b) Our client runs against a PHP ``SoapServer`` answering in
the platform's shapes: if our codec reads what PHP writes (and PHP reads what we send), the client will
read the platform.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from lmsplugins.http import HttpPolicy
from lmsplugins.simserver import serve
from plugins.hiperus_c5.client import (
    HiperusCallError,
    HiperusClient,
    HiperusFault,
    HiperusLoginError,
    MemorySessionStore,
    NoThrottle,
)
from plugins.hiperus_c5.simulator import make_app

pytestmark = pytest.mark.interop

PHP_DIR = Path(__file__).parent / "php"


def _php() -> str:
    """The php binary with the soap extension, or fail (CI) / skip (elsewhere) with the reason."""
    php = shutil.which("php")
    reason = None
    if php is None:
        reason = "php-cli is not installed (apt-get install php-cli php-soap)"
    else:
        modules = subprocess.run([php, "-m"], capture_output=True, text=True, check=False).stdout.split()
        if "soap" not in modules:
            reason = "the PHP soap extension is missing (apt-get install php-soap)"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    assert php is not None
    return php


def test_php_soapclient_against_our_simulator():
    php = _php()
    sim = make_app(seed=5, username="reseller", password="pa$$ word", domain="demo", rate_limit=None)
    with serve(sim) as running:
        result = subprocess.run(
            [
                php,
                str(PHP_DIR / "soapclient_calls.php"),
                f"{running.url}/hiperusapi.php",
                "reseller",
                "pa$$ word",
                "demo",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr + result.stdout
    out = json.loads(result.stdout)
    assert out["login_class"] == "stdClass"
    assert out["login_success"] is True
    assert '<ns1:request><param0 xsi:type="xsd:string">PLATFORM_MNGM</param0>' in out["request_sample"]
    assert out["check_sessid_matches"] is True
    assert (out["check_logged"], out["check_wlr"]) == ("t", "f")
    assert out["customers"] == 12
    assert out["customer_row_is_array"] is True
    assert out["first_customer_name"] == sim.state.customers[1001]["name"]
    assert out["add_customer_row_is_object"] is True, "PHP reads result_set[0]->id: the row must be a Struct"
    assert out["add_terminal_row_is_object"] is True
    new_id = out["new_customer_id"]
    assert sim.state.customers[new_id]["name"] == "PHP Klient"
    assert sim.state.customers[new_id]["ext_billing_id"] == "77"
    assert sim.state.customers[new_id]["issue_invoice"] == "t"
    assert out["extension_terminal"] == "phpterm"
    assert out["extension_number"].isdigit()
    expected = sim.cdrs.count(date(2024, 1, 1), date(2024, 1, 2), ["outgoing"], True)
    assert out["billing_rows"] == expected > 0
    first = out["billing_first"]
    assert first["calltype"] == "outgoing" and first["start_time"].startswith("2024-01-01")
    assert set(first) >= {"id", "terminal_name", "cost", "init_charge", "bill_cpb", "platform_type"}
    assert out["invoice_list"] == []
    assert out["refused_success"] is False
    assert out["refused_message"] == "Customer 1 not found"
    assert out["stale_success"] is False
    assert out["logged_after_logout"] == "f"
    assert out["fault"].startswith("SOAP-ENV:Server: Function 'nosuchmethod'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def php_server() -> Iterator[str]:
    php = _php()
    port = _free_port()
    proc = subprocess.Popen(
        [php, "-S", f"127.0.0.1:{port}", str(PHP_DIR / "soapserver.php")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("php -S did not start")
        yield f"http://127.0.0.1:{port}/hiperusapi.php"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _client(url: str, password: str = "s3cr3t", store: MemorySessionStore | None = None) -> HiperusClient:
    return HiperusClient(
        "reseller",
        password,
        "demo",
        url,
        session_store=store,
        throttle=NoThrottle(),
        policy=HttpPolicy(retry_post=True, retries=0, timeout=(5.0, 30.0)),
        retry_backoff=0.01,
    )


def test_our_client_against_php_soapserver(php_server):
    store = MemorySessionStore()
    client = _client(php_server, store=store)
    status = client.check_login()
    assert status.logged and status.voip_services and status.wlr_services
    assert store.get().startswith("php-")

    customers = client.get_customer_list()
    assert customers == [
        {"id": "11", "name": "Kowalski & Syn", "ext_billing_id": "5", "issue_invoice": "t", "b_nip": None},
        {"id": "12", "name": "Zażółć Gęślą", "ext_billing_id": None, "issue_invoice": "f", "b_nip": "1234563218"},
    ]
    assert client.get_customer_data(42) == {"id": 42, "id_type": "integer"}
    assert client.add_customer({"name": "X"}) == 4321
    assert client.add_terminal(11, "t1", "pw", 1) == 777
    assert client.add_extension(11, "221234567", id_terminal=777) == 888
    assert client.get_platform_numbering_range() == []

    echoed = client.call(
        "SaveCustomerData",
        {
            "id_customer": 11,
            "name": "Łódź & <Co>",
            "active": True,
            "issue_invoice": False,
            "ratio": 0.5,
            "ext_billing_id": None,
        },
    )
    types = echoed["result_set"][0]
    assert types["id_customer"] == "integer:11"
    assert types["name"] == "string:'Łódź & <Co>'"
    assert types["active"] == "boolean:true"
    assert types["issue_invoice"] == "boolean:false"
    assert types["ratio"] == "double:0.5"
    assert types["ext_billing_id"] == "NULL:NULL"

    rows = client.get_billing(date(2024, 2, 1), date(2024, 2, 29), success_calls=False, calltype="vpbx")
    assert [r["id"] for r in rows] == ["1000", "1001", "1002", "1003", "1004"]
    assert rows[1]["start_time"] == "2024-02-01 10:00:01"
    assert (rows[0]["calltype"], rows[0]["success"], rows[0]["compress"], rows[0]["id_customer"]) == (
        "vpbx",
        False,
        False,
        None,
    )
    assert rows[2]["cost"] == 0.5
    paged = list(client.iter_billing(date(2024, 1, 1), date(2024, 1, 31), calltype="outgoing", page_size=2))
    assert [r["id"] for r in paged] == ["1000", "1001", "1002", "1003", "1004"]

    with pytest.raises(HiperusFault, match="Boom failed with SOAP Fault SOAP-ENV:Server: Database is down"):
        client.call("Boom")
    with pytest.raises(HiperusCallError, match="Nope failed: Unknown action Nope"):
        client.call("Nope")


def test_client_relogs_in_against_php_soapserver(php_server):
    store = MemorySessionStore()
    client = _client(php_server, store=store)
    client.get_customer_list()
    first = store.get()
    client.call("Expire")
    assert len(client.get_customer_list()) == 2
    assert store.get() != first


def test_login_refused_by_php_soapserver(php_server):
    with pytest.raises(HiperusLoginError, match="Login failed: Login incorrect") as caught:
        _client(php_server, password="wrong-one").get_customer_list()
    assert "wrong-one" not in str(caught.value)
