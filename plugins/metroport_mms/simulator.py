"""A fake Metroport MMS API (F-Secure and MetroTV) speaking the wire protocol of spec §2, §3 and §11.

Why it exists: the provider's production API cannot serve tests, benchmarks or the demo, and neither our
client nor the PHP plugin's Guzzle client may be able to tell the difference (DESIGN rule 6):

* login by ``POST /Admins/Auth/login`` with ``login``/``password`` in JSON, urlencoded or multipart form;
  the session is a ``sess_ci`` cookie; a refused login answers 401;
* the envelopes of §11.1 (``[count, [rows]]`` only for the user list/search and the account list), the
  request bodies of §11.2 (JSON POST; urlencoded PUT and DELETE, DELETE bodies read and checked);
* paths matched case-insensitively with or without a trailing ``/``; a search without a hit answers
  404 (spec §3.1, inferred); unknown ids 404; broken rules 400/409 with ``{"status": false, "error"}``.

State persists for the life of the instance: users, F-Secure packages, services and operations, MetroTV
packages, networks (capacity = ``size``, ``TotalSTBs`` counted live), STB models, the STB warehouse in
every status, accounts and orders. The provider's rules: a network full at ``size`` STBs refuses a link;
a STB is linked to one account and must be in the warehouse; an order of an extra package is refused
when the account's base package denies it (``pkg_denied``) or there is no base; a linked STB's order, a
STB that is issued and an account with live orders cannot be deleted.

Data is generated from a seed, of any size (``users``, ``stbs``...): deterministic, so tests and
benchmarks name expected values. Faults (:class:`Faults`): latency, 5xx, 401 session expiry, truncated
and malformed bodies; a refused connection is a stopped server.

Status codes of STBs are inferred (spec §9: warehouse is 1, an issued one cannot be deleted: 3).
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from werkzeug.wrappers import Request, Response

COOKIE = "sess_ci"
STB_STATUS = {1: "w magazynie", 2: "zarezerwowane", 3: "wydane", 4: "uszkodzone", 5: "usunięte"}
WAREHOUSE, RESERVED, ISSUED, BROKEN, DELETED = 1, 2, 3, 4, 5
FSECURE_STATUSES = ("reserved", "new", "active", "blocked", "deleted")
_FIRST = ("Jan", "Anna", "Piotr", "Maria", "Krzysztof", "Katarzyna", "Tomasz", "Małgorzata", "Paweł", "Zofia")
_LAST = ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński")
_FIRMS = ("Usługi Handel", "Piekarnia Pod Lipą", "Auto-Serwis", "Biuro Rachunkowe", "Sklep Groszek")
_CITIES = (("Warszawa", "00-950"), ("Kraków", "30-001"), ("Łódź", "90-001"), ("Gdańsk", "80-001"))
_STREETS = ("Długa", "Polna", "Leśna", "Słoneczna", "Kościuszki", "Mickiewicza")
_MODELS = (("MAG-322", "Infomir MAG 322", 1, 0), ("MAG-424", "Infomir MAG 424 4K", 1, 1), ("KSTB-6077", "Kaon", 0, 1))


@dataclass
class Faults:
    """Faults to inject; counters apply to the next N API requests and count down."""

    latency: float = 0.0
    http_5xx: int = 0
    status_5xx: int = 503
    expire_session: int = 0
    """The next N authenticated requests find their session gone (401)."""
    truncate: int = 0
    """The next N list answers are cut in half."""
    malformed: int = 0
    """The next N list answers are ``malformed_body`` (HTTP 200)."""
    malformed_body: str = '{"status":false,"message":"Unexpected error"'
    slow_create: float = 0.0
    """Creates (POST) are done, then the answer waits this long (a client timeout loses it)."""

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown fault {key!r}")
            setattr(self, key, value)


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)
    logins: int = 0
    refused_logins: int = 0
    login_formats: Counter[str] = field(default_factory=Counter)
    bodies: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, path, body) of every write, the last 200."""


class _Reject(Exception):
    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


def _nip(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(8)]
        check = sum(w * d for w, d in zip((6, 5, 7, 2, 3, 4, 5, 6, 7), digits, strict=True)) % 11
        if check != 10:
            return "".join(map(str, digits)) + str(check)


def _pesel(i: int) -> str:
    """A valid PESEL unique per *i* (below 10 million)."""
    year, month, day = 1940 + i % 60, 1 + (i // 60) % 12, 1 + (i // 720) % 28
    body = f"{year % 100:02d}{month:02d}{day:02d}{(i // 20160) % 10000:04d}"
    check = (10 - sum(w * int(d) for w, d in zip((1, 3, 7, 9, 1, 3, 7, 9, 1, 3), body, strict=True)) % 10) % 10
    return body + str(check)


def format_nip(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:8]}-{digits[8:]}"


