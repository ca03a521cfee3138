"""Pure functions between LMS's view of a customer's network and Wildcore's shapes (spec §4.1, §5, §7.10–15).

The MikBill feed element is ``{"search": {client_mac, switch, port, onu_ident}, "data": {...}}``. Rules
this module keeps, each from how Wildcore's sync reads an element:

- every value is a string and every element carries all four ``search`` keys ("" when unknown):
  Wildcore compares the global-search field strictly, so an integer uid would rewrite the interface on
  every run (§7.10, §7.12);
- Wildcore tries ``client_mac``, then ``switch`` + ``port``, then ``onu_ident`` inside one ``try`` per
  element, and an unknown switch or a port matching no interface aborts the element (§7.11). So a
  customer becomes one element per node (its MACs and, only when both are known, its switch and port)
  and one element per ONU with nothing but ``onu_ident``: a wrong switch never hides an ONU;
- elements with nothing to search for are left out (Wildcore could bind them to nothing).

The diagnostics side turns Wildcore's ``device-interface/search`` hits and ``diag`` answers into what the
customer card shows; several hits for one ONU are ordered as §6 says (online first, newest first) and
the rest flagged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmsplugins.lms.network import CustomerNetwork

FEED_BASE = "/wildcore/mikbill"
LINK_PATH = "/customer/{id}"
SEARCH_KEYS = ("client_mac", "switch", "port", "onu_ident")

_COLONS = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}")
_HEX12 = re.compile(r"^[0-9A-Fa-f]{12}$")
_MAC_SPLIT = re.compile(r"^[0-9A-Fa-f]{1,2}([:\-.]?[0-9A-Fa-f]{1,2}){5}$")
_DOTTED = re.compile(r"^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$")
_SERIAL = re.compile(r"^[A-Za-z0-9]{4}[A-Za-z0-9\-]{4,28}$")


def normalize_mac(value: str | None) -> str | None:
    """A MAC in Wildcore's spelling, ``AA:BB:CC:DD:EE:FF``; None when *value* is not a MAC.

    Accepts what LMS operators type: colons, dashes, Cisco dots or twelve bare hex digits.
    """
    text = (value or "").strip()
    if len(text) == 17 and _COLONS.fullmatch(text):
        return text.upper()
    if _DOTTED.match(text):
        digits = text.replace(".", "")
    elif _HEX12.match(text):
        digits = text
    elif _MAC_SPLIT.match(text) and re.search(r"[:\-]", text):
        parts = re.split(r"[:\-]", text)
        if len(parts) != 6:
            return None
        digits = "".join(p.zfill(2) for p in parts)
    else:
        return None
    digits = digits.upper()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def mac_spellings(mac: str) -> list[str]:
    """The usual ways LMS may hold *mac* (already normalized): colons, dashes, bare, any case."""
    bare = mac.replace(":", "")
    return sorted({mac, mac.lower(), mac.replace(":", "-"), mac.replace(":", "-").lower(), bare, bare.lower()})


def normalize_serial(value: str | None) -> str | None:
    """An ONU serial (``ZTEGC69EF036``, ``HWTC1A2B3C4D``, ``ELTX-12AB34CD``) upper-cased; None otherwise.

    A value that is a MAC is not a serial.
    """
    text = (value or "").strip()
    if not text or normalize_mac(text) is not None or not _SERIAL.match(text):
        return None
    return text.upper()


def onu_ident(value: str | None) -> str | None:
    """What Wildcore's ONU ident table holds for a device serial number: a MAC or a serial; None for
    anything else (an empty field, a free-text note)."""
    text = (value or "").strip()
    if _SERIAL.fullmatch(text) and not _HEX12.fullmatch(text):
        return text.upper()
    return normalize_mac(text)


@dataclass(frozen=True)
class FeedOptions:
    """How customers become feed data: the link path and the ``login`` source."""

    link_path: str = LINK_PATH


def address_parts(customer: CustomerNetwork) -> dict[str, str]:
    house = customer.house or ""
    where = " ".join(p for p in (customer.street, house + (f"/{customer.flat}" if customer.flat else "")) if p)
    full = ", ".join(p for p in (customer.city, where) if p)
    return {
        "full": full,
        "settlement": customer.city or "",
        "lane": customer.street or "",
        "house": house,
        "app": customer.flat or "",
    }


def customer_data(customer: CustomerNetwork, options: FeedOptions = FeedOptions()) -> dict[str, Any]:
    """The ``data`` part of every element of *customer* (strings only)."""
    uid = str(customer.id)
    login = next((n.login or n.name for n in customer.nodes if n.login or n.name), "") or uid
    return {
        "uid": uid,
        "billing_link": options.link_path.format(id=uid),
        "agreement": customer.contract or uid,
        "login": login,
        "name": " ".join(p for p in (customer.lastname, customer.name) if p),
        "address": address_parts(customer),
    }


def _search(client_mac: str = "", switch: str = "", port: str = "", onu: str = "") -> dict[str, str]:
    return {"client_mac": client_mac, "switch": switch, "port": port, "onu_ident": onu}


def _search_tuples(customer: CustomerNetwork, extra_idents: Iterable[str]) -> list[tuple[str, str, str, str]]:
    """(client_mac, switch, port, onu_ident) per element; every value validated (a normalized MAC or
    serial, a dotted IP, digits), so they need no JSON escaping."""
    out: list[tuple[str, str, str, str]] = []
    for node in customer.nodes:
        if node.switch_ip and node.port > 0:
            switch, port = node.switch_ip, str(node.port)
        else:
            switch = port = ""
        seen: list[str] = []
        for raw in node.macs:
            mac = normalize_mac(raw)
            if mac and mac not in seen:
                seen.append(mac)
        if not seen:
            if switch:
                out.append(("", switch, port, ""))
            continue
        out.append((seen[0], switch, port, ""))
        out.extend((mac, "", "", "") for mac in seen[1:])
    idents: list[str] = []
    for raw in [d.serialnumber for d in customer.devices if d.serialnumber] + list(extra_idents):
        ident = onu_ident(raw)
        if ident and ident not in idents:
            idents.append(ident)
    out.extend(("", "", "", ident) for ident in idents)
    return out


def customer_searches(customer: CustomerNetwork, extra_idents: Iterable[str] = ()) -> list[dict[str, str]]:
    """The ``search`` parts for *customer* (see the module docstring for why they are split).

    *extra_idents* are ONU serials or MACs the ISP keeps outside LMS's network devices.
    """
    return [_search(*t) for t in _search_tuples(customer, extra_idents)]


def feed_elements(
    customer: CustomerNetwork, extra_idents: Iterable[str] = (), options: FeedOptions = FeedOptions()
) -> list[dict[str, Any]]:
    """All feed elements of one customer, sharing one ``data`` object."""
    searches = customer_searches(customer, extra_idents)
    if not searches:
        return []
    data = customer_data(customer, options)
    return [{"search": s, "data": data} for s in searches]


def feed(
    customers: Iterable[CustomerNetwork],
    extra_idents: Mapping[int, Sequence[str]] | None = None,
    options: FeedOptions = FeedOptions(),
) -> Iterator[dict[str, Any]]:
    """The elements of ``get_user_list`` for *customers*, in order."""
    extra = extra_idents or {}
    for customer in customers:
        yield from feed_elements(customer, extra.get(customer.id, ()), options)


def encoded_elements(
    customer: CustomerNetwork, extra_idents: Iterable[str] = (), options: FeedOptions = FeedOptions()
) -> str:
    """:func:`feed_elements` as JSON text, comma-separated ("" for none): the customer's ``data`` is
    encoded once for all its elements, the validated ``search`` values need no encoder (the feed of a
    large base spends its time here)."""
    searches = _search_tuples(customer, extra_idents)
    if not searches:
        return ""
    data = _encoded_data(customer, options)
    return ",".join(
        f'{{"search":{{"client_mac":"{m}","switch":"{sw}","port":"{p}","onu_ident":"{o}"}},"data":{data}}}'
        for m, sw, p, o in searches
    )


def _encoded_data(customer: CustomerNetwork, options: FeedOptions) -> str:
    """``json.dumps(customer_data(customer), ensure_ascii=False, separators=(",", ":"))`` built string by
    string with the json module's own escaping (C), without the intermediate dicts and the encoder's
    generic walk (a test holds the two equal)."""
    q = _quote
    uid = str(customer.id)
    login = uid
    for node in customer.nodes:
        if node.login or node.name:
            login = node.login or node.name
            break
    city, street, house, flat = customer.city, customer.street, customer.house, customer.flat
    where = " ".join(p for p in (street, house + (f"/{flat}" if flat else "")) if p)
    full = f"{city}, {where}" if city and where else (city or where)
    name = (
        f"{customer.lastname} {customer.name}"
        if customer.lastname and customer.name
        else (customer.lastname or customer.name)
    )
    return (
        f'{{"uid":"{uid}","billing_link":{q(options.link_path.format(id=uid))},'
        f'"agreement":{q(customer.contract or uid)},"login":{q(login)},"name":{q(name)},'
        f'"address":{{"full":{q(full)},"settlement":{q(city)},"lane":{q(street)},"house":{q(house)},'
        f'"app":{q(flat)}}}}}'
    )


_quote = json.encoder.encode_basestring  # type: ignore[attr-defined]


def search_param(param: str | None, value: str | None) -> tuple[str, str]:
    """Validate ``param``/``value`` of ``request=search``; returns (``mac`` | ``serial``, normalized value).

    Raises ValueError with the message for the response.
    """
    if param not in ("mac", "serial"):
        raise ValueError("param must be mac or serial")
    if not (value or "").strip():
        raise ValueError("value is empty")
    if param == "mac":
        mac = normalize_mac(value)
        if mac is None:
            raise ValueError("value is not a MAC address")
        return "mac", mac
    serial = normalize_serial(value)
    if serial is None:
        raise ValueError("value is not an ONU serial number")
    return "serial", serial


# --------------------------------------------------------------------------------------------------
# Diagnostics (Wildcore REST -> the customer card)


@dataclass(frozen=True)
class Target:
    """One thing of a customer to look up in Wildcore: an ONU ident or a switch port."""

    kind: str  # "onu" or "port"
    ident: str = ""
    switch: str = ""
    port: str = ""

    @property
    def key(self) -> str:
        return f"onu:{self.ident}" if self.kind == "onu" else f"port:{self.switch}:{self.port}"

    @property
    def label(self) -> str:
        return self.ident if self.kind == "onu" else f"{self.switch} port {self.port}"


def customer_targets(customer: CustomerNetwork, extra_idents: Iterable[str] = ()) -> list[Target]:
    """The customer's ONUs and switch ports, in feed order, without repeats."""
    out: dict[str, Target] = {}
    for s in customer_searches(customer, extra_idents):
        if s["onu_ident"]:
            t = Target("onu", ident=s["onu_ident"])
        elif s["switch"] and s["port"]:
            t = Target("port", switch=s["switch"], port=s["port"])
        else:
            continue
        out.setdefault(t.key, t)
    return list(out.values())


