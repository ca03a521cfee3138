"""Machine endpoints (lmsplugins.web.machine): key and allow-list, no login, whole documents, masked logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from flask import Blueprint, Flask, jsonify

from lmsplugins.host import Host
from lmsplugins.web import create_app, machine


def _error(status: int, message: str):
    response = jsonify(result="error", error=message)
    response.status_code = status
    return response


def _rows(count: int, fail_at: int | None = None) -> Iterator[tuple[str, dict[str, str]]]:
    for i in range(1, count + 1):
        if i == fail_at:
            raise RuntimeError("database went away")
        yield str(i), {"id": str(i), "name": f"Klient {i}"}


def _blueprint() -> Blueprint:
    bp = Blueprint("machine_test", __name__, url_prefix="/machine-test")

    @bp.route("/api")
    @machine.machine_endpoint("test", "machinetest.key", "machinetest.allow", _error)
    def api():
        from flask import request

        count = int(request.args.get("n", "3"))
        fail = request.args.get("fail")
        if request.args.get("request") == "nope":
            raise machine.Denied(400, "unknown method")
        counter = machine.RowCounter()
        pairs = counter.count(_rows(count, int(fail) if fail else None))
        return machine.json_document(machine.json_object(pairs), counter)

    return bp


@pytest.fixture
def app(sqlite_host: Host) -> Flask:
    sqlite_host.set_uiconfig("machinetest.key", "s3cret-key-123")
    app = create_app(sqlite_host, TESTING=True)
    app.register_blueprint(_blueprint())
    return app


def test_right_key_answers_without_login_and_no_cookie(app: Flask):
    client = app.test_client()
    response = client.get("/machine-test/api?key=s3cret-key-123&request=list&n=3")
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(response.data))
    assert json.loads(response.data) == {str(i): {"id": str(i), "name": f"Klient {i}"} for i in (1, 2, 3)}
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("query", ["", "?key=", "?key=s3cret-key-12", "?key=S3CRET-KEY-123", "?key=s3cret-key-1234"])
def test_wrong_or_missing_key_is_403_and_says_nothing_else(app: Flask, query: str):
    response = app.test_client().get(f"/machine-test/api{query}")
    assert response.status_code == 403
    assert response.get_json() == {"result": "error", "error": "forbidden"}


def test_unset_key_means_off(sqlite_host: Host):
    app = create_app(sqlite_host, TESTING=True)
    app.register_blueprint(_blueprint())
    assert app.test_client().get("/machine-test/api?key=").status_code == 403


def test_allow_list(app: Flask, sqlite_host: Host):
    sqlite_host.set_uiconfig("machinetest.allow", "10.0.0.0/8, 192.168.1.5")
    ok = app.test_client().get("/machine-test/api?key=s3cret-key-123", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert ok.status_code == 200
    denied = app.test_client().get("/machine-test/api?key=s3cret-key-123", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert denied.status_code == 403


def test_failure_part_way_is_an_error_status_never_half_a_document(app: Flask):
    response = app.test_client().get("/machine-test/api?key=s3cret-key-123&n=5000&fail=4000")
    assert response.status_code == 503
    assert response.get_json()["result"] == "error"


def test_large_document_spills_to_disk_and_arrives_whole(app: Flask, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(machine, "SPOOL_IN_MEMORY", 1024)
    response = app.test_client().get("/machine-test/api?key=s3cret-key-123&n=20000")
    assert response.status_code == 200
    assert len(json.loads(response.data)) == 20000


def test_denied_inside_the_view(app: Flask):
    response = app.test_client().get("/machine-test/api?key=s3cret-key-123&request=nope")
    assert response.status_code == 400
    assert response.get_json() == {"result": "error", "error": "unknown method"}


def test_requests_are_recorded_without_the_key(app: Flask, sqlite_host: Host):
    client = app.test_client()
    client.get("/machine-test/api?key=s3cret-key-123&request=get_user_list&n=7")
    client.get("/machine-test/api?key=wrong&request=get_user_list")
    records = machine.recent_requests(sqlite_host.engine, "test")
    assert [(r.method, r.status, r.rows) for r in records] == [("get_user_list", 403, 0), ("get_user_list", 200, 7)]
    assert "s3cret" not in repr(records)


def test_request_lines_in_logs_are_masked(caplog: pytest.LogCaptureFixture):
    logger = logging.getLogger("werkzeug")
    machine.init_app(Flask(__name__))
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logger.info('%s - - "%s" %s', "127.0.0.1", "GET /userside/api?key=s3cret-key-123&request=x HTTP/1.1", "200")
    assert "s3cret" not in caplog.text
    assert "key=***&request=x" in caplog.text


def test_denied_raised_inside_a_contextmanager_block_keeps_its_status():
    # contextlib re-sets __traceback__ on the exception it re-raises (a frozen dataclass refused that).
    import contextlib

    @contextlib.contextmanager
    def block():
        yield

    with pytest.raises(machine.Denied) as caught, block():
        raise machine.Denied(400, "bad customer_id")
    assert (caught.value.status, caught.value.message) == (400, "bad customer_id")
