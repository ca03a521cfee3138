"""Client of the Metroport MMSC (MVNO) REST API: the six calls of spec §4 as typed records, no database.

Why it is shaped like this:

* The API keeps a CodeIgniter-style cookie session (``sess_ci``). The client keeps the name=value pairs of
  every ``Set-Cookie`` it receives and sends them itself as one ``Cookie`` header, as the PHP plugin did,
  instead of trusting a cookie jar: the login lives under ``/admins/Auth`` and a jar would scope a cookie
  without ``Path`` to that folder. Redirects are refused for the same reason (``requests`` drops an
  explicit ``Cookie`` header on a redirect, and a redirected login POST turns into a GET), with a message
  that names the address to put in ``metroportmvno.api_url`` instead.
* How the real service reports an expired session is undocumented; HTTP 401 and 403 are taken as "log in
  again". Each call logs in again at most once: a second refusal right after a fresh login is an error,
  so a wrong account can never loop.
* Transient faults (connection errors, 429 with ``Retry-After``, 5xx) are retried by the shared
  :func:`lmsplugins.http.make_session` policy for GETs; the login POST is retried here (it is safe to
  repeat), the price-list upload is not (repeating an import is the operator's decision). One call
  (its login, re-login, retries and ``Retry-After`` waits) stays inside the host's retry budget
  (``lmsplugins.http_retry_budget``), so a silent service fails a job in minutes.
* Lists may come as ``[count, rows]`` or as a bare list (§4 "Envelopes"); the envelope is recognised by
  its shape (a number, then a list), never by "has two elements", which misread bare lists of two.
  Anything else is a :class:`MetroportProtocolError` naming the call and quoting what came back.
* Billing records stream: pages follow each other by ``id_after`` (the only cursor the API has) and are
  yielded record by record, so a million records never sit in memory. A page bounded by ``limit`` is
  read whole and decoded by one ``json.loads`` (one C call instead of a Python step per row: the import's
  hot path); an answer larger than that bound (a server ignoring ``limit``, no paging), cut short or not
  the expected shape is parsed incrementally instead, which yields the rows before the cut and words
  every protocol error. A body cut short resumes after the last record yielded, so nothing is lost or
  repeated.
* Secrets (the password, the session cookie values) are scrubbed from every message this module builds.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import email.utils
import io
import itertools
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import requests

from lmsplugins.errors import ConfigError, ProviderError
from lmsplugins.http import TRANSIENT_STATUSES, HttpPolicy, RetryBudget, call_budget, make_session

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.mmsc.metroport.pl"
DEFAULT_TIMEZONE = "Europe/Warsaw"
LOGIN_PATH = "/admins/Auth/login"
USERS_PATH = "/Users/users"
MOBILES_PATH = "/Mvno/Mobiles"
TRAFFIC_TYPES_PATH = "/Mvno/Billings/TrafficTypes"
BILLINGS_PATH = "/Mvno/Billings"
PRICE_LIST_PATH = "/mvno/retailRates/importRates"
SESSION_COOKIE = "sess_ci"
WIRE_DATETIME = "%Y-%m-%d %H:%M:%S"
PLACEHOLDER_CREDENTIALS = frozenset({"api_login", "api_password"})
"""Values the PHP plugin's install SQL seeds into ``uiconfig``; they override lms.ini (spec §8.1)."""

MOBILE_STATUSES = ("active", "new", "blocked", "deleted")
TRAFFIC_TYPES = ("call", "sms", "mms", "data", "video")
BILLING_FIELDS = ("duration", "datatransfer", "msg")


# --------------------------------------------------------------------------------------------------
# Errors


class MetroportError(ProviderError):
    """Base of every Metroport failure; ``call`` names the API call, the message never carries a secret."""

    def __init__(self, message: str, call: str = ""):
        self.call = call
        super().__init__(message)


class MetroportLoginError(MetroportError):
    """The login was refused (wrong credentials, or an account without access to the MMSC panel)."""


class MetroportSessionError(MetroportError):
    """The session was refused again right after a fresh login."""


class MetroportTransportError(MetroportError):
    """No usable answer: the server could not be reached, or kept failing (5xx, 429) after the retries."""


class MetroportProtocolError(MetroportError):
    """An answer that is not the shape the call promises (not JSON, no list, a row without its id...)."""


class PriceListError(MetroportError):
    """The price-list CSV failed validation; nothing was sent. ``problems`` lists every finding."""

    def __init__(self, path: str | Path, problems: Sequence[PriceListProblem]):
        self.path = str(path)
        self.problems = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:10])
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        super().__init__(f"Price list {self.path} was not uploaded: {shown}{more}", "price list upload")


# --------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class MetroportUser:
    """One row of ``GET /Users/users``. Identifiers are as the provider typed them (normalising is mapping's)."""

    id: int
    name: str
    nip: str | None = None
    pesel: str | None = None
    idcardno: str | None = None
    usercode: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class MobileAccount:
    """One SIM account of ``GET /Mvno/Mobiles``; ``ano`` is the number without the country code."""

    id: int
    userid: int | None
    ano: str
    status: str
    status_confirmed: bool
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class TrafficType:
    """One row of ``GET /Mvno/Billings/TrafficTypes``: ``type`` is call, data, mms, sms or video."""

    id: int
    type: str


class PassedRecord(NamedTuple):
    """A billing record the caller said it will not store (its own number, ``ano``, is not wanted), left
    unparsed: only what a report names (src and dst as sent). On an operator's import many records
    belong to SIMs no longer in LMS, and parsing their dates and amounts was a sixth of the import's
    time for nothing."""

    id: int
    src: str
    dst: str
    ano: str


