"""LMS rows -> UserSide universal-API shapes (spec §1.3, §5, §7). Pure functions, no I/O.

Types follow §7.8, the forms every known reader accepts: ids, logins, account numbers as strings;
money as 2-decimal strings; ``ip`` in ``ip_mac`` as the inet_aton integer LMS already stores, keyed
by the same number; floor and entrance integers. Collections follow §7.1: objects keyed by id for
the top-level lists, ``group`` and ``ip_mac``; arrays for tariffs, agreements, phones, e-mails,
addresses and additional data. Empty text fields are left out (§1.1).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lmsplugins.errors import ConfigError
from lmsplugins.lms import addresses as lms_addresses

API_VERSION = {"version": "1.5", "date": "06.10.2017"}

STATUS_INTERESTED, STATUS_WAITING, STATUS_CONNECTED, STATUS_DISCONNECTED, STATUS_DEBT = 1, 2, 3, 4, 5
TYPE_COMPANY = 1
CONTACT_MOBILE, CONTACT_LANDLINE, CONTACT_EMAIL, CONTACT_BANKACCOUNT, CONTACT_DISABLED = 1, 4, 8, 64, 16384
SERVICE_INTERNET = 1

STATE_WORK, STATE_NOMONEY, STATE_PAUSE, STATE_DISABLE, STATE_NEW = 1, 2, 3, 4, 5
STATES: dict[int, tuple[str, str]] = {
    STATE_WORK: ("Connected", "work"),
    STATE_NOMONEY: ("In debt", "nomoney"),
    STATE_PAUSE: ("Suspended", "pause"),
    STATE_DISABLE: ("Disconnected", "disable"),
    STATE_NEW: ("New", "new"),
}

PERIOD_DAYS = {1: 1, 2: 7, 3: 30, 4: 90, 5: 365, 7: 180}
"""LMS tariff periods (DAILY 1, WEEKLY 2, MONTHLY 3, QUARTERLY 4, YEARLY 5, HALFYEARLY 7) in days."""

ADDITIONAL_FIELDS: dict[str, tuple[int, str]] = {
    "ten": (1, "NIP"),
    "ssn": (2, "PESEL"),
    "regon": (3, "REGON"),
    "rbe": (4, "KRS/CEIDG"),
    "icn": (5, "ID card"),
    "info": (6, "Info"),
    "altname": (7, "Alternative name"),
}
"""Customer fields that may be sent as additional data, each with a fixed id (stable across settings)."""

ADDRESS_TYPES = {
    "default_location": (lms_addresses.DEFAULT_LOCATION, lms_addresses.LOCATION, lms_addresses.BILLING),
    "all_locations": (lms_addresses.DEFAULT_LOCATION, lms_addresses.LOCATION, lms_addresses.BILLING),
    "billing": (lms_addresses.BILLING,),
}


@dataclass(frozen=True)
class Options:
    """The mapping choices (settings ``userside.*``) and the moment of the export."""

    now: int
    zone: ZoneInfo
    login_source: str = "id"
    account_number_source: str = "id"
    address_type: str = "default_location"
    tariff_types: frozenset[int] = frozenset({SERVICE_INTERNET})
    additional_data: tuple[str, ...] = ("ten",)
    export_password: bool = False
    debt_is_nomoney: bool = True
    agreement_fallback: bool = True

    @classmethod
    def from_settings(cls, settings: Any, now: int) -> Options:
        fields = tuple(f for f in settings["userside.additional_data"] if f in ADDITIONAL_FIELDS)
        try:
            zone = ZoneInfo(settings["userside.timezone"])
        except (ValueError, ZoneInfoNotFoundError):
            raise ConfigError(
                f"setting userside.timezone = {settings['userside.timezone']!r} is not a time zone"
            ) from None
        return cls(
            now=now,
            zone=zone,
            login_source=settings["userside.login_source"],
            account_number_source=settings["userside.account_number_source"],
            address_type=settings["userside.address_type"],
            tariff_types=frozenset(int(t) for t in settings["userside.tariff_types"] if str(t).isdigit()),
            additional_data=fields,
            export_password=bool(settings["userside.export_password"]),
            debt_is_nomoney=bool(settings["userside.debt_is_nomoney"]),
            agreement_fallback=bool(settings["userside.agreement_fallback"]),
        )


def money(value: Any) -> str:
    return f"{Decimal(value or 0):.2f}"


@lru_cache(maxsize=65536)
def _offset(hour: int, zone: ZoneInfo) -> int:
    """The zone's UTC offset in seconds during the hour *hour* (epoch // 3600); offsets change on hours."""
    offset = datetime.fromtimestamp(hour * 3600, zone).utcoffset()
    return int(offset.total_seconds()) if offset else 0


