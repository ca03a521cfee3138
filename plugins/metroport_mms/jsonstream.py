"""Objects of a JSON array decoded as its bytes arrive (``[{...}, {...}]``), for provider lists too large
to hold as one document plus one list (50,000 STBs of 43 fields each): each object is handed on as soon
as it is complete, so memory holds one network chunk and one object, not the whole answer."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


class StreamError(ValueError):
    """The body is not a JSON array of objects, or is cut short."""


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def iter_json_array(chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """Objects of a JSON array (``[{...}, {...}]``) as the bytes arrive. A body that is not such an
    array, is cut short or holds a non-object raises :class:`StreamError` after the objects before it."""
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    started = done = after_value = False
    pending = b""
    for chunk in chunks:
        pending += chunk
        try:
            text = pending.decode("utf-8")
            pending = b""
        except UnicodeDecodeError as exc:
            if exc.start < len(pending) - 3:
                raise StreamError("the answer is not UTF-8") from None
            text, pending = pending[: exc.start].decode("utf-8"), pending[exc.start :]
        buf = buf[pos:] + text
        pos = 0
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                if buf[pos] == ",":
                    if not after_value:
                        raise StreamError("expected a JSON array of objects, got a stray comma")
                    after_value = False
                pos += 1
            if pos >= len(buf):
                break
            if not started:
                if buf[pos] != "[":
                    raise StreamError(f"expected a JSON array, got {_short(buf[pos : pos + 80])}")
                started = True
                pos += 1
                continue
            if after_value and buf[pos] != "]":
                raise StreamError("expected a comma between the objects")
            if buf[pos] == "]":
                done = True
                pos += 1
                break
            try:
                obj, end = decoder.raw_decode(buf, pos)
            except ValueError:
                break
            if end == len(buf):
                break  # a number or a cut object may go on in the next chunk
            if not isinstance(obj, dict):
                raise StreamError(f"a row is not an object: {_short(repr(obj), 60)}")
            yield obj
            pos = end
            after_value = True
        if done:
            break
    rest = buf[pos:].strip()
    if not done:
        if rest:
            try:
                obj, end = decoder.raw_decode(buf, pos)
            except ValueError:
                obj = None
            if isinstance(obj, dict) and buf[end:].strip() == "]":
                yield obj
                return
        raise StreamError("the answer is cut short or not a JSON array")
    if rest:
        raise StreamError("unexpected data after the array")