@dataclass(frozen=True, slots=True)
class BillingRecord:
    """One billing record (CDR) of ``GET /Mvno/Billings``.

    ``src`` and ``dst`` already have the ``D<digit>`` routing prefix removed (spec §4.6); ``calldate`` is
    aware in the client's time zone (the API speaks local wall time). Quantities stay in the provider's
    units (``datatransfer`` in kB); which one applies is ``billingfield``'s business, decided in mapping.
    """

    id: int
    src: str
    dst: str
    ano: str
    calldate: datetime
    billingfield: str
    duration: int | None
    datatransfer: Decimal | None
    msg: int | None
    retail_totalnetto: Decimal | None
    retail_vat: Decimal | None
    traffic_types_id: int | None
    category_name: str


@dataclass(frozen=True)
class UploadResult:
    """What the price-list import answered: HTTP 200 or 204 and the body, shown verbatim to the operator."""

    status: int
    body: str


# --------------------------------------------------------------------------------------------------
# Field helpers

_ROUTING_PREFIX = re.compile(r"D\d")


def strip_routing_prefix(number: str) -> str:
    """Drop a leading ``D`` + one digit from a number that is not all digits (API change, October 2023)."""
    if number and not number.isdigit() and _ROUTING_PREFIX.match(number):
        return number[2:]
    return number


class _RowError(Exception):
    """A field of one row cannot be used; turned into a MetroportProtocolError naming the call and row."""


def _text(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, bool | dict | list):
        raise _RowError(f"{key} is {type(value).__name__}, not text")
    text = str(value).strip()
    return text or None


def _int(row: Mapping[str, Any], key: str, required: bool = False) -> int | None:
    value = row.get(key)
    if value is None or value == "":
        if required:
            raise _RowError(f"no {key}")
        return None
    if isinstance(value, bool):
        raise _RowError(f"{key} is a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise _RowError(f"{key} is not a whole number: {str(value)[:40]!r}")


def _decimal(row: Mapping[str, Any], key: str) -> Decimal | None:
    """Numbers may come as JSON numbers or as text with a decimal comma (spec §5 ``price``)."""
    value = row.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool | dict | list):
        raise _RowError(f"{key} is {type(value).__name__}, not a number")
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise _RowError(f"{key} is not a number: {str(value)[:40]!r}") from None


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "t", "true", "y", "yes")


def parse_user(row: Mapping[str, Any]) -> MetroportUser:
    """A user row; the id is ``id``, falling back to ``userid`` (the field the other plugin reads)."""
    uid = _int(row, "id") if row.get("id") not in (None, "") else _int(row, "userid")
    if uid is None:
        raise _RowError("neither id nor userid")
    return MetroportUser(
        id=uid,
        name=_text(row, "UserCodeName") or "",
        nip=_text(row, "nip"),
        pesel=_text(row, "pesel"),
        idcardno=_text(row, "idcardno"),
        usercode=_text(row, "usercode"),
        raw=dict(row),
    )


def parse_mobile(row: Mapping[str, Any]) -> MobileAccount:
    return MobileAccount(
        id=_int(row, "id", required=True) or 0,
        userid=_int(row, "userid"),
        ano=_text(row, "ano") or "",
        status=(_text(row, "status") or "").lower(),
        status_confirmed=_flag(row.get("status_confirmed")),
        raw=dict(row),
    )


def parse_traffic_type(row: Mapping[str, Any]) -> TrafficType:
    return TrafficType(id=_int(row, "id", required=True) or 0, type=(_text(row, "type") or "").lower())


def parse_billing(row: Mapping[str, Any], tz: ZoneInfo | None) -> BillingRecord:
    calldate_text = _text(row, "calldate")
    if calldate_text is None:
        raise _RowError("no calldate")
    try:
        calldate = datetime.fromisoformat(calldate_text)
    except ValueError:
        raise _RowError(f"calldate is not a date and time: {calldate_text[:40]!r}") from None
    if tz is not None:
        calldate = calldate.replace(tzinfo=tz) if calldate.tzinfo is None else calldate.astimezone(tz)
    return BillingRecord(
        id=_int(row, "id", required=True) or 0,
        src=strip_routing_prefix(_text(row, "src") or ""),
        dst=strip_routing_prefix(_text(row, "dst") or ""),
        ano=_text(row, "ano") or "",
        calldate=calldate,
        billingfield=(_text(row, "billingfield") or "").lower(),
        duration=_int(row, "duration"),
        datatransfer=_decimal(row, "datatransfer"),
        msg=_int(row, "msg"),
        retail_totalnetto=_decimal(row, "retail_totalnetto"),
        retail_vat=_decimal(row, "retail_vat"),
        traffic_types_id=_int(row, "traffic_types_id"),
        category_name=_text(row, "CategoryName") or "",
    )


