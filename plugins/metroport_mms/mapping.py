"""Pure functions between MMS records and LMS rows (spec §4–§7): no I/O.

What decides *what* is paired, stored or sent lives here, tested with plain values. The PHP defects of
spec §6 and §10 are fixed here:

* pairing matches locally against ONE list of MMS users, by identifiers normalised on both sides with
  the host's normalisers (PESEL for private customers, NIP for companies), instead of one search per
  customer; an empty or invalid identifier is never looked up (PHP's empty ``?nip=`` matched the first
  user); several MMS users with the identifier, an MMS user already paired with another customer, and
  two LMS customers claiming one MMS user are reported, not paired; deleted customers are skipped;
* package and STB rows are typed: an empty date is NULL (PHP broke the DATE insert), a MAC that does
  not parse or a price that is not a sum rejects that row with a message, never the whole sync;
* the customer sent to MMS gets the NIP (PHP's manual update sent it empty), a real street name and the
  address LMS marks as billing/postal (:mod:`lmsplugins.lms.customer_export`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from lmsplugins.lms.customer_export import CustomerExport
from lmsplugins.lms.customers import TYPE_COMPANY, TYPE_PRIVATE, normalize_ssn, normalize_ten

from .client import MMSUser
from .tables import _TV_DATE, _TV_MONEY, _TV_STR, _TV_TEXT, STB_COLUMNS, TV_PACKAGE_COLUMNS

_MAC_HEX = re.compile(r"^[0-9A-F]{12}$")
_MAC_CANONICAL = re.compile(r"^[0-9A-F]{2}(?::[0-9A-F]{2}){5}$")
_PRICE = re.compile(r"^-?\d+(?:[.,]\d{1,2})?$")


class RowError(ValueError):
    """One provider row cannot be stored as it is; the message names the field."""


# --------------------------------------------------------------------------------------------------
# Pairing (§6)


def format_nip(digits: str) -> str:
    """``XXX-XXX-XX-XX``, the form the PHP plugin searched MMS with."""
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:8]}-{digits[8:]}"


@dataclass(frozen=True)
class LmsCustomer:
    id: int
    type: int
    lastname: str
    name: str
    ssn: str
    ten: str
    deleted: bool = False


def customer_key(c: LmsCustomer) -> tuple[str, str] | None:
    """('pesel', 11 digits) for a private customer, ('nip', 10 digits) for a company, else None."""
    if c.type == TYPE_PRIVATE:
        value = normalize_ssn(c.ssn)
        return ("pesel", value) if value else None
    if c.type == TYPE_COMPANY:
        value = normalize_ten(c.ten)
        return ("nip", value) if value else None
    return None


@dataclass
class PairingOutcome:
    customer: LmsCustomer
    result: str
    """paired, not_found, no_identifier, invalid_identifier, ambiguous, taken, contested, skipped_type,
    skipped_deleted"""
    user: MMSUser | None = None
    detail: str = ""


@dataclass
class PairingPlan:
    outcomes: list[PairingOutcome] = field(default_factory=list)

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """(MMS user id, LMS customer id) to insert."""
        return [(o.user.id, o.customer.id) for o in self.outcomes if o.result == "paired" and o.user]

    def count(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for o in self.outcomes:
            counts[o.result] += 1
        return dict(counts)


class UserIndex:
    """MMS users by normalised PESEL and NIP (a list per value: duplicates are the provider's data)."""

    def __init__(self, users: Iterable[MMSUser]):
        self.by: dict[str, dict[str, list[MMSUser]]] = {"pesel": defaultdict(list), "nip": defaultdict(list)}
        for u in users:
            pesel, nip = normalize_ssn(u.pesel), normalize_ten(u.nip)
            if pesel:
                self.by["pesel"][pesel].append(u)
            if nip:
                self.by["nip"][nip].append(u)

    def find(self, kind: str, value: str) -> list[MMSUser]:
        return self.by[kind].get(value, [])


def plan_pairing(
    customers: Iterable[LmsCustomer], index: UserIndex, paired_users: Mapping[int, Iterable[int]]
) -> PairingPlan:
    """Decide the pairs for *customers* (those without a pair yet). *paired_users* is MMS user id ->
    the LMS customers it is already paired with."""
    plan = PairingPlan()
    claims: dict[int, list[PairingOutcome]] = defaultdict(list)
    for c in customers:
        if c.deleted:
            plan.outcomes.append(PairingOutcome(c, "skipped_deleted"))
            continue
        if c.type not in (TYPE_PRIVATE, TYPE_COMPANY):
            plan.outcomes.append(PairingOutcome(c, "skipped_type"))
            continue
        raw = c.ssn if c.type == TYPE_PRIVATE else c.ten
        key = customer_key(c)
        if key is None:
            result = "invalid_identifier" if raw.strip() else "no_identifier"
            plan.outcomes.append(PairingOutcome(c, result, detail=raw.strip()))
            continue
        hits = index.find(*key)
        if not hits:
            plan.outcomes.append(PairingOutcome(c, "not_found", detail=key[1]))
            continue
        if len(hits) > 1:
            ids = ", ".join(str(u.id) for u in hits)
            plan.outcomes.append(PairingOutcome(c, "ambiguous", detail=f"MMS users {ids}"))
            continue
        user = hits[0]
        others = [cid for cid in paired_users.get(user.id, ()) if cid != c.id]
        if others:
            owners = ", ".join(str(cid) for cid in others)
            plan.outcomes.append(PairingOutcome(c, "taken", user, f"already paired with LMS customer {owners}"))
            continue
        outcome = PairingOutcome(c, "paired", user)
        claims[user.id].append(outcome)
        plan.outcomes.append(outcome)
    for outcomes in claims.values():
        if len(outcomes) > 1:
            ids = ", ".join(str(o.customer.id) for o in outcomes)
            for o in outcomes:
                o.result, o.detail = "contested", f"LMS customers {ids} share this identifier"
    return plan


def describe_outcome(o: PairingOutcome) -> str:
    """The PHP script's line for one customer, with the new outcomes worded the same way."""
    c = o.customer
    company = c.type == TYPE_COMPANY
    label = "NIP" if company else "PESEL"
    value = c.ten if company else c.ssn
    head = (
        f"CustomerID: {c.id}, Typ: {'Firma' if company else 'Indywidualny'}, Imię Nazwisko: {c.name} {c.lastname}, "
        f"{label}: {value} --"
    )
    tails = {
        "paired": lambda: (
            f"Powiązano z Metroport ID: {o.user.id}, {label}: {o.user.nip if company else o.user.pesel}"
            if o.user
            else ""
        ),
        "not_found": lambda: "Nie odnaleziono w bazie MMS",
        "no_identifier": lambda: f"Brak podanego {label} - pomijam.",
        "invalid_identifier": lambda: f"Nieprawidłowy {label} ({o.detail}) - pomijam.",
        "ambiguous": lambda: f"Kilku użytkowników MMS z tym {label} ({o.detail}) - nie powiązano.",
        "taken": lambda: f"Użytkownik MMS {o.user.id if o.user else ''} {o.detail} - nie powiązano.",
        "contested": lambda: f"{o.detail} - nie powiązano.",
        "skipped_type": lambda: "Typ klienta bez PESEL/NIP - pomijam.",
        "skipped_deleted": lambda: "Klient usunięty - pomijam.",
    }
    return f"{head} {tails[o.result]()}"


# --------------------------------------------------------------------------------------------------
# Rows of the cache tables (§4, §5)


def _int(row: Mapping[str, Any], key: str) -> int:
    value = row.get(key)
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        try:
            number = float(str(value).strip())
        except ValueError:
            raise RowError(f"{key} is not a number: {str(value)[:30]!r}") from None
        if not number.is_integer():
            raise RowError(f"{key} is not a whole number: {value!r}") from None
        return int(number)


def _str(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise RowError(f"{key} is {type(value).__name__}, not text")
    return str(value)


def parse_price(value: Any, key: str = "price") -> Decimal:
    """A sum with at most two decimals (comma or dot); anything else is a RowError naming *key*."""
    if value is None or value == "":
        return Decimal("0.00")
    text = str(value).strip()
    if isinstance(value, bool) or not _PRICE.match(text):
        raise RowError(f"{key} is not a sum: {text[:30]!r}")
    try:
        return Decimal(text.replace(",", ".")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise RowError(f"{key} is not a sum: {text[:30]!r}") from None


def _date(row: Mapping[str, Any], key: str) -> date | None:
    value = row.get(key)
    if value is None or str(value).strip() in ("", "0000-00-00"):
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise RowError(f"{key} is not a date: {str(value)[:30]!r}") from None


def _id(row: Mapping[str, Any]) -> int:
    value = _int(row, "id")
    if value <= 0:
        raise RowError("no id")
    return value


def fsecure_package_row(row: Mapping[str, Any]) -> dict[str, Any]:
    name = _str(row, "name")
    if not name:
        raise RowError("no name")
    return {
        "id": _id(row),
        "ext_id": _str(row, "ext_id"),
        "name": name,
        "description": _str(row, "description"),
        "license_size": _int(row, "license_size"),
    }


def tv_package_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The provider's package (any key case: ``firmName``, ``countActive``) as a table row."""
    lower = {str(k).lower(): v for k, v in row.items()}
    out: dict[str, Any] = {"id": _id(lower)}
    for col in TV_PACKAGE_COLUMNS:
        if col in _TV_DATE:
            out[col] = _date(lower, col)
        elif col in _TV_MONEY:
            out[col] = parse_price(lower.get(col), col)
        elif col in _TV_STR or col in _TV_TEXT:
            out[col] = _str(lower, col)
        else:
            out[col] = _int(lower, col)
    return out


def normalize_mac(value: Any) -> str:
    """``AA:BB:CC:DD:EE:FF`` from any common spelling (dashes, dots, no separators, lower case)."""
    if type(value) is str and _MAC_CANONICAL.match(value):
        return value
    text = re.sub(r"[\s:.\-]", "", str(value or "")).upper()
    if not _MAC_HEX.match(text):
        raise RowError(f"mac {str(value)[:30]!r} is not a MAC address")
    return ":".join(text[i : i + 2] for i in range(0, 12, 2))


def normalize_serial(value: Any) -> str:
    text = str(value or "").strip()
    if not text or len(text) > 255 or any(ord(ch) < 32 for ch in text):
        raise RowError(f"serial number {str(value)[:30]!r} is empty or not printable")
    return text


_STB_INT = {c for c in STB_COLUMNS} - {
    "iptv_program", "mac", "ipaddr", "serialnumber", "vcasid", "customer_sn", "hdcp_ksv", "servicetype",
    "description", "boot_options", "addressip", "modelname", "order_id", "firmname", "username", "usertype",
    "statusname", "channels", "iptv_portal",
}  # fmt: skip


_STB_PLAN = tuple(
    (col, "mac" if col == "mac" else "serial" if col == "serialnumber" else "int" if col in _STB_INT else "str")
    for col in STB_COLUMNS
)


def stb_row(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """One STB as a tuple: id, then :data:`STB_COLUMNS`. An empty serial number is NULL (the column is
    UNIQUE); a MAC that does not parse rejects the row. The common value types take a fast path: the
    STB sync maps tens of thousands of rows of 43 fields."""
    lower = {str(k).lower(): v for k, v in row.items()}
    values: list[Any] = [_id(lower)]
    append = values.append
    for col, kind in _STB_PLAN:
        value = lower.get(col)
        if kind == "int":
            append(value if type(value) is int else _int(lower, col))
        elif kind == "str":
            append(value if value is None or type(value) is str else _str(lower, col))
        elif kind == "mac":
            append(normalize_mac(value))
        else:
            append(str(value or "").strip() or None)
    return tuple(values)


# --------------------------------------------------------------------------------------------------
# Customer data sent to MMS (§6 manual add, §7)


def user_payload(c: CustomerExport, *, with_firstname: bool = False) -> dict[str, str]:
    """The fields of ``POST``/``PUT /Users/users`` for an LMS customer."""
    company = c.type == TYPE_COMPANY
    nip = normalize_ten(c.ten)
    payload = {
        "customertype": "1" if company else "2",
        "name": c.name,
        "lastname": c.lastname,
        "pesel": normalize_ssn(c.ssn) if not company else "",
        "nip": format_nip(nip) if nip else "",
        "city1": c.address.city,
        "zip1": c.address.zip,
        "streetname1": c.address.street,
        "streetno1": c.address.house,
        "local1": c.address.flat,
        "email": c.email,
    }
    if with_firstname:
        payload["firstname"] = c.name
    return payload


def missing_for_activation(c: CustomerExport) -> list[str]:
    """What MMS needs to activate a service that LMS lacks (README: name or company, address, NIP/PESEL,
    e-mail)."""
    missing = []
    if not c.lastname:
        missing.append("nazwa/nazwisko")
    key = customer_key(LmsCustomer(c.id, c.type, c.lastname, c.name, c.ssn, c.ten))
    if key is None:
        missing.append("NIP" if c.type == TYPE_COMPANY else "PESEL")
    if not (c.address.city and c.address.house):
        missing.append("adres")
    if not c.email:
        missing.append("e-mail")
    return missing


# --------------------------------------------------------------------------------------------------
# MetroTV account card (§9): what may be issued, what may be removed


@dataclass(frozen=True)
class CardOrder:
    """One live package (order) of an account card with its STBs."""

    id: int
    kind: str
    """main, extra or multiroom"""
    row: Mapping[str, Any]
    stbs: tuple[Mapping[str, Any], ...]


def card_orders(card: Mapping[str, Any]) -> list[CardOrder]:
    """The live packages of ``GET /Iptv/Accounts/{id}``: MainPackage, ExtraPackages (a map), MultiroomPackages."""
    packages = card.get("Packages") or {}
    found: list[tuple[str, Any]] = []
    if packages.get("MainPackage"):
        found.append(("main", packages["MainPackage"]))
    extras = packages.get("ExtraPackages") or {}
    found += [("extra", e) for e in (extras.values() if isinstance(extras, dict) else extras)]
    found += [("multiroom", m) for m in packages.get("MultiroomPackages") or []]
    out = []
    for kind, row in found:
        if not isinstance(row, Mapping):
            continue
        stb = row.get("stb_data") or []
        stbs = (stb,) if isinstance(stb, Mapping) else tuple(s for s in stb if isinstance(s, Mapping))
        out.append(CardOrder(int(row.get("id") or 0), kind, row, stbs))
    return out


def denied_by(main: Mapping[str, Any] | None, packages: Mapping[int, Mapping[str, Any]]) -> set[int]:
    """Package ids the account's base package denies (``pkg_denied`` of the BASE package, not of each
    candidate: the PHP filter checked the wrong one)."""
    if not main:
        return set()
    base = packages.get(int(main.get("pkg_id") or 0)) or main
    return {int(x) for x in str(base.get("pkg_denied") or "").replace(";", ",").split(",") if x.strip().isdigit()}


def offerable_packages(
    packages: Iterable[Mapping[str, Any]], card: Mapping[str, Any], today: date
) -> list[Mapping[str, Any]]:
    """What the "issue package" form may offer: base packages (group 1) while there is no base, else
    extras (groups 2, 3, 4) not denied by the base; only ``active`` ones, valid today (an empty or past
    ``pkg_valid_to`` is not offered, a future ``pkg_valid_from`` neither)."""
    by_id = {int(p.get("id") or 0): p for p in packages}
    orders = card_orders(card)
    main = next((o.row for o in orders if o.kind == "main"), None)
    denied = denied_by(main, by_id)
    wanted_groups = {2, 3, 4} if main else {1}
    out = []
    for pid, p in sorted(by_id.items()):
        if int(p.get("pkg_group") or 0) not in wanted_groups or str(p.get("active")) != "1" or pid in denied:
            continue
        try:
            valid_to = _date(p, "pkg_valid_to")
            valid_from = _date(p, "pkg_valid_from")
        except RowError:
            continue
        if valid_to is None or valid_to < today or (valid_from is not None and valid_from > today):
            continue
        out.append(p)
    return out


def order_removal_refusal(card: Mapping[str, Any], order_id: int) -> str | None:
    """Why the order may not be removed yet (the chain STB -> extras -> base -> account), or None."""
    orders = card_orders(card)
    order = next((o for o in orders if o.id == order_id), None)
    if order is None:
        return "no such package on this account"
    if order.stbs:
        return "remove the package's STB first"
    if order.kind == "main" and any(o.kind != "main" for o in orders):
        return "remove the extra and multiroom packages before the base package"
    return None


def account_removal_refusal(card: Mapping[str, Any]) -> str | None:
    return "remove the account's packages first" if card_orders(card) else None
