"""The one database engine factory and the dialect helpers every writer shares.

LMS runs on PostgreSQL or MySQL/MariaDB; the embedded demo runs on SQLite. The differences that
matter to a plugin host live here and nowhere else: how ``[database]`` becomes a connection (LMS
allows ``host:port`` and MySQL socket paths in ``host``), the ``lms.current_user`` session variable
that LMS's views need on every connection, fast bulk writes (COPY versus multi-row INSERT), upserts
by a unique key, and named locks (advisory locks, ``GET_LOCK`` or a lock file).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import IO, Any

import pymysql
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import Table, UniqueConstraint, create_engine, event, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError

from lmsplugins.config import Config
from lmsplugins.errors import ConfigError, LockHeld

POSTGRES_TYPES = {"postgres", "postgresql", "pgsql"}
MYSQL_TYPES = {"mysql", "mysqli"}


def _split_host(host: str, default_port: int) -> tuple[str | None, int | None, str | None]:
    """Split LMS's ``host`` value into (host, port, socket path)."""
    host = host.strip()
    if not host:
        return None, None, None
    if host.startswith("/"):
        return None, None, host
    name, sep, rest = host.partition(":")
    if not sep:
        return name, default_port, None
    if rest.startswith("/"):
        return name or "localhost", None, rest
    try:
        return name, int(rest), None
    except ValueError:
        raise ConfigError(f"[database] host {host!r}: the part after ':' must be a port or a socket path") from None


def database_url(config: Config) -> URL:
    """Build the SQLAlchemy URL from ``[database]`` exactly as LMS interprets it."""
    params = config.database_params()
    dbtype = params.get("type", "").lower()
    if not dbtype:
        raise ConfigError("[database] type is missing in lms.ini; set type = postgres, mysql or sqlite")
    if dbtype == "sqlite":
        name = params.get("database")
        if not name:
            raise ConfigError("[database] database (the SQLite file path) is missing in lms.ini")
        path = Path(name)
        if not path.is_absolute() and config.path is not None:
            path = config.path.parent / path
        return URL.create("sqlite", database=str(path))
    if dbtype not in POSTGRES_TYPES | MYSQL_TYPES:
        raise ConfigError(f"[database] type {dbtype!r} is not supported; use postgres, mysql, mysqli or sqlite")
    missing = [k for k in ("host", "user", "database") if k not in params]
    if missing:
        raise ConfigError(
            f"[database] {', '.join(missing)} missing in lms.ini (LMS needs host, user, password, database)"
        )
    postgres = dbtype in POSTGRES_TYPES
    host, port, sock = _split_host(params["host"], 5432 if postgres else 3306)
    query = {"connect_timeout": "10"} if postgres else {"charset": "utf8mb4"}
    if sock:
        query["host" if postgres else "unix_socket"] = sock
    return URL.create(
        "postgresql+psycopg" if postgres else "mysql+pymysql",
        username=params["user"] or None,
        password=params.get("password") or None,
        host=host,
        port=port,
        database=params["database"],
        query=query,
    )


def missing_sqlite_file(config: Config) -> Path | None:
    """The SQLite file ``[database]`` names when it does not exist (else None, also for other types).

    SQLite creates a missing file on connect, so a mistyped path would silently give a command an
    empty database; callers that did not mean to create one refuse it instead.
    """
    if config.database_params().get("type", "").lower() != "sqlite":
        return None
    path = Path(str(database_url(config).database))
    return None if path.exists() else path


