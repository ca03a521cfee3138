"""A small SOAP 1.1 RPC/encoded codec for the Hiperus C5 API, built on lxml.

Why not zeep: the platform publishes no WSDL and answers in SOAP-ENC Arrays of Apache ``Map``s, which
zeep handles poorly (spec §2, "zeep caveat"). The service speaks exactly what PHP's ``SoapClient`` and
``SoapServer`` produce in non-WSDL mode, so this module writes and reads that dialect and nothing else:

* requests: ``<ns1:request>`` with ``param0..param3``, the arguments as a ``SOAP-ENC:Struct`` and
  scalars typed the way PHP types them (``xsd:int``, ``xsd:float``, ``xsd:boolean``, ``xsd:string``,
  ``xsi:nil``);
* responses: a ``SOAP-ENC:Struct`` under ``requestResponse/return``; PHP associative arrays become
  ``ns2:Map`` (``item``/``key``/``value``), PHP lists become ``SOAP-ENC:Array``, PHP objects become
  ``SOAP-ENC:Struct``.

Python side: :class:`Struct` (a ``dict`` subclass) stands for a PHP object, a plain ``dict`` for a
PHP associative array (a Map), a ``list``/``tuple`` for a PHP list. Decoding gives the same types back,
so a value survives a round trip with its wire shape.

:func:`iter_response` reads a response incrementally with ``lxml.etree.iterparse`` and drops each
``result_set`` row once it has been yielded, so a million CDRs never sit in memory at once.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape

from lxml import etree

NS_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
NS_XSD = "http://www.w3.org/2001/XMLSchema"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_MAP = "http://xml.apache.org/xml-soap"

_XSI_TYPE = f"{{{NS_XSI}}}type"
_XSI_NIL = f"{{{NS_XSI}}}nil"
_ENC_ARRAYTYPE = f"{{{NS_ENC}}}arrayType"
_FAULT = f"{{{NS_ENV}}}Fault"

_INT_TYPES = frozenset(
    {"int", "integer", "long", "short", "byte", "unsignedInt", "unsignedLong", "unsignedShort",
     "unsignedByte", "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger"}
)
_FLOAT_TYPES = frozenset({"float", "double"})


class Struct(dict[str, Any]):
    """A PHP object (``stdClass``) on the wire: encoded as ``SOAP-ENC:Struct`` with one child per key."""


class SoapError(Exception):
    """Base of the codec's errors."""


class SoapFault(SoapError):
    """The peer answered with a SOAP Fault."""

    def __init__(self, faultcode: str, faultstring: str, detail: str | None = None):
        self.faultcode = faultcode
        self.faultstring = faultstring
        self.detail = detail
        super().__init__(f"SOAP Fault {faultcode}: {faultstring}")


class SoapDecodeError(SoapError):
    """The body is not a usable SOAP response: malformed XML, cut short, or the wrong shape.

    A body cut short in transit lands here too, which is why callers treat it as transient.
    """


@dataclass
class Envelope:
    """A decoded request: what the simulator and the interop tests need to see."""

    method: str
    namespace: str | None
    params: list[Any]


# --------------------------------------------------------------------------------------------------
# Encoding


def _php_scalar(value: Any) -> tuple[str, str] | None:
    """``(xsi:type, text)`` for a scalar the way PHP's encoder types it, or None for a compound value.

    PHP has no separate double on the wire: a float goes out as ``xsd:float`` with full precision.
    Decimals, dates and datetimes have no PHP scalar type; the platform expects text such as
    ``YYYY-MM-DD`` (spec §2 "Dates"), so they go out as strings.
    """
    if isinstance(value, bool):
        return "xsd:boolean", "true" if value else "false"
    if isinstance(value, int):
        return "xsd:int", str(value)
    if isinstance(value, float):
        return "xsd:float", repr(value)
    if isinstance(value, str):
        return "xsd:string", value
    if isinstance(value, Decimal):
        return "xsd:string", format(value, "f")
    if isinstance(value, datetime):
        return "xsd:string", value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return "xsd:string", value.isoformat()
    if isinstance(value, bytes):
        return "xsd:base64Binary", base64.b64encode(value).decode("ascii")
    return None


