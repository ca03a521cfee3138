"""A fake Wildcore DMS: its REST API (spec §3, §7.15) and its MikBill sync (§4.1, §7.10–14).

Why both halves: the card's client must not tell the REST API from the real one (DESIGN rule 6), and
the feed is only right if Wildcore's *sync* binds the right customers with it. The sync here follows
the rules read in Wildcore's ``mikbill_integration``: per element it tries ``client_mac`` (active FDB
entries), then ``switch`` + ``port`` (device by IP, interface by ``bind_key`` then by name: an unknown
switch or port raises and ends the element), then ``onu_ident``; an interface matched by more than one
uid is skipped and its old data cleared; interfaces on topology links (uplinks) are not updated but
keep stale data; an interface is rewritten when agreement, login, uid or the full address changed
(loose comparison), when its stored agreement differs *strictly* from the global-search field of the
data, or with ``force``; the global-search field written is empty when ``MIKBILL_GLOBAL_SEARCH_FIELD``
is unset (so every run rewrites: §7.12). Non-200 or empty JSON aborts the sync.

Data is deterministic from the sizes: OLTs ``10.1.0.<n>`` with ONUs whose serials are
:func:`onu_serial` (every fourth an EPON ONU identified by :func:`onu_mac`), switches ``10.2.0.<n>``
whose port *p* has ``bind_key`` "p", name "eth1/0/p" and client MAC :func:`port_mac` active in its
FDB; the last port of each switch is an uplink (a topology link). ONU 1 of OLT 1 also appears, stale
and offline, on the last OLT: the duplicate of §6.

Faults (``faults`` attribute or ``POST /_control/faults``): ``latency`` seconds, ``status_5xx`` (next N
API calls answer 502), ``html`` (next N answer an HTML page with 200), ``error_body`` (next N answer 200
with an ``error`` object), ``device_down`` (``from=device`` finds the device unreachable and falls back
to stored data, as Wildcore does).
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from lmsplugins.simserver import count_down

DEFAULT_KEY = "wildcore-sim-key"
LIMITED_KEY = "wildcore-sim-limited"
EXTERNAL = "https://wildcore.example.net"
_DIAG = re.compile(r"^/api/v1/component/diagnostic/interface/(\d+)/(diag|links)$")
_IFACE = re.compile(r"^/api/v1/device-interface/(\d+)$")
_VENDORS = ("ZTEG", "HWTC", "ALCL", "GPON")
_REASONS = ("dying-gasp", "LOS", "LOSi", "power-off", "unknown")


def onu_serial(index: int) -> str:
    """Serial of the *index*-th ONU (1-based), e.g. ``ZTEGC0000001`` style: vendor + 8 hex digits."""
    return f"{_VENDORS[index % len(_VENDORS)]}{(0xC0000000 + index * 7919) & 0xFFFFFFFF:08X}"


def onu_mac(index: int) -> str:
    return f"E0:67:B3:{(index >> 16) & 0xFF:02X}:{(index >> 8) & 0xFF:02X}:{index & 0xFF:02X}"


def port_mac(switch: int, port: int) -> str:
    return f"50:0F:F5:{switch & 0xFF:02X}:{(port >> 8) & 0xFF:02X}:{port & 0xFF:02X}"


def switch_ip(switch: int) -> str:
    return f"10.2.0.{switch}"


def olt_ip(olt: int) -> str:
    return f"10.1.0.{olt}"


@dataclass
class Faults:
    latency: float = 0.0
    status_5xx: int = 0
    html: int = 0
    error_body: int = 0
    device_down: bool = False


@dataclass
class Interface:
    id: int
    device: dict[str, Any]
    name: str
    bind_key: str
    type: str
    status: str
    updated_at: str
    ident: str = ""
    ident_type: str = ""
    fdb: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    agreement: str = ""
    billing_link: str = ""
    writes: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "device_id": self.device["id"],
            "device": self.device,
            "bind_key": self.bind_key,
            "name": self.name,
            "type": self.type,
            "status": self.status,
            "params": self.params,
            "billing_link": self.billing_link,
            "agreement": self.agreement,
            "ip": None,
            "description": "",
            "comment": "",
            "coordinates": None,
            "updated_at": self.updated_at,
        }


class WildcoreSimulator:
    """The state (devices, interfaces, FDB, ident table, topology) and the WSGI app."""

    def __init__(
        self,
        olts: int = 2,
        onus_per_olt: int = 8,
        switches: int = 2,
        ports_per_switch: int = 8,
        api_key: str = DEFAULT_KEY,
        external: str = EXTERNAL,
        faults: Faults | None = None,
    ):
        self.api_key = api_key
        self.external = external.rstrip("/")
        self.faults = faults or Faults()
        self.lock = threading.Lock()
        self.interfaces: dict[int, Interface] = {}
        self.devices: dict[int, dict[str, Any]] = {}
        self.uplinks: set[int] = set()
        self.calls: dict[str, int] = {}
        self._build(olts, onus_per_olt, switches, ports_per_switch)

    # ---------------------------------------------------------------------------------------------- data

    def _add_device(self, kind: str, ip: str, name: str) -> dict[str, Any]:
        dev = {"id": len(self.devices) + 1, "ip": ip, "name": name, "location": f"{kind} site {len(self.devices) + 1}"}
        self.devices[dev["id"]] = dev
        return dev

    def _add(self, **values: Any) -> Interface:
        iface = Interface(id=len(self.interfaces) + 1, **values)
        self.interfaces[iface.id] = iface
        return iface

    def _build(self, olts: int, onus_per_olt: int, switches: int, ports: int) -> None:
        index = 0
        for o in range(1, olts + 1):
            dev = self._add_device("OLT", olt_ip(o), f"OLT-{o}")
            pon = self._add(
                device=dev, name="gpon-olt_1/1/1", bind_key="1/1/1", type="PON", status="Up", updated_at=_ts(0)
            )
            self.uplinks.add(pon.id)
            for n in range(1, onus_per_olt + 1):
                index += 1
                epon = index % 4 == 0
                self._add(
                    device=dev,
                    name=f"gpon-onu_1/1/1:{n}" if not epon else f"epon0/1:{n}",
                    bind_key=f"1/1/1:{n}" if not epon else f"0/1:{n}",
                    type="ONU",
                    status="Offline" if index % 5 == 0 else "Online",
                    updated_at=_ts(index),
                    ident=onu_mac(index) if epon else onu_serial(index),
                    ident_type="MAC" if epon else "SN",
                )
        if olts >= 2 and onus_per_olt >= 1:
            stale = self.devices[olts]
            self._add(
                device=stale,
                name=f"gpon-onu_1/1/1:{onus_per_olt + 1}",
                bind_key=f"1/1/1:{onus_per_olt + 1}",
                type="ONU",
                status="Offline",
                updated_at=_ts(-100),
                ident=onu_serial(1),
                ident_type="SN",
            )
        for s in range(1, switches + 1):
            dev = self._add_device("SWITCH", switch_ip(s), f"SW-{s}")
            for p in range(1, ports + 1):
                iface = self._add(
                    device=dev,
                    name=f"eth1/0/{p}",
                    bind_key=str(p),
                    type="ETH",
                    status="Down" if p % 6 == 0 else "Up",
                    updated_at=_ts(p),
                    fdb=[port_mac(s, p)],
                )
                if p == ports:
                    self.uplinks.add(iface.id)

    def onus(self) -> list[Interface]:
        return [i for i in self.interfaces.values() if i.type == "ONU"]

    def bindings(self) -> dict[int, str]:
        """Interface id -> the uid the MikBill sync stored on it."""
        return {
            i.id: str(i.params["billing"]["mikbill"].get("uid"))
            for i in self.interfaces.values()
            if "mikbill" in i.params.get("billing", {})
        }

    # ---------------------------------------------------------------------------------------------- REST

    def _count(self, name: str) -> None:
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1

    def _take_fault(self, name: str) -> bool:
        with self.lock:
            return count_down(self.faults, name)

    def client_settings(self, url: str) -> dict[str, str]:
        """The plugin's settings for its diagnostics client against this instance served at *url*."""
        return {"wildcore.api_url": url.rstrip("/"), "wildcore.api_key": self.api_key}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.wsgi(Request(environ))(environ, start_response)

    def wsgi(self, req: Request) -> Response:
        if req.path == "/_control/faults" and req.method == "POST":
            names = {f.name for f in fields(Faults)}
            for k, v in (req.get_json(silent=True) or {}).items():
                if k in names:
                    setattr(self.faults, k, v)
            return _json(asdict(self.faults))
        if req.path == "/_control/mikbill-sync" and req.method == "POST":
            body = req.get_json(silent=True) or {}
            try:
                report = mikbill_sync(self, body.get("api_addr", ""), body.get("key", ""), body.get("search_field"))
            except SyncFailed as exc:
                return _json({"error": str(exc)}, 502)
            return _json(asdict(report))
        if not req.path.startswith("/api/v1/"):
            return _json(_error(404, "not found"), 404)
        if self.faults.latency:
            time.sleep(self.faults.latency)
        key = req.headers.get("X-Auth-Key") or req.args.get("x-auth-key") or ""
        if key not in (self.api_key, LIMITED_KEY):
            return _json(_error(401, "Auth key is invalid or expired"), 401)
        if self._take_fault("status_5xx"):
            return Response("<html><body>502 Bad Gateway</body></html>", 502, mimetype="text/html")
        if self._take_fault("html"):
            return Response("<!doctype html><html><body>Login</body></html>", 200, mimetype="text/html")
        if self._take_fault("error_body"):
            return _json({"statusCode": 500, "error": {"type": "SERVER_ERROR", "description": "Internal poller error"}})
        if req.path == "/api/v1/device-interface/search":
            self._count("search")
            return _json(_envelope([i.public() for i in self._search(req.args)]))
        match = _DIAG.match(req.path)
        if match:
            if key == LIMITED_KEY:
                return _json(_error(403, "Access denied: rule diag_interface required"), 403)
            iface = self.interfaces.get(int(match.group(1)))
            if iface is None:
                return _json(_error(404, "Interface not found"), 404)
            if match.group(2) == "links":
                self._count("links")
                return _json(_envelope(self._links(iface)))
            source = req.args.get("from", "cache")
            if source not in ("cache", "device"):
                return _json(_error(400, "from must be cache or device"), 400)
            self._count(f"diag_{source}")
            return _json(_envelope(self._diag(iface, source)))
        match = _IFACE.match(req.path)
        if match and int(match.group(1)) in self.interfaces:
            return _json(_envelope(self.interfaces[int(match.group(1))].public()))
        return _json(_error(404, "Route not found"), 404)

    def _search(self, args: Any) -> list[Interface]:
        out = []
        for iface in self.interfaces.values():
            if args.get("ont_ident") and iface.ident.upper() != args["ont_ident"].upper():
                continue
            if args.get("device_ip") and iface.device["ip"] != args["device_ip"]:
                continue
            if args.get("device_id") and str(iface.device["id"]) != args["device_id"]:
                continue
            if args.get("interface_name") and iface.name != args["interface_name"]:
                continue
            if args.get("interface_bind_key") and iface.bind_key != args["interface_bind_key"]:
                continue
            if args.get("mac_address") and args["mac_address"].upper() not in iface.fdb:
                continue
            out.append(iface)
        return out

    def _links(self, iface: Interface) -> dict[str, str]:
        dev = iface.device["id"]
        return {
            "basic_url": self.external,
            "device_url": f"{self.external}/devices/{dev}",
            "interface_url": f"{self.external}/devices/{dev}/interface/{iface.id}",
            "edit_device_url": f"{self.external}/devices/{dev}/edit",
        }

    def _diag(self, iface: Interface, source: str) -> dict[str, Any]:
        device_error = None
        if source == "device" and self.faults.device_down:
            device_error = f"Device {iface.device['ip']} is unreachable, returned stored data"
        polled = source == "device" and device_error is None
        data: dict[str, Any]
        if iface.type == "ONU":
            online = iface.status == "Online"
            shift = 0.3 if polled else 0.0
            data = {
                "status": {
                    "online": online,
                    "bind": True,
                    "admin": "enabled",
                    "_onu_disabled": False,
                    "_conf_status": "ok",
                },
                "optical": {
                    "rx": round(-19.5 - (iface.id % 7) - shift, 2) if online else None,
                    "tx": 2.31 if online else None,
                    "oltRx": round(-21.0 - (iface.id % 5), 2) if online else None,
                    "oltTx": 5.1 if online else None,
                    "voltage": 3.3 if online else None,
                    "temp": 41.0 if online else None,
                    "distance": 120 + iface.id * 37 if online else None,
                },
                "ident": {"value": iface.ident, "type": iface.ident_type},
                "reasons": {
                    "lastReg": "2026-12-01 08:00:00",
                    "lastRegSince": "6d 8h",
                    "lastDereg": "2026-11-30 23:41:10",
                    "lastDownReason": _REASONS[iface.id % len(_REASONS)],
                },
                "vendor": {"vendor": iface.ident[:4], "model": "F660", "ver_software": "V6.0", "ver_hardware": "V2"},
                "uni": [
                    {"num": n, "admin_state": "enabled", "status": "Up" if n == 1 and online else "Down"}
                    for n in (1, 2)
                ],
                "fdb": [{"vlan_id": 100, "mac_address": onu_mac(1000 + iface.id)}] if online else [],
                "description": "",
            }
        else:
            up = iface.status == "Up"
            data = {
                "link_info": [
                    {
                        "operStatus": "Up" if up else "Down",
                        "adminState": "Up",
                        "nwayStatus": "1G-Full" if up else "",
                        "lastChange": "2026-12-06 14:02:11",
                        "mediumType": "copper",
                    }
                ],
                "errors": {"inErrors": 0, "outErrors": iface.id % 3},
                "fdb": [{"vlan_id": 10, "mac_address": m} for m in iface.fdb],
            }
        return {
            "iface": iface.public(),
            "diagnostic": {
                "data": data,
                "meta": {"from": "device" if polled else "cache", "updated_at": iface.updated_at},
            },
            "device_status": {"data": {"reachable": device_error is None}, "error": device_error},
        }