def _on_connect(dialect_name: str):
    def setup(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            if dialect_name == "postgresql":
                cur.execute("SELECT set_config('lms.current_user', '0', false)")
                dbapi_conn.commit()
            elif dialect_name == "mysql":
                cur.execute("SET @lms_current_user = 0")
                dbapi_conn.__class__ = _GuardedMySQLConnection
            elif dialect_name == "sqlite":
                cur.execute("PRAGMA foreign_keys = ON")
                cur.execute("PRAGMA busy_timeout = 30000")
                cur.execute("PRAGMA journal_mode = WAL")
        finally:
            cur.close()

    return setup


IDLE_PING_SECONDS = 10.0
"""A pooled connection idle longer than this is pinged before use (see :func:`_ping_when_idle`)."""


def make_engine(config: Config, **kwargs: Any) -> Engine:
    """The engine for the LMS database named in ``[database]``; every connection is set up as LMS's."""
    url = database_url(config)
    if url.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"timeout": 30})
    elif url.get_backend_name() == "mysql":
        # The LOCAL capability is announced so that our own bulk loads can use it, but every
        # connection refuses the server's file requests but the one our load names (_local_file).
        kwargs.setdefault("connect_args", {"local_infile": True})
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _on_connect(engine.dialect.name))
    if engine.dialect.name != "sqlite" and not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine, IDLE_PING_SECONDS)
    if engine.dialect.name == "mysql":
        event.listen(engine, "commit", _release_lms_locks)
        event.listen(engine, "rollback", _release_lms_locks)
    return engine


_USED = "lmsplugins_used"


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only when it sat idle, and replace it if the server is gone.

    Why not SQLAlchemy's ``pool_pre_ping``: it pings on every checkout, a round trip per web request
    that cost as much as the page's own query on a busy list. A connection used seconds ago is alive
    unless the server restarted in between; then the statement fails once, SQLAlchemy sees the
    disconnect and renews the whole pool.
    """

    def connected(_dbapi_conn: Any, record: Any) -> None:
        record.info[_USED] = time.monotonic()

    def checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        now = time.monotonic()
        if now - record.info.get(_USED, 0.0) > idle_seconds:
            try:
                engine.dialect.do_ping(dbapi_conn)
            except engine.dialect.loaded_dbapi.Error as exc:
                if engine.dialect.is_disconnect(exc, dbapi_conn, None):
                    raise DisconnectionError(str(exc)) from exc
                raise
        record.info[_USED] = now

    def checkin(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[_USED] = time.monotonic()

    event.listen(engine, "connect", connected)
    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)


def check_connection(engine: Engine) -> None:
    """Connect once; a failure becomes a one-line ConfigError that names the fix."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        url = engine.url.render_as_string(hide_password=True)
        raise ConfigError(f"cannot connect to database {url}: {reason}; check [database] in lms.ini") from None


class _Batch:
    """Up to *size* rows taken lazily from a shared iterator.

    Streaming a batch straight into COPY / LOAD DATA lets Python produce rows while the server
    stores the previous ones. With *keep* the rows are remembered as they pass, so a batch that
    hit existing keys can be sent again through the slower upsert path; without it the batch can be
    read once (the MySQL path keeps a copy of the loader's file instead).

    Rows are mappings, or sequences in the order of *columns* when the caller gives them: a hot path
    (CDRs) then hands its tuples to the loader without building a dict per row.
    """

    def __init__(
        self,
        first: Any,
        rest: Iterator[Any],
        size: int,
        keep: bool = True,
        columns: Sequence[str] | None = None,
    ):
        self.ordered = columns is not None
        self.columns = list(columns) if columns is not None else list(first.keys())
        self.keep = keep
        self.count = 0
        self.rows: list[Any] = [first] if keep else []
        self._first: Any = None if keep else first
        self._rest = islice(rest, size - 1)

    def tuples(self) -> Iterator[Sequence[Any]]:
        """Every row as a sequence in column order; the first pass pulls from the source."""
        shape = self._shape
        if self.keep:
            yield from map(shape, self.rows)
        elif self._first is not None:
            first, self._first = self._first, None
            self.count = 1
            yield shape(first)
        elif self.count:
            raise RuntimeError("this batch was streamed once and not kept")
        if self.keep:
            for row in self._rest:
                self.count += 1
                self.rows.append(row)
                yield shape(row)
        elif self.ordered:
            for row in self._rest:
                self.count += 1
                yield row
        else:
            for row in self._rest:
                self.count += 1
                yield shape(row)

    def _shape(self, row: Any) -> Sequence[Any]:
        if self.ordered:
            return row
        return [row[c] for c in self.columns]

    def drain(self) -> list[Any]:
        """Pull what the source still owes this batch; return the kept rows."""
        if self.keep:
            self.rows.extend(self._rest)
            return self.rows
        if self._first is not None:
            self._first = None
            self.count += 1
        for _ in self._rest:
            self.count += 1
        return self.rows

    def mappings(self) -> list[Mapping[str, Any]]:
        """The whole (kept) batch as mappings, for statements executed with many parameter sets."""
        rows = self.drain()
        if self.ordered:
            return [dict(zip(self.columns, r, strict=True)) for r in rows]
        return rows

    def __len__(self) -> int:
        return len(self.rows) if self.keep else self.count