def _array_type(items: list[Any]) -> str:
    """The ``SOAP-ENC:arrayType`` PHP writes: the common item type, else ``xsd:ur-type``."""
    kinds: set[str] = set()
    for item in items:
        if item is None:
            kinds.add("xsd:ur-type")
        elif isinstance(item, Struct):
            kinds.add("SOAP-ENC:Struct")
        elif isinstance(item, Mapping):
            kinds.add("ns2:Map")
        elif isinstance(item, list | tuple):
            kinds.add("SOAP-ENC:Array")
        else:
            scalar = _php_scalar(item)
            kinds.add(scalar[0] if scalar else "xsd:ur-type")
    kind = kinds.pop() if len(kinds) == 1 else "xsd:ur-type"
    return f"{kind}[{len(items)}]"


def encode_value(name: str, value: Any) -> str:
    """One element named *name* holding *value*, as a text fragment in PHP's encoding."""
    if value is None:
        return f'<{name} xsi:nil="true"/>'
    scalar = _php_scalar(value)
    if scalar is not None:
        return f'<{name} xsi:type="{scalar[0]}">{escape(scalar[1])}</{name}>'
    if isinstance(value, Struct):
        inner = "".join(encode_value(str(k), v) for k, v in value.items())
        return _wrap(name, 'xsi:type="SOAP-ENC:Struct"', inner)
    if isinstance(value, Mapping):
        inner = "".join(
            f"<item>{encode_value('key', k)}{encode_value('value', v)}</item>" for k, v in value.items()
        )
        return _wrap(name, 'xsi:type="ns2:Map"', inner)
    if isinstance(value, list | tuple):
        items = list(value)
        inner = "".join(encode_value("item", v) for v in items)
        return _wrap(name, f'SOAP-ENC:arrayType="{_array_type(items)}" xsi:type="SOAP-ENC:Array"', inner)
    raise TypeError(f"cannot encode a {type(value).__name__} for SOAP")


def _wrap(name: str, attrs: str, inner: str) -> str:
    return f"<{name} {attrs}>{inner}</{name}>" if inner else f"<{name} {attrs}/>"


def envelope_open(uri: str, with_map: bool = True) -> str:
    """The XML declaration and the opening Envelope/Body tags, with PHP's namespace prefixes."""
    ns2 = f' xmlns:ns2="{NS_MAP}"' if with_map else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{NS_ENV}" xmlns:ns1="{escape(uri, {chr(34): "&quot;"})}" '
        f'xmlns:xsd="{NS_XSD}" xmlns:xsi="{NS_XSI}" xmlns:SOAP-ENC="{NS_ENC}"{ns2} '
        f'SOAP-ENV:encodingStyle="{NS_ENC}"><SOAP-ENV:Body>'
    )


ENVELOPE_CLOSE = "</SOAP-ENV:Body></SOAP-ENV:Envelope>\n"


def build_request(uri: str, realm: str, action: str, args: Mapping[str, Any], sessid: str | None) -> bytes:
    """The body PHP's ``SoapClient(null, [uri, location])->request(realm, action, args, sessid)`` sends."""
    params = (
        encode_value("param0", realm)
        + encode_value("param1", action)
        + encode_value("param2", Struct(args))
        + encode_value("param3", sessid)
    )
    with_map = 'xsi:type="ns2:Map"' in params
    body = envelope_open(uri, with_map=with_map) + f"<ns1:request>{params}</ns1:request>" + ENVELOPE_CLOSE
    return body.encode("utf-8")


def build_response(uri: str, value: Any, method: str = "request") -> bytes:
    """The body PHP's non-WSDL ``SoapServer`` sends when the handler *method* returns *value*."""
    body = envelope_open(uri) + f"<ns1:{method}Response>{encode_value('return', value)}</ns1:{method}Response>"
    return (body + ENVELOPE_CLOSE).encode("utf-8")


def build_fault(faultcode: str, faultstring: str) -> bytes:
    """A SOAP Fault as PHP's ``SoapServer`` writes it (``faultcode`` like ``SOAP-ENV:Server``)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{NS_ENV}"><SOAP-ENV:Body><SOAP-ENV:Fault>'
        f"<faultcode>{escape(faultcode)}</faultcode><faultstring>{escape(faultstring)}</faultstring>"
        "</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
    ).encode()


# --------------------------------------------------------------------------------------------------
# Decoding


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _xsi_type(el: etree._Element) -> tuple[str | None, str | None]:
    """``(namespace, local name)`` of the element's ``xsi:type``, resolving the prefix in scope."""
    raw = el.get(_XSI_TYPE)
    if raw is None:
        return None, None
    prefix, sep, local = raw.rpartition(":")
    if not sep:
        return el.nsmap.get(None), raw
    return el.nsmap.get(prefix), local


