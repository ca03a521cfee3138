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

:func:`iter_response` reads a response incrementally and keeps no ``result_set`` row once it has been
yielded, so a million CDRs never sit in memory at once. Rows in the exact shape PHP writes them are
read by compiled regular expressions (about ten times faster than lxml on CDRs); lxml parses the
envelope and everything else, and takes over for the rest of a body at the first row the scanner
cannot vouch for (see "Fast scanning" below).
"""

from __future__ import annotations

import base64
import functools
import re
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
    {
        "int",
        "integer",
        "long",
        "short",
        "byte",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
    }
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
        inner = "".join(f"<item>{encode_value('key', k)}{encode_value('value', v)}</item>" for k, v in value.items())
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
        self.nsmap = nsmap
        """The declarations it was built for: a row that redeclares a prefix gets a decoder of its own."""
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


# --------------------------------------------------------------------------------------------------
# Fast scanning of PHP's regular row encoding
#
# lxml builds an element for each of the ~70 elements of a CDR row and hands each value to Python; on
# a million rows that is most of an import's time, although PHP's SoapServer writes every row of a
# GetBilling answer the same way, byte for byte apart from the values:
#
#   <item xsi:type="ns2:Map"><item><key xsi:type="xsd:string">id</key><value xsi:type="xsd:string">1
#   </value></item>...<item><key xsi:type="xsd:string">x</key><value xsi:nil="true"/></item></item>
#
# So rows in exactly that shape are read with one compiled regular expression per row (per key
# sequence, learned from the rows themselves), and lxml still parses everything around them: the
# envelope, the other members of ``return``, a Fault. Anything the expressions do not fully account
# for (another xsi type, a nested value, an attribute, a comment or CDATA, whitespace between rows, a
# character XML forbids, an unknown entity, another encoding or prefix) hands the rest of the body to
# lxml from the first row not decoded, so the answer is lxml's in every case the scanner is unsure of.


class _Irregular(Exception):
    """The scanner met something outside the regular encoding; lxml takes over from there."""


_CHUNK = 1 << 18
_ROW_START = '<item xsi:type="ns2:Map">'
_PAIR_START = '<item><key xsi:type="xsd:string">'
_ROW_END = b"</item></item>"
_RESULT_SET_END = b"</result_set>"
_ROW_START_BYTES = _ROW_START.encode()
_ROW_LIMIT = 1 << 22
"""A row still incomplete after this many bytes is left to lxml rather than buffered further."""

_XML_TEXT = r"[^<>&\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]*"
"""Character data lxml returns unchanged: no markup, no entity, no CR (XML turns CR LF into LF)."""
_ESCAPED = rf"{_XML_TEXT}(?:&(?:amp|lt|gt|quot|apos|#[0-9]{{1,7}}|#x[0-9a-fA-F]{{1,6}});{_XML_TEXT})*"
_VALUE = rf'(?:<value xsi:type="xsd:string">({_ESCAPED})</value>|<value xsi:nil="true"/>)'
"""A string value (group: its escaped text) or a nil one (group: None)."""

_GENERIC_ROW = re.compile(
    re.escape(_ROW_START)
    + rf'(?:{re.escape(_PAIR_START)}{_ESCAPED}</key>(?:<value xsi:type="xsd:string">{_ESCAPED}</value>'
    + r'|<value xsi:nil="true"/>)</item>)+</item>'
)
_PAIR = re.compile(rf"{re.escape(_PAIR_START)}({_ESCAPED})</key>{_VALUE}</item>")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}

_RESULT_SET_TAG = re.compile(rb"""<result_set(?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*(/?)>""")
_XML_DECL = re.compile(
    rb"""(?:\xef\xbb\xbf)?<\?xml\s+version\s*=\s*["']1\.0["'](?:\s+encoding\s*=\s*["'](?i:utf-8)["'])?"""
    rb"""(?:\s+standalone\s*=\s*["'](?:yes|no)["'])?\s*\?>"""
)
_HEAD_LIMIT = 1 << 16
"""Bytes read in search of ``<result_set`` before giving the body to lxml (a Fault has none)."""


def _entity(m: re.Match[str]) -> str:
    ref = m.group(1)
    if ref[0] != "#":
        try:
            return _NAMED[ref]
        except KeyError:
            raise _Irregular(ref) from None
    code = int(ref[2:], 16) if ref[1] == "x" else int(ref[1:])
    if code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF:
        return chr(code)
    raise _Irregular(ref)


def _unescape(text: str | None) -> str | None:
    """XML character data as lxml gives it; raises :class:`_Irregular` for a reference XML forbids."""
    if text is None or "&" not in text:
        return text
    return _ENTITY.sub(_entity, text)


@functools.lru_cache(maxsize=64)
def _row_pattern(raw_keys: tuple[str, ...]) -> re.Pattern[str]:
    """One row with exactly these keys (as escaped on the wire), one group per value."""
    pairs = "".join(f"{re.escape(_PAIR_START)}{re.escape(key)}</key>{_VALUE}</item>" for key in raw_keys)
    return re.compile(re.escape(_ROW_START) + pairs + "</item>")


class _RowScanner:
    """Decodes runs of regular rows; remembers the key sequence of the last row to match the next."""

    LEARN_LIMIT = 32
    """Key sequences compiled per response; rows beyond that go through the slower generic match."""

    def __init__(self) -> None:
        self.pattern: re.Pattern[str] | None = None
        self.keys: tuple[str | None, ...] = ()
        self.learned = 0

    def scan(self, text: str) -> tuple[list[dict[Any, Any]], int]:
        """The rows that *text* starts with, and how many characters of it they span.

        Stops at the first thing that is not a regular row; the caller hands the text from there on
        to lxml.
        """
        out: list[dict[Any, Any]] = []
        pos = 0
        end = len(text)
        escaped = "&" in text
        while pos < end:
            pattern = self.pattern
            if pattern is not None:
                keys = self.keys
                for m in pattern.finditer(text, pos):
                    if m.start() != pos:
                        break
                    values: Any = m.groups()
                    nxt = m.end()
                    if escaped and text.find("&", pos, nxt) >= 0:
                        try:
                            values = [_unescape(v) for v in values]
                        except _Irregular:
                            return out, pos
                    out.append(dict(zip(keys, values, strict=True)))
                    pos = nxt
                if pos >= end:
                    break
            m = _GENERIC_ROW.match(text, pos)
            if m is None:
                break
            pairs = [p.groups() for p in _PAIR.finditer(text, pos, m.end())]
            try:
                keys = tuple(_unescape(k) for k, _v in pairs)
                row = dict(zip(keys, [_unescape(v) for _k, v in pairs], strict=True))
            except _Irregular:
                break
            if self.learned < self.LEARN_LIMIT:
                self.pattern = _row_pattern(tuple(k for k, _v in pairs))
                self.keys = keys
                self.learned += 1
            out.append(row)
            pos = m.end()
        return out, pos


def _rows_start(buf: bytes) -> tuple[int, etree._Element] | None:
    """Where the rows begin, if this body is one the scanner may read, with its ``result_set`` element.

    *buf* holds the body up to at least the end of the ``<result_set ...>`` start tag. The scanner
    needs that tag to be the first ``result_set`` element (nothing before it may hide markup: no
    comment, CDATA, DOCTYPE or processing instruction), UTF-8 XML 1.0, and PHP's prefixes in scope
    (``xsi``, ``xsd``, ``ns2`` for the Apache Map namespace, no default namespace).
    """
    m = _RESULT_SET_TAG.search(buf)
    if m is None or m.group(1):
        return None
    head = buf[: m.end()]
    decl = _XML_DECL.match(head)
    body_start = decl.end() if decl else 0
    if head.startswith((b"<?", b"\xef\xbb\xbf")) and decl is None:
        return None
    if b"<!" in head or b"<?" in head[body_start:]:
        return None
    probe = etree.XMLPullParser(events=("start",), tag="result_set", resolve_entities=False, no_network=True)
    try:
        probe.feed(head)
        events = list(probe.read_events())
    except etree.XMLSyntaxError:
        return None
    if not events:
        return None
    el = events[0][1]
    nsmap = el.nsmap
    if None in nsmap or nsmap.get("xsi") != NS_XSI or nsmap.get("xsd") != NS_XSD or nsmap.get("ns2") != NS_MAP:
        return None
    return m.end(), el


def _scan(scanner: _RowScanner, data: bytes) -> tuple[list[dict[Any, Any]], int]:
    """The regular rows *data* starts with, and how many bytes of it they span."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [], 0
    rows, used = scanner.scan(text)
    return rows, len(data) if used == len(text) else len(text[:used].encode("utf-8"))


def _rows_may_follow(buf: bytes) -> bool:
    """Whether what is left after the last whole row can still start another regular row."""
    if buf.startswith(_RESULT_SET_END):
        return False
    return buf.startswith(_ROW_START_BYTES) or _ROW_START_BYTES.startswith(buf) or _RESULT_SET_END.startswith(buf)


def iter_response(source: IO[bytes], chunk_size: int = _CHUNK, *, scan: bool = True) -> Iterator[Field | Row]:
    """Read a response from a file-like *source* and yield its parts as they arrive.

    Rows of ``result_set`` come as :class:`Row`, and none is kept once yielded, so memory stays flat
    however many there are. The other members of ``return`` come as :class:`Field` once the document
    is complete (they are small and stay in the tree). Raises :class:`SoapFault` for a Fault and
    :class:`SoapDecodeError` for a body that is malformed or cut short, possibly after some rows were
    already yielded.

    Rows in PHP's regular Map encoding are read by the scanner above without lxml; lxml parses the
    rest of the document, and every row from the first one the scanner cannot vouch for. There, only
    ``item`` end events reach Python (lxml filters the rest in C); a row is an ``item`` whose parent
    is ``result_set``, removed from the tree once yielded. ``scan=False`` leaves every row to lxml:
    the reference the scanner is tested against.
    """
    parser = etree.XMLPullParser(events=("end",), tag="item", resolve_entities=False, no_network=True, huge_tree=True)
    rows_seen = 0
    decoder: _FastDecoder | None = None
    # The result_set whose rows are being read; rows the scanner reads are never added to it.
    parent: etree._Element | None = None
    scanner: _RowScanner | None = None
    mode = "head" if scan else "lxml"
    buf = b""
    root: etree._Element | None = None
    eof = False
    try:
        while not eof:
            chunk = source.read(chunk_size)
            eof = not chunk
            if mode == "head":
                buf += chunk
                found = _rows_start(buf)
                if found is not None:
                    start, parent = found
                    parser.feed(buf[:start])
                    buf = buf[start:]
                    scanner = _RowScanner()
                    mode = "rows"
                elif eof or len(buf) > _HEAD_LIMIT or _RESULT_SET_TAG.search(buf):
                    chunk, buf, mode = buf, b"", "lxml"
                else:
                    continue
            elif mode == "rows":
                buf += chunk
            if mode == "rows":
                assert scanner is not None
                last = buf.rfind(_ROW_END)
                irregular = False
                if last >= 0:
                    cut = last + len(_ROW_END)
                    rows, used = _scan(scanner, buf[:cut])
                    for value in rows:
                        rows_seen += 1
                        yield Row(value)
                    buf = buf[used:]
                    irregular = used < cut
                elif len(buf) > _ROW_LIMIT:
                    irregular = True
                if irregular or eof or not _rows_may_follow(buf):
                    chunk, buf, mode = buf, b"", "lxml"
                else:
                    continue
            parser.feed(chunk)
            if eof:
                root = parser.close()
            for _event, el in parser.read_events():
                parent = el.getparent()
                if parent is None or parent.tag != "result_set":
                    continue
                nsmap = el.nsmap
                if decoder is None or nsmap != decoder.nsmap:
                    decoder = _FastDecoder(nsmap)
                value = decoder.value(el)
                el.clear()
                while el.getprevious() is not None:
                    del parent[0]
                rows_seen += 1
                yield Row(value)
    except etree.XMLSyntaxError as exc:
        raise SoapDecodeError(f"malformed or truncated XML after {rows_seen} rows: {exc}") from None
    assert root is not None
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