def _batches(
    rows: Iterable[Any], size: int, keep: bool = True, columns: Sequence[str] | None = None
) -> Iterator[_Batch]:
    it = iter(rows)
    for first in it:
        batch = _Batch(first, it, size, keep, columns)
        yield batch
        batch.drain()


def copy_rows(conn: Connection, table_name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """PostgreSQL ``COPY ... FROM STDIN`` of rows given in *columns* order.

    A queued writer sends the data from its own thread, so rows are produced while earlier ones are
    on the wire and being stored.
    """
    raw = conn.connection.driver_connection
    cols = ", ".join(f'"{c}"' for c in columns)
    count = 0
    with (
        raw.cursor() as cur,
        cur.copy(f'COPY "{table_name}" ({cols}) FROM STDIN', writer=QueuedLibpqWriter(cur)) as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def tsv_lines(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Rows as lines for MySQL ``LOAD DATA`` (tab separated, backslash escapes, ``\\N`` for NULL)."""
    for row in rows:
        yield "\t".join("\\N" if v is None else str(v).translate(_TSV_ESCAPES) for v in row) + "\n"


def mysql_load(
    conn: Connection,
    table_name: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    tee: IO[str] | None = None,
) -> int:
    """``LOAD DATA LOCAL INFILE`` of *rows* into *table_name*; returns the rows the server stored.

    The rows go through a named pipe written by a thread, so Python produces rows while the server
    loads them and nothing is staged on disk. With LOCAL, MySQL skips rows whose unique key already
    exists (as IGNORE would), so a result smaller than the rows sent means some keys were there.
    """
    folder = tempfile.mkdtemp(prefix="lmsplugins-load-")
    fifo = os.path.join(folder, "rows.tsv")
    os.mkfifo(fifo, 0o600)
    failure: list[BaseException] = []

    def feed() -> None:
        try:
            with open(fifo, "w", encoding="utf-8", buffering=1 << 20) as fh:
                if tee is None:
                    fh.writelines(tsv_lines(rows))
                else:
                    for line in tsv_lines(rows):
                        fh.write(line)
                        tee.write(line)
        except BrokenPipeError:
            pass
        except BaseException as exc:  # reported by the caller after the load returns
            failure.append(exc)

    writer = threading.Thread(target=feed, name="lmsplugins-load-feed", daemon=True)
    writer.start()
    try:
        stored = _load_file(conn, table_name, columns, fifo)
    finally:
        if writer.is_alive():
            # The server never opened the pipe (the statement failed first): release the writer.
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        writer.join(timeout=30)
        os.unlink(fifo)
        os.rmdir(folder)
    if failure:
        raise failure[0]
    return stored


class _GuardedMySQLResult(pymysql.connections.MySQLResult):
    """A query result that sends a local file only when it is the one our own load statement named.

    ``LOAD DATA LOCAL`` lets the *server* name the file the client sends, at any query: a plain
    LOCAL-enabled connection would hand any file this process can read (lms.ini, keys) to a rogue
    or compromised server. Any other request is answered with no data (the protocol's "empty
    file", which keeps the connection usable) and fails the statement.
    """

    def _read_load_local_packet(self, first_packet: Any) -> None:
        conn = self.connection
        filename = pymysql.connections.LoadLocalPacketWrapper(first_packet).filename
        allowed = getattr(conn, "lmsplugins_local_file", None)
        if allowed is not None and filename == allowed.encode("utf-8"):
            super()._read_load_local_packet(first_packet)
            return
        conn.write_packet(b"")
        conn._read_packet()
        raise pymysql.err.OperationalError(
            2068, f"refused the server's request for local file {filename[:200]!r} (LOAD DATA LOCAL)"
        )


class _GuardedMySQLConnection(pymysql.connections.Connection):
    """Every engine connection to MySQL: PyMySQL's, with :class:`_GuardedMySQLResult` results."""

    def _read_query_result(self, unbuffered: bool = False) -> int:
        self._result = None
        result = _GuardedMySQLResult(self)
        if unbuffered:
            result.init_unbuffered_query()
        else:
            result.read()
        self._result = result
        if result.server_status is not None:
            self.server_status = result.server_status
        return result.affected_rows


@contextlib.contextmanager
def _local_file(conn: Connection, path: str) -> Iterator[None]:
    """Let the server read *path*, and no other file, on *conn* while our LOAD statement runs."""
    raw = conn.connection.driver_connection
    raw.lmsplugins_local_file = path  # type: ignore[union-attr]
    try:
        yield
    finally:
        raw.lmsplugins_local_file = None  # type: ignore[union-attr]


def _load_file(conn: Connection, table_name: str, columns: Sequence[str], path: str) -> int:
    cols = ", ".join(f"`{c}`" for c in columns)
    with _local_file(conn, path):
        result = conn.exec_driver_sql(
            f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE `{table_name}` CHARACTER SET utf8mb4 "
            f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({cols})"
        )
    return result.rowcount


def bulk_insert(
    conn: Connection,
    table: Table,
    rows: Iterable[Any],
    batch_size: int = 5000,
    columns: Sequence[str] | None = None,
) -> int:
    """Insert many rows fast: COPY on PostgreSQL, multi-row INSERT elsewhere. Returns the row count.

    Rows are mappings, or sequences in the order of *columns* when given."""
    count = 0
    for batch in _batches(rows, batch_size, columns=columns):
        if conn.dialect.name == "postgresql":
            count += copy_rows(conn, table.name, batch.columns, batch.tuples())
        else:
            conn.execute(table.insert(), batch.mappings())
            count += len(batch.rows)
    return count


def _upsert_statement(conn: Connection, table: Table, key: Sequence[str], update: Sequence[str]):
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table)
        if not update:
            return stmt.on_conflict_do_nothing(index_elements=list(key))
        return stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in update})
    if name == "mysql":
        from sqlalchemy.dialects.mysql import insert as my_insert

        stmt = my_insert(table)
        if not update:
            return stmt.on_duplicate_key_update({key[0]: stmt.inserted[key[0]]})
        return stmt.on_duplicate_key_update({c: stmt.inserted[c] for c in update})
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as lite_insert

        stmt = lite_insert(table)
        if not update:
            return stmt.on_conflict_do_nothing(index_elements=list(key))
        return stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in update})
    raise NotImplementedError(f"upsert on {name}")