def _scalar(text: str | None, ns: str | None, kind: str) -> Any:
    text = text or ""
    if ns == NS_XSD or ns is None:
        if kind == "string":
            return text
        if kind in _INT_TYPES:
            return int(text.strip())
        if kind == "boolean":
            flag = text.strip().lower()
            if flag in ("true", "1"):
                return True
            if flag in ("false", "0"):
                return False
            raise SoapDecodeError(f"not a boolean: {flag!r}")
        if kind in _FLOAT_TYPES:
            return float(text.strip())
        if kind == "decimal":
            return Decimal(text.strip())
        if kind == "base64Binary":
            return base64.b64decode(text)
    if ns == NS_ENC and kind == "base64":
        return base64.b64decode(text)
    return text


def decode_value(el: etree._Element) -> Any:
    """Decode one encoded element into Python (see the module docstring for the type mapping)."""
    if el.get(_XSI_NIL) in ("true", "1"):
        return None
    ns, kind = _xsi_type(el)
    if ns == NS_MAP and kind == "Map":
        return _decode_map(el)
    if (ns == NS_ENC and kind == "Array") or el.get(_ENC_ARRAYTYPE) is not None:
        return [decode_value(child) for child in el if isinstance(child.tag, str)]
    if ns == NS_ENC and kind == "Struct":
        return Struct((_local(child.tag), decode_value(child)) for child in el if isinstance(child.tag, str))
    if kind is not None:
        try:
            return _scalar(el.text, ns, kind)
        except (ValueError, ArithmeticError) as exc:
            raise SoapDecodeError(f"bad {kind} value in <{_local(el.tag)}>") from exc
    children = [child for child in el if isinstance(child.tag, str)]
    if children:
        return Struct((_local(child.tag), decode_value(child)) for child in children)
    return el.text or ""


def _decode_map(el: etree._Element) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for entry in el:
        if not isinstance(entry.tag, str):
            continue
        key: Any = None
        value: Any = None
        for part in entry:
            name = _local(part.tag)
            if name == "key":
                key = decode_value(part)
            elif name == "value":
                value = decode_value(part)
        out[key] = value
    return out


def _fault_from(el: etree._Element) -> SoapFault:
    parts = {_local(child.tag): child for child in el if isinstance(child.tag, str)}
    code = (parts["faultcode"].text or "").strip() if "faultcode" in parts else ""
    string = (parts["faultstring"].text or "") if "faultstring" in parts else ""
    detail = None
    if "detail" in parts:
        detail = etree.tostring(parts["detail"], method="text", encoding="unicode").strip() or None
    return SoapFault(code, string, detail)


def _parse(data: bytes) -> etree._Element:
    if not data or not data.strip():
        raise SoapDecodeError("empty body")
    try:
        return etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapDecodeError(f"malformed or truncated XML: {exc}") from None


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)


def _body(root: etree._Element) -> etree._Element:
    if root.tag != f"{{{NS_ENV}}}Envelope":
        raise SoapDecodeError("the body is not a SOAP 1.1 Envelope")
    body = root.find(f"{{{NS_ENV}}}Body")
    if body is None:
        raise SoapDecodeError("the Envelope has no Body")
    return body


def _first_child(el: etree._Element) -> etree._Element | None:
    return next((child for child in el if isinstance(child.tag, str)), None)


def parse_response(data: bytes) -> Any:
    """Decode a whole response body and return the ``return`` value; raise SoapFault on a Fault."""
    body = _body(_parse(data))
    payload = _first_child(body)
    if payload is None:
        raise SoapDecodeError("the Body is empty")
    if payload.tag == _FAULT:
        raise _fault_from(payload)
    ret = _first_child(payload)
    if ret is None:
        return None
    return decode_value(ret)


def parse_request(data: bytes) -> Envelope:
    """Decode an RPC request (the simulator's side): method name, its namespace, and the parameters."""
    payload = _first_child(_body(_parse(data)))
    if payload is None:
        raise SoapDecodeError("the Body is empty")
    qname = etree.QName(payload)
    return Envelope(qname.localname, qname.namespace, [decode_value(p) for p in payload if isinstance(p.tag, str)])


# --------------------------------------------------------------------------------------------------
# Streaming


@dataclass
class Field:
    """A member of the ``return`` Struct other than ``result_set`` (``success``, ``sessid``, ...)."""

    name: str
    value: Any