def _ts(offset: int) -> str:
    base = 1_765_000_000 + offset * 3600
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(base))


def _envelope(data: Any) -> dict[str, Any]:
    return {"statusCode": 200, "meta": {}, "data": data}


def _error(status: int, description: str) -> dict[str, Any]:
    return {"statusCode": status, "error": {"type": "ERROR", "description": description}}


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")


# --------------------------------------------------------------------------------------------------
# Wildcore's MikBill sync


class SyncFailed(Exception):
    pass


@dataclass
class SyncReport:
    elements: int = 0
    matched_interfaces: int = 0
    updated: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    skipped_shared: list[int] = field(default_factory=list)
    skipped_uplinks: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _loose_differs(a: Any, b: Any) -> bool:
    return ("" if a is None else str(a)) != ("" if b is None else str(b))


def mikbill_sync(
    sim: WildcoreSimulator,
    api_addr: str,
    key: str,
    search_field: str | None = "agreement",
    force: bool = False,
    session: requests.Session | None = None,
) -> SyncReport:
    """Pull ``{api_addr}/api/index/support?key=…&request=get_user_list`` and bind interfaces as Wildcore does.

    *search_field* is ``MIKBILL_GLOBAL_SEARCH_FIELD`` (``agreement``, ``uid``, ``login``; None = unset).
    """
    http = session or requests.Session()
    url = f"{api_addr}/api/index/support"
    response = http.get(url, params={"key": key, "request": "get_user_list"}, timeout=60)
    if response.status_code != 200:
        raise SyncFailed(f"Incorrect status code from MikBill API, must be 200, returned - {response.status_code}")
    try:
        elements = response.json()
    except ValueError:
        elements = None
    if not elements:
        raise SyncFailed("Empty json data from mikbill")
    report = SyncReport(elements=len(elements))
    by_ip = {d["ip"]: d for d in sim.devices.values()}
    found: dict[int, dict[str, Any]] = {}
    for element in elements:
        search, data = element["search"], element["data"]
        try:
            if search["client_mac"]:
                for iface in sim.interfaces.values():
                    if search["client_mac"] in iface.fdb:
                        found.setdefault(iface.id, {})[data["uid"]] = data
            if search["switch"] and search["port"]:
                dev = by_ip.get(search["switch"])
                if dev is None:
                    raise LookupError(f"Device with ip {search['switch']} not found")
                ports = [i for i in sim.interfaces.values() if i.device["id"] == dev["id"]]
                hit = next((i for i in ports if i.bind_key == str(search["port"])), None)
                hit = hit or next((i for i in ports if i.name == str(search["port"])), None)
                if hit is None:
                    raise LookupError(f"Interface {search['port']} not found on {search['switch']}")
                found.setdefault(hit.id, {})[data["uid"]] = data
            if search["onu_ident"]:
                for iface in sim.interfaces.values():
                    if iface.ident and iface.ident == search["onu_ident"]:
                        found.setdefault(iface.id, {})[data["uid"]] = data
        except LookupError as exc:
            report.errors.append(str(exc))
    report.matched_interfaces = len(found)
    existed: set[int] = set()
    for iface_id, clients in found.items():
        if len(clients) > 1:
            report.skipped_shared.append(iface_id)
            continue
        iface, data = sim.interfaces[iface_id], next(iter(clients.values()))
        existed.add(iface_id)
        old = iface.params.get("billing", {}).get("mikbill")
        if old is None:
            must = True
        else:
            must = (
                any(_loose_differs(data.get(k), old.get(k)) for k in ("agreement", "login", "uid"))
                or _loose_differs(data["address"]["full"], old["address"]["full"])
                or iface.agreement != data.get(search_field or "agreement")
                or force
            )
        if not must:
            continue
        if iface_id in sim.uplinks:
            report.skipped_uplinks.append(iface_id)
            continue
        agreement = data.get(search_field) if search_field in ("uid", "agreement", "login") else ""
        iface.params.setdefault("billing", {})["mikbill"] = data
        iface.agreement = agreement
        iface.billing_link = f"{api_addr}{data['billing_link']}"
        iface.writes += 1
        report.updated.append(iface_id)
    for iface in sim.interfaces.values():
        if iface.id not in existed and "mikbill" in iface.params.get("billing", {}):
            del iface.params["billing"]["mikbill"]
            iface.agreement, iface.billing_link = "", ""
            iface.writes += 1
            report.cleared.append(iface.id)
    return report


