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
benchmarks name expected values. Faults (:class:`Faults`): latency, 5xx, 429, 401 session expiry, truncated
and malformed bodies; a refused connection is a stopped server.

Status codes of STBs are inferred (spec §9: warehouse is 1, an issued one cannot be deleted: 3).
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from lmsplugins.simserver import FaultSet, count_down, serve_until_interrupted

from .simdata import ISSUED, STB_STATUS, WAREHOUSE, Dataset, Reject, ip_text

COOKIE = "sess_ci"


@dataclass
class Faults(FaultSet):
    """Faults to inject; counters apply to the next N API requests and count down."""

    latency: float = 0.0
    http_5xx: int = 0
    status_5xx: int = 503
    rate_limit: int = 0
    """The next N API requests answer 429 with ``Retry-After: retry_after``."""
    retry_after: int = 1
    expire_session: int = 0
    """The next N authenticated requests find their session gone (401)."""
    truncate: int = 0
    """The next N list answers are cut in half."""
    malformed: int = 0
    """The next N list answers are ``malformed_body`` (HTTP 200)."""
    malformed_body: str = '{"status":false,"message":"Unexpected error"'
    slow_create: float = 0.0
    """Creates (POST) are done, then the answer waits this long (a client timeout loses it)."""


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)
    logins: int = 0
    refused_logins: int = 0
    login_formats: Counter[str] = field(default_factory=Counter)
    bodies: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, path, body) of every write, the last 200."""


class MMSSimulator:
    """The WSGI app; state lives as long as the instance."""

    def __init__(
        self,
        seed: int = 1,
        users: int = 20,
        stbs: int = 30,
        *,
        login: str = "api-operator",
        password: str = "api-secret",
        faults: Faults | None = None,
        **sizes: Any,
    ):
        self.data = Dataset(seed, users, stbs, **sizes)
        self.login_name, self.password = login, password
        self.faults = faults or Faults()
        self.stats = Stats()
        self._sessions: set[str] = set()
        self._lock = threading.RLock()
        self._index: dict[tuple[str, str], list[dict[str, Any]]] | None = None

    def client_settings(self, url: str) -> dict[str, str]:
        """The plugin's settings that log in to this instance served at *url*."""
        return {
            "metroport.serwer_url": url.rstrip("/"),
            "metroport.api_login": self.login_name,
            "metroport.api_pass": self.password,
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.handle(Request(environ))(environ, start_response)

    def expire_sessions(self) -> None:
        with self._lock:
            self._sessions.clear()

    def _take(self, name: str) -> bool:
        with self._lock:
            return count_down(self.faults, name)

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
        if self._take("rate_limit"):
            response = _json({"status": False, "error": "Too Many Requests"}, 429)
            response.headers["Retry-After"] = str(self.faults.retry_after)
            return response
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
        except Reject as reject:
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
                raise Reject(401, "Unauthorized")
            if self._take("expire_session"):
                self._sessions.discard(token)
                raise Reject(401, "Unauthorized")

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
            raise Reject(400, "a JSON object is expected")
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
                    raise Reject(404, f"user {uid} not found")
                if method == "GET":
                    return {"id": user["userid"], **user}
                for k in (
                    "customertype",
                    "name",
                    "lastname",
                    "pesel",
                    "nip",
                    "city1",
                    "zip1",
                    "streetname1",
                    "streetno1",
                    "local1",
                    "email",
                ):
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
                rows = [
                    {**n, "address_long": ip_text(n["address"]), "TotalSTBs": d.total_stbs(n["id"])}
                    for n in d.networks.values()
                ]
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
                    raise Reject(404, f"STB {sid} not found")
                if stb["status"] == ISSUED:
                    raise Reject(409, "an issued STB cannot be deleted; unlink it first")
                del d.stbs[stb["id"]]
                return {"status": True}
            case ["iptv", "accounts"]:
                if method == "GET":
                    uid = request.args.get("userid")
                    rows = [
                        self._account_row(a) for a in d.accounts.values() if uid is None or a["userid"] == _num(uid)
                    ]
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
                        raise Reject(404, "no orders")
                    return self._list(rows)
                if method == "POST":
                    price = body.get("pricebrutto")
                    if price is not None and not _is_price(str(price)):
                        raise Reject(400, f"pricebrutto {price!r} is not an amount")
                    return d.add_order(_num(body.get("accountid")), _num(body.get("pkg_id")), price)
            case ["iptv", "orders", oid] if method == "DELETE":
                return self._order_delete(_num(oid), form)
        raise Reject(404, "Not Found")

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
                raise Reject(404, "Nie znaleziono")
            return self._list(rows, enveloped=True)
        return self._list(list(self.data.users.values()), enveloped=True)

    def _create_user(self, body: dict[str, Any]) -> int:
        d = self.data
        if not str(body.get("lastname") or "").strip():
            raise Reject(400, "lastname is required")
        for key in ("pesel", "nip"):
            value = str(body.get(key) or "").strip()
            if value and any(u[key] == value for u in d.users.values()):
                raise Reject(409, f"a user with this {key} exists")
        uid = d.next_user
        d.next_user += 3
        d.users[uid] = {
            "userid": uid,
            **{
                k: str(body.get(k) or "")
                for k in (
                    "customertype",
                    "name",
                    "lastname",
                    "email",
                    "pesel",
                    "nip",
                    "zip1",
                    "city1",
                    "streetname1",
                    "streetno1",
                    "local1",
                )
            },
        }
        return uid

    # -- F-Secure ----------------------------------------------------------------------------------

    def _fsecure_add(self, body: dict[str, Any]) -> dict[str, Any]:
        d = self.data
        uid, pkg_id = _num(body.get("userid")), _num(body.get("secur_serviceid"))
        if uid not in d.users:
            raise Reject(400, f"unknown userid {uid}")
        pkg = next((p for p in d.fsecure_packages if p["id"] == pkg_id), None)
        if pkg is None:
            raise Reject(400, f"unknown secur_serviceid {pkg_id}")
        return d.add_service(uid, pkg_id, pkg["license_size"], "new")

    def _fsecure_change(self, method: str, sid: int, action: list[str], form: dict[str, str]) -> Any:
        d = self.data
        service = d.services.get(sid)
        if service is None:
            raise Reject(404, f"service {sid} not found")
        if method == "DELETE" and not action:
            service["status"] = "deleted"
            d.operation(service["userid"], sid, "delete")
            return {"status": True}
        if method == "PUT" and action in (["block"], ["unblock"]):
            if service["status"] == "deleted":
                raise Reject(409, "the service is deleted")
            service["status"] = "blocked" if action == ["block"] else "active"
            service["blockdate"] = int(time.time()) if action == ["block"] else 0
            d.operation(service["userid"], sid, action[0])
            return {"status": True}
        if method == "PUT" and not action:
            pkg_id = _num(form.get("secur_serviceid", ""))
            pkg = next((p for p in d.fsecure_packages if p["id"] == pkg_id), None)
            if pkg is None:
                raise Reject(400, f"unknown secur_serviceid {pkg_id}")
            service.update(secur_serviceid=pkg_id, license_size=pkg["license_size"])
            d.operation(service["userid"], sid, "change")
            return {"status": True}
        raise Reject(404, "Not Found")

    # -- MetroTV -----------------------------------------------------------------------------------

    def _stb_add(self, body: dict[str, Any]) -> dict[str, Any]:
        d = self.data
        mac = str(body.get("mac") or "").upper()
        serial = str(body.get("serialnumber") or "").strip()
        model = next((m for m in d.models.values() if m["name"] == body.get("ModelName")), None)
        if model is None:
            raise Reject(400, f"unknown ModelName {body.get('ModelName')!r}")
        if len(mac) != 17 or not all(c in "0123456789ABCDEF" for c in mac.replace(":", "")) or mac.count(":") != 5:
            raise Reject(400, f"mac {mac!r} is not AA:BB:CC:DD:EE:FF")
        if not serial:
            raise Reject(400, "serialnumber is required")
        if any(s["mac"] == mac or s["serialnumber"] == serial for s in d.stbs.values()):
            raise Reject(409, "a STB with this mac or serial number exists")
        sid = d.next_stb
        d.next_stb += 1
        d.stbs[sid] = d._stb(sid, model["id"], serial, mac, WAREHOUSE)
        return d.stbs[sid]

    def _link(self, form: dict[str, str]) -> dict[str, Any]:
        d = self.data
        aid, oid, nid = _num(form.get("accountid", "")), _num(form.get("orderid", "")), _num(form.get("networkid", ""))
        stb = next((s for s in d.stbs.values() if s["mac"] == str(form.get("mac", "")).upper()), None)
        if stb is None:
            raise Reject(404, "STB not found")
        if stb["status"] != WAREHOUSE:
            raise Reject(409, f"the STB is not in the warehouse ({stb['StatusName']})")
        order = d.orders.get(oid)
        if aid not in d.accounts or order is None or order["accountid"] != aid or not order["active"]:
            raise Reject(400, "unknown account or order")
        if order["pkg_group"] not in (1, 3):
            raise Reject(409, "a STB goes on a base or multiroom package")
        network = d.networks.get(nid)
        if network is None:
            raise Reject(400, f"unknown network {nid}")
        used = d.total_stbs(nid)
        if used >= network["size"]:
            raise Reject(409, f"network {nid} is full ({used}/{network['size']})")
        user = d.users[d.accounts[aid]["userid"]]
        stb.update(
            status=ISSUED,
            StatusName=STB_STATUS[ISSUED],
            iptv_accountid=aid,
            networkid=nid,
            order_id=str(oid),
            userid=user["userid"],
            UserName=f"{user['lastname']} {user['name']}".strip(),
            ipaddr=network["address"] + used + 2,
            AddressIp=ip_text(network["address"] + used + 2),
        )
        return {"status": True}

    def _unlink(self, form: dict[str, str]) -> dict[str, Any]:
        stb = next((s for s in self.data.stbs.values() if s["mac"] == str(form.get("mac", "")).upper()), None)
        if stb is None or stb["iptv_accountid"] != _num(form.get("accountid", "")):
            raise Reject(404, "STB not linked to this account")
        stb.update(
            status=WAREHOUSE,
            StatusName=STB_STATUS[WAREHOUSE],
            iptv_accountid=0,
            networkid=0,
            order_id="",
            userid=0,
            UserName="",
            ipaddr=0,
            AddressIp="0.0.0.0",
        )
        return {"status": True}

    def _account_row(self, acc: dict[str, Any]) -> dict[str, Any]:
        live = self.data.live_orders(acc["id"])
        gross = sum(float(o["pricebrutto"]) for o in live)
        stbs = sum(1 for s in self.data.stbs.values() if s["iptv_accountid"] == acc["id"])
        return {
            **acc,
            "TotalSTBs": stbs,
            "TotalBrutto": f"{gross:.2f}",
            "TotalNetto": f"{gross / 1.23:.2f}",
            "TotalVat": f"{gross - gross / 1.23:.2f}",
        }

    def _account(self, method: str, aid: int, action: list[str], form: dict[str, str]) -> Any:
        d = self.data
        acc = d.accounts.get(aid)
        if acc is None:
            raise Reject(404, f"account {aid} not found")
        if method == "GET" and not action:
            return self._account_card(acc)
        if method == "PUT" and action in (["blockaccount"], ["unblockaccount"]):
            if _num(form.get("accountid", "")) != aid:
                raise Reject(400, "accountid in the body does not match")
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
                raise Reject(400, "accountid in the body does not match")
            if d.live_orders(aid):
                raise Reject(409, "the account still has packages")
            del d.accounts[aid]
            return {"status": True}
        raise Reject(404, "Not Found")

    def _account_card(self, acc: dict[str, Any]) -> dict[str, Any]:
        d = self.data
        user = d.users[acc["userid"]]
        packages: dict[str, Any] = {"MainPackage": None, "ExtraPackages": {}, "MultiroomPackages": []}
        for order in d.live_orders(acc["id"]):
            stbs = [
                {
                    "id": s["id"],
                    "ModelName": s["ModelName"],
                    "AddressIp": s["AddressIp"],
                    "serialnumber": s["serialnumber"],
                    "mac": s["mac"],
                    "servicetype": s["servicetype"],
                }
                for s in d.stbs.values()
                if s["order_id"] == str(order["id"])
            ]
            entry = {
                **order,
                "actual_pricebrutto": order["pricebrutto"],
                "stb_data": stbs[0] if len(stbs) == 1 else stbs,
            }
            if order["pkg_group"] == 1:
                packages["MainPackage"] = entry
            elif order["pkg_group"] == 3:
                packages["MultiroomPackages"].append(entry)
            else:
                packages["ExtraPackages"][str(order["id"])] = entry
        row = self._account_row(acc)
        return {
            **acc,
            "NetworkData": d.networks[acc["iptv_networkid"]],
            "UserData": {k: user[k] for k in ("city1", "zip1", "streetname1", "streetno1", "local1")},
            "Packages": packages,
            "PackagesSums": {k: row[k] for k in ("TotalNetto", "TotalVat", "TotalBrutto")},
        }

    def _order_delete(self, oid: int, form: dict[str, str]) -> dict[str, Any]:
        d = self.data
        order = d.orders.get(oid)
        if (
            order is None
            or _num(form.get("orderid", "")) != oid
            or _num(form.get("accountid", "")) != order["accountid"]
        ):
            raise Reject(404, "order not found for this account")
        if any(s["order_id"] == str(oid) for s in d.stbs.values()):
            raise Reject(409, "the package has a STB; unlink it first")
        order.update(active=0, date_end=time.strftime("%Y-%m-%d"))
        return {"status": True}


def _num(value: Any) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise Reject(400, f"{str(value)[:30]!r} is not a number") from None


def _is_price(text: str) -> bool:
    head, _, tail = text.partition(".")
    return head.isdigit() and len(tail) == 2 and tail.isdigit()


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), status, content_type="application/json; charset=utf-8")


def make_app(
    seed: int = 1, users: int = 20, stbs: int = 30, faults: Faults | dict[str, Any] | None = None, **options: Any
) -> MMSSimulator:
    """The simulator as a WSGI app; *faults* may be a :class:`Faults` or a dict of its fields."""
    if isinstance(faults, dict):
        f = Faults()
        f.update(faults)
        faults = f
    return MMSSimulator(seed, users, stbs, faults=faults, **options)


def main(argv: list[str] | None = None) -> None:
    """``python -m plugins.metroport_mms.simulator --port 8082``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Metroport MMS (F-Secure, MetroTV) API simulator (loopback only)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--stbs", type=int, default=30)
    parser.add_argument("--accounts", type=int, default=None, help="MetroTV accounts (default: every third user)")
    parser.add_argument("--login", default="api-operator")
    parser.add_argument("--password", default="api-secret")
    args = parser.parse_args(argv)
    app = make_app(args.seed, args.users, args.stbs, login=args.login, password=args.password, accounts=args.accounts)
    serve_until_interrupted(app, args.port, f"Metroport MMS simulator on {{url}} (login {args.login}); Ctrl-C stops it")


if __name__ == "__main__":
    main()
