"""One ``get_user_list`` element written straight as JSON text, for the whole-base export.

:func:`mapping.user_element` builds a dict of dicts that the json module then walks again; for
100,000 customers the two passes cost about half of the export's CPU. :func:`user_json` makes the
same decisions (it calls the same rule functions of :mod:`mapping`) but writes the text as it goes:
fixed keys are literal fragments, strings go through the json module's own C escaper, numbers
through ``str``. The text is byte for byte what ``dumps(user_element(bundle, options))`` gives
(compact separators, no ASCII escaping, same key order); a test holds the two equal on a dataset
with every kind of customer. Any change of shape goes into both.
"""

from __future__ import annotations

from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

from lmsplugins.lms import addresses as lms_addresses

from . import mapping
from .mapping import (
    ADDITIONAL_FIELDS,
    CONTACT_DISABLED,
    CONTACT_EMAIL,
    CONTACT_LANDLINE,
    CONTACT_MOBILE,
    TYPE_COMPANY,
    Options,
    date_only,
    date_time,
    mac12,
    money,
)

_q = encode_basestring


def _tariff(assignments: Any, options: Options) -> str:
    now, zone, types = options.now, options.zone, options.tariff_types
    current: list[str] = []
    upcoming: list[str] = []
    for a in assignments:
        if a.tariffid is None or a.tariff_type not in types:
            continue
        if a.dateto and a.dateto <= now:
            continue
        if a.datefrom > now:
            upcoming.append(f'{{"id":"{a.tariffid}","date_start":"{date_only(a.datefrom, zone)}"}}')
        elif a.dateto:
            current.append(f'{{"id":"{a.tariffid}","date_finish":"{date_only(a.dateto, zone)}"}}')
        else:
            current.append(f'{{"id":"{a.tariffid}"}}')
    return f'"tariff":{{"current":[{",".join(current)}],"new":[{",".join(upcoming)}]}}'


def _services(assignments: Any, options: Options) -> str:
    now, types = options.now, options.tariff_types
    by_tariff: dict[str, list[str]] = {}
    for a in assignments:
        if a.tariffid is None or a.tariff_type in types or not (a.datefrom <= now and (not a.dateto or a.dateto > now)):
            continue
        entry = f'"cost":"{money(a.tariff_value)}"'
        if a.datefrom:
            entry += f',"date_add":"{date_time(a.datefrom, options.zone)}"'
        if a.tariff_name:
            entry += f',"comment":{_q(a.tariff_name)}'
        by_tariff.setdefault(str(a.tariffid), []).append("{" + entry + "}")
    return '"service":{' + ",".join(f'"{k}":[{",".join(v)}]' for k, v in by_tariff.items()) + "}"


def _agreements(customer: Any, contracts: Any, options: Options) -> str:
    items = []
    for c in contracts:
        number = (c.fullnumber or str(c.number)).strip()
        parts = []
        if number:
            parts.append(f'"number":{_q(number)}')
        if c.cdate:
            parts.append(f'"date":"{date_only(c.cdate, options.zone)}"')
        items.append("{" + ",".join(parts) + "}")
    if not items and options.agreement_fallback:
        date = f',"date":"{date_only(customer.creationdate, options.zone)}"' if customer.creationdate else ""
        items.append(f'{{"number":"{customer.id}"{date}}}')
    return '"agreement":[' + ",".join(items) + "]"


def _contacts(rows: Any) -> str:
    phones: list[str] = []
    emails: list[str] = []
    for row in rows:
        kind = row.type or 0
        if kind & CONTACT_DISABLED or not (row.contact or "").strip():
            continue
        comment = f',"comment":{_q(row.name)}' if row.name else ""
        if kind & (CONTACT_MOBILE | CONTACT_LANDLINE):
            phones.append(f'{{"number":{_q(row.contact.strip())},"flag_main":{0 if phones else 1}{comment}}}')
        elif kind & CONTACT_EMAIL:
            emails.append(f'{{"address":{_q(row.contact.strip())},"flag_main":{0 if emails else 1}{comment}}}')
    return f'"phone":[{",".join(phones)}],"email":[{",".join(emails)}]'


_HOUSES: dict[tuple[Any, ...], int | None] = {}
"""House id by the address columns it derives from: neighbours share buildings, and a free-text
address costs three SHA-1 hashes. Emptied when it reaches :data:`_HOUSES_MAX` entries."""
_HOUSES_MAX = 16_384


