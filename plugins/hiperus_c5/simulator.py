"""A fake Hiperus C5 platform speaking the real wire protocol (SOAP as PHP's non-WSDL SoapServer writes it).

Why it exists: nobody can run tests against the operator's production backend, and the client must not
be able to tell the difference (DESIGN rule 6). So this answers every action of spec §2 with the same
envelopes, the same row shapes (Apache Maps of PostgreSQL-style text; Structs for the ``AddCustomer`` and
``AddTerminal`` rows) and the same session and rate-limit behaviour, over state that persists while the
app lives.

Data comes from a seed: the same seed gives the same accounts, terminals, numbers and CDRs. CDRs are never
stored: each one is a pure function of (day, call type, success flag, index), and the count of a day's
bucket is arithmetic, so ``GetBilling`` can announce ``ns2:Map[N]`` up front and then stream a million
rows generated on the fly without holding them.

Faults are injected through :attr:`HiperusSimulator.faults` or ``POST /_control/faults`` (JSON); see
:class:`Faults`. ``GET /_control/stats`` reports counters the tests use to see retries happen.

Assumptions where the real platform is undocumented: an expired or unknown session answers
``success=false`` with "Not logged in" (``CheckLogin`` answers ``logged=f``); the request limit answers
``success=false`` with "Request limit exceeded"; ``compress=true`` is refused.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from lmsplugins.simserver import FaultSet, serve_until_interrupted

from . import soap

REALM = "PLATFORM_MNGM"
DEFAULT_URI = "https://backend.hiperus.pl:8080/hiperusapi.php"
CALLTYPES = ("incoming", "outgoing", "disa", "forwarded", "internal", "vpbx")
_TYPE_WEIGHT = {"incoming": 0.6, "outgoing": 1.0, "disa": 0.05, "forwarded": 0.1, "internal": 0.2, "vpbx": 0.05}
_FAILED_SHARE = 0.25
NOT_LOGGED_IN = "Not logged in"
RATE_LIMITED = "Request limit exceeded"

CUSTOMER_FIELDS = (
    "id",
    "name",
    "email",
    "address",
    "street_number",
    "apartment_number",
    "postcode",
    "city",
    "country",
    "b_name",
    "b_address",
    "b_street_number",
    "b_apartment_number",
    "b_postcode",
    "b_city",
    "b_country",
    "b_nip",
    "b_regon",
    "ext_billing_id",
    "issue_invoice",
    "id_default_pricelist",
    "payment_type",
    "id_default_balance",
    "active",
    "is_wlr",
    "consent_data_processing",
    "id_reseller",
    "open_registration",
    "is_removed",
    "create_date",
    "platform_user_add_stamp",
)
TERMINAL_FIELDS = (
    "id",
    "id_customer",
    "customer_name",
    "username",
    "password",
    "screen_numbers",
    "t38_fax",
    "id_pricelist",
    "pricelist_name",
    "balance_value",
    "id_auth",
    "id_subscription",
    "subscription_from",
    "subscription_to",
    "value_left",
    "id_terminal_location",
    "area_code",
    "borough",
    "county",
    "province",
    "sip_proxy",
    "subscriptions",
    "extensions",
)
EXTENSION_FIELDS = (
    "id",
    "id_customer",
    "extension",
    "country_code",
    "number",
    "is_main",
    "disa_enabled",
    "clir",
    "virtual_fax",
    "terminal_name",
    "voicemail_enabled",
    "id_auth",
    "create_date",
)
CDR_FIELDS = (
    "id",
    "start_time",
    "duration",
    "rel_cause",
    "customer_name",
    "terminal_name",
    "ext_billing_id",
    "caller",
    "bill_cpb",
    "calltype",
    "country",
    "description",
    "operator",
    "type",
    "price",
    "cost",
    "init_charge",
    "reseller_price",
    "reseller_cost",
    "reseller_init_charge",
    "margin",
    "subscription_used",
    "platform_type",
)
_BOOL_FIELDS = frozenset(
    {
        "issue_invoice",
        "active",
        "is_wlr",
        "consent_data_processing",
        "open_registration",
        "is_removed",
        "screen_numbers",
        "t38_fax",
        "is_main",
        "disa_enabled",
        "clir",
        "virtual_fax",
        "voicemail_enabled",
        "admin",
    }
)

_FIRST = ("Jan", "Anna", "Piotr", "Maria", "Krzysztof", "Katarzyna", "Tomasz", "Małgorzata", "Paweł", "Agnieszka")
_LAST = (
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
)
_FIRMS = ("Usługi & Handel", "Piekarnia", "Auto-Serwis", "Biuro Rachunkowe", "Sklep <Groszek>")
_CITIES = (
    ("Warszawa", "00-950", "22"),
    ("Kraków", "30-001", "12"),
    ("Łódź", "90-001", "42"),
    ("Gdańsk", "80-001", "58"),
    ("Poznań", "60-001", "61"),
)
_STREETS = ("Długa", "Krótka", "Lipowa", "Polna", "Ogrodowa", "Kościuszki")
_DESTINATIONS = (
    ("Polska", "Polska - komórkowe", "Orange", "mobile", "48601"),
    ("Polska", "Polska - komórkowe", "Play", "mobile", "48791"),
    ("Polska", "Polska - stacjonarne", "Orange", "geographic", "4822"),
    ("Polska", "Polska - stacjonarne", "Netia", "geographic", "4812"),
    ("Niemcy", "Niemcy - stacjonarne", "DT", "geographic", "4930"),
    ("Polska", "Polska - numery specjalne", "Orange", "premium", "48700"),
    ("Polska", "Polska - numery NGN", "Telekomunikacja Bliżej", "NGN", "4839"),
)
_PRICELISTS = (("Standard", "t"), ("Biznes", "f"), ("Tani & Dobry", "t"))
_SUBSCRIPTIONS = (("Brak", "0.00", "0.00"), ("Mini 100", "10.00", "8.13"), ("Biznes 500", "40.00", "32.52"))


@dataclass
class Scale:
    """How much data the seed grows into."""

    customers: int = 12
    terminals_per_customer: int = 2
    ranges: int = 3
    range_size: int = 200
    end_users_per_customer: int = 1
    cdrs_per_day: int = 20
    """CDRs a day for ``outgoing`` successful calls; other types and failed calls are fractions of it."""
    cdr_jitter: bool = True
    """Vary each day's counts by up to ±25 %; off gives exactly ``cdrs_per_day`` outgoing successful."""


