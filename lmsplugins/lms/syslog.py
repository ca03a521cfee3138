"""LMS's transaction log (``lib/SYSLOG.class.php``), written as LMS writes it, when ``logs.enabled`` is on.

An ISP's audit trail in LMS ("Transaction log") is four tables: a ``logtransactions`` row (time, user,
module) holds ``logmessages`` (resource type, operation), and each message holds the ids it touched in
``logmessagekeys`` and the changed values in ``logmessagedata``. LMS's rules, kept here:

- a transaction row is written lazily, with the first message after ``NewTransaction`` (a
  transaction without messages leaves no row); ``time`` is the clock, ``userid`` the acting LMS user
  (NULL for cron scripts);
- a message field whose name is a resource type (``RES_NODE`` ...) and whose value is a whole number
  or NULL becomes a key row named after the resource (``nodeid``; NULL is stored as 0); every other
  field becomes a data row with the value as text (PHP ``true`` as ``1``, ``false`` as ``''``).

The host's gateways log through :func:`active`: a job's chunk (``lmsplugins.jobs.Job.chunk``) makes a
writer for its connection current with :func:`recording`, and a web request of a logged-in user opens
a scope (:func:`open_scope`, from ``lmsplugins.web.audit``) whose writers write at once with that LMS
user's id, so a gateway records its change without any caller passing a logger; nothing is recorded
elsewhere (a script's own ``engine.begin()`` outside both).

A :class:`Syslog` buffers what a job writes and :meth:`Syslog.flush` stores it with one multi-row
insert per table, so logging 20,000 blocked debtors costs four statements, not 80,000. When the
setting is off, :meth:`Syslog.add` is a no-op, exactly like LMS's ``SYSLOG::getInstance()`` = null.
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from lmsplugins.lms.tables import logmessagedata, logmessagekeys, logmessages, logtransactions

if TYPE_CHECKING:
    from lmsplugins.host import Host

RES_USER, RES_ASSIGN, RES_LIAB, RES_NODE, RES_CUST = 1, 2, 3, 5, 7
RES_CUSTGROUP, RES_CUSTASSIGN, RES_TARIFF, RES_NODEGROUP, RES_NODEGROUPASSIGN = 10, 11, 12, 13, 14
RES_TAX, RES_NUMPLAN, RES_DIV, RES_COUNTRY, RES_CASH, RES_DOC, RES_INVOICECONT = 15, 16, 18, 19, 35, 36, 37
RES_ADDRESS, RES_VOIP_ACCOUNT, RES_VOIP_ACCOUNT_NUMBER = 55, 65, 66
OPER_ADD, OPER_DELETE, OPER_UPDATE = 1, 2, 3

RESOURCE_KEYS: dict[int, str] = {
    RES_USER: "userid",
    RES_ASSIGN: "assignmentid",
    RES_LIAB: "liabilityid",
    RES_NODE: "nodeid",
    RES_CUST: "customerid",
    RES_CUSTGROUP: "customergroupid",
    RES_CUSTASSIGN: "customerassignmentid",
    RES_TARIFF: "tariffid",
    RES_NODEGROUP: "nodegroupid",
    RES_NODEGROUPASSIGN: "nodegroupassignmentid",
    RES_TAX: "taxrateid",
    RES_NUMPLAN: "numberplanid",
    RES_DIV: "divisionid",
    RES_COUNTRY: "countryid",
    RES_CASH: "cashid",
    RES_DOC: "documentid",
    RES_ADDRESS: "address_id",
    RES_VOIP_ACCOUNT: "voipaccountid",
    RES_VOIP_ACCOUNT_NUMBER: "voipnumberid",
}
_DIGITS = re.compile(r"^[0-9]+$")

Field = tuple[int | str, Any]


@dataclass
class _Message:
    resource: int
    operation: int
    keys: list[tuple[str, int]]
    data: list[tuple[str, str | None]]


@dataclass
class _Transaction:
    time: int
    messages: list[_Message] = field(default_factory=list)
    id: int | None = None


def _php_text(value: Any) -> str | None:
    if value is None:
        return None
    if value is True:
        return "1"
    if value is False:
        return ""
    return str(value)


def split_fields(
    fields: Iterable[Field], keys: Sequence[str] = ()
) -> tuple[list[tuple[str, int]], list[tuple[str, str | None]]]:
    """LMS's ``AddMessage`` rule: (key rows, data rows) of one message's fields."""
    key_rows: list[tuple[str, int]] = []
    data_rows: list[tuple[str, str | None]] = []
    for name, value in fields:
        is_key_name = (isinstance(name, int) and name in RESOURCE_KEYS) or (isinstance(name, str) and name in keys)
        numeric = value is None or (isinstance(value, int) and not isinstance(value, bool))
        numeric = numeric or (isinstance(value, str) and bool(_DIGITS.match(value)))
        if is_key_name and numeric:
            key_name = RESOURCE_KEYS[name] if isinstance(name, int) else name
            key_rows.append((key_name, int(value or 0)))
        else:
            data_rows.append((str(name), _php_text(value)))
    return key_rows, data_rows


class Syslog:
    """One module's writer of LMS's transaction log (a no-op unless *enabled*)."""

    def __init__(
        self, conn: Connection, module: str, *, enabled: bool, userid: int | None = None, autoflush: bool = False
    ):
        self.conn = conn
        self.module = module[:50]
        self.enabled = enabled
        self.userid = userid
        self.autoflush = autoflush
        self._pending: list[_Transaction] = []
        self._open: _Transaction | None = None

    @classmethod
    def for_host(cls, host: Host, conn: Connection, module: str, userid: int | None = None) -> Syslog:
        """A writer that is on exactly when LMS's ``logs.enabled`` is."""
        return cls(conn, module, enabled=host.config().get_bool("logs.enabled", False), userid=userid)

    def new_transaction(self) -> None:
        """LMS's ``NewTransaction``: the next message opens a new transaction row."""
        self._open = None

    def add(self, resource: int, operation: int, fields: Iterable[Field] = (), keys: Sequence[str] = ()) -> None:
        """LMS's ``AddMessage``: one message in the current transaction (opened on first use)."""
        if not self.enabled:
            return
        if self._open is None:
            self._open = _Transaction(int(time.time()))
            self._pending.append(self._open)
        key_rows, data_rows = split_fields(fields, keys)
        self._open.messages.append(_Message(resource, operation, key_rows, data_rows))
        if self.autoflush:
            self.flush()

    @property
    def pending(self) -> int:
        return sum(len(t.messages) for t in self._pending)

    def flush(self) -> int:
        """Store every buffered message; returns how many. A transaction row is written once, with
        its first stored message; later messages of the same open transaction join it."""
        pending = [t for t in self._pending if t.messages]
        self._pending = [self._open] if self._open is not None else []
        if not pending:
            return 0
        new = [t for t in pending if t.id is None]
        rows = [{"time": t.time, "userid": self.userid, "module": self.module} for t in new]
        for t, tid in zip(new, self._insert_ids(logtransactions, rows), strict=True):
            t.id = tid
        flat = [(t.id, m) for t in pending for m in t.messages]
        for t in pending:
            t.messages = []
        msg_ids = self._insert_ids(
            logmessages, [{"transactionid": tid, "resource": m.resource, "operation": m.operation} for tid, m in flat]
        )
        key_rows = [
            {"logmessageid": mid, "name": n, "value": v}
            for mid, (_t, m) in zip(msg_ids, flat, strict=True)
            for n, v in m.keys
        ]
        data_rows = [
            {"logmessageid": mid, "name": n, "value": v}
            for mid, (_t, m) in zip(msg_ids, flat, strict=True)
            for n, v in m.data
        ]
        if key_rows:
            self.conn.execute(logmessagekeys.insert(), key_rows)
        if data_rows:
            self.conn.execute(logmessagedata.insert(), data_rows)
        return len(flat)

    def _insert_ids(self, table: Any, rows: list[dict[str, Any]]) -> list[int]:
        """Insert *rows* and return their ids in order (one multi-row statement where the driver can)."""
        if self.conn.dialect.insert_executemany_returning_sort_by_parameter_order:
            stmt = table.insert().returning(table.c.id, sort_by_parameter_order=True)
            return [int(r[0]) for r in self.conn.execute(stmt, rows)]
        return [int(self.conn.execute(table.insert().values(**row)).inserted_primary_key[0]) for row in rows]