class BillingParser:
    """:func:`parse_billing` for a stream of rows, several times faster on rows of the usual shape.

    Why: parsing runs once per record of an import (a million a month), and the general helpers pay
    for every shape the API might send. Rows whose fields have the plain JSON types (whole numbers as
    ints, amounts as numbers or text, strings as strings) take a straight path; the date of the previous
    row is reused when the text repeats (records come in time order, many per second), and amounts are
    decoded once per distinct value (few distinct prices). Any other row goes through
    :func:`parse_billing`, so results and errors are exactly its own.
    """

    _CACHE_LIMIT = 1024
    """Distinct amounts remembered (the VAT rate, common prices); the cache starts over past this, so it
    stays a few hundred kB whatever the number of records."""

    def __init__(self, tz: ZoneInfo | None):
        self.tz = tz
        self._last_date_text: str | None = None
        self._last_date = datetime.min
        self._amounts: dict[Any, Decimal | None] = {"": None}

    def _amount(self, value: Any) -> Decimal | None:
        """``_decimal`` of a non-None value; raises _RowError like it (bools etc. never get here)."""
        kind = type(value)
        if kind is int:
            return Decimal(value)
        if kind is not float and kind is not str:
            raise _RowError("not a plain number")  # bools would hit the cache as 0 and 1
        amounts = self._amounts
        cached = amounts.get(value, amounts)
        if cached is not amounts:
            return cached  # type: ignore[return-value]
        if kind is float:
            decoded: Decimal | None = Decimal(repr(value))
            if value == 0:
                return decoded  # 0.0 and -0.0 are equal keys but different Decimals
        else:
            try:
                decoded = Decimal(value.strip().replace(",", "."))
            except InvalidOperation:
                raise _RowError(f"not a number: {value[:40]!r}") from None
        if len(amounts) >= self._CACHE_LIMIT:
            amounts.clear()
            amounts[""] = None
        amounts[value] = decoded
        return decoded

    def _calldate(self, text: str) -> datetime:
        if text == self._last_date_text:
            return self._last_date
        moment = datetime.fromisoformat(text.strip())
        tz = self.tz
        if tz is not None:
            moment = moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)
        self._last_date_text, self._last_date = text, moment
        return moment

    def __call__(self, row: Mapping[str, Any]) -> BillingRecord:
        get = row.get
        try:
            rid, src, dst, ano = get("id"), get("src"), get("dst"), get("ano")
            calldate, billingfield, category = get("calldate"), get("billingfield"), get("CategoryName")
            duration, msg, traffic = get("duration"), get("msg"), get("traffic_types_id")
            if (
                type(rid) is not int
                or type(src) is not str
                or type(dst) is not str
                or type(ano) is not str
                or type(calldate) is not str
                or type(billingfield) is not str
                or type(category) is not str
                or (duration is not None and type(duration) is not int)
                or (msg is not None and type(msg) is not int)
                or (traffic is not None and type(traffic) is not int)
            ):
                raise _RowError("not the usual shape")
            src = src.strip()
            if not src.isdigit():
                src = strip_routing_prefix(src)
            dst = dst.strip()
            if not dst.isdigit():
                dst = strip_routing_prefix(dst)
            amount = self._amount
            data, net, vat = get("datatransfer"), get("retail_totalnetto"), get("retail_vat")
            return BillingRecord(
                rid,
                src,
                dst,
                ano.strip(),
                self._last_date if calldate == self._last_date_text else self._calldate(calldate),
                billingfield.strip().lower(),
                duration,
                None if data is None else Decimal(data) if type(data) is int else amount(data),
                msg,
                None if net is None else amount(net),
                None if vat is None else amount(vat),
                traffic,
                category.strip(),
            )
        except (_RowError, ValueError, TypeError):
            return parse_billing(row, self.tz)


def wire_datetime(value: datetime | date | str, tz: ZoneInfo | None = None) -> str:
    """``Y-m-d H:i:s`` in the API's local time: aware values are converted to *tz* first."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not a date and time: {value!r}") from None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None and tz is not None:
        value = value.astimezone(tz)
    return value.strftime(WIRE_DATETIME)


# --------------------------------------------------------------------------------------------------
# Price list


@dataclass(frozen=True)
class PriceListProblem:
    """One finding of :func:`validate_price_list`; ``line`` is 1-based, None for the file as a whole."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


PRICE_LIST_MAX_BYTES = 20 * 1024 * 1024
_DELIMITERS = (";", ",", "\t")


def validate_price_list(
    path: str | Path,
    *,
    required_columns: Iterable[str] = (),
    numeric_columns: Iterable[str] = (),
    max_bytes: int = PRICE_LIST_MAX_BYTES,
) -> list[PriceListProblem]:
    """Check a retail price-list CSV file before it is uploaded; an empty list means it may go.

    See :func:`validate_price_list_bytes` for what is checked.
    """
    p = Path(path)
    if not p.is_file():
        return [PriceListProblem(None, f"{p} does not exist or is not a file")]
    size = p.stat().st_size
    if size > max_bytes:
        return [PriceListProblem(None, f"the file has {size} bytes, more than the {max_bytes} allowed")]
    return validate_price_list_bytes(p.read_bytes(), required_columns=required_columns, numeric_columns=numeric_columns)


def validate_price_list_bytes(
    data: bytes,
    *,
    required_columns: Iterable[str] = (),
    numeric_columns: Iterable[str] = (),
) -> list[PriceListProblem]:
    """Check the content of a price-list CSV.

    The CSV's columns are Metroport's and undocumented (spec §4.2), so by default only what any price list
    must satisfy is checked: UTF-8 text (not a renamed spreadsheet), a header of unique non-empty names
    separated by ``;``, ``,`` or tab, at least one data row, every row as wide as the header, quotes
    closed, no empty line inside the data. Known columns can be required by name (case-insensitive) and
    checked as decimal numbers (dot or comma).
    """
    problems: list[PriceListProblem] = []
    if not data.strip():
        return [PriceListProblem(None, "the file is empty")]
    if data[:2] == b"PK" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return [PriceListProblem(None, "this is a spreadsheet (XLSX/XLS), not CSV; export it as CSV first")]
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return [PriceListProblem(line, "contains NUL bytes; not a text file")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return [PriceListProblem(line, "is not UTF-8 (saved as Windows-1250?); save it as UTF-8")]
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=first_line.count)
    if first_line.count(delimiter) == 0:
        return [PriceListProblem(1, "the header has a single column; expected columns separated by ; , or tab")]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    numeric_at: dict[int, str] = {}
    rows = 0
    blank_since: int | None = None
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                blank_since = blank_since or line
                continue
            if blank_since is not None and header is not None:
                problems.append(PriceListProblem(blank_since, "empty line inside the data"))
            blank_since = None
            if header is None:
                header = [cell.strip() for cell in record]
                problems.extend(_header_problems(header, required_columns))
                wanted = {c.lower() for c in numeric_columns}
                numeric_at = {i: name for i, name in enumerate(header) if name.lower() in wanted}
                continue
            rows += 1
            if len(record) != len(header):
                problems.append(PriceListProblem(line, f"{len(record)} fields, the header has {len(header)}"))
                continue
            for index, name in numeric_at.items():
                try:
                    Decimal(record[index].strip().replace(",", "."))
                except InvalidOperation:
                    problems.append(PriceListProblem(line, f"{name} is not a number: {record[index][:30]!r}"))
    except csv.Error as exc:
        problems.append(PriceListProblem(reader.line_num, f"broken CSV ({exc}); check the quotes"))
    if header is not None and rows == 0 and not problems:
        problems.append(PriceListProblem(None, "the file has a header but no price rows"))
    return problems