@dataclass
class Faults(FaultSet):
    """Faults to inject. Counters apply to the next N SOAP requests and count down; flags are one-shot."""

    latency: float = 0.0
    http_5xx: int = 0
    truncate: int = 0
    """Cut the body in the middle (a streamed body after ``truncate_after_rows`` rows), framing intact."""
    truncate_after_rows: int = 100
    reset: int = 0
    """Abort the connection mid-body (no final chunk): the client sees a broken read."""
    soap_fault: int = 0
    rate_limit: int = 0
    expire_session: bool = False
    expire_session_in: int = 0
    """Forget every session when this many more SOAP requests have come (0 = off): expiry mid-run."""
    fail_action: dict[str, str] = field(default_factory=dict)
    """Action name -> error_message: answer that action ``success=false`` until removed."""
    lose_answer: dict[str, int] = field(default_factory=dict)
    """Action name -> N: the next N of that action are DONE, but the answer is lost: held back for
    ``lose_answer_delay`` seconds (the client times out), or with 0 the connection is reset."""
    lose_answer_delay: float = 0.0
    http_429: int = 0
    """Answer the next N requests with HTTP 429 and ``Retry-After: retry_after`` (a proxy in front)."""
    retry_after: int = 1
    malformed: int = 0
    """Answer the next N requests with HTTP 200 and a body that is not XML at all."""


class _Refused(Exception):
    """A handler's ``success=false`` with this error_message."""


def _mix(x: int) -> int:
    """splitmix64: cheap, well-spread bits from an integer, so each CDR is a pure function of its id."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def _tf(value: Any) -> str:
    if isinstance(value, bool):
        return "t" if value else "f"
    return "t" if str(value).strip().lower() in ("t", "true", "1", "yes") else "f"


def _text(key: str, value: Any) -> str | None:
    """Store a value the way the platform's PostgreSQL would hand it back: text, 't'/'f', or NULL."""
    if value is None:
        return None
    if key in _BOOL_FIELDS:
        return _tf(value)
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _int(args: dict[str, Any], key: str, required: bool = True) -> int | None:
    value = args.get(key)
    if value is None or value == "":
        if required:
            raise _Refused(f"Missing parameter: {key}")
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _Refused(f"Invalid parameter: {key}") from None


def _day(value: Any, key: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10].replace("/", "-"))
    except ValueError:
        raise _Refused(f"Invalid date: {key}") from None


