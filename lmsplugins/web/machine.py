"""Machine endpoints: the APIs other systems pull from LMS (UserSide's universal API, Wildcore's MikBill feed).

They differ from the panels in every way that matters, so the host gives them one way in:

- no LMS login and no session cookie: a key in the query string is the credential (that is how
  usm_billing and Wildcore call a billing), compared in constant time, optionally with an address
  allow-list; an unset key means the endpoint is off (403), never open;
- the key never reaches a log line: :class:`QuerySecretFilter` masks ``key=`` in the request lines the
  development server and gunicorn's access log write;
- a document is whole or not at all: :func:`json_document` renders the body into a spooled temporary file
  (memory stays flat, big answers spill to disk) and only then answers 200 with a ``Content-Length``; a
  failure while rendering becomes an error status instead of half a document, which a consumer such as
  Wildcore's sync would otherwise take as the customer base;
- each answer is remembered (time, method, address, status, rows, duration) in a short ring per API
  (:func:`record_request`, :func:`recent_requests`) for the plugin's admin page, without the key.

A view becomes a machine endpoint with :func:`machine_endpoint`; the frame's login check skips views
marked by :func:`is_public`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from werkzeug.wsgi import wrap_file

from lmsplugins.store import DbState
from lmsplugins.web.auth import in_address_list, normalize_ip
from lmsplugins.web.context import web_state

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC_ATTR = "lmsplugins_public"
SPOOL_IN_MEMORY = 4 * 1024 * 1024
"""Bytes of a document kept in memory before the spool moves to a temporary file."""
RING_SIZE = 50
_SECRET_QUERY = re.compile(r"(?i)([?&](?:key|api_key|token|password)=)[^&\s\"]*")


def public(view: F) -> F:
    """Mark *view* as needing no LMS login (the frame skips its login check and user lookup)."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def is_public(app: Flask, endpoint: str | None) -> bool:
    view = app.view_functions.get(endpoint or "")
    return bool(view is not None and getattr(view, PUBLIC_ATTR, False))


def mask_query(text: str) -> str:
    """*text* with the values of ``key=``, ``token=`` and the like replaced by ``***``."""
    return _SECRET_QUERY.sub(r"\1***", text)


class QuerySecretFilter(logging.Filter):
    """Masks secrets in request lines, whichever logger writes them (werkzeug, gunicorn.access)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(mask_query(a) if isinstance(a, str) else a for a in record.args)  # type: ignore[assignment]
        if isinstance(record.msg, str):
            record.msg = mask_query(record.msg)
        return True


def init_app(app: Flask) -> None:
    """Install the log mask on the loggers that write request lines."""
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuerySecretFilter) for f in logger.filters):
            logger.addFilter(QuerySecretFilter())


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def key_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; an unset expected key matches nothing."""
    if not expected:
        return False
    return hmac.compare_digest(_digest(given or ""), _digest(expected))


def _allowed(config: Any, key_setting: str, allow_setting: str | None, address: str) -> bool:
    if not key_matches(request.args.get("key"), config.get(key_setting)):
        return False
    allowed = config.get(allow_setting) if allow_setting else None
    return not allowed or in_address_list(allowed, address)


def client_address() -> str:
    return normalize_ip(request.remote_addr)


class Denied(Exception):
    """Raised inside a machine view to answer with an error status and a message.

    A plain exception class, not a frozen dataclass: Python sets ``__traceback__`` and ``__context__``
    on an exception as it travels through ``with`` blocks, which a frozen instance refuses."""

    def __init__(self, status: int, message: str):
        super().__init__(status, message)
        self.status = status
        self.message = message