def _house(row: Any) -> int | None:
    key = (row.city_id, row.city, row.street_id, row.street, row.house, row.building_id)
    house = _HOUSES.get(key, -1)
    if house == -1:
        if len(_HOUSES) >= _HOUSES_MAX:
            _HOUSES.clear()
        house = _HOUSES[key] = lms_addresses.address_ids(row).house_id
    return house


def _addresses(rows: Any, address_type: str) -> str:
    """The rows were read for the types of *address_type* only, so a single row is the one chosen."""
    items = []
    for row in rows if len(rows) == 1 else mapping.chosen_addresses(rows, address_type):
        house = _house(row)
        if house is None:
            continue
        flat = (row.flat or "").strip()
        if flat:
            flat = _q(flat)
            items.append(
                f'{{"type":"connect","house_id":"{house}","apartment":{{"full_name":{flat},"number":{flat}}}}}'
            )
        else:
            items.append(f'{{"type":"connect","house_id":"{house}"}}')
    return '"address":[' + ",".join(items) + "]"


def _ip_mac(nodes: Any) -> str:
    seen: set[int] = set()
    items = []
    for node in nodes:
        if not node.ipaddr:
            continue
        ip = int(node.ipaddr)
        if ip in seen:
            continue
        seen.add(ip)
        mac = mac12(node.mac)
        items.append(f'"{ip}":{{"ip":{ip},"mac":"{mac}"}}' if mac else f'"{ip}":{{"ip":{ip}}}')
    return '"ip_mac":{' + ",".join(items) + "}"


def user_json(bundle: Any, options: Options) -> str:
    """``"id":{...}``: the member of get_user_list's object for one customer, as JSON text."""
    c = bundle.customer
    cid = str(c.id)
    nodes = mapping._distinct_nodes(bundle.nodes)
    balance = Decimal(bundle.balance or 0)
    assignments = bundle.assignments
    suspended = mapping.is_suspended(assignments, options.tariff_types, options.now)
    groups = ",".join(f'"{g}":{{"id":"{g}"}}' for g in dict.fromkeys(bundle.groups))
    state = mapping.state_id(c.status, nodes, suspended, balance, options.debt_is_nomoney)
    up, down = bundle.traffic
    extra = []
    for name in options.additional_data:
        value = str(getattr(c, name, "") or "").strip()
        if value:
            extra.append(f'{{"id":"{ADDITIONAL_FIELDS[name][0]}","value":{_q(value)}}}')
    parts = [
        f'"{cid}":{{"id":"{cid}","billing_id":"{cid}","login":{_q(mapping._login(c, nodes, options.login_source))}',
        f'"full_name":{_q(f"{c.lastname} {c.name}".strip())},"flag_corporate":{1 if c.type == TYPE_COMPANY else 0}',
        _tariff(assignments, options),
        _services(assignments, options),
        _agreements(c, bundle.contracts, options),
        f'"account_number":{_q(mapping._account_number(c, bundle.contacts, options.account_number_source))}',
        f'"group":{{{groups}}},"balance":"{money(balance)}","credit":"0.00"',
        f'"discount":"{mapping._discount(assignments, options)}","state_id":"{state}"',
        f'"traffic":{{"month":{{"up":{int(up)},"down":{int(down)}}}}}',
        _addresses(bundle.addresses, options.address_type),
        _contacts(bundle.contacts),
        _ip_mac(bundle.nodes),
        f'"additional_data":[{",".join(extra)}]',
    ]
    comment = (c.notes or "").strip()
    if comment:
        parts.append(f'"comment":{_q(comment)}')
    if c.creationdate:
        parts.append(f'"date_create":"{date_time(c.creationdate, options.zone)}"')
    starts = [a.datefrom for a in assignments if a.tariffid is not None and a.datefrom]
    if starts:
        parts.append(f'"date_connect":"{date_time(min(starts), options.zone)}"')
    online = max((n.lastonline or 0 for n in nodes), default=0)
    if online:
        parts.append(f'"date_activity":"{date_time(online, options.zone)}"')
    if options.export_password and nodes and nodes[0].passwd:
        parts.append(f'"password":{_q(nodes[0].passwd)}')
    return ",".join(parts) + "}"