class State:
    """The platform's data: accounts, terminals, numbers, users and catalogues, grown from the seed."""

    def __init__(self, seed: int, scale: Scale):
        self.seed = seed
        self.scale = scale
        rng = random.Random(seed)
        self.id_reseller = str(100 + seed % 900)
        self.pricelists = [
            {"id": str(i + 1), "name": name, "charge_internal_call": charge}
            for i, (name, charge) in enumerate(_PRICELISTS)
        ]
        self.subscriptions = [
            {
                "id": str(i + 1),
                "name": name,
                "value": value,
                "f_dld": "0",
                "f_mobile": "0",
                "f_ild": "0",
                "id_reseller": self.id_reseller,
                "invoice_value": inv,
            }
            for i, (name, value, inv) in enumerate(_SUBSCRIPTIONS)
        ]
        self.ranges: list[dict[str, Any]] = []
        for i in range(scale.ranges):
            _city, _zip, area = _CITIES[i % len(_CITIES)]
            start = int(f"{area}{7000000 + i * 10000 + rng.randrange(0, 9000) // 1000 * 1000:07d}")
            self.ranges.append(
                {
                    "id": str(i + 1),
                    "range_start": str(start),
                    "range_end": str(start + scale.range_size - 1),
                    "description": f"Zakres {area} #{i + 1}",
                    "id_reseller": self.id_reseller,
                    "country_code": "48",
                    "open_registration": "f",
                }
            )
        self.customers: dict[int, dict[str, Any]] = {}
        self.terminals: dict[int, dict[str, Any]] = {}
        self.extensions: dict[int, dict[str, Any]] = {}
        self.end_users: dict[int, dict[str, Any]] = {}
        self._next = {"customer": 1001, "terminal": 5001, "extension": 9001, "end_user": 3001}
        base_day = datetime(2015, 1, 5, 10, 0, 0)
        for c in range(scale.customers):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            city, postcode, _area = rng.choice(_CITIES)
            company = rng.random() < 0.3
            name = f"{rng.choice(_FIRMS)} {last}" if company else f"{last} {first}"
            street, no = rng.choice(_STREETS), str(rng.randint(1, 120))
            created = (base_day + timedelta(days=c * 7)).strftime("%Y-%m-%d %H:%M:%S")
            cid = self._add_customer(
                {
                    "name": name,
                    "email": f"klient{c + 1}@example.pl",
                    "address": street,
                    "street_number": no,
                    "apartment_number": str(rng.randint(1, 40)) if rng.random() < 0.5 else "",
                    "postcode": postcode,
                    "city": city,
                    "country": "Polska",
                    "b_name": name,
                    "b_address": street,
                    "b_street_number": no,
                    "b_apartment_number": "",
                    "b_postcode": postcode,
                    "b_city": city,
                    "b_country": "Polska",
                    "b_nip": f"{rng.randrange(10**9, 10**10)}" if company else "",
                    "b_regon": "",
                    "ext_billing_id": c + 1 if rng.random() < 0.8 else None,
                    "issue_invoice": rng.random() < 0.7,
                    "id_default_pricelist": rng.randint(1, len(_PRICELISTS)),
                    "payment_type": "postpaid" if rng.random() < 0.8 else "prepaid",
                    "id_default_balance": None,
                    "active": True,
                    "is_wlr": False,
                    "consent_data_processing": True,
                },
                created,
            )
            for t in range(scale.terminals_per_customer):
                sub = rng.randint(1, len(_SUBSCRIPTIONS)) if rng.random() < 0.7 else None
                tid = self._add_terminal(
                    {
                        "id_customer": cid,
                        "username": f"{cid}t{t + 1}",
                        "password": f"{rng.getrandbits(40):010x}",
                        "id_pricelist": rng.randint(1, len(_PRICELISTS)),
                        "screen_numbers": True,
                        "t38_fax": False,
                        "id_subscription": sub,
                        "subscription_from": "2015-01-01" if sub else None,
                        "subscription_to": None,
                        "id_terminal_location": rng.randint(1, 2322),
                    }
                )
                number = self.first_free_number(None)
                if number is not None:
                    self._add_extension(
                        {
                            "id_customer": cid,
                            "number": number[0],
                            "country_code": "48",
                            "id_terminal": tid,
                            "is_main": t == 0,
                        },
                        created,
                    )
            for u in range(scale.end_users_per_customer):
                self._add_end_user(cid, f"user{u + 1}.{cid}@example.pl", f"{rng.getrandbits(32):08x}")
        self.cdr_terminals = [
            (
                t["username"],
                self.customers[t["id_customer"]]["name"],
                self.customers[t["id_customer"]]["ext_billing_id"],
                t["id_customer"],
                self._terminal_number(t),
            )
            for t in sorted(self.terminals.values(), key=lambda t: t["id"])
        ]

    # -- helpers -----------------------------------------------------------------------------------

    def _take(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] += 1
        return value

    def _terminal_number(self, terminal: dict[str, Any]) -> str:
        for ext in self.extensions.values():
            if ext["terminal_name"] == terminal["username"]:
                return ext["number"]
        return f"{terminal['id']:09d}"

    def customer(self, cid: int) -> dict[str, Any]:
        if cid not in self.customers:
            raise _Refused(f"Customer {cid} not found")
        return self.customers[cid]

    def terminal(self, tid: int) -> dict[str, Any]:
        if tid not in self.terminals:
            raise _Refused(f"Terminal {tid} not found")
        return self.terminals[tid]

    def used_numbers(self) -> dict[str, dict[str, Any]]:
        return {ext["number"]: ext for ext in self.extensions.values()}

    def first_free_number(self, sn: str | None) -> tuple[str, str] | None:
        used = self.used_numbers()
        for rng in self.ranges:
            for n in range(int(rng["range_start"]), int(rng["range_end"]) + 1):
                number = str(n)
                if number not in used and (not sn or number.startswith(str(sn))):
                    return number, rng["country_code"]
        return None

    def _in_ranges(self, number: str) -> bool:
        return number.isdigit() and any(
            int(r["range_start"]) <= int(number) <= int(r["range_end"]) for r in self.ranges
        )

    # -- mutations ---------------------------------------------------------------------------------

    def _add_customer(self, args: dict[str, Any], created: str | None = None) -> int:
        cid = self._take("customer")
        row: dict[str, Any] = dict.fromkeys(CUSTOMER_FIELDS)
        row.update(
            {
                "issue_invoice": "f",
                "payment_type": "postpaid",
                "is_wlr": "f",
                "active": "t",
                "consent_data_processing": "f",
                "open_registration": "f",
                "is_removed": "f",
            }
        )
        for key in CUSTOMER_FIELDS:
            if key in args and key not in ("id", "id_reseller", "is_removed", "create_date", "platform_user_add_stamp"):
                row[key] = _text(key, args[key])
        now = created or datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        row.update(id=cid, id_reseller=self.id_reseller, create_date=now, platform_user_add_stamp=f"api {now}")
        self.customers[cid] = row
        return cid

    def _pricelist_name(self, pid: Any) -> str:
        for p in self.pricelists:
            if p["id"] == str(pid):
                return p["name"]
        raise _Refused(f"Pricelist {pid} not found")

    def _subscription(self, sid: Any) -> dict[str, Any] | None:
        if sid in (None, ""):
            return None
        for s in self.subscriptions:
            if s["id"] == str(sid):
                return s
        raise _Refused(f"Subscription {sid} not found")

    def _add_terminal(self, args: dict[str, Any]) -> int:
        cid = _int(args, "id_customer")
        assert cid is not None
        customer = self.customer(cid)
        username = str(args.get("username") or "")
        if not username:
            raise _Refused("Missing parameter: username")
        if any(t["username"] == username for t in self.terminals.values()):
            raise _Refused(f"Terminal {username} already exists")
        pricelist = self._pricelist_name(_int(args, "id_pricelist"))
        sub = self._subscription(args.get("id_subscription"))
        tid = self._take("terminal")
        city = next((c for c in _CITIES if c[0] == customer["city"]), _CITIES[0])
        self.terminals[tid] = {
            "id": tid,
            "id_customer": cid,
            "username": username,
            "password": str(args.get("password") or ""),
            "screen_numbers": _tf(args.get("screen_numbers", True)),
            "t38_fax": _tf(args.get("t38_fax", False)),
            "id_pricelist": str(_int(args, "id_pricelist")),
            "pricelist_name": pricelist,
            "balance_value": "0.00",
            "id_auth": None,
            "id_subscription": sub["id"] if sub else None,
            "subscription_from": _text("", args.get("subscription_from")) if sub else None,
            "subscription_to": _text("", args.get("subscription_to")) if sub else None,
            "value_left": "0.00",
            "id_terminal_location": _text("", args.get("id_terminal_location")),
            "area_code": city[2],
            "borough": city[0],
            "county": city[0],
            "province": "mazowieckie",
            "sip_proxy": "sip.hiperus.pl",
            "subscriptions": sub["name"] if sub else None,
        }
        return tid

    def _add_extension(self, args: dict[str, Any], created: str | None = None) -> int:
        cid = _int(args, "id_customer")
        assert cid is not None
        self.customer(cid)
        number = str(args.get("number") or "")
        if not self._in_ranges(number):
            raise _Refused(f"Number {number} is not in the reseller's numbering")
        if number in self.used_numbers():
            raise _Refused(f"Number {number} is already used")
        if args.get("id_terminal") not in (None, ""):
            terminal = self.terminal(_int(args, "id_terminal") or 0)
        elif _tf(args.get("create_terminal", False)) == "t":
            tid = self._add_terminal(
                {
                    "id_customer": cid,
                    "username": number,
                    "password": uuid.uuid4().hex[:8],
                    "id_pricelist": args.get("id_pricelist"),
                    "id_subscription": args.get("id_subscription"),
                }
            )
            terminal = self.terminals[tid]
        else:
            raise _Refused("Missing parameter: id_terminal")
        if terminal["id_customer"] != cid:
            raise _Refused("Terminal belongs to another customer")
        eid = self._take("extension")
        cc = str(args.get("country_code") or "48")
        self.extensions[eid] = {
            "id": eid,
            "id_customer": cid,
            "extension": cc + number,
            "country_code": cc,
            "number": number,
            "is_main": _tf(args.get("is_main", True)),
            "disa_enabled": _tf(args.get("disa_enabled", False)),
            "clir": _tf(args.get("clir", False)),
            "virtual_fax": _tf(args.get("virtual_fax", False)),
            "terminal_name": terminal["username"],
            "voicemail_enabled": _tf(args.get("voicemail_enabled", True)),
            "id_auth": _text("", args.get("id_auth")),
            "create_date": created or datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        }
        return eid

    def _add_end_user(self, cid: int, email: str, password: str) -> int:
        uid = self._take("end_user")
        self.end_users[uid] = {
            "id": uid,
            "id_customer": cid,
            "email": email,
            "password": password,
            "admin": "t",
            "vm_count": "1",
            "fax_count": "0",
            "exten_count": "1",
            "vexten_count": "0",
        }
        return uid

    # -- rows as the platform shows them -----------------------------------------------------------

    def customer_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: _text(k, row[k]) for k in CUSTOMER_FIELDS}

    def terminal_row(self, row: dict[str, Any]) -> dict[str, Any]:
        exts = sorted(e["extension"] for e in self.extensions.values() if e["terminal_name"] == row["username"])
        out = {k: _text(k, row.get(k)) for k in TERMINAL_FIELDS if k not in ("customer_name", "extensions")}
        out["customer_name"] = self.customers[row["id_customer"]]["name"]
        out["extensions"] = "".join(f"{e}\n" for e in exts)
        return {k: out[k] for k in TERMINAL_FIELDS}

    def extension_row(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: _text(k, row[k]) for k in EXTENSION_FIELDS}