def machine_endpoint(
    api: str,
    key_setting: str,
    allow_setting: str | None,
    error: Callable[[int, str], Response],
) -> Callable[[F], F]:
    """Decorate a view as a machine endpoint of *api* (``userside``, ``wildcore``...).

    The key comes from ``?key=`` and is checked against the setting *key_setting*; when
    *allow_setting* holds addresses or networks the client must be among them. A refusal is
    *error(403, "forbidden")* and says nothing else. Inside the view, raising :class:`Denied` answers
    ``error(status, message)``. Every answer is recorded for the admin page.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            config = web_state().host.config()
            address = client_address()
            method = request.args.get("request", "")
            rows = 0
            if not _allowed(config, key_setting, allow_setting, address):
                response = error(403, "forbidden")
            else:
                try:
                    response = view(*args, **kwargs)
                    rows = int(getattr(response, "rows", 0) or 0)
                except Denied as exc:
                    response = error(exc.status, exc.message)
                except DocumentFailed as exc:
                    log.error("%s %s failed while rendering: %s", api, method, exc.reason)
                    response = error(503, "the document could not be produced; try again")
            status = response.status_code if isinstance(response, Response) else 200
            try:
                record_request(api, method, address, status, rows, time.perf_counter() - started)
            except Exception:
                log.exception("could not record a %s request", api)
            return response

        return public(wrapper)  # type: ignore[return-value]

    return decorate


class DocumentFailed(Exception):
    """Rendering a document failed part-way; nothing of it was sent."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RowCounter:
    """Counts the rows a generator hands out, so the request log can say how many were sent."""

    def __init__(self) -> None:
        self.rows = 0

    def count(self, items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            self.rows += 1
            yield item


def json_document(chunks: Iterable[str], rows: int | RowCounter = 0, status: int = 200) -> Response:
    """Render *chunks* (pieces of one JSON text) completely, then answer with them.

    Raises :class:`DocumentFailed` when producing a chunk fails, so the caller (or
    :func:`machine_endpoint`) answers with an error status and nothing half-written goes out.
    """
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, mode="w+b")  # noqa: SIM115 (the response closes it)
    try:
        buffer: list[str] = []
        size = 0
        for chunk in chunks:
            buffer.append(chunk)
            size += len(chunk)
            if size >= 65536:
                spool.write("".join(buffer).encode("utf-8"))
                buffer, size = [], 0
        spool.write("".join(buffer).encode("utf-8"))
    except Exception as exc:
        spool.close()
        raise DocumentFailed(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
    length = spool.tell()
    spool.seek(0)
    response = Response(
        wrap_file(request.environ, spool),
        status=status,
        mimetype="application/json",
        direct_passthrough=True,
    )
    response.headers["Content-Length"] = str(length)
    response.headers["Cache-Control"] = "no-store"
    response.rows = rows.rows if isinstance(rows, RowCounter) else rows  # type: ignore[attr-defined]
    return response


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_object(pairs: Iterable[tuple[Any, Any]]) -> Iterator[str]:
    """``{"k":v,...}`` from (key, value) pairs, one chunk per pair."""
    yield "{"
    first = True
    for key, value in pairs:
        yield ("" if first else ",") + dumps(str(key)) + ":" + dumps(value)
        first = False
    yield "}"


def json_array(items: Iterable[Any]) -> Iterator[str]:
    """``[v,...]`` from values, one chunk per value."""
    yield "["
    first = True
    for value in items:
        yield ("" if first else ",") + dumps(value)
        first = False
    yield "]"


@dataclass(frozen=True)
class RequestRecord:
    time: int
    method: str
    address: str
    status: int
    rows: int
    duration_ms: int


def _ring(api: str) -> DbState:
    return DbState(web_state().host.engine, f"machine_requests:{api}")


def record_request(api: str, method: str, address: str, status: int, rows: int, seconds: float) -> None:
    """Append to the API's ring of recent requests (kept in ``lmsplugins_state``, shared by workers)."""
    if current_app.config.get("MACHINE_REQUEST_LOG") is False:
        return
    ring = _ring(api)
    entry = RequestRecord(int(time.time()), method[:60], address, status, rows, int(seconds * 1000))
    try:
        old = json.loads(ring.get() or "[]")
    except ValueError:
        old = []
    ring.set(json.dumps([asdict(entry), *old][:RING_SIZE]))


def recent_requests(engine: Any, api: str) -> list[RequestRecord]:
    """The API's recent requests, newest first."""
    try:
        raw = json.loads(DbState(engine, f"machine_requests:{api}").get() or "[]")
        return [RequestRecord(**item) for item in raw]
    except (ValueError, TypeError):
        return []