def _header_problems(header: list[str], required: Iterable[str]) -> list[PriceListProblem]:
    problems = []
    seen: set[str] = set()
    for number, name in enumerate(header, 1):
        if not name:
            problems.append(PriceListProblem(1, f"column {number} of the header has no name"))
        elif name.lower() in seen:
            problems.append(PriceListProblem(1, f"column {name!r} appears twice in the header"))
        seen.add(name.lower())
    missing = [c for c in required if c.lower() not in seen]
    if missing:
        problems.append(PriceListProblem(1, f"the header lacks the column(s) {', '.join(missing)}"))
    return problems


# --------------------------------------------------------------------------------------------------
# Streaming JSON


class _Truncated(Exception):
    """The body ended (or the connection broke) before the JSON document was complete."""


class _Malformed(Exception):
    """The body is not the JSON shape we expect; ``excerpt`` shows what came instead."""

    def __init__(self, message: str, excerpt: str = ""):
        self.excerpt = excerpt
        super().__init__(message)


_WS = re.compile(r"[ \t\n\r]*")
_MAX_VALUE_CHARS = 1 << 20
"""A single row bigger than this is taken as a malformed body rather than buffered on."""


class _JsonStream:
    """Just enough of an incremental JSON reader for ``[count, [rows]]`` and ``[rows]``.

    It keeps one chunk plus one unparsed row in memory and lets ``json``'s C scanner decode each row.
    """

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(chunks)
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._json = json.JSONDecoder()
        self._buf = ""
        self._pos = 0
        self._eof = False
        self.started = ""

    def _fill(self) -> bool:
        if self._eof:
            return False
        if self._pos > 65536:
            self._buf = self._buf[self._pos :]
            self._pos = 0
        try:
            for chunk in self._chunks:
                text = self._decoder.decode(chunk)
                if text:
                    if not self.started:
                        self.started = text[:200]
                    self._buf += text
                    return True
            tail = self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _Malformed("the body is not UTF-8", self.started) from None
        self._buf += tail
        self._eof = True
        return bool(tail)

    def peek(self) -> str:
        """The next non-blank character, or '' at the end of the body."""
        while True:
            match = _WS.match(self._buf, self._pos)
            self._pos = match.end() if match else self._pos
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill():
                return ""

    def take(self, char: str, what: str) -> None:
        got = self.peek()
        if got == "":
            raise _Truncated(f"the body ended where {what} was expected")
        if got != char:
            raise _Malformed(f"expected {what}, got {self._buf[self._pos : self._pos + 40]!r}", self.started)
        self._pos += 1

    def value(self) -> Any:
        if self.peek() == "":
            raise _Truncated("the body ended where a value was expected")
        while True:
            try:
                obj, end = self._json.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError:
                if len(self._buf) - self._pos > _MAX_VALUE_CHARS:
                    raise _Malformed("a value is not valid JSON", self._buf[self._pos : self._pos + 80]) from None
                if not self._fill():
                    raise _Truncated("the body ended inside a value") from None
                continue
            if end == len(self._buf) and not isinstance(obj, dict | list | str) and self._fill():
                continue
            self._pos = end
            return obj

    def at_end(self) -> bool:
        return self.peek() == ""


def _is_count(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())


def iter_rows(stream: _JsonStream) -> Iterator[Mapping[str, Any]]:
    """Yield the objects of ``[count, [obj...]]`` or ``[obj...]``; an empty body means no rows.

    Raises _Malformed for any other shape and _Truncated when the body stops early.
    """
    first = stream.peek()
    if first == "":
        return
    if first != "[":
        kind = "a JSON object" if first == "{" else ("an HTML page" if first == "<" else "not a JSON list")
        raise _Malformed(f"{kind} where a list was expected", stream.started)
    stream.take("[", "a list")
    head = stream.peek()
    if head == "]":
        stream.take("]", "]")
        if not stream.at_end():
            raise _Malformed("data after the end of the list", stream.started)
        return
    enveloped = head not in ("{", "")
    if enveloped:
        count = stream.value()
        if not _is_count(count):
            raise _Malformed(
                f"a list starting with {json.dumps(count)[:40]}, neither [count, rows] nor a list of objects",
                stream.started,
            )
        stream.take(",", "the rows after the count")
        if stream.peek() not in ("[", ""):
            raise _Malformed("[count, ...] whose second element is not a list", stream.started)
        stream.take("[", "the rows list")
    index = 0
    while True:
        nxt = stream.peek()
        if nxt == "]":
            stream.take("]", "]")
            break
        if index:
            stream.take(",", "',' or ']' between rows")
        row = stream.value()
        if not isinstance(row, dict):
            raise _Malformed(f"row {index} is {type(row).__name__}, not an object", stream.started)
        index += 1
        yield row
    if enveloped:
        if stream.peek() == ",":
            raise _Malformed("a list of more than [count, rows]", stream.started)
        stream.take("]", "the end of [count, rows]")
    if not stream.at_end():
        raise _Malformed("data after the end of the list", stream.started)