def make_app(**kwargs: Any) -> WildcoreSimulator:
    return WildcoreSimulator(**kwargs)


def main(argv: list[str] | None = None) -> int:
    """``python -m plugins.wildcore.simulator --sync-from URL --key KEY``: one MikBill sync against a feed,
    printing which interface carries which customer."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "--sync-from", required=True, help="MIKBILL_API_ADDR, e.g. http://127.0.0.1:8080/wildcore/mikbill"
    )
    parser.add_argument("--key", required=True)
    parser.add_argument("--search-field", default="agreement", choices=("agreement", "uid", "login"))
    parser.add_argument("--olts", type=int, default=2)
    parser.add_argument("--onus", type=int, default=8)
    parser.add_argument("--switches", type=int, default=2)
    parser.add_argument("--ports", type=int, default=8)
    args = parser.parse_args(argv)
    sim = WildcoreSimulator(args.olts, args.onus, args.switches, args.ports)
    try:
        report = mikbill_sync(sim, args.sync_from.rstrip("/"), args.key, args.search_field)
    except (SyncFailed, requests.RequestException) as exc:
        print(f"sync failed: {exc}")
        return 1
    for iface_id, uid in sorted(sim.bindings().items()):
        iface = sim.interfaces[iface_id]
        print(f"{iface.device['ip']} {iface.name}: uid {uid}")
    print(f"updated {len(report.updated)}, shared skipped {len(report.skipped_shared)}, errors {len(report.errors)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
