"""The provider's state behind the Metroport MMS simulator: users, F-Secure packages, services and
operations, MetroTV packages, networks, STB models, the STB warehouse, accounts and orders, generated
from a seed (any size) and changed only through the methods that carry the provider's rules."""

from __future__ import annotations

import random
import time
from typing import Any

STB_STATUS = {1: "w magazynie", 2: "zarezerwowane", 3: "wydane", 4: "uszkodzone", 5: "usunięte"}
WAREHOUSE, RESERVED, ISSUED, BROKEN, DELETED = 1, 2, 3, 4, 5
FSECURE_STATUSES = ("reserved", "new", "active", "blocked", "deleted")
_FIRST = ("Jan", "Anna", "Piotr", "Maria", "Krzysztof", "Katarzyna", "Tomasz", "Małgorzata", "Paweł", "Zofia")
_LAST = ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński")
_FIRMS = ("Usługi Handel", "Piekarnia Pod Lipą", "Auto-Serwis", "Biuro Rachunkowe", "Sklep Groszek")
_CITIES = (("Warszawa", "00-950"), ("Kraków", "30-001"), ("Łódź", "90-001"), ("Gdańsk", "80-001"))
_STREETS = ("Długa", "Polna", "Leśna", "Słoneczna", "Kościuszki", "Mickiewicza")
_MODELS = (("MAG-322", "Infomir MAG 322", 1, 0), ("MAG-424", "Infomir MAG 424 4K", 1, 1), ("KSTB-6077", "Kaon", 0, 1))


class Reject(Exception):
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

    def __init__(
        self,
        seed: int = 1,
        users: int = 20,
        stbs: int = 30,
        accounts: int | None = None,
        networks: int = 3,
        network_size: int = 64,
    ):
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
            {
                "id": 11,
                "ext_id": "FS-SAFE-1",
                "name": "F-Secure SAFE 1",
                "description": "1 urządzenie",
                "license_size": 1,
            },
            {
                "id": 12,
                "ext_id": "FS-SAFE-3",
                "name": "F-Secure SAFE 3",
                "description": "3 urządzenia",
                "license_size": 3,
            },
            {
                "id": 13,
                "ext_id": "FS-TOTAL-5",
                "name": "F-Secure TOTAL 5",
                "description": "5 urządzeń",
                "license_size": 5,
            },
        ]
        self.services: dict[int, dict[str, Any]] = {}
        self.operations: list[dict[str, Any]] = []
        self.next_service = 5001
        self.tv_packages = self._tv_packages()
        self.networks = {
            n: {
                "id": n,
                "name": f"IPTV-{n}",
                "address": (10 << 24) + (n << 16),
                "mask_prefix": 24,
                "mask": "255.255.255.0",
                "size": network_size,
                "transport": "multicast",
            }
            for n in range(1, networks + 1)
        }
        self.models = {
            i + 1: {"id": i + 1, "name": m[0], "description": m[1], "mycast_supported": m[2], "probe": m[3]}
            for i, m in enumerate(_MODELS)
        }
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
        row = {
            "id": sid,
            "userid": userid,
            "secur_serviceid": serviceid,
            "license_size": size,
            "status": status,
            "activedate": now,
            "blockdate": now if status == "blocked" else 0,
        }
        self.services[sid] = row
        self.operation(userid, sid, "create")
        return row

    def operation(self, userid: int, sid: int, kind: str) -> None:
        now = int(time.time())
        self.operations.append(
            {
                "id": len(self.operations) + 1,
                "userid": userid,
                "secur_accountid": sid,
                "status": "done",
                "type": kind,
                "errormsg": "",
                "creationdate": now,
                "execdate": now,
            }
        )

    def add_account(self, body: dict[str, Any]) -> int:
        try:
            userid, network = int(body.get("userid")), int(body.get("iptv_networkid"))
        except (TypeError, ValueError):
            raise Reject(400, "userid and iptv_networkid are required numbers") from None
        if userid not in self.users:
            raise Reject(400, f"unknown userid {userid}")
        if network not in self.networks:
            raise Reject(400, f"unknown iptv_networkid {network}")
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
            raise Reject(404, f"unknown account {aid}")
        pkg = self.tv_packages.get(pkg_id)
        if pkg is None or not pkg["active"]:
            raise Reject(400, f"unknown or inactive package {pkg_id}")
        live = self.live_orders(aid)
        base = [o for o in live if o["pkg_group"] == 1]
        if pkg["pkg_group"] == 1 and base:
            raise Reject(409, "the account already has a base package")
        if pkg["pkg_group"] != 1:
            if not base:
                raise Reject(409, "an extra package needs a base package first")
            denied = {d.strip() for d in str(self.tv_packages[base[0]["pkg_id"]]["pkg_denied"] or "").split(",")}
            if str(pkg_id) in denied:
                raise Reject(409, f"package {pkg_id} is denied by the base package {base[0]['pkg_id']}")
        oid = self.next_order
        self.next_order += 1
        order = {
            "id": oid,
            "accountid": aid,
            "pkg_id": pkg_id,
            "pkg_name": pkg["pkg_name"],
            "pkg_group": pkg["pkg_group"],
            "pkg_valid_from": pkg["pkg_valid_from"],
            "pkg_valid_to": pkg["pkg_valid_to"],
            "active": 1,
            "date_start": time.strftime("%Y-%m-%d"),
            "date_end": "",
            "pricebrutto": price if price is not None else pkg["pricebrutto"],
        }
        self.orders[oid] = order
        self.account_orders.setdefault(aid, []).append(order)
        return order

    def total_stbs(self, network: int) -> int:
        return sum(1 for s in self.stbs.values() if s["networkid"] == network and s["status"] == ISSUED)


def ip_text(value: int) -> str:
    return ".".join(str((value >> s) & 0xFF) for s in (24, 16, 8, 0))