@lru_cache(maxsize=4096)
def _day(local_day: int) -> str:
    t = time.gmtime(local_day * 86400)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d} "


@lru_cache(maxsize=8192)
def date_time(epoch: int, zone: ZoneInfo) -> str:
    """``YYYY-MM-DD hh:mm:ss`` in *zone*; a hundred thousand of them per export (most of them distinct:
    last activity), hence no strftime and the date part cached per day."""
    epoch = int(epoch)
    day, second = divmod(epoch + _offset(epoch // 3600, zone), 86400)
    hour, rest = divmod(second, 3600)
    return f"{_day(day)}{hour:02d}:{rest // 60:02d}:{rest % 60:02d}"


def date_only(epoch: int, zone: ZoneInfo) -> str:
    return date_time(epoch, zone)[:10]


def month_start(now: int, zone: ZoneInfo) -> int:
    local = datetime.fromtimestamp(now, zone)
    return int(local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp())


_MAC_SEPARATORS = str.maketrans("", "", ":-. ")
_HEX12 = re.compile(r"[0-9a-f]{12}")


def mac12(mac: str | None) -> str:
    """``00:1A:2b-...`` -> ``001a2b...``; '' unless twelve hex digits remain."""
    text = (mac or "").translate(_MAC_SEPARATORS).lower()
    return text if _HEX12.fullmatch(text) else ""


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in ("", None)}


# -- dictionaries -------------------------------------------------------------------------------


def tariff_element(row: Any) -> dict[str, Any]:
    """A ``tariffs`` row (id, name, value, period, uprate, downrate, type) -> get_tariff_list element."""
    return {
        "id": str(row.id),
        "name": row.name,
        "payment": money(row.value),
        "payment_interval": PERIOD_DAYS.get(row.period or 3, 30),
        "speed": {"up": int(row.uprate or 0), "down": int(row.downrate or 0)},
        "traffic": -1,
        "service_type": 0 if row.type == SERVICE_INTERNET else 1,
    }


def service_element(row: Any) -> dict[str, Any]:
    return {"id": str(row.id), "name": row.name, "cost": money(row.value)}


def state_list() -> dict[str, dict[str, str]]:
    return {str(i): {"id": str(i), "name": name, "functional": f} for i, (name, f) in STATES.items()}


def additional_type_list(fields: Iterable[str]) -> dict[str, dict[str, str]]:
    result = {}
    for name in fields:
        fid, label = ADDITIONAL_FIELDS[name]
        result[str(fid)] = {"id": str(fid), "name": label}
    return result


def street_label(row: Any) -> tuple[str, str, str]:
    """(name, type name, full name) of an address's street: TERYT names where LMS has them."""
    if row.street_name:
        name = f"{row.street_name2} {row.street_name}" if row.street_name2 else row.street_name
        kind = row.street_type or ""
        return name, kind, f"{kind} {name}".strip()
    text = (row.street or "").strip()
    return text, "", text


def city_label(row: Any) -> str:
    return row.city_name or (row.city or "").strip()


def house_street_id(ids: lms_addresses.AddressIds) -> int | None:
    """The street a house hangs on; a house in a village without streets hangs on a street named
    after the village (every reader wants a ``street_id`` on every house)."""
    if ids.street_id is not None or ids.city_id is None:
        return ids.street_id
    return lms_addresses.synthetic_id("street", ids.city_id, "")


def dictionary_entries(row: Any) -> tuple[Any, ...]:
    """(city, street, house) elements, each ``(id, element)`` or None, for one used address row."""
    ids = lms_addresses.address_ids(row)
    if ids.city_id is None:
        return None, None, None
    city = (ids.city_id, _compact({"id": str(ids.city_id), "name": city_label(row)}))
    sid = house_street_id(ids)
    street = None
    if sid is not None:
        if ids.street_id is None:
            name, kind, full = city_label(row), "", city_label(row)
        else:
            name, kind, full = street_label(row)
        street = (
            sid,
            _compact({"id": str(sid), "city_id": str(ids.city_id), "name": name, "type_name": kind, "full_name": full}),
        )
    house = None
    if ids.house_id is not None and sid is not None:
        number = (row.house or "").strip()
        coordinates = ""
        if row.latitude is not None and row.longitude is not None:
            coordinates = f"{Decimal(row.latitude):f}, {Decimal(row.longitude):f}"
        full = f"{street[1]['full_name']} {number}".strip() if street else number
        house = (
            ids.house_id,
            _compact(
                {
                    "id": str(ids.house_id),
                    "street_id": str(sid),
                    "number": number,
                    "full_name": full,
                    "postcode": row.building_zip or row.zip or "",
                    "floor": 0,
                    "entrance": 0,
                    "coordinates": coordinates,
                }
            ),
        )
    return city, street, house


# -- one user -----------------------------------------------------------------------------------


def state_id(status: int, nodes: Sequence[Any], suspended: bool, balance: Decimal, debt_is_nomoney: bool) -> int:
    """LMS status refined by the nodes and assignments (spec §5): disconnected nodes -> disable,
    a suspension -> pause, a warning or a debt -> nomoney."""
    if status in (STATUS_INTERESTED, STATUS_WAITING):
        return STATE_NEW
    if status == STATUS_DISCONNECTED:
        return STATE_DISABLE
    if status == STATUS_DEBT:
        return STATE_NOMONEY
    if nodes and all(not n.access for n in nodes):
        return STATE_DISABLE
    if suspended:
        return STATE_PAUSE
    if any(n.warning for n in nodes) or (debt_is_nomoney and balance < 0):
        return STATE_NOMONEY
    return STATE_WORK


def _is_current(row: Any, now: int) -> bool:
    return row.datefrom <= now and (not row.dateto or row.dateto > now)


def is_suspended(assignments: Sequence[Any], tariff_types: frozenset[int], now: int) -> bool:
    """A current suspend-all row (no tariff, no liability), or every current tariff suspended."""
    current = [a for a in assignments if _is_current(a, now)]
    if any(a.tariffid is None and a.liabilityid is None for a in current):
        return True
    tariffs = [a for a in current if a.tariffid is not None and a.tariff_type in tariff_types]
    return bool(tariffs) and all(a.suspended for a in tariffs)


def tariff_plans(assignments: Sequence[Any], options: Options) -> dict[str, list[dict[str, str]]]:
    now, zone = options.now, options.zone
    current, upcoming = [], []
    for a in assignments:
        if a.tariffid is None or a.tariff_type not in options.tariff_types:
            continue
        if a.dateto and a.dateto <= now:
            continue
        if a.datefrom > now:
            upcoming.append({"id": str(a.tariffid), "date_start": date_only(a.datefrom, zone)})
        else:
            item = {"id": str(a.tariffid)}
            if a.dateto:
                item["date_finish"] = date_only(a.dateto, zone)
            current.append(item)
    return {"current": current, "new": upcoming}


def services(assignments: Sequence[Any], options: Options) -> dict[str, list[dict[str, str]]]:
    result: dict[str, list[dict[str, str]]] = {}
    for a in assignments:
        if a.tariffid is None or a.tariff_type in options.tariff_types or not _is_current(a, options.now):
            continue
        entry = _compact(
            {
                "cost": money(a.tariff_value),
                "date_add": date_time(a.datefrom, options.zone) if a.datefrom else "",
                "comment": a.tariff_name or "",
            }
        )
        result.setdefault(str(a.tariffid), []).append(entry)
    return result


def _discount(assignments: Sequence[Any], options: Options) -> str:
    for a in assignments:
        if a.tariffid is not None and a.tariff_type in options.tariff_types and _is_current(a, options.now):
            return money(a.pdiscount)
    return "0.00"


def contacts(rows: Sequence[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(phones, e-mails) without disabled contacts; the first of each kind is the main one."""
    phones: list[dict[str, Any]] = []
    emails: list[dict[str, Any]] = []
    for row in rows:
        kind = row.type or 0
        if kind & CONTACT_DISABLED or not (row.contact or "").strip():
            continue
        if kind & (CONTACT_MOBILE | CONTACT_LANDLINE):
            phones.append(
                _compact({"number": row.contact.strip(), "flag_main": 0 if phones else 1, "comment": row.name or ""})
            )
        elif kind & CONTACT_EMAIL:
            emails.append(
                _compact({"address": row.contact.strip(), "flag_main": 0 if emails else 1, "comment": row.name or ""})
            )
    return phones, emails


def ip_mac(nodes: Sequence[Any]) -> dict[str, dict[str, Any]]:
    """Nodes (one row per node and MAC, first MAC first) -> ``{inet_aton: {ip, mac}}``."""
    result: dict[str, dict[str, Any]] = {}
    for node in nodes:
        if not node.ipaddr:
            continue
        key = str(int(node.ipaddr))
        if key in result:
            continue
        entry: dict[str, Any] = {"ip": int(node.ipaddr)}
        mac = mac12(node.mac)
        if mac:
            entry["mac"] = mac
        result[key] = entry
    return result


def _distinct_nodes(nodes: Sequence[Any]) -> list[Any]:
    seen: set[int] = set()
    result = []
    for node in nodes:
        if node.id not in seen:
            seen.add(node.id)
            result.append(node)
    return result


def chosen_addresses(rows: Sequence[Any], address_type: str) -> list[Any]:
    """The customer's address rows that are sent, per ``userside.address_type``."""
    distinct: dict[int, Any] = {}
    for row in rows:
        distinct.setdefault(row.address_id, row)
    by_type: dict[int, list[Any]] = {}
    for row in distinct.values():
        by_type.setdefault(row.type, []).append(row)
    if address_type == "billing":
        return by_type.get(lms_addresses.BILLING, [])[:1]
    locations = by_type.get(lms_addresses.DEFAULT_LOCATION, []) + by_type.get(lms_addresses.LOCATION, [])
    if address_type == "all_locations":
        return locations or by_type.get(lms_addresses.BILLING, [])[:1]
    return (locations or by_type.get(lms_addresses.BILLING, []))[:1]


def address_list(rows: Sequence[Any], address_type: str) -> list[dict[str, Any]]:
    result = []
    for row in chosen_addresses(rows, address_type):
        ids = lms_addresses.address_ids(row)
        if ids.house_id is None:
            continue
        item: dict[str, Any] = {"type": "connect", "house_id": str(ids.house_id)}
        flat = (row.flat or "").strip()
        if flat:
            item["apartment"] = {"full_name": flat, "number": flat}
        result.append(item)
    return result


def _login(customer: Any, nodes: Sequence[Any], source: str) -> str:
    if source != "id" and nodes:
        value = nodes[0].name if source == "node_name" else nodes[0].login
        if value:
            return str(value)
    return str(customer.id)


def _account_number(customer: Any, contact_rows: Sequence[Any], source: str) -> str:
    if source == "bankaccount":
        for row in contact_rows:
            kind = row.type or 0
            if kind & CONTACT_BANKACCOUNT and not kind & CONTACT_DISABLED and (row.contact or "").strip():
                return row.contact.strip()
    return str(customer.id)


def agreements(customer: Any, contracts: Sequence[Any], options: Options) -> list[dict[str, str]]:
    result = [
        _compact(
            {
                "number": (c.fullnumber or str(c.number)).strip(),
                "date": date_only(c.cdate, options.zone) if c.cdate else "",
            }
        )
        for c in contracts
    ]
    if not result and options.agreement_fallback:
        created = date_only(customer.creationdate, options.zone) if customer.creationdate else ""
        result.append(_compact({"number": str(customer.id), "date": created}))
    return result


def user_element(bundle: Any, options: Options) -> dict[str, Any]:
    """One customer (a :class:`lmsplugins.lms.customer_bundles.CustomerBundle`) -> get_user_list element."""
    c = bundle.customer
    nodes = _distinct_nodes(bundle.nodes)
    balance = Decimal(bundle.balance or 0)
    suspended = is_suspended(bundle.assignments, options.tariff_types, options.now)
    phones, emails = contacts(bundle.contacts)
    starts = [a.datefrom for a in bundle.assignments if a.tariffid is not None and a.datefrom]
    online = max((n.lastonline or 0 for n in nodes), default=0)
    element: dict[str, Any] = {
        "id": str(c.id),
        "billing_id": str(c.id),
        "login": _login(c, nodes, options.login_source),
        "full_name": f"{c.lastname} {c.name}".strip(),
        "flag_corporate": 1 if c.type == TYPE_COMPANY else 0,
        "tariff": tariff_plans(bundle.assignments, options),
        "service": services(bundle.assignments, options),
        "agreement": agreements(c, bundle.contracts, options),
        "account_number": _account_number(c, bundle.contacts, options.account_number_source),
        "group": {str(g): {"id": str(g)} for g in bundle.groups},
        "balance": money(balance),
        "credit": "0.00",
        "discount": _discount(bundle.assignments, options),
        "state_id": str(state_id(c.status, nodes, suspended, balance, options.debt_is_nomoney)),
        "traffic": {"month": {"up": int(bundle.traffic[0]), "down": int(bundle.traffic[1])}},
        "address": address_list(bundle.addresses, options.address_type),
        "phone": phones,
        "email": emails,
        "ip_mac": ip_mac(bundle.nodes),
        "additional_data": [
            {"id": str(ADDITIONAL_FIELDS[name][0]), "value": str(getattr(c, name)).strip()}
            for name in options.additional_data
            if str(getattr(c, name, "") or "").strip()
        ],
    }
    comment = (c.notes or "").strip()
    if comment:
        element["comment"] = comment
    if c.creationdate:
        element["date_create"] = date_time(c.creationdate, options.zone)
    if starts:
        element["date_connect"] = date_time(min(starts), options.zone)
    if online:
        element["date_activity"] = date_time(online, options.zone)
    if options.export_password and nodes and nodes[0].passwd:
        element["password"] = nodes[0].passwd
    return element


def history_entry(entry: Any, zone: ZoneInfo) -> dict[str, str]:
    """A cash row (with balance before and after) -> get_user_history element (spec §7.4)."""
    data = {
        "amount": money(entry.value),
        "from": money(entry.before),
        "to": money(entry.after),
        "operator_name": entry.operator,
    }
    return {
        "id": str(entry.id),
        "date": date_time(entry.time, zone),
        "type": "financial",
        "name": "payment" if entry.value > 0 else "charge",
        "data": json.dumps(data, ensure_ascii=False),
        "comment": entry.comment,
    }
