"""A usm_billing-like consumer of the universal API, for the tests.

It does what UserSide's importer does: takes a configured base URL, appends ``&request=<method>``,
pulls the dictionaries and the users, and works out what it would create in UserSide. On the way it
checks every answer against the contract (spec §1.3 and §7): objects keyed by id where the wiki has
them, arrays where it has arrays, ids/login/account number as strings, money as 2-decimal strings,
``ip_mac`` keyed by the inet_aton of ``ip``, 12-hex MACs, the fields ABillS's schema requires, and
every reference (tariff, house, street, city, group, state, additional data) resolvable. A problem
is a line in :attr:`Report.problems`, so a test asserts the list is empty and reads it when not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Fetch = Callable[[str], tuple[int, bytes]]

METHODS = (
    "get_api_information",
    "get_supported_method_list",
    "get_system_information",
    "get_tariff_list",
    "get_city_list",
    "get_street_list",
    "get_house_list",
    "get_user_state_list",
    "get_user_group_list",
    "get_user_additional_data_type_list",
    "get_user_list",
)
MONEY = re.compile(r"^-?\d+\.\d{2}$")
MAC = re.compile(r"^[0-9a-f]{12}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")
FUNCTIONAL = {"work", "nomoney", "pause", "disable", "new"}
USER_REQUIRED = ("id", "full_name", "flag_corporate", "balance", "state_id", "traffic", "date_create", "login")
TARIFF_REQUIRED = ("name", "payment_interval", "speed", "traffic", "service_type")
HOUSE_REQUIRED = ("id", "street_id", "floor", "entrance", "full_name")


@dataclass
class Report:
    """What the import would create, and what was wrong with the answers."""

    answers: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    create: dict[str, int] = field(default_factory=dict)

    def problem(self, text: str) -> None:
        self.problems.append(text)


class UsmConsumer:
    def __init__(self, base_url: str, fetch: Fetch, passwords: bool = False):
        self.base_url = base_url
        self.fetch = fetch
        self.passwords = passwords

    def get(self, method: str, **params: str) -> tuple[int, Any]:
        url = f"{self.base_url}&request={method}" + "".join(f"&{k}={v}" for k, v in params.items())
        status, body = self.fetch(url)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body

    def run(self) -> Report:
        report = Report()
        for method in METHODS:
            status, data = self.get(method)
            if status != 200 or not isinstance(data, dict):
                report.problem(f"{method}: status {status}, not a JSON object")
                data = {}
            report.answers[method] = data
        self._check(report)
        return report

    # -- checks --------------------------------------------------------------------------------

    def _keyed(self, report: Report, method: str, required: tuple[str, ...] = ("id",)) -> dict[str, Any]:
        data = report.answers[method]
        for key, item in data.items():
            if not isinstance(item, dict):
                report.problem(f"{method}[{key}] is not an object")
                continue
            if str(item.get("id")) != key or not isinstance(item.get("id"), str):
                report.problem(f"{method}[{key}].id {item.get('id')!r} is not the key as a string")
            for name in required:
                if name not in item:
                    report.problem(f"{method}[{key}] lacks {name}")
        return data

    def _check(self, report: Report) -> None:
        a = report.answers
        info = a["get_api_information"]
        if info != {"version": "1.5", "date": "06.10.2017"}:
            report.problem(f"get_api_information: {info!r}")
        supported = set(a["get_supported_method_list"])
        for method in METHODS:
            if method not in supported:
                report.problem(f"{method} is used but not in get_supported_method_list")
        if "get_city_district_list" in supported:
            report.problem("get_city_district_list is advertised (LMS has no districts)")
        system = a["get_system_information"]
        if not isinstance(system.get("billing"), dict) or "name" not in system["billing"]:
            report.problem(f"get_system_information has no billing{{name}}: {system!r}")
        tariffs = self._keyed(report, "get_tariff_list", ("id", *TARIFF_REQUIRED))
        for key, tariff in tariffs.items():
            if not MONEY.match(str(tariff.get("payment"))):
                report.problem(f"tariff {key} payment {tariff.get('payment')!r}")
            speed = tariff.get("speed", {})
            if not (isinstance(speed.get("up"), int) and isinstance(speed.get("down"), int)):
                report.problem(f"tariff {key} speed {speed!r}")
        cities = self._keyed(report, "get_city_list", ("id", "name"))
        streets = self._keyed(report, "get_street_list", ("id", "city_id", "name", "full_name"))
        for key, street in streets.items():
            if street.get("city_id") not in cities:
                report.problem(f"street {key} refers to unknown city {street.get('city_id')}")
        houses = self._keyed(report, "get_house_list", HOUSE_REQUIRED)
        for key, house in houses.items():
            if house.get("street_id") not in streets:
                report.problem(f"house {key} refers to unknown street {house.get('street_id')}")
            if not isinstance(house.get("floor"), int) or not isinstance(house.get("entrance"), int):
                report.problem(f"house {key} floor/entrance are not integers")
        states = self._keyed(report, "get_user_state_list", ("id", "name", "functional"))
        for key, state in states.items():
            if state.get("functional") not in FUNCTIONAL:
                report.problem(f"state {key} functional {state.get('functional')!r}")
        groups = self._keyed(report, "get_user_group_list", ("id", "name"))
        extra = self._keyed(report, "get_user_additional_data_type_list", ("id", "name"))
        users = a["get_user_list"]
        ips = 0
        for key, user in users.items():
            ips += self._check_user(report, key, user, tariffs, houses, groups, states, extra)
        report.create = {
            "tariffs": len(tariffs),
            "cities": len(cities),
            "streets": len(streets),
            "houses": len(houses),
            "groups": len(groups),
            "users": len(users),
            "ips": ips,
        }

    def _check_user(self, report: Report, key: str, user: Any, tariffs, houses, groups, states, extra) -> int:
        where = f"user {key}"
        if not isinstance(user, dict):
            report.problem(f"{where} is not an object")
            return 0
        for name in USER_REQUIRED:
            if name not in user:
                report.problem(f"{where} lacks {name}")
        for name in ("id", "login", "billing_id", "account_number", "state_id"):
            if name in user and not isinstance(user[name], str):
                report.problem(f"{where}.{name} is not a string")
        if user.get("id") != key:
            report.problem(f"{where}.id differs from its key")
        for name in ("balance", "credit", "discount"):
            if name in user and not MONEY.match(str(user[name])):
                report.problem(f"{where}.{name} {user[name]!r} is not a 2-decimal string")
        if user.get("flag_corporate") not in (0, 1):
            report.problem(f"{where}.flag_corporate {user.get('flag_corporate')!r}")
        if user.get("state_id") not in states:
            report.problem(f"{where}.state_id {user.get('state_id')!r} unknown")
        if "date_create" in user and not DATETIME.match(user["date_create"]):
            report.problem(f"{where}.date_create {user['date_create']!r}")
        tariff = user.get("tariff", {"current": [], "new": []})
        for part in ("current", "new"):
            plans = tariff.get(part, [])
            if not isinstance(plans, list):
                report.problem(f"{where}.tariff.{part} is not an array")
                continue
            for plan in plans:
                if plan.get("id") not in tariffs:
                    report.problem(f"{where}.tariff.{part} refers to unknown tariff {plan.get('id')}")
        for name in ("agreement", "phone", "email", "address", "additional_data"):
            if name in user and not isinstance(user[name], list):
                report.problem(f"{where}.{name} is not an array")
        for agreement in user.get("agreement", []):
            if "date" in agreement and not DATE.match(agreement["date"]):
                report.problem(f"{where} agreement date {agreement['date']!r}")
        group = user.get("group", {})
        if not isinstance(group, dict):
            report.problem(f"{where}.group is not an object")
        else:
            for gid, item in group.items():
                if gid not in groups or item != {"id": gid}:
                    report.problem(f"{where}.group[{gid}] {item!r}")
        for address in user.get("address", []):
            if address.get("type") != "connect" or address.get("house_id") not in houses:
                report.problem(f"{where} address {address!r} refers to no house")
        for item in user.get("additional_data", []):
            if item.get("id") not in extra:
                report.problem(f"{where} additional data {item!r} of unknown type")
        traffic = user.get("traffic", {}).get("month", {})
        if not (isinstance(traffic.get("up"), int) and isinstance(traffic.get("down"), int)):
            report.problem(f"{where}.traffic.month {traffic!r}")
        ip_mac = user.get("ip_mac", {})
        if not isinstance(ip_mac, dict):
            report.problem(f"{where}.ip_mac is not an object")
            return 0
        for ip_key, item in ip_mac.items():
            if not isinstance(item.get("ip"), int) or str(item["ip"]) != ip_key:
                report.problem(f"{where}.ip_mac[{ip_key}] ip {item.get('ip')!r} is not its inet_aton key")
            if "mac" in item and not MAC.match(item["mac"]):
                report.problem(f"{where}.ip_mac[{ip_key}] mac {item['mac']!r}")
        if "password" in user and not self.passwords:
            report.problem(f"{where} exports a password")
        return len(ip_mac)
