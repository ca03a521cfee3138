"""The universal API's methods: each reads LMS through the host's gateways and yields JSON chunks.

A method is a function ``(ctx) -> Answer``; the view turns the answer into one whole document with
:func:`lmsplugins.web.machine.json_document`. Collections are produced as generators over streamed
rows, so ``get_user_list`` never holds more than one chunk of customers (see
:mod:`lmsplugins.lms.customer_bundles`).
"""

from __future__ import annotations

import gc
import platform
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from lmsplugins.lms import addresses as lms_addresses
from lmsplugins.lms import cash as lms_cash
from lmsplugins.lms.customer_bundles import CustomerBundle, iter_customers
from lmsplugins.lms.settings import get_dbinfo
from lmsplugins.lms.tables import customergroups, tariffs
from lmsplugins.web.machine import RowCounter, json_array, json_object

from . import devices, mapping
from .user_json import user_json

GC_THRESHOLD = 100_000
"""Allocations between two young-generation collections during get_user_list (Python's default: 700)."""
SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL before another waiting thread gets it, during get_user_list
(Python's default: 0.005). The read-ahead thread needs the GIL back after each wait for PostgreSQL;
at the default it waited up to 5 ms each time behind the encoding thread, fell behind, and the
encoder then waited 2.6 s of a 7.4 s export for chunks (measured on the 100,000-customer bench)."""


class ApiError(Exception):
    """A request the API refuses (answered 400 with ``{"result":"error","error":...}``)."""


@dataclass
class Context:
    conn: Connection
    settings: Any
    args: Any
    now: int

    @property
    def options(self) -> mapping.Options:
        return mapping.Options.from_settings(self.settings, self.now)


@dataclass
class Answer:
    chunks: Iterator[str]
    rows: RowCounter


def _object(pairs: Any) -> Answer:
    counter = RowCounter()
    return Answer(json_object(counter.count(pairs)), counter)


def _single(value: Any) -> Answer:
    return _object(iter(value.items()))


def customer_id_arg(args: Any) -> int:
    raw = (args.get("customer_id") or "").strip()
    if not raw:
        raise ApiError("customer_id is required")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > 2**31 - 1:
        raise ApiError("customer_id must be a number")
    return int(raw)


def supported_method_list(ctx: Context) -> Answer:
    served = methods(bool(ctx.settings["userside.writeback"]))
    return _object((name, {"comment": comment}) for name, (comment, _) in served.items())


def api_information(ctx: Context) -> Answer:
    return _single(mapping.API_VERSION)


def system_information(ctx: Context) -> Answer:
    version = get_dbinfo(ctx.conn, "dbversion") or ""
    return _single(
        {
            "date": mapping.date_time(ctx.now, ctx.options.zone),
            "os": platform.system(),
            "billing": {"name": "LMS", "version": version},
        }
    )


def _tariff_rows(ctx: Context, internet: bool) -> Iterator[Any]:
    types = ctx.options.tariff_types
    t = tariffs
    query = select(t.c.id, t.c.name, t.c.value, t.c.period, t.c.uprate, t.c.downrate, t.c.type).where(t.c.disabled == 0)
    query = query.where(t.c.type.in_(list(types)) if internet else t.c.type.not_in(list(types) or [-1]))
    yield from ctx.conn.execute(query.order_by(t.c.id))


def tariff_list(ctx: Context) -> Answer:
    return _object((str(r.id), mapping.tariff_element(r)) for r in _tariff_rows(ctx, True))


def services_list(ctx: Context) -> Answer:
    return _object((str(r.id), mapping.service_element(r)) for r in _tariff_rows(ctx, False))


def _dictionary(ctx: Context, index: int) -> Iterator[tuple[str, Any]]:
    """The cities, streets or houses of exactly the addresses ``get_user_list`` sends."""
    address_type = ctx.options.address_type
    seen: set[int] = set()
    rows = lms_addresses.used_addresses(ctx.conn, mapping.ADDRESS_TYPES[address_type])
    for _, own in groupby(rows, key=lambda r: r.customer_id):
        for row in mapping.chosen_addresses(list(own), address_type):
            entry = mapping.dictionary_entries(row)[index]
            if entry is not None and entry[0] not in seen:
                seen.add(entry[0])
                yield str(entry[0]), entry[1]


def city_list(ctx: Context) -> Answer:
    return _object(_dictionary(ctx, 0))


def street_list(ctx: Context) -> Answer:
    return _object(_dictionary(ctx, 1))


def house_list(ctx: Context) -> Answer:
    return _object(_dictionary(ctx, 2))


def user_state_list(ctx: Context) -> Answer:
    return _single(mapping.state_list())


def user_group_list(ctx: Context) -> Answer:
    g = customergroups
    rows = ctx.conn.execute(select(g.c.id, g.c.name).order_by(g.c.id))
    return _object((str(r.id), {"id": str(r.id), "name": r.name}) for r in rows)


def additional_data_type_list(ctx: Context) -> Answer:
    return _single(mapping.additional_type_list(ctx.options.additional_data))


def _bundles(ctx: Context, options: mapping.Options, customer_id: int | None) -> Iterator[CustomerBundle]:
    return iter_customers(
        ctx.conn,
        address_types=mapping.ADDRESS_TYPES[options.address_type],
        now=ctx.now,
        month_start=mapping.month_start(ctx.now, options.zone),
        chunk_size=max(1, int(ctx.settings["userside.chunk_size"])),
        customer_id=customer_id,
        customer_fields=options.additional_data,
        passwords=options.export_password,
    )


def user_elements(ctx: Context, customer_id: int | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(id, element) pairs as dicts: the reference form (admin preview, tests, bench baseline)."""
    options = ctx.options
    for bundle in _bundles(ctx, options, customer_id):
        yield str(bundle.customer.id), mapping.user_element(bundle, options)


def _user_object(ctx: Context, customer_id: int | None, counter: RowCounter) -> Iterator[str]:
    """The get_user_list object as text, one piece per customer (:func:`user_json`).

    The collector runs rarely while the export runs: it allocates millions of short-lived acyclic
    tuples, strings and lists (all freed by reference counting), and at the default threshold a
    collection every 700 of them walked the young objects again, a fifth of the export's CPU."""
    options = ctx.options
    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(GC_THRESHOLD, *thresholds[1:])
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        yield "{"
        separator = ""
        for bundle in _bundles(ctx, options, customer_id):
            yield separator + user_json(bundle, options)
            separator = ","
            counter.rows += 1
        yield "}"
    finally:
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)


