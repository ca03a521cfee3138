"""LMS network devices -> UserSide's device export (``get_device_type``, ``get_device_model``,
``get_device_list``; spec §1.2).

LMS core keeps a device's producer and model as free text, so a model is identified by the pair and
gets a stable synthetic id (the same hash the address dictionaries use). Core LMS has no device
types either: every device is of the one type "network device" (switches, routers and ONUs alike).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Connection

from lmsplugins.lms import device_export
from lmsplugins.lms.addresses import synthetic_id

from .mapping import mac12

DEVICE_TYPE = "1"


def device_types() -> Iterator[tuple[str, dict[str, str]]]:
    yield DEVICE_TYPE, {"id": DEVICE_TYPE, "name": "network device"}


def model_id(producer: str | None, model: str | None) -> str:
    return str(synthetic_id("model", producer or "", model or ""))


def model_name(producer: str | None, model: str | None) -> str:
    return f"{(producer or '').strip()} {(model or '').strip()}".strip()


def _first_per_device(conn: Connection) -> Iterator[Any]:
    last = None
    for row in device_export.devices(conn):
        if row.id != last:
            last = row.id
            yield row


def device_models(conn: Connection) -> Iterator[tuple[str, dict[str, Any]]]:
    seen: set[str] = set()
    for row in _first_per_device(conn):
        name = model_name(row.producer, row.model)
        if not name:
            continue
        mid = model_id(row.producer, row.model)
        if mid not in seen:
            seen.add(mid)
            yield mid, {"id": mid, "type_id": DEVICE_TYPE, "name": name, "iface_count": int(row.ports or 0)}


def device_element(row: Any) -> dict[str, Any]:
    element: dict[str, Any] = {"id": str(row.id), "type_id": DEVICE_TYPE, "name": row.name}
    if model_name(row.producer, row.model):
        element["model_id"] = model_id(row.producer, row.model)
    if row.ipaddr:
        element["ip"] = int(row.ipaddr)
    mac = mac12(row.mac)
    if mac:
        element["mac"] = mac
    if (row.description or "").strip():
        element["comment"] = row.description.strip()
    return element


def device_list(conn: Connection) -> Iterator[tuple[str, dict[str, Any]]]:
    for row in _first_per_device(conn):
        yield str(row.id), device_element(row)