def rank_hits(hits: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Search hits best first (§6): online/up before anything else, then the newest ``updated_at``."""

    def score(hit: Mapping[str, Any]) -> tuple[int, int, str]:
        status = str(hit.get("status") or "").lower()
        updated = str(hit.get("updated_at") or "")
        return (0 if status in ("online", "up") else 1, 0 if updated else 1, _negated(updated))

    return sorted(hits, key=score)


def _negated(text: str) -> str:
    """Sort key that orders *text* descending inside an ascending sort (timestamps of equal shape)."""
    return "".join(chr(0x10FFFF - ord(c)) for c in text)


def _float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass
class Diagnosis:
    """What the card shows for one interface, from a ``diag`` answer's ``data``."""

    kind: str
    online: bool | None = None
    status_text: str = ""
    admin: str = ""
    rx: float | None = None
    tx: float | None = None
    olt_rx: float | None = None
    distance: float | None = None
    last_down_reason: str = ""
    last_down_time: str = ""
    last_reg: str = ""
    uni: list[dict[str, str]] = field(default_factory=list)
    macs: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    device_error: str = ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def diagnosis(data: Mapping[str, Any], kind: str) -> Diagnosis:
    """Read Wildcore's ``diag`` data (``{iface, diagnostic: {data}, device_status}``) leniently: a
    missing module is an empty field, never an error (shapes drift between Wildcore releases)."""
    diag = data.get("diagnostic") or {}
    d = diag.get("data") if isinstance(diag, Mapping) else None
    d = d if isinstance(d, Mapping) else {}
    out = Diagnosis(kind=kind)
    status = d.get("status")
    if isinstance(status, Mapping):
        online = status.get("online")
        out.online = None if online is None else bool(online)
        out.admin = _text(status.get("admin"))
        out.status_text = "online" if out.online else ("offline" if out.online is False else "")
    optical = d.get("optical") if isinstance(d.get("optical"), Mapping) else {}
    out.rx, out.tx = _float(optical.get("rx")), _float(optical.get("tx"))
    out.olt_rx, out.distance = _float(optical.get("oltRx")), _float(optical.get("distance"))
    reasons = d.get("reasons") if isinstance(d.get("reasons"), Mapping) else {}
    out.last_down_reason = _text(reasons.get("lastDownReason"))
    out.last_down_time = _text(reasons.get("lastDereg"))
    out.last_reg = _text(reasons.get("lastReg"))
    for u in d.get("uni") or []:
        if isinstance(u, Mapping):
            out.uni.append(
                {"num": _text(u.get("num")), "admin": _text(u.get("admin_state")), "status": _text(u.get("status"))}
            )
    for f in d.get("fdb") or []:
        if isinstance(f, Mapping):
            out.macs.append({"vlan": _text(f.get("vlan_id")), "mac": _text(f.get("mac_address"))})
    link_info = d.get("link_info")
    for link in link_info if isinstance(link_info, list) else ([link_info] if isinstance(link_info, Mapping) else []):
        if isinstance(link, Mapping):
            out.links.append(
                {
                    "oper": _text(link.get("operStatus")),
                    "admin": _text(link.get("adminState")),
                    "nway": _text(link.get("nwayStatus")),
                    "last_change": _text(link.get("lastChange")),
                    "medium": _text(link.get("mediumType")),
                }
            )
    if kind == "port" and out.links and out.online is None:
        out.online = out.links[0]["oper"].lower() == "up"
        out.status_text = out.links[0]["oper"]
    dev = data.get("device_status")
    if isinstance(dev, Mapping) and dev.get("error"):
        out.device_error = _text(dev.get("error"))[:300]
    return out