def upsert(
    conn: Connection,
    table: Table,
    rows: Iterable[Any],
    key: Sequence[str],
    update: Sequence[str] | None = None,
    batch_size: int = 5000,
    columns: Sequence[str] | None = None,
) -> int:
    """Insert rows, updating *update* columns (default: all but the key) where *key* already exists.

    Rows are mappings, or sequences in the order of *columns* when given. On PostgreSQL and MySQL
    each batch is first streamed with the bulk loader (COPY inside a savepoint; LOAD DATA), the
    common case of an import of new rows; only a batch that meets existing keys goes through a
    staging table and ``INSERT ... ON CONFLICT`` / ``ON DUPLICATE KEY UPDATE``. SQLite gets a
    multi-row upsert statement. Returns the number of rows sent.
    """
    count = 0
    mysql_bulk = conn.dialect.name == "mysql" and _has_unique(table, key)
    bulk = conn.dialect.name == "postgresql" or mysql_bulk
    for batch in _batches(rows, batch_size, keep=not mysql_bulk, columns=columns):
        upd = [c for c in (update if update is not None else batch.columns) if c not in key and c in batch.columns]
        if bulk:
            _bulk_upsert_batch(conn, table, batch, key, upd)
        else:
            conn.execute(_upsert_statement(conn, table, key, upd), batch.mappings())
        count += len(batch)
    return count


