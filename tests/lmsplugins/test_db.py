"""Engine URLs from [database] as LMS reads them, pooled connections pinged when idle, named locks, and the
SQL splitter."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from lmsplugins import db
from lmsplugins.config import Config
from lmsplugins.db import database_url, named_lock
from lmsplugins.errors import ConfigError, LockHeld
from lmsplugins.migrate import split_sql


def _url(**db):
    return database_url(Config.from_mapping({"database": db}))


def test_postgres_host_with_port_and_socket():
    url = _url(type="postgres", host="db.example:5433", user="lms", password="p@ss", database="lms")
    assert (url.drivername, url.host, url.port, url.database) == ("postgresql+psycopg", "db.example", 5433, "lms")
    assert url.password == "p@ss"
    sock = _url(type="postgres", host="/var/run/postgresql", user="lms", password="", database="lms")
    assert sock.query["host"] == "/var/run/postgresql" and sock.host is None


def test_mysql_socket_in_host():
    url = _url(type="mysqli", host="localhost:/run/mysqld/mysqld.sock", user="lms", password="", database="lms")
    assert url.drivername == "mysql+pymysql"
    assert url.query["unix_socket"] == "/run/mysqld/mysqld.sock"
    assert _url(type="mysql", host="10.0.0.5", user="u", password="", database="d").port == 3306


def test_bad_database_sections():
    with pytest.raises(ConfigError, match="'oracle' is not supported"):
        _url(type="oracle", host="x", user="u", password="", database="d")
    with pytest.raises(ConfigError, match="type is missing"):
        _url(host="x")
    with pytest.raises(ConfigError, match="host, user missing"):
        _url(type="postgres", database="d")
    with pytest.raises(ConfigError, match="port or a socket"):
        _url(type="postgres", host="h:abc", user="u", password="", database="d")


def test_named_lock_refuses_second_holder(lms_host):
    engine = lms_host.engine
    with named_lock(engine, "demo.job"):
        with pytest.raises(LockHeld) as exc, named_lock(engine, "demo.job"):
            pass
        assert "demo.job" in str(exc.value)
        assert "held by" in str(exc.value)
        with named_lock(engine, "another.job"):
            pass
    with named_lock(engine, "demo.job"):
        pass


@pytest.mark.parametrize("server", ["pg_host", "mysql_host"])
def test_pool_pings_only_idle_connections_and_replaces_dead_ones(server, request, monkeypatch):
    lms_host = request.getfixturevalue(server)
    engine = lms_host.engine
    pings: list[object] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(conn) or real_ping(conn))
    backend = "SELECT pg_backend_pid()" if engine.dialect.name == "postgresql" else "SELECT CONNECTION_ID()"
    with engine.connect() as conn:
        first = conn.execute(text(backend)).scalar()
    for _ in range(3):
        with engine.connect() as conn:
            assert conn.execute(text(backend)).scalar() == first
    assert pings == []  # used moments ago: no round trip spent on a ping
    kill = "SELECT pg_terminate_backend(:pid)" if engine.dialect.name == "postgresql" else "KILL :pid"
    with engine.connect() as conn:
        pid = conn.execute(text(backend)).scalar()
    helper = db.make_engine(lms_host.config())
    try:
        with helper.connect() as conn:
            conn.execute(text(kill), {"pid": pid})
    finally:
        helper.dispose()
    for record in list(engine.pool._pool.queue):  # type: ignore[attr-defined]
        record.info[db._USED] -= 2 * db.IDLE_PING_SECONDS
    with engine.connect() as conn:
        assert conn.execute(text(backend)).scalar() not in (pid, None)
    assert pings  # the idle connection was pinged, found dead and replaced without an error


def test_split_sql_respects_quotes_dollars_and_triggers():
    script = """
    -- comment; with semicolon
    INSERT INTO t VALUES ('a;b', "c;d");
    CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE x SET y = 1; UPDATE z SET w = 2; END;
    SELECT 1
    """
    stmts = list(split_sql(script))
    assert len(stmts) == 4
    assert stmts[0].startswith("INSERT") and "'a;b'" in stmts[0]
    assert stmts[1].endswith("LANGUAGE plpgsql")
    assert stmts[2].startswith("CREATE TRIGGER") and stmts[2].endswith("END")
    assert stmts[3] == "SELECT 1"


@pytest.mark.mysql
def test_mysql_numbering_lock_waits_for_lms_get_lock(mysql_host):
    """LMS's invoice form takes GET_LOCK('1'); our writer must wait for it and release its own at commit."""
    import threading
    import time

    from sqlalchemy import text

    from lmsplugins.db import lock_for_transaction

    engine = mysql_host.engine
    lms = engine.connect()
    assert lms.execute(text("SELECT GET_LOCK('1', 0)")).scalar() == 1
    acquired: list[float] = []

    def writer():
        with engine.begin() as conn:
            lock_for_transaction(conn, 1)
            acquired.append(time.monotonic())

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.5)
    assert acquired == []
    released = time.monotonic()
    lms.execute(text("SELECT RELEASE_LOCK('1')"))
    thread.join(timeout=10)
    assert acquired and acquired[0] >= released
    assert lms.execute(text("SELECT GET_LOCK('1', 0)")).scalar() == 1  # ours was released at commit
    lms.close()