@dataclass
class Row:
    """One item of ``return/result_set``."""

    value: Any


class _FastDecoder:
    """Row decoding for the common case, with the prefixes of one document resolved once.

    ``decode_value`` resolves each ``xsi:type`` prefix through ``nsmap``, which lxml rebuilds on every
    access; on a million CDR rows of two dozen fields that is most of the time spent. Here the raw
    attribute values that mean "xsd scalar" or "Apache Map" under the Envelope's own declarations are
    looked up in a dict; anything else falls back to :func:`decode_value`.
    """

    def __init__(self, nsmap: Mapping[str | None, str]):
        self.scalars: dict[str, Any] = {}
        self.maps: set[str] = set()
        for prefix, uri in nsmap.items():
            if prefix is None:
                continue
            if uri == NS_XSD:
                self.scalars[f"{prefix}:string"] = _as_text
                for kind in _INT_TYPES:
                    self.scalars[f"{prefix}:{kind}"] = int
                for kind in _FLOAT_TYPES:
                    self.scalars[f"{prefix}:{kind}"] = float
            elif uri == NS_MAP:
                self.maps.add(f"{prefix}:Map")

    def value(self, el: etree._Element) -> Any:
        raw = el.get(_XSI_TYPE)
        convert = self.scalars.get(raw) if raw is not None else None
        if convert is not None:
            try:
                return convert(el.text)
            except (TypeError, ValueError):
                raise SoapDecodeError(f"bad {raw} value in <{_local(el.tag)}>") from None
        if raw in self.maps and el.get(_XSI_NIL) is None:
            return self.map(el)
        return decode_value(el)

    def map(self, el: etree._Element) -> dict[Any, Any]:
        """An Apache Map in one flat loop: a CDR row is two dozen key/value pairs, and a method call
        per key and per value was most of the decoding time."""
        out: dict[Any, Any] = {}
        scalars = self.scalars
        for entry in el:
            try:
                key_el, value_el = entry
            except ValueError:
                return decode_value(el)
            if key_el.tag != "key" or value_el.tag != "value":
                return decode_value(el)
            key = key_el.text if scalars.get(key_el.get(_XSI_TYPE)) is _as_text else self.value(key_el)
            convert = scalars.get(value_el.get(_XSI_TYPE))
            if convert is _as_text:
                out[key if key is not None else ""] = value_el.text or ""
            elif convert is not None:
                try:
                    out[key if key is not None else ""] = convert(value_el.text)
                except (TypeError, ValueError):
                    raise SoapDecodeError(f"bad value of {key!r} in a Map") from None
            else:
                out[key if key is not None else ""] = self.value(value_el)
        return out


def _as_text(text: str | None) -> str:
    return text or ""


def iter_response(source: IO[bytes]) -> Iterator[Field | Row]:
    """Read a response from a file-like *source* and yield its parts as they arrive.

    Rows of ``result_set`` come as :class:`Row` and are removed from the tree right after, so memory
    stays flat however many there are. The other members of ``return`` come as :class:`Field` once the
    document is complete (they are small and stay in the tree). Raises :class:`SoapFault` for a Fault
    and :class:`SoapDecodeError` for a body that is malformed or cut short, possibly after some rows
    were already yielded.

    Only ``item`` end events reach Python (lxml filters the rest in C); a row is an ``item`` whose
    parent is ``result_set``.
    """
    context = etree.iterparse(
        source, events=("end",), tag="item", resolve_entities=False, no_network=True, huge_tree=True
    )
    rows_seen = 0
    decoder: _FastDecoder | None = None
    try:
        for _event, el in context:
            parent = el.getparent()
            if parent is None or parent.tag != "result_set":
                continue
            if decoder is None:
                decoder = _FastDecoder(el.nsmap)
            value = decoder.value(el)
            el.clear()
            while el.getprevious() is not None:
                del parent[0]
            rows_seen += 1
            yield Row(value)
        root = context.root
    except etree.XMLSyntaxError as exc:
        raise SoapDecodeError(f"malformed or truncated XML after {rows_seen} rows: {exc}") from None
    payload = _first_child(_body(root))
    if payload is None:
        raise SoapDecodeError("the Body is empty")
    if payload.tag == _FAULT:
        raise _fault_from(payload)
    ret = _first_child(payload)
    if ret is None:
        return
    for member in ret:
        if isinstance(member.tag, str) and member.tag != "result_set":
            yield Field(_local(member.tag), decode_value(member))