def _has_unique(table: Table, key: Sequence[str]) -> bool:
    """LOAD DATA's skip-on-duplicate only stands in for an upsert when *key* is a unique key."""
    wanted = set(key)
    if {c.name for c in table.primary_key.columns} == wanted:
        return True
    return any(
        isinstance(con, UniqueConstraint) and {c.name for c in con.columns} == wanted for con in table.constraints
    )


def _bulk_upsert_batch(
    conn: Connection, table: Table, batch: _Batch, key: Sequence[str], update: Sequence[str]
) -> None:
    if conn.dialect.name == "postgresql":
        savepoint = conn.begin_nested()
        try:
            copy_rows(conn, table.name, batch.columns, batch.tuples())
            savepoint.commit()
            return
        except Exception as exc:
            # COPY runs on the driver's cursor, so psycopg's own UniqueViolation arrives unwrapped.
            savepoint.rollback()
            orig = exc.orig if isinstance(exc, DBAPIError) else exc
            if getattr(orig, "sqlstate", None) != "23505":
                raise
        batch.drain()
        stage = f"_stage_{table.name}"
        conn.exec_driver_sql(f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" (LIKE "{table.name}" INCLUDING DEFAULTS)')
        conn.exec_driver_sql(f'TRUNCATE "{stage}"')
        copy_rows(conn, stage, batch.columns, batch.tuples())
        cols = ", ".join(f'"{c}"' for c in batch.columns)
        conflict = ", ".join(f'"{c}"' for c in key)
        action = "DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in update) if update else "DO NOTHING"
        conn.exec_driver_sql(
            f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM "{stage}" ON CONFLICT ({conflict}) {action}'
        )
        return
    with tempfile.NamedTemporaryFile("w+", encoding="utf-8", suffix=".tsv", prefix="lmsplugins-batch-") as tee:
        stored = mysql_load(conn, table.name, batch.columns, batch.tuples(), tee=tee)
        if stored == len(batch) or not update:
            return
        tee.flush()
        stage = f"_stage_{table.name}"
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS `{stage}` LIKE `{table.name}`")
        conn.exec_driver_sql(f"TRUNCATE TABLE `{stage}`")
        _load_file(conn, stage, batch.columns, tee.name)
    cols = ", ".join(f"`{c}`" for c in batch.columns)
    sets = ", ".join(f"`{c}` = VALUES(`{c}`)" for c in update)
    conn.exec_driver_sql(
        f"INSERT INTO `{table.name}` ({cols}) SELECT {cols} FROM `{stage}` ON DUPLICATE KEY UPDATE {sets}"
    )


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for PostgreSQL advisory locks."""
    return int.from_bytes(hashlib.sha1(f"lmsplugins:{name}".encode()).digest()[:8], "big", signed=True)


def _mysql_lock_name(name: str) -> str:
    full = f"lmsplugins:{name}"
    return full if len(full) <= 64 else full[:47] + hashlib.sha1(full.encode()).hexdigest()[:17]


def holder_label() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


@contextlib.contextmanager
def named_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold the lock *name* for the duration of the block, or raise LockHeld at once.

    PostgreSQL: a session advisory lock on its own connection, so the job's transactions can commit
    and roll back freely underneath it. MySQL: ``GET_LOCK``. SQLite: an ``flock`` on a file beside the
    database. The holder's description is recorded so a refused run can name it.
    """
    dialect = engine.dialect.name
    if dialect == "sqlite":
        db = engine.url.database or ":memory:"
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
        path = Path(f"{db}.{safe}.lock") if db != ":memory:" else Path(f"/tmp/lmsplugins.{safe}.lock")
        fh = open(path, "a+")  # noqa: SIM115 - the handle lives as long as the lock
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise LockHeld(f"job lock {name!r} is held by {holder}") from None
            fh.seek(0)
            fh.truncate()
            fh.write(holder_label())
            fh.flush()
            yield
        finally:
            fh.close()
        return
    conn = engine.connect()
    try:
        if dialect == "postgresql":
            key = lock_key(name)
            conn.execute(
                text("SELECT set_config('application_name', :n, false)"),
                {"n": f"lmsplugins {name} {holder_label()}"[:63]},
            )
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            conn.commit()
            if not got:
                holder = conn.execute(
                    text(
                        "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
                        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                        "AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"
                    ),
                    {"k": key & 0xFFFFFFFFFFFFFFFF if key >= 0 else key + (1 << 64)},
                ).first()
                who = holder[0] if holder and holder[0] else "another session"
                raise LockHeld(f"job lock {name!r} is held by {who}")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        elif dialect == "mysql":
            lname = _mysql_lock_name(name)
            got = conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": lname}).scalar()
            if got != 1:
                row = conn.execute(
                    text("SELECT p.USER, p.HOST FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(:n)"),
                    {"n": lname},
                ).first()
                who = f"MySQL connection of {row[0]}@{row[1]}" if row else "another session"
                raise LockHeld(f"job lock {name!r} is held by {who}")
            try:
                yield
            finally:
                conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": lname})
        else:
            raise NotImplementedError(f"named locks on {dialect}")
    finally:
        conn.close()


def lock_for_transaction(conn: Connection, handle: int) -> None:
    """Take LMS's numbered lock until the current transaction ends (``LMSDB::LockByHandle``).

    PostgreSQL: ``pg_advisory_xact_lock(handle)``, the very lock the LMS UI takes around invoice
    numbering (handle 1), so our writers and LMS's never hand out the same number. MySQL: LMS's own
    ``GET_LOCK('<handle>')``, so we wait for the LMS invoice form and it waits for us; that lock is
    session-scoped, so it is released when this transaction commits or rolls back, and a row lock on
    the core ``dbversion`` row (kept by InnoDB until the transaction really ends) orders our own
    writers to the last moment. SQLite: a dummy write, which takes the database write lock for the
    rest of the transaction.
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": handle})
    elif dialect == "mysql":
        held: list[str] = conn.info.setdefault("lmsplugins.lms_locks", [])
        name = str(handle)
        if name not in held:
            got = conn.execute(text("SELECT GET_LOCK(:n, 120)"), {"n": name}).scalar()
            if got != 1:
                raise LockHeld(f"LMS lock {name} is held by another session for over 120 s; try again later")
            held.append(name)
        conn.execute(text("SELECT keyvalue FROM dbinfo WHERE keytype = 'dbversion' FOR UPDATE"))
    else:
        conn.execute(text("UPDATE dbinfo SET keyvalue = keyvalue WHERE keytype = 'dbversion'"))


def _release_lms_locks(conn: Connection) -> None:
    """End-of-transaction hook of MySQL engines: release the LMS locks the transaction took."""
    held: list[str] = conn.info.get("lmsplugins.lms_locks", [])
    if not held:
        return
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        for name in held:
            cursor.execute("SELECT RELEASE_LOCK(%s)", (name,))
    finally:
        cursor.close()
    held.clear()
