"""A fake Metroport MMSC (MVNO) REST API speaking the wire protocol of spec §4.

Why it exists: the operator's production API cannot be used by tests or the demo, and the client must not
be able to tell the difference (DESIGN rule 6). It serves the same paths (case-insensitively, as the real
server apparently does), the ``sess_ci`` cookie session, the ``[count, rows]`` and bare-list envelopes,
the query filters, and the multipart price-list import.

Data comes from a seed. Users and SIM accounts are few and kept in memory; their identifiers are valid
NIP/PESEL/ID-card numbers written the messy ways operators type them (dashes, blanks, "PL" prefix, lower
case), some shared by two users and some users with none. Billing records are never stored: record *k*
is a pure function of (seed, k), its time grows with *k* at ``billings`` records a day from ``epoch``, its
id grows with *k* (with gaps), and record *k* belongs to SIM account ``k % number_of_mobiles``. So a
period, an ``id_after`` and a ``userid`` all map to index ranges by arithmetic, and a million records
stream out without ever being held.

Faults (see :class:`Faults`) are set at construction, through :attr:`MetroportSimulator.faults`, or with
``POST /_control/faults`` (JSON). ``GET /_control/stats`` reports counters; :attr:`uploads` records every
price list received.

Assumptions where the real API is undocumented: an expired or unknown session answers HTTP 401 with a
JSON error object; a refused login answers 401; ``limit`` caps the rows of one billing answer and the
count of ``[count, rows]`` is the number of rows in that answer; bad query values answer 400.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from lmsplugins.simserver import FaultSet, count_down, serve_until_interrupted

from .client import validate_price_list_bytes

COOKIE = "sess_ci"
TRAFFIC_TYPES = ((11, "call"), (12, "sms"), (13, "mms"), (14, "data"), (15, "video"))
STATUSES = ("active", "new", "blocked", "deleted")
DEFAULT_EPOCH = datetime(2023, 1, 1)
DEFAULT_ENVELOPES = {"users": True, "mobiles": False, "traffic_types": False, "billings": True}
ID_BASE = 70_000_000

_ROUTES = {
    "/admins/auth/login": ("login", "POST"),
    "/users/users": ("users", "GET"),
    "/mvno/mobiles": ("mobiles", "GET"),
    "/mvno/billings/traffictypes": ("traffic_types", "GET"),
    "/mvno/billings": ("billings", "GET"),
    "/mvno/retailrates/importrates": ("price_list", "POST"),
}
_FIRST = ("Jan", "Anna", "Piotr", "Maria", "Krzysztof", "Katarzyna", "Tomasz", "Małgorzata", "Paweł", "Zofia")
_LAST = ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński")
_FIRMS = ("Usługi & Handel", 'Piekarnia "Pod Lipą"', "Auto-Serwis", "Biuro Rachunkowe", "Sklep Groszek")
_CATEGORIES = {
    "call": ("Połączenia krajowe komórkowe", "Połączenia krajowe stacjonarne", "Połączenia międzynarodowe"),
    "sms": ("SMS krajowy", "SMS międzynarodowy"),
    "mms": ("MMS krajowy",),
    "data": ("Transmisja danych", "Transmisja danych roaming UE"),
    "video": ("Wideorozmowa",),
}
_TYPE_WHEEL = ("call",) * 8 + ("sms",) * 5 + ("data",) * 4 + ("mms",) * 2 + ("video",)
_BILLING_FIELD = {"call": "duration", "video": "duration", "data": "datatransfer", "sms": "msg", "mms": "msg"}
_WHEEL = len(_TYPE_WHEEL)
_MASK = 0xFFFFFFFFFFFFFFFF
_MIX_MUL = 0xBF58476D1CE4E5B9


@dataclass
class Faults(FaultSet):
    """Faults to inject. Counters apply to the next N matching requests and count down."""

    latency: float = 0.0
    """Seconds to wait before answering any API request."""
    http_5xx: int = 0
    """Answer the next N API requests (the login included) with ``status_5xx``."""
    status_5xx: int = 503
    rate_limit: int = 0
    """Answer the next N API requests with 429 and ``Retry-After: retry_after``."""
    retry_after: int = 1
    truncate: int = 0
    """Cut the next N list answers short (a billing answer after ``truncate_after_rows`` rows)."""
    truncate_after_rows: int = 10
    malformed: int = 0
    """Answer the next N list calls with ``malformed_body`` (HTTP 200) instead of a list."""
    malformed_body: str = '{"status":false,"message":"Unexpected error"}'
    expire_session: int = 0
    """Treat the session of the next N authenticated requests as expired (401; the session is dropped)."""
    session_ttl: float | None = None
    """Sessions older than this many seconds are expired."""


@dataclass(frozen=True)
class Upload:
    """One price list received: what came, and whether the import accepted it."""

    filename: str
    content: bytes
    accepted: bool
    problems: tuple[str, ...] = ()


@dataclass
class Stats:
    """Counters the tests read to see logins, retries and paging happen."""

    requests: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    logins: int = 0
    refused_logins: int = 0
    records_sent: int = 0
    queries: list[dict[str, str]] = field(default_factory=list)
    """Query strings of billing requests, in order (kept for the last 1000)."""


# --------------------------------------------------------------------------------------------------
# Identifiers


def _nip(rng: random.Random) -> str:
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    while True:
        digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(8)]
        check = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def _pesel(rng: random.Random) -> str:
    year, month, day = rng.randrange(1940, 2006), rng.randrange(1, 13), rng.randrange(1, 29)
    month_code = month + (20 if year >= 2000 else 0)
    body = f"{year % 100:02d}{month_code:02d}{day:02d}{rng.randrange(10000):04d}"
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    check = (10 - sum(w * int(d) for w, d in zip(weights, body, strict=True)) % 10) % 10
    return body + str(check)


def _id_card(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHIJKLMNOPRSTUWXYZ") for _ in range(3))
    tail = [rng.randrange(10) for _ in range(5)]
    values = [ord(c) - 55 for c in letters]
    check = sum(w * v for w, v in zip((7, 3, 1, 7, 3, 1, 7, 3), values + tail, strict=True)) % 10
    return letters + str(check) + "".join(map(str, tail))


def _messy_nip(nip: str, variant: int) -> str:
    forms = (
        nip,
        f"{nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}",
        f"{nip[:3]}-{nip[3:5]}-{nip[5:7]}-{nip[7:]}",
        f"PL {nip}",
        f"pl{nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}",
        f" {nip[:3]} {nip[3:6]} {nip[6:8]} {nip[8:]} ",
    )
    return forms[variant % len(forms)]


def _messy_pesel(pesel: str, variant: int) -> str:
    return (pesel, f" {pesel} ", f"{pesel[:6]} {pesel[6:]}")[variant % 3]


def _messy_id_card(card: str, variant: int) -> str:
    return (card, f"{card[:3].lower()} {card[3:]}", f" {card[0]}{card[1:3].lower()}{card[3:]}")[variant % 3]


def _mix(*values: int) -> int:
    """A cheap deterministic 64-bit hash, so billing record k needs no stored state."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h ^= v & 0xFFFFFFFFFFFFFFFF
        h = (h * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 31
    return h


# --------------------------------------------------------------------------------------------------
# Data


class Dataset:
    """Users, SIM accounts and the arithmetic of billing records for one seed."""

    def __init__(
        self,
        seed: int,
        users: int,
        mobiles_per_user: int,
        billings_per_day: int,
        epoch: datetime,
        user_id_key: str = "id",
    ):
        if billings_per_day < 0 or users < 0 or mobiles_per_user < 0:
            raise ValueError("sizes cannot be negative")
        self.seed = seed
        self.per_day = billings_per_day
        self.epoch = epoch
        rng = random.Random(seed)
        self.users: list[dict[str, Any]] = []
        self.mobiles: list[dict[str, Any]] = []
        self.user_mobiles: dict[int, list[int]] = {}
        for i in range(users):
            uid = 1001 + 3 * i + rng.randrange(3)
            row = self._user(rng, i, uid)
            if user_id_key != "id":
                row[user_id_key] = row.pop("id")
            self.users.append(row)
            indexes = []
            for _ in range(mobiles_per_user):
                idx = len(self.mobiles)
                self.mobiles.append(
                    {
                        "id": 500_001 + 2 * idx + rng.randrange(2),
                        "userid": uid,
                        "ano": f"{510_000_000 + idx * 37:09d}",
                        "status": STATUSES[idx % len(STATUSES)],
                        "status_confirmed": 0 if idx % 3 == 2 else 1,
                        "usercode": f"U{uid:06d}",
                    }
                )
                indexes.append(idx)
            self.user_mobiles[uid] = indexes

    def _user(self, rng: random.Random, i: int, uid: int) -> dict[str, Any]:
        duplicate = i % 9 == 8 and self.users
        company = (i % 5 in (2, 3)) if not duplicate else self.users[-1].get("_company", False)
        nip = _nip(rng) if company else None
        pesel = None if company else _pesel(rng)
        card = None if company or i % 4 == 3 else _id_card(rng)
        if duplicate:
            prev = self.users[-1]
            nip, pesel, card = prev["_nip"], prev["_pesel"], prev["_card"]
        if i % 11 == 10:
            nip = pesel = card = None
        name = f"{rng.choice(_FIRMS)} Sp. z o.o." if company else f"{rng.choice(_LAST)} {rng.choice(_FIRST)}"
        if i % 4 == 1:
            name = f"  {name} "
        return {
            "id": uid,
            "usercode": f"U{uid:06d}",
            "UserCodeName": name,
            "nip": _messy_nip(nip, i) if nip else "",
            "pesel": _messy_pesel(pesel, i) if pesel else "",
            "idcardno": _messy_id_card(card, i) if card else None,
            "email": f"user{uid}@example.net",
            "_company": company,
            "_nip": nip,
            "_pesel": pesel,
            "_card": card,
        }

    def public_users(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in u.items() if not k.startswith("_")} for u in self.users]

    # -- billing arithmetic ------------------------------------------------------------------------

    def record_id(self, k: int) -> int:
        return ID_BASE + 2 * k + (_mix(self.seed, k, 1) & 1)

    def first_after(self, id_after: int) -> int:
        """The smallest index whose id is greater than *id_after*."""
        if id_after < ID_BASE:
            return 0
        k = (id_after - ID_BASE) // 2
        return k if self.record_id(k) > id_after else k + 1

    def index_range(self, start: datetime, end: datetime) -> tuple[int, int]:
        """Inclusive index range of the records with ``start <= calldate <= end`` (empty if lo > hi)."""
        if not self.per_day or not self.mobiles:
            return 0, -1
        s = int((start - self.epoch).total_seconds())
        e = int((end - self.epoch).total_seconds())
        if e < 0:
            return 0, -1
        lo = max(0, -(-s * self.per_day // 86400))
        hi = ((e + 1) * self.per_day - 1) // 86400
        return lo, hi

    def indexes(self, lo: int, hi: int, userid: int | None) -> Iterator[int]:
        """Record indexes in [lo, hi] in ascending order, of one user's SIMs if *userid* is given."""
        if lo > hi:
            return
        if userid is None:
            yield from range(lo, hi + 1)
            return
        residues = self.user_mobiles.get(userid, [])
        if not residues:
            return
        m = len(self.mobiles)
        base = lo - lo % m
        while base <= hi:
            for j in residues:
                k = base + j
                if lo <= k <= hi:
                    yield k
                elif k > hi:
                    return
            base += m

    def count(self, lo: int, hi: int, userid: int | None) -> int:
        if lo > hi:
            return 0
        if userid is None:
            return hi - lo + 1
        m = len(self.mobiles)
        return sum((hi - j) // m - (lo - 1 - j) // m for j in self.user_mobiles.get(userid, []))

    def _render_tables(self) -> None:
        """Fragments of the JSON text of :meth:`record`, rendered once: per SIM, per traffic kind."""
        h = 0x9E3779B97F4A7C15 ^ (self.seed & _MASK)
        h = (h * _MIX_MUL) & _MASK
        self._seed_state = h ^ (h >> 31)
        self._sim_parts = [
            (
                f', "userid": {json.dumps(m["userid"])}, "src": ',
                "48" + m["ano"],
                f', "ano": {json.dumps(m["ano"], ensure_ascii=False)}, "calldate": "',
            )
            for m in self.mobiles
        ]
        self._kind_parts = {}
        for kind in set(_TYPE_WHEEL):
            self._kind_parts[kind] = (
                f'", "billingfield": "{_BILLING_FIELD[kind]}", ',
                f', "traffic_types_id": {next(i for i, t in TRAFFIC_TYPES if t == kind)}, "CategoryName": ',
                [json.dumps(c, ensure_ascii=False) + "}" for c in _CATEGORIES[kind]],
            )
        self._last_second = -1
        self._last_calldate = ""

    def record_json(self, k: int) -> str:
        """``json.dumps(self.record(k), ensure_ascii=False)``, several times faster.

        Why: the benchmark measures the client, so the server must not be the bottleneck; the text is
        pieced together from :meth:`_render_tables` instead of building and encoding a dict. A test holds
        the two equal.
        """
        if not hasattr(self, "_sim_parts"):
            self._render_tables()
        h = self._seed_state ^ k
        h = (h * _MIX_MUL) & _MASK
        h ^= h >> 31
        r = ((h ^ 1) * _MIX_MUL) & _MASK
        rid = ID_BASE + 2 * k + ((r ^ (r >> 31)) & 1)
        sim_head, own, sim_tail = self._sim_parts[k % len(self.mobiles)]
        kind = _TYPE_WHEEL[h % _WHEEL]
        other = f"48{600_000_000 + (h >> 8) % 300_000_000:09d}"
        if (h >> 40) % 10 == 0:
            other = f"D{(h >> 44) % 10}{other}"
        if kind == "data":
            src, dst = own, "internet"
            quantities = f'"duration": 0, "datatransfer": {1 + (h >> 12) % 250_000}, "msg": 0'
        else:
            src, dst = (own, other) if (h >> 4) & 1 == 0 else (other, own)
            if kind == "call" or kind == "video":
                quantities = f'"duration": {1 + (h >> 12) % 1800}, "datatransfer": 0, "msg": 0'
            else:
                quantities = '"duration": 0, "datatransfer": 0, "msg": 1'
        second = k * 86400 // self.per_day
        if second != self._last_second:
            self._last_second = second
            self._last_calldate = (self.epoch + timedelta(seconds=second)).strftime("%Y-%m-%d %H:%M:%S")
        net = round(((h >> 20) % 5000) / 10000, 4)
        net_text = '"' + f"{net:.4f}".replace(".", ",") + '"' if k % 17 == 5 else repr(net)
        field_part, type_part, categories = self._kind_parts[kind]
        return (
            f'{{"id": {rid}{sim_head}"{src}", "dst": "{dst}"{sim_tail}{self._last_calldate}{field_part}'
            f'{quantities}, "retail_totalnetto": {net_text}, "retail_vat": 1.23{type_part}'
            f"{categories[(h >> 28) % len(categories)]}"
        )

    def record(self, k: int) -> dict[str, Any]:
        h = _mix(self.seed, k)
        mobile = self.mobiles[k % len(self.mobiles)]
        kind = _TYPE_WHEEL[h % len(_TYPE_WHEEL)]
        own = "48" + mobile["ano"]
        other = f"48{600_000_000 + (h >> 8) % 300_000_000:09d}"
        if (h >> 40) % 10 == 0:
            other = f"D{(h >> 44) % 10}{other}"
        outgoing = kind == "data" or (h >> 4) & 1 == 0
        src, dst = (own, other) if outgoing else (other, own)
        if kind == "data":
            dst = "internet"
        quantity = {
            "duration": 1 + (h >> 12) % 1800 if kind in ("call", "video") else 0,
            "datatransfer": 1 + (h >> 12) % 250_000 if kind == "data" else 0,
            "msg": 1 if kind in ("sms", "mms") else 0,
        }
        net = round(((h >> 20) % 5000) / 10000, 4)
        calldate = self.epoch + timedelta(seconds=k * 86400 // self.per_day)
        category = _CATEGORIES[kind][(h >> 28) % len(_CATEGORIES[kind])]
        return {
            "id": self.record_id(k),
            "userid": mobile["userid"],
            "src": src,
            "dst": dst,
            "ano": mobile["ano"],
            "calldate": calldate.strftime("%Y-%m-%d %H:%M:%S"),
            "billingfield": _BILLING_FIELD[kind],
            **quantity,
            "retail_totalnetto": f"{net:.4f}".replace(".", ",") if k % 17 == 5 else net,
            "retail_vat": 1.23,
            "traffic_types_id": next(i for i, t in TRAFFIC_TYPES if t == kind),
            "CategoryName": category,
        }


# --------------------------------------------------------------------------------------------------
# The app


class _Reject(Exception):
    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


class MetroportSimulator:
    """The WSGI app. State (sessions, uploads, faults, counters) lives as long as the instance."""

    def __init__(
        self,
        seed: int = 1,
        users: int = 20,
        mobiles_per_user: int = 2,
        billings: int = 200,
        faults: Faults | None = None,
        *,
        login: str = "api-operator",
        password: str = "api-secret",
        epoch: datetime = DEFAULT_EPOCH,
        envelopes: dict[str, bool] | None = None,
        user_id_key: str = "id",
        page_cache: bool = False,
    ):
        """*billings* is the number of billing records a day (all SIMs together) from *epoch* on.

        With *page_cache*, each billing page is rendered once and kept (bytes, about 330 per record):
        for benchmarks, where the provider's server must not take the CPU the importer and its
        database are measured on, as it would not on a real network. Fault injection bypasses it.
        """
        self.data = Dataset(seed, users, mobiles_per_user, billings, epoch, user_id_key)
        self.faults = faults or Faults()
        self.login_name = login
        self.password = password
        self.envelopes = {**DEFAULT_ENVELOPES, **(envelopes or {})}
        self.uploads: list[Upload] = []
        self.stats = Stats()
        self._sessions: dict[str, float] = {}
        self._lock = threading.Lock()
        self._pages: dict[tuple[int, int, int | None, int], bytes] | None = {} if page_cache else None

    def client_settings(self, url: str) -> dict[str, str]:
        """The plugin's settings that log in to this instance served at *url*."""
        return {
            "metroportmvno.api_url": url.rstrip("/"),
            "metroportmvno.api_login": self.login_name,
            "metroportmvno.api_password": self.password,
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.handle(Request(environ))(environ, start_response)

    # -- controls ----------------------------------------------------------------------------------

    def expire_sessions(self) -> None:
        """Forget every session, as a server restart or a timeout would."""
        with self._lock:
            self._sessions.clear()

    def _take(self, name: str) -> bool:
        """Count one down from the fault counter *name*; True when the fault applies to this request."""
        with self._lock:
            if count_down(self.faults, name):
                self.stats.faults[name] += 1
                return True
            return False

    def _control(self, request: Request, path: str) -> Response:
        if path == "/_control/faults":
            if request.method == "POST":
                try:
                    self.faults.update(request.get_json(force=True) or {})
                except (ValueError, TypeError) as exc:
                    return _json({"error": str(exc)}, 400)
            return _json(asdict(self.faults))
        if path == "/_control/stats":
            stats = asdict(self.stats)
            stats["uploads"] = [
                {"filename": u.filename, "accepted": u.accepted, "problems": list(u.problems)} for u in self.uploads
            ]
            return _json(stats)
        if path == "/_control/expire" and request.method == "POST":
            self.expire_sessions()
            return _json({"status": True})
        return _json({"error": "unknown control"}, 404)

    # -- dispatch ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/").lower() or "/"
        if path.startswith("/_control/"):
            return self._control(request, path)
        route = _ROUTES.get(path)
        if route is None:
            return _json({"status": False, "error": "Not Found"}, 404)
        name, method = route
        with self._lock:
            self.stats.requests[name] += 1
        if request.method != method:
            return _json({"status": False, "error": "Method Not Allowed"}, 405)
        if self.faults.latency:
            time.sleep(self.faults.latency)
        if self._take("rate_limit"):
            response = _json({"status": False, "error": "Too Many Requests"}, 429)
            response.headers["Retry-After"] = str(self.faults.retry_after)
            return response
        if self._take("http_5xx"):
            return _json({"status": False, "error": "Service Unavailable"}, self.faults.status_5xx)
        try:
            if name == "login":
                return self._login(request)
            self._authenticate(request)
            if name == "price_list":
                return self._price_list(request)
            if name != "billings" and self._take("malformed"):
                return Response(self.faults.malformed_body, 200, content_type="application/json")
            if name == "users":
                rows = self.data.public_users()
                if not rows:
                    return Response(b"", 204)
                return self._list(name, rows)
            if name == "mobiles":
                userid = _int_arg(request, "userid")
                rows = [m for m in self.data.mobiles if userid is None or m["userid"] == userid]
                return self._list(name, rows)
            if name == "traffic_types":
                return self._list(name, [{"id": i, "type": t} for i, t in TRAFFIC_TYPES])
            return self._billings(request)
        except _Reject as reject:
            return _json({"status": False, "error": str(reject)}, reject.status)

    def _login(self, request: Request) -> Response:
        body: dict[str, Any] = {}
        if request.is_json:
            parsed = request.get_json(silent=True)
            body = parsed if isinstance(parsed, dict) else {}
        else:
            body = request.form.to_dict()
        if body.get("login") != self.login_name or body.get("password") != self.password:
            with self._lock:
                self.stats.refused_logins += 1
            return _json({"status": False, "error": "Invalid login or password"}, 401)
        token = secrets.token_hex(16)
        with self._lock:
            self._sessions[token] = time.monotonic()
            self.stats.logins += 1
        response = _json({"status": True, "message": "Logged in"})
        response.set_cookie(COOKIE, token, path="/", httponly=True)
        return response

    def _authenticate(self, request: Request) -> None:
        token = request.cookies.get(COOKIE, "")
        with self._lock:
            created = self._sessions.get(token)
            ttl = self.faults.session_ttl
            if created is not None and ttl is not None and time.monotonic() - created > ttl:
                del self._sessions[token]
                created = None
        if created is None:
            raise _Reject(401, "Unauthorized")
        if self._take("expire_session"):
            with self._lock:
                self._sessions.pop(token, None)
            raise _Reject(401, "Unauthorized")

    def _list(self, name: str, rows: list[dict[str, Any]]) -> Response:
        rows_json = [json.dumps(r, ensure_ascii=False) for r in rows]
        inner = "[" + ",".join(rows_json) + "]"
        body = f"[{len(rows)},{inner}]" if self.envelopes.get(name) else inner
        if self._take("truncate"):
            body = body[: max(1, len(body) // 2)]
        return Response(body.encode(), 200, content_type="application/json; charset=utf-8")

    def _billings(self, request: Request) -> Response:
        start = _datetime_arg(request, "datestart")
        end = _datetime_arg(request, "dateend")
        userid = _int_arg(request, "userid")
        id_after = _int_arg(request, "id_after")
        limit = _int_arg(request, "limit")
        if limit is not None and limit < 1:
            raise _Reject(400, "limit must be positive")
        with self._lock:
            self.stats.queries.append(dict(request.args))
            del self.stats.queries[:-1000]
        lo, hi = self.data.index_range(start, end)
        if id_after is not None:
            lo = max(lo, self.data.first_after(id_after))
        total = self.data.count(lo, hi, userid)
        count = total if limit is None else min(total, limit)
        cut = self.faults.truncate_after_rows if self._take("truncate") else None
        malformed = self._take("malformed")
        if malformed:
            return Response(self.faults.malformed_body, 200, content_type="application/json")
        if self._pages is not None and cut is None:
            key = (lo, hi, userid, count)
            body = self._pages.get(key)
            if body is None:
                body = self._pages[key] = b"".join(self._stream(lo, hi, userid, count, None))
            else:
                with self._lock:
                    self.stats.records_sent += count
            return Response(body, 200, content_type="application/json; charset=utf-8")
        return Response(
            self._stream(lo, hi, userid, count, cut),
            200,
            content_type="application/json; charset=utf-8",
            direct_passthrough=True,
        )

    def _stream(self, lo: int, hi: int, userid: int | None, count: int, cut: int | None) -> Iterator[bytes]:
        enveloped = self.envelopes.get("billings", True)
        head = f"[{count},[" if enveloped else "["
        parts: list[str] = [head]
        sent = 0
        render = self.data.record_json
        for k in self.data.indexes(lo, hi, userid):
            if sent == count or (cut is not None and sent == cut):
                break
            parts.append(("," if sent else "") + render(k))
            sent += 1
            if len(parts) >= 256:
                yield "".join(parts).encode()
                parts = []
        with self._lock:
            self.stats.records_sent += sent
        if cut is None or sent < cut:
            parts.append("]]" if enveloped else "]")
        yield "".join(parts).encode()

    def _price_list(self, request: Request) -> Response:
        upload = request.files.get("file")
        if upload is None:
            raise _Reject(400, "No file field in the request")
        content = upload.read()
        problems = tuple(str(p) for p in validate_price_list_bytes(content))
        with self._lock:
            self.uploads.append(Upload(upload.filename or "", content, not problems, problems))
        if problems:
            return _json({"status": False, "errors": list(problems)}, 400)
        rates = max(0, content.count(b"\n") - 1 + (0 if content.endswith(b"\n") else 1))
        return _json({"status": True, "message": f"Imported {rates} retail rates"})


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), status, content_type="application/json; charset=utf-8")


def _int_arg(request: Request, name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise _Reject(400, f"{name} must be a number") from None


def _datetime_arg(request: Request, name: str) -> datetime:
    raw = request.args.get(name)
    if not raw:
        raise _Reject(400, f"{name} is required")
    try:
        return datetime.strptime(raw, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise _Reject(400, f"{name} must be Y-m-d H:i:s") from None


def make_app(
    seed: int = 1,
    users: int = 20,
    mobiles_per_user: int = 2,
    billings: int = 200,
    faults: Faults | dict[str, Any] | None = None,
    **options: Any,
) -> MetroportSimulator:
    """The simulator as a WSGI app; *faults* may be a :class:`Faults` or a dict of its fields."""
    if isinstance(faults, dict):
        f = Faults()
        f.update(faults)
        faults = f
    return MetroportSimulator(seed, users, mobiles_per_user, billings, faults, **options)


def main(argv: list[str] | None = None) -> None:
    """``python -m plugins.metroport_mvno.simulator --port 8081 --seed 1``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Metroport MVNO API simulator (loopback only)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--mobiles-per-user", type=int, default=2)
    parser.add_argument("--billings", type=int, default=200, help="billing records a day")
    parser.add_argument("--login", default="api-operator")
    parser.add_argument("--password", default="api-secret")
    parser.add_argument("--page-cache", action="store_true", help="render each billing page once (benchmarks)")
    args = parser.parse_args(argv)
    app = make_app(
        args.seed,
        args.users,
        args.mobiles_per_user,
        args.billings,
        login=args.login,
        password=args.password,
        page_cache=args.page_cache,
    )
    banner = f"Metroport MVNO simulator on {{url}} (login {args.login}); Ctrl-C stops it"
    serve_until_interrupted(app, args.port, banner)


if __name__ == "__main__":
    main()