_ACTIVE: contextvars.ContextVar[Syslog | None] = contextvars.ContextVar("lms_syslog", default=None)


@contextmanager
def recording(log: Syslog) -> Iterator[Syslog]:
    """Make *log* the writer of its connection's gateway changes; flushed when the block ends."""
    token = _ACTIVE.set(log)
    try:
        yield log
        log.flush()
    finally:
        _ACTIVE.reset(token)


@dataclass
class _Scope:
    host: Host
    module: str
    userid: int | None
    enabled: bool
    writers: dict[int, Syslog] = field(default_factory=dict)


_SCOPE: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("lms_syslog_scope", default=None)


def open_scope(host: Host, module: str, userid: int | None) -> contextvars.Token:
    """Log every gateway change of this context (a web request: LMS's user, the page as module), on
    whatever connection it is made, written at once, so it commits or rolls back with that change."""
    enabled = host.config().get_bool("logs.enabled", False)
    return _SCOPE.set(_Scope(host, module, userid, enabled))


def close_scope(token: contextvars.Token) -> None:
    _SCOPE.reset(token)


def active(conn: Connection) -> Syslog | None:
    """The enabled writer recording changes made on *conn*, or None (then nothing is logged)."""
    log = _ACTIVE.get()
    if log is not None and log.conn is conn:
        return log if log.enabled else None
    scope = _SCOPE.get()
    if scope is None or not scope.enabled:
        return None
    writer = scope.writers.get(id(conn))
    if writer is None or writer.conn is not conn:
        writer = Syslog(conn, scope.module, enabled=True, userid=scope.userid, autoflush=True)
        scope.writers[id(conn)] = writer
    return writer


def record(conn: Connection, resource: int, operation: int, fields: Iterable[Field], *, new: bool = True) -> None:
    """One gateway change: a message (in a new transaction unless *new* is False) when logging is on."""
    log = active(conn)
    if log is None:
        return
    if new:
        log.new_transaction()
    log.add(resource, operation, fields)


def row_fields(row: Mapping[str, Any], resources: Mapping[str, int], skip: Iterable[str] = ()) -> list[Field]:
    """A table row as message fields: columns naming a resource (``customerid``) become that resource."""
    skipped = set(skip)
    return [(resources.get(name, name), value) for name, value in row.items() if name not in skipped]