def user_list(ctx: Context) -> Answer:
    customer_id = None
    if ctx.args.get("customer_id") is not None:
        customer_id = customer_id_arg(ctx.args)
        if not lms_cash.customer_exists(ctx.conn, customer_id):
            raise ApiError(f"customer {customer_id} does not exist")
    counter = RowCounter()
    return Answer(_user_object(ctx, customer_id, counter), counter)


def empty(ctx: Context) -> Answer:
    return _object(iter(()))


def user_history(ctx: Context) -> Answer:
    customer_id = customer_id_arg(ctx.args)
    if not lms_cash.customer_exists(ctx.conn, customer_id):
        raise ApiError(f"customer {customer_id} does not exist")
    zone = ctx.options.zone
    counter = RowCounter()
    entries = (mapping.history_entry(e, zone) for e in lms_cash.history(ctx.conn, customer_id))
    return Answer(json_array(counter.count(entries)), counter)


def device_types(ctx: Context) -> Answer:
    return _object(devices.device_types())


def device_models(ctx: Context) -> Answer:
    return _object(devices.device_models(ctx.conn))


def device_list(ctx: Context) -> Answer:
    return _object(devices.device_list(ctx.conn))


Method = Callable[[Context], Answer]

READ_METHODS: dict[str, tuple[str, Method]] = {
    "get_supported_method_list": ("methods served", supported_method_list),
    "get_api_information": ("API version", api_information),
    "get_system_information": ("billing and system", system_information),
    "get_tariff_list": ("tariffs (LMS internet tariffs)", tariff_list),
    "get_city_list": ("cities of customer addresses", city_list),
    "get_street_list": ("streets of customer addresses", street_list),
    "get_house_list": ("houses of customer addresses", house_list),
    "get_user_state_list": ("user states", user_state_list),
    "get_user_group_list": ("customer groups", user_group_list),
    "get_user_additional_data_type_list": ("additional data fields", additional_data_type_list),
    "get_user_list": ("customers (all, or customer_id)", user_list),
    "get_user_tags": ("user tags (LMS has none)", empty),
    "get_services_list": ("services (LMS tariffs that are not internet)", services_list),
    "get_user_history": ("financial history of customer_id", user_history),
    "get_user_messages": ("messages (LMS keeps none for UserSide)", empty),
    "get_device_type": ("network device types", device_types),
    "get_device_model": ("network device models", device_models),
    "get_device_list": ("network devices", device_list),
}


WRITE_NAMES = frozenset({"get_supported_change_user_state", "get_supported_change_user_tariff", "change_user_data"})


def methods(writeback: bool) -> dict[str, tuple[str, Method]]:
    """Every method served; the write-back ones only when ``userside.writeback`` is on."""
    if not writeback:
        return dict(READ_METHODS)
    from .writeback import WRITE_METHODS

    return {**READ_METHODS, **WRITE_METHODS}


def now() -> int:
    return int(time.time())