# --------------------------------------------------------------------------------------------------
# CDRs


@dataclass(frozen=True)
class _Bucket:
    day: date
    calltype: str
    success: bool
    count: int
    offset: int
    """Terminal rotation for the day: CDR k belongs to terminal ``(k + offset) % terminals``."""
    positions: frozenset[int] | None
    """Terminal positions of the requested account, or None for all accounts."""
    terminals: int

    @property
    def selected(self) -> int:
        """How many of the bucket's CDRs pass the account filter, counted without generating them."""
        if self.positions is None:
            return self.count
        m = self.terminals
        return sum(max(0, (self.count - ((p - self.offset) % m) + m - 1) // m) for p in self.positions)


class CdrGenerator:
    """CDRs as pure functions of (seed, day, call type, success flag, index); nothing is stored."""

    def __init__(self, state: State):
        self.state = state
        self.seed = state.seed
        self.terminals = state.cdr_terminals
        self._templates: dict[tuple[Any, ...], str] = {}

    def bucket_count(self, day: date, calltype: str, success: bool) -> int:
        base = self.state.scale.cdrs_per_day * _TYPE_WEIGHT[calltype] * (1.0 if success else _FAILED_SHARE)
        if self.state.scale.cdr_jitter:
            key = self.seed * 1_000_003 + day.toordinal() * 16 + CALLTYPES.index(calltype)
            base *= 0.75 + (_mix(key) % 501) / 1000
        return min(round(base), 9_999_999) if self.terminals else 0

    def buckets(
        self, date_from: date, date_to: date, calltypes: Iterable[str], success: bool, id_customer: int | None
    ) -> Iterator[_Bucket]:
        m = len(self.terminals)
        positions = None
        if id_customer is not None:
            positions = frozenset(i for i, t in enumerate(self.terminals) if t[3] == id_customer)
        types = list(calltypes)
        day = date_from
        while day <= date_to:
            offset = _mix(self.seed ^ day.toordinal()) % m if m else 0
            for ct in types:
                yield _Bucket(day, ct, success, self.bucket_count(day, ct, success), offset, positions, m)
            day += timedelta(days=1)

    def count(
        self, date_from: date, date_to: date, calltypes: Iterable[str], success: bool, id_customer: int | None = None
    ) -> int:
        """How many CDRs a ``GetBilling`` with these filters returns (before offset/limit)."""
        return sum(b.selected for b in self.buckets(date_from, date_to, calltypes, success, id_customer))

    def records(
        self,
        date_from: date,
        date_to: date,
        calltypes: Iterable[str],
        success: bool,
        id_customer: int | None,
        skip: int = 0,
    ) -> Iterator[tuple[str | None, ...]]:
        """The CDR value tuples (in ``CDR_FIELDS`` order), skipping the first *skip* cheaply."""
        m = len(self.terminals)
        for b in self.buckets(date_from, date_to, calltypes, success, id_customer):
            sel = b.selected
            if skip >= sel:
                skip -= sel
                continue
            for k in range(b.count):
                if b.positions is not None and (k + b.offset) % m not in b.positions:
                    continue
                if skip:
                    skip -= 1
                    continue
                yield self.record(b, k)

    def record(self, b: _Bucket, k: int) -> tuple[str | None, ...]:
        type_idx = CALLTYPES.index(b.calltype)
        cdr_id = ((b.day.toordinal() * 8 + type_idx) * 2 + int(b.success)) * 10_000_000 + k
        h = _mix(cdr_id ^ (self.seed << 1))
        name, customer_name, ext_billing_id, _cid, own_number = self.terminals[(k + b.offset) % len(self.terminals)]
        seconds = (k * 86400) // max(b.count, 1) + (h % max(1, 86400 // max(b.count, 1)))
        start = datetime(b.day.year, b.day.month, b.day.day) + timedelta(seconds=min(seconds, 86399))
        country, description, operator, kind, prefix = _DESTINATIONS[(h >> 8) % len(_DESTINATIONS)]
        remote = f"{prefix}{(h >> 16) % 10 ** (11 - len(prefix)):0{11 - len(prefix)}d}"
        if b.success:
            duration = 1 + (h >> 24) % 900
            rel_cause = 16
        else:
            duration = 0
            rel_cause = (17, 18, 19, 21, 31, 34)[(h >> 24) % 6]
        charged = b.success and b.calltype in ("outgoing", "forwarded", "disa")
        price = (5 + (h >> 32) % 40) / 100 if charged else 0.0
        cost = round(price * duration / 60, 4) if charged else 0.0
        init = 0.05 if charged and kind == "premium" else 0.0
        r_price = round(price * 0.6, 4)
        r_cost = round(cost * 0.6, 4)
        sub_used = "t" if charged and (h >> 40) % 5 == 0 else "f"
        if b.calltype == "incoming":
            caller, bill_cpb = remote[2:], "48" + own_number
        else:
            caller, bill_cpb = own_number, remote
        return (
            str(cdr_id),
            start.strftime("%Y-%m-%d %H:%M:%S"),
            str(duration),
            str(rel_cause),
            customer_name,
            name,
            None if ext_billing_id is None else str(ext_billing_id),
            caller,
            bill_cpb,
            b.calltype,
            country,
            description,
            operator,
            kind,
            f"{price:.4f}",
            f"{cost:.4f}",
            f"{init:.4f}",
            f"{r_price:.4f}",
            f"{r_cost:.4f}",
            f"{init * 0.6:.4f}",
            f"{cost - r_cost:.4f}",
            sub_used,
            "WLR" if (h >> 48) % 10 == 0 else "VOIP",
        )

    def rendered(
        self,
        date_from: date,
        date_to: date,
        calltypes: Iterable[str],
        success: bool,
        id_customer: int | None,
        skip: int = 0,
    ) -> Iterator[str]:
        """The rows of :meth:`records` already encoded, byte for byte what :func:`_encode_cdr` makes of them.

        Why: encoding a row field by field cost the simulator about as much as decoding it costs the
        client, so a benchmark on one machine measured the simulator. Here everything a row shares
        with others (the terminal's names, the destination, the call type) sits in a template per
        (call type, terminal, destination), and only the dozen numbers drawn per row are formatted
        into it; they are digits, so need no escaping. The arithmetic repeats :meth:`record`'s; a
        test compares the two over whole buckets.
        """
        m = len(self.terminals)
        seed2 = self.seed << 1
        for b in self.buckets(date_from, date_to, calltypes, success, id_customer):
            sel = b.selected
            if skip >= sel:
                skip -= sel
                continue
            base_id = ((b.day.toordinal() * 8 + CALLTYPES.index(b.calltype)) * 2 + int(b.success)) * 10_000_000
            day = b.day.isoformat() + " "
            count = max(b.count, 1)
            spread = max(1, 86400 // count)
            charged = b.success and b.calltype in ("outgoing", "forwarded", "disa")
            incoming = b.calltype == "incoming"
            templates = self._templates
            for k in range(b.count):
                if b.positions is not None and (k + b.offset) % m not in b.positions:
                    continue
                if skip:
                    skip -= 1
                    continue
                cdr_id = base_id + k
                x = ((cdr_id ^ seed2) + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
                x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
                x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
                h = x ^ (x >> 31)
                terminal = self.terminals[(k + b.offset) % m]
                dest = (h >> 8) % len(_DESTINATIONS)
                key = (b.calltype, terminal, dest)
                template = templates.get(key)
                if template is None:
                    template = templates[key] = _cdr_template(b.calltype, terminal, _DESTINATIONS[dest])
                seconds = min((k * 86400) // count + h % spread, 86399)
                hh, rest = divmod(seconds, 3600)
                mm, ss = divmod(rest, 60)
                prefix = _DESTINATIONS[dest][4]
                width = 11 - len(prefix)
                remote = f"{prefix}{(h >> 16) % 10**width:0{width}d}"
                if b.success:
                    duration = 1 + (h >> 24) % 900
                    rel_cause = 16
                else:
                    duration = 0
                    rel_cause = (17, 18, 19, 21, 31, 34)[(h >> 24) % 6]
                price = (5 + (h >> 32) % 40) / 100 if charged else 0.0
                cost = round(price * duration / 60, 4) if charged else 0.0
                init = 0.05 if charged and _DESTINATIONS[dest][3] == "premium" else 0.0
                r_cost = round(cost * 0.6, 4)
                yield template % (
                    cdr_id,
                    f"{day}{hh:02d}:{mm:02d}:{ss:02d}",
                    duration,
                    rel_cause,
                    remote[2:] if incoming else remote,
                    f"{price:.4f}",
                    f"{cost:.4f}",
                    f"{init:.4f}",
                    f"{round(price * 0.6, 4):.4f}",
                    f"{r_cost:.4f}",
                    f"{init * 0.6:.4f}",
                    f"{cost - r_cost:.4f}",
                    "t" if charged and (h >> 40) % 5 == 0 else "f",
                    "WLR" if (h >> 48) % 10 == 0 else "VOIP",
                )


_ROW_PARTS = tuple(
    (
        f'<item><key xsi:type="xsd:string">{k}</key><value xsi:type="xsd:string">',
        f'<item><key xsi:type="xsd:string">{k}</key><value xsi:nil="true"/></item>',
    )
    for k in CDR_FIELDS
)


def _encode_cdr(values: tuple[str | None, ...]) -> str:
    parts = ['<item xsi:type="ns2:Map">']
    for (open_, nil), value in zip(_ROW_PARTS, values, strict=True):
        if value is None:
            parts.append(nil)
        else:
            parts.append(open_)
            parts.append(escape(value))
            parts.append("</value></item>")
    parts.append("</item>")
    return "".join(parts)


def _cdr_template(calltype: str, terminal: tuple[Any, ...], destination: tuple[str, ...]) -> str:
    """:func:`_encode_cdr` of a row of this call type, terminal and destination, with a ``%s`` for each
    value drawn per row (see :meth:`CdrGenerator.rendered` for their order)."""
    name, customer_name, ext_billing_id, _cid, own_number = terminal
    country, description, operator, kind, _prefix = destination
    slot = "\0"
    incoming = calltype == "incoming"
    values = (
        slot,
        slot,
        slot,
        slot,
        customer_name,
        name,
        None if ext_billing_id is None else str(ext_billing_id),
        slot if incoming else own_number,
        "48" + own_number if incoming else slot,
        calltype,
        country,
        description,
        operator,
        kind,
        slot,
        slot,
        slot,
        slot,
        slot,
        slot,
        slot,
        slot,
        slot,
    )
    return _encode_cdr(values).replace("%", "%%").replace(slot, "%s")


# --------------------------------------------------------------------------------------------------
# The app


class HiperusSimulator:
    """The WSGI app. ``faults``, ``state``, ``stats`` and ``rate_limit`` may be changed at runtime."""

    def __init__(
        self,
        seed: int = 1,
        scale: Scale | None = None,
        faults: Faults | None = None,
        *,
        username: str = "reseller",
        password: str = "secret",
        domain: str = "demo.hiperus.pl",
        rate_limit: tuple[int, float] | None = (7, 5.0),
        uri: str = DEFAULT_URI,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.state = State(seed, scale or Scale())
        self.cdrs = CdrGenerator(self.state)
        self.faults = faults or Faults()
        self.credentials = (username, password, domain)
        self.rate_limit = rate_limit
        self.uri = uri
        self.sessions: set[str] = set()
        self.stats: Counter[str] = Counter()
        self.requests_log: deque[tuple[float, str]] = deque(maxlen=10_000)
        self._window: deque[float] = deque()
        self._clock = clock
        self._lock = threading.RLock()
        self._handlers: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
            "GetCustomerList": self._get_customer_list,
            "GetCustomerData": self._get_customer_data,
            "GetCustomerIDByExtBillingID": self._get_customer_id_by_ext,
            "SearchCustomer": self._search_customer,
            "AddCustomer": self._add_customer,
            "SaveCustomerData": self._save_customer,
            "DelCustomer": self._del_customer,
            "GetTerminalList": self._get_terminal_list,
            "AddTerminal": self._add_terminal,
            "SaveTerminalData": self._save_terminal,
            "DelTerminal": self._del_terminal,
            "GetExtensionList": self._get_extension_list,
            "GetExtensionData": self._get_extension_data,
            "AddExtension": self._add_extension,
            "SaveExtensionData": self._save_extension,
            "DelExtension": self._del_extension,
            "GetFirstFreePlatformNumber": self._first_free,
            "GetPlatformNumberingRange": lambda a: [dict(r) for r in self.state.ranges],
            "GetPlatformNumberingUsage": self._usage,
            "GetCustomerPricelistList": lambda a: [dict(p) for p in self.state.pricelists],
            "GetSubscriptionList": lambda a: [dict(s) for s in self.state.subscriptions],
            "GetEndUserAuthList": self._end_users,
            "GetInvoiceList": lambda a: [],
        }

    ACTIONS = (
        "Login",
        "CheckLogin",
        "Logout",
        "GetCustomerList",
        "GetCustomerData",
        "GetCustomerIDByExtBillingID",
        "SearchCustomer",
        "AddCustomer",
        "SaveCustomerData",
        "DelCustomer",
        "GetTerminalList",
        "AddTerminal",
        "SaveTerminalData",
        "DelTerminal",
        "GetExtensionList",
        "GetExtensionData",
        "AddExtension",
        "SaveExtensionData",
        "DelExtension",
        "GetFirstFreePlatformNumber",
        "GetPlatformNumberingRange",
        "GetPlatformNumberingUsage",
        "GetCustomerPricelistList",
        "GetSubscriptionList",
        "GetEndUserAuthList",
        "GetBilling",
        "GetInvoiceList",
    )

    def client_settings(self, url: str) -> dict[str, str]:
        """The plugin's settings that log in to this instance served at *url* (the login takes a domain too)."""
        username, password, domain = self.credentials
        return {
            "hiperus_c5.api_url": url.rstrip("/") + "/hiperusapi.php",
            "hiperus_c5.username": username,
            "hiperus_c5.password": password,
            "hiperus_c5.domain": domain,
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response = self._control(request) if request.path.startswith("/_control/") else self._soap(request)
        return response(environ, start_response)

    def expire_sessions(self) -> None:
        """Forget every session, as the platform does when a session times out."""
        with self._lock:
            self.sessions.clear()

    # -- control -----------------------------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        what = request.path.removeprefix("/_control/")
        with self._lock:
            if what == "faults" and request.method == "POST":
                try:
                    self.faults.update(json.loads(request.get_data() or b"{}"))
                except (ValueError, TypeError) as exc:
                    return Response(json.dumps({"error": str(exc)}), 400, content_type="application/json")
                return Response(json.dumps(asdict(self.faults)), content_type="application/json")
            if what == "faults":
                return Response(json.dumps(asdict(self.faults)), content_type="application/json")
            if what == "expire" and request.method == "POST":
                self.sessions.clear()
                return Response("{}", content_type="application/json")
            if what == "stats":
                return Response(json.dumps(dict(self.stats)), content_type="application/json")
        return Response('{"error": "not found"}', 404, content_type="application/json")

    # -- SOAP --------------------------------------------------------------------------------------

    def _xml(self, body: bytes | Iterable[bytes], status: int = 200) -> Response:
        return Response(body, status, content_type="text/xml; charset=utf-8")

    def _fault(self, code: str, message: str) -> Response:
        return self._xml(soap.build_fault(code, message), 500)

    def _answer(self, ret: soap.Struct) -> bytes:
        return soap.build_response(self.uri, ret)

    def _refuse(self, message: str) -> bytes:
        return self._answer(soap.Struct(success=False, error_message=message, result_set=[]))

    def _soap(self, request: Request) -> Response:
        self.stats["http_requests"] += 1
        faults = self.faults
        if faults.latency:
            time.sleep(faults.latency)
        if request.method != "POST":
            return Response("Method Not Allowed", 405)
        with self._lock:
            if faults.http_5xx > 0:
                faults.http_5xx -= 1
                self.stats["injected_5xx"] += 1
                return Response("<html><body>503 Service Unavailable</body></html>", 503, content_type="text/html")
            if faults.http_429 > 0:
                faults.http_429 -= 1
                self.stats["injected_429"] += 1
                return Response(
                    "Too Many Requests", 429, {"Retry-After": str(faults.retry_after)}, content_type="text/plain"
                )
            if faults.malformed > 0:
                faults.malformed -= 1
                self.stats["injected_malformed"] += 1
                return self._xml(b"<html><body>Fatal error: Allowed memory size exhausted")
        try:
            envelope = soap.parse_request(request.get_data())
        except soap.SoapError:
            return self._fault("SOAP-ENV:Client", "Bad Request")
        if envelope.method != "request" or len(envelope.params) != 4:
            return self._fault("SOAP-ENV:Server", f"Function '{envelope.method}' doesn't exist")
        realm, action, args, sessid = envelope.params
        args = dict(args) if isinstance(args, dict) else {}
        with self._lock:
            self.stats[f"action:{action}"] += 1
            self.requests_log.append((self._clock(), str(action)))
            if faults.soap_fault > 0:
                faults.soap_fault -= 1
                return self._fault("SOAP-ENV:Server", "Internal Server Error")
            if faults.expire_session:
                faults.expire_session = False
                self.sessions.clear()
            if faults.expire_session_in > 0:
                faults.expire_session_in -= 1
                if faults.expire_session_in == 0:
                    self.stats["injected_expiry"] += 1
                    self.sessions.clear()
            if self._over_limit():
                self.stats["rate_limited"] += 1
                return self._maybe_cut(self._refuse(RATE_LIMITED))
            if realm != REALM:
                return self._maybe_cut(self._refuse(f"Unknown realm {realm}"))
            if action in faults.fail_action:
                return self._maybe_cut(self._refuse(faults.fail_action[action]))
            if action == "Login":
                return self._maybe_cut(self._login(args))
            if action == "CheckLogin":
                logged = sessid in self.sessions
                row = {"logged": "t" if logged else "f", "voip_services": "t", "wlr_services": "f"}
                return self._maybe_cut(self._answer(soap.Struct(success=True, sessid=sessid, result_set=[row])))
            if sessid not in self.sessions:
                return self._maybe_cut(self._refuse(NOT_LOGGED_IN))
            if action == "Logout":
                self.sessions.discard(sessid)
                return self._maybe_cut(self._answer(soap.Struct(success=True, result_set=[])))
            if action == "GetBilling":
                try:
                    return self._billing(args)
                except _Refused as exc:
                    return self._xml(self._refuse(str(exc)))
            handler = self._handlers.get(str(action))
            if handler is None:
                return self._maybe_cut(self._refuse(f"Unknown action {action}"))
            try:
                rows = handler(args)
            except _Refused as exc:
                return self._maybe_cut(self._refuse(str(exc)))
            body = self._answer(soap.Struct(success=True, result_set=rows))
            if faults.lose_answer.get(str(action), 0) > 0:
                faults.lose_answer[str(action)] -= 1
                self.stats[f"lost_answer:{action}"] += 1
                delay = faults.lose_answer_delay
                return self._xml(_late(body, delay) if delay else _broken(b""))
            return self._maybe_cut(body)

    def _over_limit(self) -> bool:
        if self.faults.rate_limit > 0:
            self.faults.rate_limit -= 1
            return True
        if not self.rate_limit:
            return False
        calls, period = self.rate_limit
        now = self._clock()
        while self._window and now - self._window[0] >= period:
            self._window.popleft()
        if len(self._window) >= calls:
            return True
        self._window.append(now)
        return False

    def _maybe_cut(self, body: bytes) -> Response:
        if self.faults.truncate > 0:
            self.faults.truncate -= 1
            self.stats["injected_truncate"] += 1
            return self._xml(body[: len(body) // 2])
        if self.faults.reset > 0:
            self.faults.reset -= 1
            self.stats["injected_reset"] += 1
            return self._xml(_broken(body[: len(body) // 2]))
        return self._xml(body)

    def _login(self, args: dict[str, Any]) -> bytes:
        given = (args.get("username"), args.get("password"), args.get("domain"))
        if given != self.credentials:
            return self._refuse("Invalid username, password or domain")
        sessid = uuid.uuid4().hex
        self.sessions.add(sessid)
        return self._answer(soap.Struct(success=True, sessid=sessid, result_set=[]))

    # -- GetBilling (streamed) ---------------------------------------------------------------------

    def _billing(self, args: dict[str, Any]) -> Response:
        date_from, date_to = _day(args.get("from"), "from"), _day(args.get("to"), "to")
        if date_to < date_from:
            raise _Refused("Invalid date range")
        if _tf(args.get("compress", False)) == "t":
            raise _Refused("compress is not supported by the simulator")
        calltype = args.get("calltype")
        if calltype in (None, "", "all"):
            types: tuple[str, ...] = CALLTYPES
        elif calltype in CALLTYPES:
            types = (str(calltype),)
        else:
            raise _Refused(f"Invalid calltype {calltype}")
        success = _tf(args.get("success_calls", True)) == "t"
        id_customer = _int(args, "id_customer", required=False)
        offset = _int(args, "offset", required=False) or 0
        limit = _int(args, "limit", required=False)
        total = max(0, self.cdrs.count(date_from, date_to, types, success, id_customer) - offset)
        if limit is not None and limit > 0:
            total = min(total, limit)
        records = self.cdrs.rendered(date_from, date_to, types, success, id_customer, skip=offset)
        cut: int | None = None
        mode = ""
        if self.faults.truncate > 0:
            self.faults.truncate -= 1
            cut, mode = self.faults.truncate_after_rows, "truncate"
        elif self.faults.reset > 0:
            self.faults.reset -= 1
            cut, mode = self.faults.truncate_after_rows, "reset"
        if mode:
            self.stats[f"injected_{mode}"] += 1
        body = self._billing_body(records, total, cut, mode)
        return self._xml(body)

    def _billing_body(self, records: Iterator[str], total: int, cut: int | None, mode: str) -> Iterator[bytes]:
        head = soap.envelope_open(self.uri) + (
            '<ns1:requestResponse><return xsi:type="SOAP-ENC:Struct"><success xsi:type="xsd:boolean">true</success>'
        )
        tail = "</return></ns1:requestResponse>" + soap.ENVELOPE_CLOSE
        if total == 0:
            yield (head + '<result_set SOAP-ENC:arrayType="xsd:ur-type[0]" xsi:type="SOAP-ENC:Array"/>' + tail).encode()
            return
        yield (head + f'<result_set SOAP-ENC:arrayType="ns2:Map[{total}]" xsi:type="SOAP-ENC:Array">').encode()
        batch: list[str] = []
        for sent, row in enumerate(records):
            if sent >= total:
                break
            if cut is not None and sent >= cut:
                batch.append('<item xsi:type="ns2:Map"><item><key xsi:t')
                yield "".join(batch).encode()
                if mode == "reset":
                    raise ConnectionAbortedError("injected connection reset")
                return
            batch.append(row)
            if len(batch) >= 500:
                yield "".join(batch).encode()
                batch = []
        batch.append("</result_set>" + tail)
        yield "".join(batch).encode()

    # -- handlers ----------------------------------------------------------------------------------

    def _get_customer_list(self, args: dict[str, Any]) -> list[Any]:
        query = str(args.get("query") or "").lower()
        rows = [
            self.state.customer_row(c)
            for c in sorted(self.state.customers.values(), key=lambda c: c["id"])
            if not query or c["name"].lower().startswith(query)
        ]
        offset = _int(args, "offset", required=False) or 0
        limit = _int(args, "limit", required=False) or 0
        return rows[offset : offset + limit] if limit else rows[offset:]

    def _get_customer_data(self, args: dict[str, Any]) -> list[Any]:
        return [self.state.customer_row(self.state.customer(_int(args, "id_customer") or 0))]

    def _get_customer_id_by_ext(self, args: dict[str, Any]) -> list[Any]:
        ext = str(_int(args, "ext_billing_id"))
        for c in sorted(self.state.customers.values(), key=lambda c: c["id"]):
            if c["ext_billing_id"] == ext:
                return [{"id": str(c["id"])}]
        raise _Refused(f"Customer with ext_billing_id {ext} not found")

    def _search_customer(self, args: dict[str, Any]) -> list[Any]:
        name = str(args.get("name") or "").lower()
        if not name:
            raise _Refused("Missing parameter: name")
        return [
            {"search_type": "1", "customer_id": str(c["id"]), "name": c["name"]}
            for c in sorted(self.state.customers.values(), key=lambda c: c["id"])
            if name in c["name"].lower()
        ]

    def _add_customer(self, args: dict[str, Any]) -> list[Any]:
        if not args.get("name"):
            raise _Refused("Missing parameter: name")
        return [soap.Struct(id=self.state._add_customer(args))]

    def _save_customer(self, args: dict[str, Any]) -> list[Any]:
        row = self.state.customer(_int(args, "id_customer") or 0)
        for key in CUSTOMER_FIELDS:
            if key in args and key not in ("id", "id_reseller", "create_date", "platform_user_add_stamp"):
                row[key] = _text(key, args[key])
        return []

    def _del_customer(self, args: dict[str, Any]) -> list[Any]:
        cid = _int(args, "id_customer") or 0
        self.state.customer(cid)
        del self.state.customers[cid]
        for table in (self.state.terminals, self.state.extensions, self.state.end_users):
            for key in [k for k, v in table.items() if v["id_customer"] == cid]:
                del table[key]
        return []

    def _get_terminal_list(self, args: dict[str, Any]) -> list[Any]:
        cid = _int(args, "id_customer") or 0
        self.state.customer(cid)
        rows = [
            self.state.terminal_row(t)
            for t in sorted(self.state.terminals.values(), key=lambda t: t["id"])
            if t["id_customer"] == cid
        ]
        offset = _int(args, "offset", required=False) or 0
        limit = _int(args, "limit", required=False) or 0
        return rows[offset : offset + limit] if limit else rows[offset:]

    def _add_terminal(self, args: dict[str, Any]) -> list[Any]:
        return [soap.Struct(id_terminal=self.state._add_terminal(args))]

    def _save_terminal(self, args: dict[str, Any]) -> list[Any]:
        row = self.state.terminal(_int(args, "id_terminal") or 0)
        old = row["username"]
        new = str(args.get("username") or old)
        if new != old and any(t["username"] == new for t in self.state.terminals.values()):
            raise _Refused(f"Terminal {new} already exists")
        if "id_pricelist" in args:
            row["pricelist_name"] = self.state._pricelist_name(args["id_pricelist"])
        if "id_subscription" in args:
            sub = self.state._subscription(args["id_subscription"])
            row["subscriptions"] = sub["name"] if sub else None
        for key in TERMINAL_FIELDS:
            if key in args and key not in ("id", "id_customer", "customer_name", "pricelist_name", "extensions"):
                row[key] = _text(key, args[key])
        for ext in self.state.extensions.values():
            if ext["terminal_name"] == old:
                ext["terminal_name"] = row["username"]
        return []

    def _del_terminal(self, args: dict[str, Any]) -> list[Any]:
        row = self.state.terminal(_int(args, "id_terminal") or 0)
        del self.state.terminals[row["id"]]
        for key in [k for k, e in self.state.extensions.items() if e["terminal_name"] == row["username"]]:
            del self.state.extensions[key]
        return []

    def _get_extension_list(self, args: dict[str, Any]) -> list[Any]:
        cid = _int(args, "id_customer") or 0
        self.state.customer(cid)
        rows = [
            self.state.extension_row(e)
            for e in sorted(self.state.extensions.values(), key=lambda e: e["id"])
            if e["id_customer"] == cid
        ]
        offset = _int(args, "offset", required=False) or 0
        limit = _int(args, "limit", required=False) or 0
        return rows[offset : offset + limit] if limit else rows[offset:]

    def _extension(self, args: dict[str, Any]) -> dict[str, Any]:
        eid = _int(args, "id_extension") or 0
        if eid not in self.state.extensions:
            raise _Refused(f"Extension {eid} not found")
        return self.state.extensions[eid]

    def _get_extension_data(self, args: dict[str, Any]) -> list[Any]:
        return [self.state.extension_row(self._extension(args))]

    def _add_extension(self, args: dict[str, Any]) -> list[Any]:
        return [{"id_extension": str(self.state._add_extension(args))}]

    def _save_extension(self, args: dict[str, Any]) -> list[Any]:
        row = self._extension(args)
        number = str(args.get("number") or row["number"])
        if number != row["number"] and (not self.state._in_ranges(number) or number in self.state.used_numbers()):
            raise _Refused(f"Number {number} is not available")
        if args.get("terminal_name") and not any(
            t["username"] == args["terminal_name"] for t in self.state.terminals.values()
        ):
            raise _Refused(f"Terminal {args['terminal_name']} not found")
        for key in EXTENSION_FIELDS:
            if key in args and key not in ("id", "id_customer", "create_date"):
                row[key] = _text(key, args[key])
        row["number"] = number
        row["extension"] = str(row["country_code"] or "48") + number
        return []

    def _del_extension(self, args: dict[str, Any]) -> list[Any]:
        del self.state.extensions[self._extension(args)["id"]]
        return []

    def _first_free(self, args: dict[str, Any]) -> list[Any]:
        found = self.state.first_free_number(args.get("sn"))
        return [{"free_number": found[0], "country_code": found[1]}] if found else []

    def _usage(self, args: dict[str, Any]) -> list[Any]:
        rid = str(_int(args, "id_platform_numbering"))
        rng = next((r for r in self.state.ranges if r["id"] == rid), None)
        if rng is None:
            raise _Refused(f"Numbering range {rid} not found")
        used = self.state.used_numbers()
        rows = []
        for n in range(int(rng["range_start"]), int(rng["range_end"]) + 1):
            ext = used.get(str(n))
            cust = self.state.customers.get(ext["id_customer"]) if ext else None
            rows.append(
                {
                    "extension": rng["country_code"] + str(n),
                    "number": str(n),
                    "id_customer": str(ext["id_customer"]) if ext else None,
                    "customer_name": cust["name"] if cust else None,
                    "country_code": rng["country_code"],
                }
            )
        return rows

    def _end_users(self, args: dict[str, Any]) -> list[Any]:
        cid = _int(args, "id_customer") or 0
        self.state.customer(cid)
        return [
            {k: _text(k, v) for k, v in u.items() if k != "id_customer"}
            for u in sorted(self.state.end_users.values(), key=lambda u: u["id"])
            if u["id_customer"] == cid
        ]


def _broken(body: bytes) -> Iterator[bytes]:
    yield body
    raise ConnectionAbortedError("injected connection reset")


def _late(body: bytes, delay: float) -> Iterator[bytes]:
    """The answer after *delay* seconds (sent outside the simulator's lock, so others are served)."""
    time.sleep(delay)
    yield body


def make_app(
    seed: int = 1, scale: Scale | None = None, faults: Faults | None = None, **options: Any
) -> HiperusSimulator:
    """A fresh simulated platform; *options* go to :class:`HiperusSimulator` (credentials, rate_limit, uri)."""
    return HiperusSimulator(seed, scale, faults, **options)


def main(argv: list[str] | None = None) -> None:
    """``python -m plugins.hiperus_c5.simulator --port 8080 --seed 1``: serve on loopback until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--customers", type=int, default=Scale.customers)
    parser.add_argument("--cdrs-per-day", type=int, default=Scale.cdrs_per_day)
    parser.add_argument("--username", default="reseller")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--domain", default="demo.hiperus.pl")
    parser.add_argument("--no-rate-limit", action="store_true")
    opts = parser.parse_args(argv)
    app = make_app(
        opts.seed,
        Scale(customers=opts.customers, cdrs_per_day=opts.cdrs_per_day),
        username=opts.username,
        password=opts.password,
        domain=opts.domain,
        rate_limit=None if opts.no_rate_limit else (7, 5.0),
    )
    banner = f"Hiperus C5 simulator on {{url}}/hiperusapi.php (seed {opts.seed}); Ctrl-C stops it"
    serve_until_interrupted(app, opts.port, banner)


if __name__ == "__main__":
    main()