WHOLE_PAGE_BYTES = 16 * 1024 * 1024
"""Largest answer taken whole; with ~330-byte records a page of 10,000 is about 3.5 MB."""
ROW_BYTES = 2048
"""Bytes a billing row is allowed when deriving the whole-answer bound from a page size."""
SMALL_ANSWER_BYTES = 256 * 1024


def _whole_rows(text: str) -> list[Mapping[str, Any]] | None:
    """The rows of a complete answer of the usual shape, or None to let :func:`iter_rows` judge it."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if type(doc) is not list:
        return None
    if not doc:
        return doc
    rows = doc
    if not isinstance(doc[0], dict):
        if len(doc) != 2 or not _is_count(doc[0]) or type(doc[1]) is not list:
            return None
        rows = doc[1]
    for row in rows:
        if not isinstance(row, dict):
            return None
    return rows


def _drain(chunks: list[bytes]) -> Iterator[bytes]:
    """Hand over buffered chunks, dropping each as it goes so the incremental reader keeps memory flat."""
    chunks.reverse()
    while chunks:
        yield chunks.pop()


def page_rows(
    chunks: Iterable[bytes], max_bytes: int, decoded: Callable[[list[Mapping[str, Any]]], None] | None = None
) -> Iterator[Mapping[str, Any]]:
    """The rows of one answer, as :func:`iter_rows` yields them, decoded whole when it fits *max_bytes*.

    An answer that ends cleanly within the bound and has the usual shape becomes one ``json.loads``.
    Anything else is handed to the incremental reader: past the bound it carries on from the socket;
    an answer that broke off yields the rows received before the break, then the break is raised;
    a malformed answer gets the incremental reader's words. *decoded* sees the rows of an answer taken
    whole before the first is yielded.
    """
    source = iter(chunks)
    held: list[bytes] = []
    size = 0
    try:
        for chunk in source:
            held.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                yield from iter_rows(_JsonStream(itertools.chain(_drain(held), source)))
                return
    except requests.RequestException:
        with contextlib.suppress(_Truncated):
            yield from iter_rows(_JsonStream(_drain(held)))
        raise
    data = b"".join(held)
    held.clear()
    try:
        rows = _whole_rows(data.decode("utf-8"))
    except UnicodeDecodeError:
        rows = None
    if rows is None:
        yield from iter_rows(_JsonStream([data]))
        return
    if decoded is not None:
        decoded(rows)
    yield from rows


class _Prefetch:
    """The next billing page, requested and read by a thread while the consumer works on the current one.

    Why: without it the importer sits idle while the server prepares each page, and the server idles
    while the importer parses and stores. Reading the socket releases the GIL, so on two cores the wait
    disappears. The thread does exactly what the consumer would do first (the request, with its login
    and retries, then reading the body up to the whole-answer bound); whatever it met, an exception
    included, is handed over by :meth:`take` at the point where the consumer would have met it.
    Only a page that certainly follows is fetched ahead (a full page, its last id known), and
    :meth:`discard` throws it away if the consumer's view of the last id turns out different.
    """

    def __init__(self, client: MetroportMVNOClient, query: dict[str, Any], after: int, max_bytes: int):
        self.after = after
        self._response: requests.Response | None = None
        self._error: BaseException | None = None
        self._read_error: requests.RequestException | None = None
        self._chunks: list[bytes] = []
        self._rest: Iterator[bytes] | None = None
        self._thread = threading.Thread(
            target=self._run, args=(client, query, max_bytes), name="metroport-billings-ahead", daemon=True
        )
        self._thread.start()

    def _run(self, client: MetroportMVNOClient, query: dict[str, Any], max_bytes: int) -> None:
        try:
            response = client._request("billings", "GET", BILLINGS_PATH, params=query, stream=True)
        except BaseException as exc:  # re-raised in the consumer's thread by take()
            self._error = exc
            return
        self._response = response
        if response.status_code == 204:
            return
        source = response.iter_content(65536)
        size = 0
        try:
            for chunk in source:
                self._chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    self._rest = source
                    return
        except requests.RequestException as exc:
            self._read_error = exc

    def _body(self) -> Iterator[bytes]:
        yield from _drain(self._chunks)
        if self._read_error is not None:
            raise self._read_error
        if self._rest is not None:
            yield from self._rest

    def take(self) -> tuple[requests.Response, Iterator[bytes]]:
        """The response and its body, or the exception the request raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._response is not None
        return self._response, self._body()

    def discard(self) -> None:
        self._thread.join()
        if self._response is not None:
            self._response.close()


# --------------------------------------------------------------------------------------------------
# The client


_BROKEN_BODY = (requests.RequestException, _Truncated)


class _Unset:
    """Marks "use the client's default" where None already means something (no paging)."""


UNSET = _Unset()