def mac_of(i: int) -> str:
    return ":".join(f"{b:02X}" for b in (0x00, 0x1A, 0x79, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF))


class Dataset:
    """The provider's state for one seed; every write goes through the simulator's lock."""

    def __init__(self, seed: int = 1, users: int = 20, stbs: int = 30, accounts: int | None = None,
                 networks: int = 3, network_size: int = 64):
        rng = random.Random(seed)
        self.users: dict[int, dict[str, Any]] = {}
        for i in range(users):
            uid = 1000 + i * 3 + rng.randrange(3)
            company = i % 5 == 4
            city, zip_ = _CITIES[i % len(_CITIES)]
            nip = format_nip(_nip(rng)) if company else ""
            pesel = "" if company else _pesel(i)
            if i % 17 == 16:
                nip = pesel = ""
            self.users[uid] = {
                "userid": uid,
                "customertype": "1" if company else "2",
                "name": "" if company else _FIRST[i % len(_FIRST)],
                "lastname": f"{_FIRMS[i % len(_FIRMS)]} {i}" if company else f"{_LAST[i % len(_LAST)]} {i}",
                "email": f"user{uid}@example.pl",
                "pesel": pesel,
                "nip": nip,
                "zip1": zip_,
                "city1": city,
                "streetname1": _STREETS[i % len(_STREETS)],
                "streetno1": str(1 + i % 90),
                "local1": "" if i % 3 else str(1 + i % 20),
            }
        self.next_user = max(self.users, default=999) + 3
        self.fsecure_packages = [
            {"id": 11, "ext_id": "FS-SAFE-1", "name": "F-Secure SAFE 1", "description": "1 urządzenie",
             "license_size": 1},
            {"id": 12, "ext_id": "FS-SAFE-3", "name": "F-Secure SAFE 3", "description": "3 urządzenia",
             "license_size": 3},
            {"id": 13, "ext_id": "FS-TOTAL-5", "name": "F-Secure TOTAL 5", "description": "5 urządzeń",
             "license_size": 5},
        ]
        self.services: dict[int, dict[str, Any]] = {}
        self.operations: list[dict[str, Any]] = []
        self.next_service = 5001
        self.tv_packages = self._tv_packages()
        self.networks = {
            n: {"id": n, "name": f"IPTV-{n}", "address": (10 << 24) + (n << 16), "mask_prefix": 24,
                "mask": "255.255.255.0", "size": network_size, "transport": "multicast"}
            for n in range(1, networks + 1)
        }
        self.models = {i + 1: {"id": i + 1, "name": m[0], "description": m[1], "mycast_supported": m[2],
                               "probe": m[3]} for i, m in enumerate(_MODELS)}
        self.stbs: dict[int, dict[str, Any]] = {}
        for i in range(stbs):
            sid = 20001 + i
            status = (WAREHOUSE, WAREHOUSE, WAREHOUSE, RESERVED, BROKEN, DELETED)[i % 6] if i % 11 else WAREHOUSE
            self.stbs[sid] = self._stb(sid, 1 + i % len(self.models), f"SN{seed:02d}{i:08d}", mac_of(i), status)
        self.next_stb = 20001 + stbs
        self.accounts: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.account_orders: dict[int, list[dict[str, Any]]] = {}
        self.next_account, self.next_order = 7001, 9001
        self._seed_services(rng, accounts)

    @staticmethod
    def _stb(sid: int, modelid: int, serial: str, mac: str, status: int) -> dict[str, Any]:
        return {
            "id": sid, "firmid": 1, "iptv_program": "", "iptv_portalid": 1, "status": status, "userid": 0,
            "contractid": 0, "actualtariffid": 0, "networkid": 0, "ext_linked": 0, "mac": mac, "ipaddr": 0,
            "serialnumber": serial, "vcasid": "", "customer_sn": "", "hdcp_ksv": "", "modelid": modelid, "devel": 0,
            "servicetype": "IPTV", "servicetype_force": 0, "must_reboot": 0, "description": "", "activedate": 0,
            "error_log": 0, "fwlog": 0, "boot_options": "", "creationdate": 1700000000 + sid, "creatorid": 1,
            "moddate": 0, "modid": 0, "nodeid": 0, "private": 0, "active": 1, "AddressIp": "0.0.0.0",
            "ModelName": _MODELS[(modelid - 1) % len(_MODELS)][0], "iptv_accountid": 0, "order_id": "",
            "firmname": "Metroport", "UserName": "", "usertype": "", "StatusName": STB_STATUS[status],
            "channels": "", "iptv_portal": "",
        }  # fmt: skip

    @staticmethod
    def _tv_packages() -> dict[int, dict[str, Any]]:
        specs = [
            (101, "TV-START", "Pakiet Start", 1, "", "2020-01-01", "2030-12-31", 1, "29.99"),
            (102, "TV-MAX", "Pakiet Max", 1, "203", "2020-01-01", "2030-12-31", 1, "59.99"),
            (103, "TV-OLD", "Pakiet Archiwalny", 1, "", "2015-01-01", "2019-12-31", 1, "19.99"),
            (201, "TV-SPORT", "Sport", 2, "", "2020-01-01", "2030-12-31", 1, "15.00"),
            (202, "TV-KIDS", "Dzieci", 2, "", "2020-01-01", "2030-12-31", 1, "9.99"),
            (203, "TV-FILM", "Filmy", 2, "", "2020-01-01", "2030-12-31", 1, "19.99"),
            (204, "TV-INACTIVE", "Wycofany", 2, "", "2020-01-01", "2030-12-31", 0, "5.00"),
            (301, "TV-MULTI", "Multiroom", 3, "", "2020-01-01", "2030-12-31", 1, "10.00"),
            (401, "TV-PPV", "PPV", 4, "", None, None, 1, "0.00"),
        ]
        out = {}
        for pid, code, name, group, denied, vfrom, vto, active, gross in specs:
            net = f"{float(gross) / 1.23:.2f}"
            out[pid] = {
                "id": pid, "firmid": 1, "iptv_program": "", "active": active, "sort": pid, "creationdate": 1600000000,
                "moddate": 0, "deletedate": 0, "http_export": 0, "provider": "Metroport", "ext_pkg_id": code.lower(),
                "tariffcode": code, "pkg_name": name, "pkg_desc": f"{name} – opis", "pkg_tvpanel_desc": "",
                "pkg_autoinclude": "", "pkg_denied": denied, "pkg_valid_from": vfrom, "pkg_valid_to": vto,
                "self_service": 0, "npvr_quota": 0, "timeshift_allow": 1, "ext_device_allow": 2,
                "tvonline_maxsessions": 2, "pkg_group": group, "iptv_ozz": 0, "firmName": "Metroport",
                "contracttime": 24, "pricenetto": net, "vat": 23, "pricebrutto": gross,
                "pricenetto_provider": f"{float(net) * 0.6:.2f}", "vat_provider": 23,
                "pricebrutto_provider": f"{float(gross) * 0.6:.2f}", "promotiontime": 0,
                "promotion_pricenetto_provider": "0.00", "promotion_pricebrutto_provider": "0.00", "countActive": 0,
            }  # fmt: skip
        return out

    def _seed_services(self, rng: random.Random, accounts: int | None) -> None:
        """Every fourth user gets an F-Secure licence, every third a MetroTV account with a base package."""
        uids = sorted(self.users)
        for n, uid in enumerate(uids[::4]):
            pkg = self.fsecure_packages[n % 3]
            status = ("active", "active", "blocked", "new", "deleted")[n % 5]
            self.add_service(uid, pkg["id"], pkg["license_size"], status)
        tv_users = uids[1::3] if accounts is None else uids[:accounts]
        for n, uid in enumerate(tv_users):
            network = 1 + n % len(self.networks)
            acc = self.add_account({"userid": uid, "iptv_networkid": network})
            self.add_order(acc, 101 if n % 2 else 102, None)
            if n % 4 == 0:
                self.add_order(acc, 201, None)

    # -- writes ------------------------------------------------------------------------------------

    def add_service(self, userid: int, serviceid: int, size: int, status: str = "active") -> dict[str, Any]:
        sid = self.next_service
        self.next_service += 1
        now = int(time.time())
        row = {"id": sid, "userid": userid, "secur_serviceid": serviceid, "license_size": size, "status": status,
               "activedate": now, "blockdate": now if status == "blocked" else 0}
        self.services[sid] = row
        self.operation(userid, sid, "create")
        return row

    def operation(self, userid: int, sid: int, kind: str) -> None:
        now = int(time.time())
        self.operations.append({"id": len(self.operations) + 1, "userid": userid, "secur_accountid": sid,
                                "status": "done", "type": kind, "errormsg": "", "creationdate": now,
                                "execdate": now})

    def add_account(self, body: dict[str, Any]) -> int:
        try:
            userid, network = int(body.get("userid")), int(body.get("iptv_networkid"))
        except (TypeError, ValueError):
            raise _Reject(400, "userid and iptv_networkid are required numbers") from None
        if userid not in self.users:
            raise _Reject(400, f"unknown userid {userid}")
        if network not in self.networks:
            raise _Reject(400, f"unknown iptv_networkid {network}")
        user = self.users[userid]
        aid = self.next_account
        self.next_account += 1
        self.accounts[aid] = {
            "id": aid, "userid": userid, "status": 1, "active": 1, "activedate": int(time.time()),
            "lastdeactivdate": 0, "blockdate": 0, "iptv_networkid": network, "currency": "PLN",
            "locationstreetname": body.get("locationstreetname", user["streetname1"]),
            "locationstreetno": body.get("locationstreetno", user["streetno1"]),
            "locationlocal": body.get("locationlocal", user["local1"]),
            "locationzip": body.get("locationzip", user["zip1"]),
            "locationcity": body.get("locationcity", user["city1"]),
        }  # fmt: skip
        return aid

    def live_orders(self, aid: int) -> list[dict[str, Any]]:
        return [o for o in self.account_orders.get(aid, ()) if o["active"] == 1]

    def add_order(self, aid: int, pkg_id: int, price: str | None) -> dict[str, Any]:
        if aid not in self.accounts:
            raise _Reject(404, f"unknown account {aid}")
        pkg = self.tv_packages.get(pkg_id)
        if pkg is None or not pkg["active"]:
            raise _Reject(400, f"unknown or inactive package {pkg_id}")
        live = self.live_orders(aid)
        base = [o for o in live if o["pkg_group"] == 1]
        if pkg["pkg_group"] == 1 and base:
            raise _Reject(409, "the account already has a base package")
        if pkg["pkg_group"] != 1:
            if not base:
                raise _Reject(409, "an extra package needs a base package first")
            denied = {d.strip() for d in str(self.tv_packages[base[0]["pkg_id"]]["pkg_denied"] or "").split(",")}
            if str(pkg_id) in denied:
                raise _Reject(409, f"package {pkg_id} is denied by the base package {base[0]['pkg_id']}")
        oid = self.next_order
        self.next_order += 1
        order = {"id": oid, "accountid": aid, "pkg_id": pkg_id, "pkg_name": pkg["pkg_name"],
                 "pkg_group": pkg["pkg_group"], "pkg_valid_from": pkg["pkg_valid_from"],
                 "pkg_valid_to": pkg["pkg_valid_to"], "active": 1, "date_start": time.strftime("%Y-%m-%d"),
                 "date_end": "", "pricebrutto": price if price is not None else pkg["pricebrutto"]}
        self.orders[oid] = order
        self.account_orders.setdefault(aid, []).append(order)
        return order

    def total_stbs(self, network: int) -> int:
        return sum(1 for s in self.stbs.values() if s["networkid"] == network and s["status"] == ISSUED)


class MMSSimulator:
    """The WSGI app; state lives as long as the instance."""

    def __init__(self, seed: int = 1, users: int = 20, stbs: int = 30, *, login: str = "api-operator",
                 password: str = "api-secret", faults: Faults | None = None, **sizes: Any):
        self.data = Dataset(seed, users, stbs, **sizes)
        self.login_name, self.password = login, password
        self.faults = faults or Faults()
        self.stats = Stats()
        self._sessions: set[str] = set()
        self._lock = threading.RLock()
        self._index: dict[tuple[str, str], list[dict[str, Any]]] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.handle(Request(environ))(environ, start_response)

    def expire_sessions(self) -> None:
        with self._lock:
            self._sessions.clear()

    def _take(self, name: str) -> bool:
        with self._lock:
            left = getattr(self.faults, name)
            if left > 0:
                setattr(self.faults, name, left - 1)
                return True
            return False

    # -- dispatch ----------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        parts = [p for p in request.path.lower().split("/") if p]
        key = "/".join(parts)
        if key.startswith("_control"):
            return self._control(request, key)
        with self._lock:
            self.stats.requests[f"{request.method} /{key}"] += 1
            if request.method in ("POST", "PUT", "DELETE"):
                self.stats.bodies.append((request.method, "/" + key, request.get_data(as_text=True)))
                del self.stats.bodies[:-200]
        if self.faults.latency:
            time.sleep(self.faults.latency)
        if self._take("http_5xx"):
            return _json({"status": False, "error": "Service Unavailable"}, self.faults.status_5xx)
        try:
            if key == "admins/auth/login" and request.method == "POST":
                return self._login(request)
            self._authenticate(request)
            with self._lock:
                result = self._route(request, parts)
            if isinstance(result, Response):
                return result
            if request.method == "POST" and self.faults.slow_create:
                time.sleep(self.faults.slow_create)
            return _json(result)
        except _Reject as reject:
            return _json({"status": False, "error": str(reject)}, reject.status)

    def _control(self, request: Request, key: str) -> Response:
        if key == "_control/faults" and request.method == "POST":
            try:
                self.faults.update(request.get_json(force=True) or {})
            except (ValueError, TypeError) as exc:
                return _json({"error": str(exc)}, 400)
        if key == "_control/stats":
            return _json({"requests": dict(self.stats.requests), "logins": self.stats.logins})
        return _json(asdict(self.faults))

    def _login(self, request: Request) -> Response:
        if request.is_json:
            parsed = request.get_json(silent=True)
            body, kind = (parsed if isinstance(parsed, dict) else {}), "json"
        else:
            body = request.form.to_dict()
            kind = "multipart" if request.mimetype == "multipart/form-data" else "form"
        with self._lock:
            self.stats.login_formats[kind] += 1
            if body.get("login") != self.login_name or body.get("password") != self.password:
                self.stats.refused_logins += 1
                return _json({"status": False, "error": "Nieprawidłowy login lub hasło"}, 401)
            token = secrets.token_hex(16)
            self._sessions.add(token)
            self.stats.logins += 1
        response = _json({"status": True})
        response.set_cookie(COOKIE, token, path="/", httponly=True)
        return response

    def _authenticate(self, request: Request) -> None:
        token = request.cookies.get(COOKIE, "")
        with self._lock:
            if token not in self._sessions:
                raise _Reject(401, "Unauthorized")
            if self._take("expire_session"):
                self._sessions.discard(token)
                raise _Reject(401, "Unauthorized")

    def _list(self, rows: list[Any], enveloped: bool = False) -> Response:
        if self._take("malformed"):
            return Response(self.faults.malformed_body, 200, content_type="application/json")
        body = json.dumps([len(rows), rows] if enveloped else rows, ensure_ascii=False)
        if self._take("truncate"):
            body = body[: max(1, len(body) // 2)]
        return Response(body.encode(), 200, content_type="application/json; charset=utf-8")

    def _route(self, request: Request, parts: list[str]) -> Any:
        method, d = request.method, self.data
        form = request.form.to_dict() if method in ("PUT", "DELETE") else {}
        body = request.get_json(silent=True) if method == "POST" else None
        if method == "POST" and not isinstance(body, dict):
            raise _Reject(400, "a JSON object is expected")
        match parts:
            case ["users", "users"]:
                if method == "GET":
                    return self._users(request)
                if method == "POST":
                    self._index = None
                    return self._create_user(body)
            case ["users", "users", uid] if method in ("GET", "PUT"):
                user = d.users.get(_num(uid))
                if user is None:
                    raise _Reject(404, f"user {uid} not found")
                if method == "GET":
                    return {"id": user["userid"], **user}
                for k in ("customertype", "name", "lastname", "pesel", "nip", "city1", "zip1", "streetname1",
                          "streetno1", "local1", "email"):
                    if k in form:
                        user[k] = form[k]
                self._index = None
                return {"status": True}
            case ["services", "security", "ext_services"]:
                return self._list(d.fsecure_packages)
            case ["services", "security", "operations"]:
                return self._list(d.operations)
            case ["services", "security"]:
                if method == "GET":
                    uid = request.args.get("userid")
                    rows = [s for s in d.services.values() if uid is None or s["userid"] == _num(uid)]
                    return self._list(rows)
                if method == "POST":
                    return self._fsecure_add(body)
            case ["services", "security", sid, *action]:
                return self._fsecure_change(method, _num(sid), action, form)
            case ["iptv", "packages"]:
                return self._list(list(d.tv_packages.values()))
            case ["iptv", "networks"]:
                rows = [{**n, "address_long": _ip(n["address"]), "TotalSTBs": d.total_stbs(n["id"])}
                        for n in d.networks.values()]
                return self._list(rows)
            case ["iptv", "stbmodels"]:
                return self._list(list(d.models.values()))
            case ["iptv", "stbs"]:
                if method == "GET":
                    return self._list(list(d.stbs.values()))
                if method == "POST":
                    return self._stb_add(body)
            case ["iptv", "stbs", "linkstb"] if method == "PUT":
                return self._link(form)
            case ["iptv", "stbs", "unlinkstb"] if method == "PUT":
                return self._unlink(form)
            case ["iptv", "stbs", sid] if method == "DELETE":
                stb = d.stbs.get(_num(sid))
                if stb is None:
                    raise _Reject(404, f"STB {sid} not found")
                if stb["status"] == ISSUED:
                    raise _Reject(409, "an issued STB cannot be deleted; unlink it first")
                del d.stbs[stb["id"]]
                return {"status": True}
            case ["iptv", "accounts"]:
                if method == "GET":
                    uid = request.args.get("userid")
                    rows = [self._account_row(a) for a in d.accounts.values()
                            if uid is None or a["userid"] == _num(uid)]
                    return self._list(rows, enveloped=True)
                if method == "POST":
                    return d.add_account(body)
            case ["iptv", "accounts", aid, *action]:
                return self._account(method, _num(aid), action, form)
            case ["iptv", "orders"]:
                if method == "GET":
                    aid = _num(request.args.get("accountid", ""))
                    rows = [o for o in d.orders.values() if o["accountid"] == aid]
                    if not rows:
                        raise _Reject(404, "no orders")
                    return self._list(rows)
                if method == "POST":
                    price = body.get("pricebrutto")
                    if price is not None and not _is_price(str(price)):
                        raise _Reject(400, f"pricebrutto {price!r} is not an amount")
                    return d.add_order(_num(body.get("accountid")), _num(body.get("pkg_id")), price)
            case ["iptv", "orders", oid] if method == "DELETE":
                return self._order_delete(_num(oid), form)
        raise _Reject(404, "Not Found")

    # -- users -------------------------------------------------------------------------------------

    def _search_index(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """(kind, value) -> users, rebuilt after a user write: a search is a lookup, as in a database."""
        if self._index is None:
            index: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for u in self.data.users.values():
                if u["pesel"]:
                    index.setdefault(("pesel", u["pesel"]), []).append(u)
                if u["nip"]:
                    index.setdefault(("nip", "".join(c for c in u["nip"] if c.isdigit())), []).append(u)
            self._index = index
        return self._index

    def _users(self, request: Request) -> Response:
        if "pesel" in request.args or "nip" in request.args:
            if "pesel" in request.args:
                key = ("pesel", request.args["pesel"].strip())
            else:
                key = ("nip", "".join(c for c in request.args["nip"] if c.isdigit()))
            rows = self._search_index().get(key, []) if key[1] else []
            if not rows:
                raise _Reject(404, "Nie znaleziono")
            return self._list(rows, enveloped=True)
        return self._list(list(self.data.users.values()), enveloped=True)

    def _create_user(self, body: dict[str, Any]) -> int:
        d = self.data
        if not str(body.get("lastname") or "").strip():
            raise _Reject(400, "lastname is required")
        for key in ("pesel", "nip"):
            value = str(body.get(key) or "").strip()
            if value and any(u[key] == value for u in d.users.values()):
                raise _Reject(409, f"a user with this {key} exists")
        uid = d.next_user
        d.next_user += 3
        d.users[uid] = {"userid": uid, **{k: str(body.get(k) or "") for k in (
            "customertype", "name", "lastname", "email", "pesel", "nip", "zip1", "city1", "streetname1", "streetno1",
            "local1")}}
        return uid

    # -- F-Secure ----------------------------------------------------------------------------------

    def _fsecure_add(self, body: dict[str, Any]) -> dict[str, Any]:
        d = self.data
        uid, pkg_id = _num(body.get("userid")), _num(body.get("secur_serviceid"))
        if uid not in d.users:
            raise _Reject(400, f"unknown userid {uid}")
        pkg = next((p for p in d.fsecure_packages if p["id"] == pkg_id), None)
        if pkg is None:
            raise _Reject(400, f"unknown secur_serviceid {pkg_id}")
        return d.add_service(uid, pkg_id, pkg["license_size"], "new")

    def _fsecure_change(self, method: str, sid: int, action: list[str], form: dict[str, str]) -> Any:
        d = self.data
        service = d.services.get(sid)
        if service is None:
            raise _Reject(404, f"service {sid} not found")
        if method == "DELETE" and not action:
            service["status"] = "deleted"
            d.operation(service["userid"], sid, "delete")
            return {"status": True}
        if method == "PUT" and action in (["block"], ["unblock"]):
            if service["status"] == "deleted":
                raise _Reject(409, "the service is deleted")
            service["status"] = "blocked" if action == ["block"] else "active"
            service["blockdate"] = int(time.time()) if action == ["block"] else 0
            d.operation(service["userid"], sid, action[0])
            return {"status": True}
        if method == "PUT" and not action:
            pkg_id = _num(form.get("secur_serviceid", ""))
            pkg = next((p for p in d.fsecure_packages if p["id"] == pkg_id), None)
            if pkg is None:
                raise _Reject(400, f"unknown secur_serviceid {pkg_id}")
            service.update(secur_serviceid=pkg_id, license_size=pkg["license_size"])
            d.operation(service["userid"], sid, "change")
            return {"status": True}
        raise _Reject(404, "Not Found")

    # -- MetroTV -----------------------------------------------------------------------------------

    def _stb_add(self, body: dict[str, Any]) -> dict[str, Any]:
        d = self.data
        mac = str(body.get("mac") or "").upper()
        serial = str(body.get("serialnumber") or "").strip()
        model = next((m for m in d.models.values() if m["name"] == body.get("ModelName")), None)
        if model is None:
            raise _Reject(400, f"unknown ModelName {body.get('ModelName')!r}")
        if len(mac) != 17 or not all(c in "0123456789ABCDEF" for c in mac.replace(":", "")) or mac.count(":") != 5:
            raise _Reject(400, f"mac {mac!r} is not AA:BB:CC:DD:EE:FF")
        if not serial:
            raise _Reject(400, "serialnumber is required")
        if any(s["mac"] == mac or s["serialnumber"] == serial for s in d.stbs.values()):
            raise _Reject(409, "a STB with this mac or serial number exists")
        sid = d.next_stb
        d.next_stb += 1
        d.stbs[sid] = d._stb(sid, model["id"], serial, mac, WAREHOUSE)
        return d.stbs[sid]

    def _link(self, form: dict[str, str]) -> dict[str, Any]:
        d = self.data
        aid, oid, nid = _num(form.get("accountid", "")), _num(form.get("orderid", "")), _num(form.get("networkid", ""))
        stb = next((s for s in d.stbs.values() if s["mac"] == str(form.get("mac", "")).upper()), None)
        if stb is None:
            raise _Reject(404, "STB not found")
        if stb["status"] != WAREHOUSE:
            raise _Reject(409, f"the STB is not in the warehouse ({stb['StatusName']})")
        order = d.orders.get(oid)
        if aid not in d.accounts or order is None or order["accountid"] != aid or not order["active"]:
            raise _Reject(400, "unknown account or order")
        if order["pkg_group"] not in (1, 3):
            raise _Reject(409, "a STB goes on a base or multiroom package")
        network = d.networks.get(nid)
        if network is None:
            raise _Reject(400, f"unknown network {nid}")
        used = d.total_stbs(nid)
        if used >= network["size"]:
            raise _Reject(409, f"network {nid} is full ({used}/{network['size']})")
        user = d.users[d.accounts[aid]["userid"]]
        stb.update(status=ISSUED, StatusName=STB_STATUS[ISSUED], iptv_accountid=aid, networkid=nid,
                   order_id=str(oid), userid=user["userid"], UserName=f"{user['lastname']} {user['name']}".strip(),
                   ipaddr=network["address"] + used + 2, AddressIp=_ip(network["address"] + used + 2))
        return {"status": True}

    def _unlink(self, form: dict[str, str]) -> dict[str, Any]:
        stb = next((s for s in self.data.stbs.values() if s["mac"] == str(form.get("mac", "")).upper()), None)
        if stb is None or stb["iptv_accountid"] != _num(form.get("accountid", "")):
            raise _Reject(404, "STB not linked to this account")
        stb.update(status=WAREHOUSE, StatusName=STB_STATUS[WAREHOUSE], iptv_accountid=0, networkid=0, order_id="",
                   userid=0, UserName="", ipaddr=0, AddressIp="0.0.0.0")
        return {"status": True}

    def _account_row(self, acc: dict[str, Any]) -> dict[str, Any]:
        live = self.data.live_orders(acc["id"])
        gross = sum(float(o["pricebrutto"]) for o in live)
        stbs = sum(1 for s in self.data.stbs.values() if s["iptv_accountid"] == acc["id"])
        return {**acc, "TotalSTBs": stbs, "TotalBrutto": f"{gross:.2f}", "TotalNetto": f"{gross / 1.23:.2f}",
                "TotalVat": f"{gross - gross / 1.23:.2f}"}

    def _account(self, method: str, aid: int, action: list[str], form: dict[str, str]) -> Any:
        d = self.data
        acc = d.accounts.get(aid)
        if acc is None:
            raise _Reject(404, f"account {aid} not found")
        if method == "GET" and not action:
            return self._account_card(acc)
        if method == "PUT" and action in (["blockaccount"], ["unblockaccount"]):
            if _num(form.get("accountid", "")) != aid:
                raise _Reject(400, "accountid in the body does not match")
            blocked = action == ["blockaccount"]
            acc.update(active=0 if blocked else 1, blockdate=int(time.time()) if blocked else 0)
            return {"status": True}
        if method == "PUT" and not action:
            for k in ("locationstreetname", "locationstreetno", "locationlocal", "locationzip", "locationcity"):
                if k in form:
                    acc[k] = form[k]
            return {"status": True}
        if method == "DELETE" and not action:
            if _num(form.get("accountid", "")) != aid:
                raise _Reject(400, "accountid in the body does not match")
            if d.live_orders(aid):
                raise _Reject(409, "the account still has packages")
            del d.accounts[aid]
            return {"status": True}
        raise _Reject(404, "Not Found")

    def _account_card(self, acc: dict[str, Any]) -> dict[str, Any]:
        d = self.data
        user = d.users[acc["userid"]]
        packages: dict[str, Any] = {"MainPackage": None, "ExtraPackages": {}, "MultiroomPackages": []}
        for order in d.live_orders(acc["id"]):
            stbs = [{"id": s["id"], "ModelName": s["ModelName"], "AddressIp": s["AddressIp"],
                     "serialnumber": s["serialnumber"], "mac": s["mac"], "servicetype": s["servicetype"]}
                    for s in d.stbs.values() if s["order_id"] == str(order["id"])]
            entry = {**order, "actual_pricebrutto": order["pricebrutto"], "stb_data": stbs[0] if len(stbs) == 1
                     else stbs}
            if order["pkg_group"] == 1:
                packages["MainPackage"] = entry
            elif order["pkg_group"] == 3:
                packages["MultiroomPackages"].append(entry)
            else:
                packages["ExtraPackages"][str(order["id"])] = entry
        row = self._account_row(acc)
        return {**acc, "NetworkData": d.networks[acc["iptv_networkid"]],
                "UserData": {k: user[k] for k in ("city1", "zip1", "streetname1", "streetno1", "local1")},
                "Packages": packages, "PackagesSums": {k: row[k] for k in ("TotalNetto", "TotalVat", "TotalBrutto")}}

    def _order_delete(self, oid: int, form: dict[str, str]) -> dict[str, Any]:
        d = self.data
        order = d.orders.get(oid)
        if order is None or _num(form.get("orderid", "")) != oid or _num(form.get("accountid", "")) != order[
            "accountid"
        ]:
            raise _Reject(404, "order not found for this account")
        if any(s["order_id"] == str(oid) for s in d.stbs.values()):
            raise _Reject(409, "the package has a STB; unlink it first")
        order.update(active=0, date_end=time.strftime("%Y-%m-%d"))
        return {"status": True}


def _num(value: Any) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise _Reject(400, f"{str(value)[:30]!r} is not a number") from None


def _is_price(text: str) -> bool:
    head, _, tail = text.partition(".")
    return head.isdigit() and len(tail) == 2 and tail.isdigit()


def _ip(value: int) -> str:
    return ".".join(str((value >> s) & 0xFF) for s in (24, 16, 8, 0))


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), status, content_type="application/json; charset=utf-8")


def make_app(seed: int = 1, users: int = 20, stbs: int = 30, faults: Faults | dict[str, Any] | None = None,
             **options: Any) -> MMSSimulator:
    """The simulator as a WSGI app; *faults* may be a :class:`Faults` or a dict of its fields."""
    if isinstance(faults, dict):
        f = Faults()
        f.update(faults)
        faults = f
    return MMSSimulator(seed, users, stbs, faults=faults, **options)


def main(argv: list[str] | None = None) -> None:
    """``python -m plugins.metroport_mms.simulator --port 8082``: serve until Ctrl-C."""
    from lmsplugins.simserver import serve

    parser = argparse.ArgumentParser(description="Metroport MMS (F-Secure, MetroTV) API simulator (loopback only)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--stbs", type=int, default=30)
    parser.add_argument("--accounts", type=int, default=None, help="MetroTV accounts (default: every third user)")
    parser.add_argument("--login", default="api-operator")
    parser.add_argument("--password", default="api-secret")
    args = parser.parse_args(argv)
    app = make_app(args.seed, args.users, args.stbs, login=args.login, password=args.password,
                   accounts=args.accounts)
    server = serve(app, port=args.port)
    print(f"Metroport MMS simulator on {server.url} (login {args.login}); Ctrl-C stops it", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