class MetroportMVNOClient:
    """One operator account on one API base URL. Use one instance per thread (``requests.Session``)."""

    def __init__(
        self,
        api_url: str,
        login: str,
        password: str,
        *,
        verify_tls: bool = True,
        policy: HttpPolicy | None = None,
        timezone: str | None = DEFAULT_TIMEZONE,
        page_size: int | None = 10000,
        page_param: str = "limit",
        call_retries: int = 2,
        max_retry_after: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        """*page_size* rows per billing request, sent as *page_param*; None asks for the whole period at once.

        Paging by ``limit`` is an extension the real API may ignore: then the first page holds every record
        and the next request (``id_after`` = its last id) comes back empty, so the result is the same.
        *call_retries* covers bodies that break off or do not parse; HTTP-level retries are the policy's.
        """
        if not api_url:
            raise ConfigError("Metroport MVNO: metroportmvno.api_url is empty")
        if page_size is not None and page_size < 1:
            raise ValueError("page_size must be at least 1 (or None)")
        self.api_url = api_url.rstrip("/")
        self._login = login
        self._password = password
        base = policy or HttpPolicy()
        if base.verify_tls and not verify_tls:
            base = dataclasses.replace(base, verify_tls=False)
        self.policy = base
        self.http = make_session(base)
        self.http.cookies.set_policy(_NoCookies())
        self.tz = ZoneInfo(timezone) if timezone else None
        self.page_size = page_size
        self.page_param = page_param
        self.call_retries = call_retries
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._cookies: dict[str, str] = {}
        self.requests_made = 0
        self.logins = 0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], **options: Any) -> MetroportMVNOClient:
        """Build from resolved ``metroportmvno.*`` settings; a ConfigError (exit 2) before any request."""
        url = str(settings.get("metroportmvno.api_url") or "").strip()
        login = str(settings.get("metroportmvno.api_login") or "").strip()
        password = str(settings.get("metroportmvno.api_password") or "")
        missing = [k for k, v in (("api_url", url), ("api_login", login), ("api_password", password)) if not v]
        if missing:
            raise ConfigError(f"Metroport MVNO: metroportmvno.{', metroportmvno.'.join(missing)} not set")
        if login in PLACEHOLDER_CREDENTIALS or password in PLACEHOLDER_CREDENTIALS:
            raise ConfigError(
                "Metroport MVNO: metroportmvno.api_login/api_password still hold the placeholders the plugin's "
                "install SQL put in uiconfig, which override lms.ini; set the real values there or delete them"
            )
        if "metroportmvno.verify_tls" in settings and "verify_tls" not in options:
            options["verify_tls"] = bool(settings["metroportmvno.verify_tls"])
        return cls(url, login, password, **options)

    def __repr__(self) -> str:
        return f"MetroportMVNOClient({self.api_url!r}, login={self._login!r})"

    def __enter__(self) -> MetroportMVNOClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    @property
    def logged_in(self) -> bool:
        return bool(self._cookies)

    # -- plumbing ----------------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        for secret in (self._password, *self._cookies.values()):
            if secret and len(secret) >= 3:
                text = text.replace(secret, "***")
        return text

    def _excerpt(self, text: str | bytes, limit: int = 200) -> str:
        if isinstance(text, bytes):
            text = text[: limit * 4].decode("utf-8", "replace")
        text = self._redact(" ".join(text.split()))
        return text[:limit] + ("..." if len(text) > limit else "")

    def _remember_cookies(self, response: requests.Response) -> None:
        raw_headers = getattr(response.raw, "headers", None)
        values = raw_headers.getlist("Set-Cookie") if hasattr(raw_headers, "getlist") else []
        if not values and response.headers.get("Set-Cookie"):
            values = [response.headers["Set-Cookie"]]
        for header in values:
            pair = header.split(";", 1)[0]
            name, sep, value = pair.partition("=")
            if sep and name.strip():
                self._cookies[name.strip()] = value.strip()

    def _cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self._cookies.items())

    def _send(self, call: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.api_url + path
        self.requests_made += 1
        log.debug("Metroport %s: %s %s", call, method, path)
        try:
            response = self.http.request(method, url, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise MetroportTransportError(
                f"Metroport {call}: cannot reach {self.api_url} ({type(exc).__name__}: {self._excerpt(str(exc), 300)})",
                call,
            ) from None
        self._remember_cookies(response)
        if 300 <= response.status_code < 400:
            where = response.headers.get("Location", "?")
            response.close()
            raise MetroportProtocolError(
                f"Metroport {call}: HTTP {response.status_code} redirect to {self._excerpt(where.split('?')[0])}; "
                "set metroportmvno.api_url to the address the service answers on",
                call,
            )
        return response

    def _retry_after(self, response: requests.Response, attempt: int) -> float:
        value = response.headers.get("Retry-After")
        wait: float | None = None
        if value:
            if value.strip().isdigit():
                wait = float(value)
            else:
                when = email.utils.parsedate_to_datetime(value) if value else None
                if when is not None:
                    wait = max(0.0, when.timestamp() - time.time())
        if wait is None:
            wait = min(self.policy.backoff * (2**attempt), self.policy.backoff_max)
        return min(wait, self.max_retry_after)

    def _fail(self, call: str, response: requests.Response) -> None:
        status = response.status_code
        body = self._excerpt(response.content)
        response.close()
        if status in TRANSIENT_STATUSES:
            raise MetroportTransportError(
                f"Metroport {call}: HTTP {status} after {self.policy.retries} retries" + (f": {body}" if body else ""),
                call,
            )
        raise MetroportProtocolError(f"Metroport {call}: HTTP {status}" + (f": {body}" if body else ""), call)

    def login(self) -> None:
        """``POST /admins/Auth/login``: open a session (its cookies are kept for the calls that follow)."""
        call = "login"
        self._cookies.clear()
        attempt = 0
        with call_budget(self.policy.budget_seconds()) as budget:
            while True:
                response = self._send(
                    call,
                    "POST",
                    LOGIN_PATH,
                    json={"login": self._login, "password": self._password},
                    headers={"Content-Type": "application/json; charset=utf-8"},
                )
                if response.status_code in TRANSIENT_STATUSES and attempt < self.policy.retries:
                    wait = self._retry_after(response, attempt)
                    if budget.allows(wait):
                        response.close()
                        attempt += 1
                        log.warning("Metroport login: HTTP %d, retrying in %.1f s", response.status_code, wait)
                        budget.sleep(wait, self._sleep)
                        continue
                break
        if response.status_code in (401, 403):
            response.close()
            self._cookies.clear()
            raise MetroportLoginError(
                f"Metroport login refused (HTTP {response.status_code}): check metroportmvno.api_login and "
                "metroportmvno.api_password, and that the account may use the MMSC API",
                call,
            )
        if response.status_code != 200:
            self._cookies.clear()
            self._fail(call, response)
        response.close()
        if not self._cookies:
            raise MetroportLoginError("Metroport login answered HTTP 200 without a session cookie", call)
        if SESSION_COOKIE not in self._cookies:
            log.info(
                "Metroport login: no %s cookie; sending the %d cookie(s) it set", SESSION_COOKIE, len(self._cookies)
            )
        self.logins += 1

    def _request(self, call: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send with the session cookie; log in first if needed, and again once if the session is refused.
        The login, the re-login and the request share one retry budget."""
        with call_budget(self.policy.budget_seconds()):
            return self._request_once(call, method, path, **kwargs)

    def _request_once(self, call: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not self._cookies:
            self.login()
        relogged = False
        extra_headers = kwargs.pop("headers", {})
        while True:
            headers = {"Cookie": self._cookie_header(), **extra_headers}
            response = self._send(call, method, path, headers=headers, **kwargs)
            if response.status_code not in (401, 403):
                break
            response.close()
            if relogged:
                raise MetroportSessionError(
                    f"Metroport {call}: the session was refused (HTTP {response.status_code}) again right after a "
                    "new login",
                    call,
                )
            log.info("Metroport session expired during %s; logging in again", call)
            self.login()
            relogged = True
        if response.status_code >= 400:
            self._fail(call, response)
        return response

    def _rows(self, call: str, path: str, params: Mapping[str, Any] | None = None) -> list[Mapping[str, Any]]:
        """A whole list answer (small lists: users, mobiles, traffic types), retried if the body breaks."""
        failures = 0
        with call_budget(self.policy.budget_seconds()) as budget:
            while True:
                response = self._request(call, "GET", path, params=params)
                try:
                    if response.status_code == 204:
                        return []
                    return list(iter_rows(_JsonStream([response.content])))
                except _BROKEN_BODY as exc:
                    failures += 1
                    wait = min(self.policy.backoff * failures, self.policy.backoff_max)
                    if failures > self.call_retries or not budget.allows(wait):
                        raise MetroportProtocolError(
                            f"Metroport {call}: the answer broke off or is cut short ({self._excerpt(str(exc))}) "
                            f"after {failures} attempts",
                            call,
                        ) from None
                    log.warning("Metroport %s: broken answer, retrying (%d/%d)", call, failures, self.call_retries)
                    budget.sleep(wait, self._sleep)
                except _Malformed as exc:
                    raise self._malformed(call, exc) from None
                finally:
                    response.close()

    def _malformed(self, call: str, exc: _Malformed) -> MetroportProtocolError:
        received = f"; received: {self._excerpt(exc.excerpt)}" if exc.excerpt else ""
        return MetroportProtocolError(f"Metroport {call} answered {exc}{received}", call)

    def _typed(self, call: str, rows: Iterable[Mapping[str, Any]], parse: Callable[[Mapping[str, Any]], Any]) -> list:
        out = []
        for index, row in enumerate(rows):
            try:
                out.append(parse(row))
            except _RowError as exc:
                raise MetroportProtocolError(
                    f"Metroport {call}: row {index} is unusable ({exc}): {self._excerpt(json.dumps(row))}", call
                ) from None
        return out

    # -- calls -------------------------------------------------------------------------------------

    def users(self, usertype: int = 2) -> list[MetroportUser]:
        """``GET /Users/users?usertype=2``: the operator's subscribers (an empty answer means none)."""
        call = "users"
        return self._typed(call, self._rows(call, USERS_PATH, {"usertype": usertype}), parse_user)

    def mobiles(self, userid: int | None = None) -> list[MobileAccount]:
        """``GET /Mvno/Mobiles`` (``?userid=`` for one subscriber): the SIM accounts."""
        call = "mobiles"
        params = {"userid": userid} if userid is not None else None
        return self._typed(call, self._rows(call, MOBILES_PATH, params), parse_mobile)

    def traffic_types(self) -> list[TrafficType]:
        """``GET /Mvno/Billings/TrafficTypes``: traffic type id -> call, data, mms, sms or video."""
        call = "traffic types"
        return self._typed(call, self._rows(call, TRAFFIC_TYPES_PATH), parse_traffic_type)

    def billings(
        self,
        datestart: datetime | date | str,
        dateend: datetime | date | str,
        *,
        userid: int | None = None,
        id_after: int | None = None,
        page_size: int | _Unset | None = UNSET,
        wanted: Callable[[str], bool] | None = None,
    ) -> Iterator[BillingRecord | PassedRecord]:
        """Stream the billing records of [datestart, dateend] (local time), with ids above *id_after*.

        Pages of *page_size* (default: the client's) follow each other by ``id_after``; each page is parsed
        as it arrives. Records come in the server's order, which must be ascending ids for paging; a page
        that breaks off resumes after the last record yielded. A record at or below the ``id_after`` of its
        request is dropped (it was yielded before, or the server ignored the filter).

        With *wanted*, a record whose own number (``ano``, stripped) it refuses comes as a
        :class:`PassedRecord`, unparsed and unchecked beyond its id.
        """
        size = self.page_size if isinstance(page_size, _Unset) else page_size
        if size is not None and size < 1:
            raise ValueError("page_size must be at least 1 (or None)")
        params: dict[str, Any] = {
            "datestart": wire_datetime(datestart, self.tz),
            "dateend": wire_datetime(dateend, self.tz),
        }
        if userid is not None:
            params["userid"] = userid
        return self._billing_pages(params, id_after, size, wanted)

    def _billing_pages(
        self,
        params: dict[str, Any],
        id_after: int | None,
        size: int | None,
        wanted: Callable[[str], bool] | None = None,
    ) -> Iterator[BillingRecord | PassedRecord]:
        after = id_after
        ahead: _Prefetch | None = None
        try:
            while True:
                page_ahead, ahead = ahead, None
                got, dropped, last, ahead = yield from self._billing_page(params, after, size, page_ahead, wanted)
                if ahead is not None and (got != size or ahead.after != last):
                    ahead.discard()
                    ahead = None
                if got == 0 and dropped:
                    raise MetroportProtocolError(
                        f"Metroport billings: asked for records after id {after}, got only {dropped} at or below "
                        "it; the server ignores id_after, so paging would lose records (try page_size=None)",
                        "billings",
                    )
                if size is None or got < size:
                    return
                after = last
        finally:
            if ahead is not None:
                ahead.discard()

    def _billing_query(self, params: dict[str, Any], after: int | None, count: int | None) -> dict[str, Any]:
        query = dict(params)
        if after is not None:
            query["id_after"] = after
        if count is not None:
            query[self.page_param] = count
        return query

    def _billing_page(
        self,
        params: dict[str, Any],
        after: int | None,
        size: int | None,
        prefetched: _Prefetch | None = None,
        wanted: Callable[[str], bool] | None = None,
    ) -> Iterator[BillingRecord | PassedRecord]:
        """One page, resumed after the last yielded record when the body breaks.

        Returns (records yielded, records dropped as at or below ``id_after``, highest id yielded, the next
        page if it was requested ahead). *prefetched* is this page requested ahead (same query).
        """
        call = "billings"
        parse = BillingParser(self.tz)
        whole = SMALL_ANSWER_BYTES if size is None else max(SMALL_ANSWER_BYTES, min(WHOLE_PAGE_BYTES, size * ROW_BYTES))
        delivered = 0
        last = after
        failures = 0
        dropped = 0
        ahead: _Prefetch | None = None
        budget = RetryBudget(self.policy.budget_seconds())

        def start_next(rows: list[Mapping[str, Any]]) -> None:
            """Ask for the next page now if this full page's last id is already known to be its highest."""
            nonlocal ahead
            final = rows[-1].get("id") if rows else None
            if len(rows) != size or type(final) is not int or (request_after is not None and final <= request_after):
                return
            ahead = _Prefetch(self, self._billing_query(params, final, size), final, whole)

        try:
            while True:
                if size is not None and delivered >= size:
                    return delivered, dropped, last, ahead
                request_after = last
                ascending = True
                previous: int | None = None
                progressed = False
                if prefetched is not None:
                    taken, prefetched = prefetched, None
                    response, chunks = taken.take()
                else:
                    query = self._billing_query(params, last, None if size is None else size - delivered)
                    response = self._request(call, "GET", BILLINGS_PATH, params=query, stream=True)
                    chunks = response.iter_content(65536)
                fetch_ahead = size is not None and delivered == 0 and ahead is None
                try:
                    if response.status_code == 204:
                        return delivered, dropped, last, ahead
                    for row in page_rows(chunks, whole, start_next if fetch_ahead else None):
                        record: BillingRecord | PassedRecord
                        try:
                            if (
                                wanted is not None
                                and type(row) is dict
                                and type(rid := row.get("id")) is int
                                and type(ano := row.get("ano")) is str
                                and not wanted(ano := ano.strip())
                            ):
                                record = PassedRecord(rid, str(row.get("src")), str(row.get("dst")), ano)
                            else:
                                record = parse(row)
                        except _RowError as exc:
                            raise MetroportProtocolError(
                                f"Metroport {call}: record {delivered} is unusable ({exc}): "
                                f"{self._excerpt(json.dumps(row))}",
                                call,
                            ) from None
                        if request_after is not None and record.id <= request_after:
                            dropped += 1
                            continue
                        if previous is not None and record.id <= previous:
                            ascending = False
                        previous = record.id
                        last = record.id if last is None else max(last, record.id)
                        delivered += 1
                        progressed = True
                        yield record
                    if dropped:
                        log.warning("Metroport billings: dropped %d record(s) at or below id_after", dropped)
                    return delivered, dropped, last, ahead
                except _BROKEN_BODY as exc:
                    if not ascending:
                        raise MetroportProtocolError(
                            f"Metroport {call}: the answer broke off and its ids are not ascending, so it cannot be "
                            "resumed without losing records",
                            call,
                        ) from None
                    failures = 1 if progressed else failures + 1
                    if progressed:
                        budget = RetryBudget(self.policy.budget_seconds())
                    wait = min(self.policy.backoff * failures, self.policy.backoff_max)
                    if failures > self.call_retries or not budget.allows(wait):
                        raise MetroportProtocolError(
                            f"Metroport {call}: the answer broke off after {delivered} records "
                            f"({self._excerpt(str(exc))}), {failures} times in a row",
                            call,
                        ) from None
                    log.warning("Metroport %s broke off after %d records; resuming after id %s", call, delivered, last)
                    budget.sleep(wait, self._sleep)
                except _Malformed as exc:
                    raise self._malformed(call, exc) from None
                finally:
                    response.close()
        except BaseException:
            if ahead is not None:
                ahead.discard()
            raise

    def upload_price_list(self, path: str | Path, **validation: Any) -> UploadResult:
        """Validate the CSV (:func:`validate_price_list`), then ``POST`` it as multipart field ``file``.

        A CSV with problems raises :class:`PriceListError` and nothing is sent. The upload is not retried on
        5xx: whether to import again is the operator's call.
        """
        call = "price list upload"
        problems = validate_price_list(path, **validation)
        if problems:
            raise PriceListError(path, problems)
        p = Path(path)
        response = self._request(call, "POST", PRICE_LIST_PATH, files={"file": (p.name, p.read_bytes(), "text/csv")})
        try:
            if response.status_code not in (200, 204):
                raise MetroportProtocolError(
                    f"Metroport {call}: HTTP {response.status_code}: {self._excerpt(response.content)}", call
                )
            return UploadResult(response.status_code, self._redact(response.text))
        finally:
            response.close()


class _NoCookies:
    """A cookie policy that stores nothing: the client keeps the session cookies itself (see module doc)."""

    netscape = True
    rfc2965 = False
    hide_cookie2 = False

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False
