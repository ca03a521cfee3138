"""Codec tests: the envelope PHP's SoapClient sends, every value kind PHP's SoapServer returns, Faults."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from plugins.hiperus_c5 import soap

URI = "https://backend.hiperus.pl:8080/hiperusapi.php"

# Captured from PHP 8.2 SoapClient(null, [uri, location])->request('PLATFORM_MNGM', 'Login', $o, null)
# with $o = {username: 'u', password: 'p&<', n: null, i: 3, b: false, f: 2.5}.
PHP_LOGIN_REQUEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:ns1="https://backend.hiperus.pl:8080/hiperusapi.php" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" '
    'SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:request>'
    '<param0 xsi:type="xsd:string">PLATFORM_MNGM</param0><param1 xsi:type="xsd:string">Login</param1>'
    '<param2 xsi:type="SOAP-ENC:Struct"><username xsi:type="xsd:string">u</username>'
    '<password xsi:type="xsd:string">p&amp;&lt;</password><n xsi:nil="true"/><i xsi:type="xsd:int">3</i>'
    '<b xsi:type="xsd:boolean">false</b><f xsi:type="xsd:float">2.5</f></param2><param3 xsi:nil="true"/>'
    "</ns1:request></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
)

# What PHP 8.2's SoapServer wrote for a handler returning a mix of every shape (namespace order as PHP
# emitted it, ns2 declared after use started).
PHP_MIXED_RESPONSE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="urn:x" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:ns2="http://xml.apache.org/xml-soap" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" '
    'SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:requestResponse>'
    '<return xsi:type="SOAP-ENC:Struct"><success xsi:type="xsd:boolean">true</success>'
    '<sessid xsi:type="xsd:string">abc</sessid>'
    '<result_set SOAP-ENC:arrayType="xsd:ur-type[5]" xsi:type="SOAP-ENC:Array">'
    '<item xsi:type="ns2:Map"><item><key xsi:type="xsd:string">id</key><value xsi:type="xsd:string">1</value></item>'
    '<item><key xsi:type="xsd:string">name</key><value xsi:type="xsd:string">Zażółć</value></item>'
    '<item><key xsi:type="xsd:string">f</key><value xsi:type="xsd:float">1.5</value></item>'
    '<item><key xsi:type="xsd:string">b</key><value xsi:type="xsd:boolean">true</value></item>'
    '<item><key xsi:type="xsd:string">n</key><value xsi:nil="true"/></item>'
    '<item><key xsi:type="xsd:string">i</key><value xsi:type="xsd:int">7</value></item></item>'
    '<item xsi:type="SOAP-ENC:Struct"><id xsi:type="xsd:int">5</id></item>'
    '<item SOAP-ENC:arrayType="xsd:ur-type[0]" xsi:type="SOAP-ENC:Array"/>'
    '<item SOAP-ENC:arrayType="xsd:int[2]" xsi:type="SOAP-ENC:Array"><item xsi:type="xsd:int">1</item>'
    '<item xsi:type="xsd:int">2</item></item>'
    '<item SOAP-ENC:arrayType="xsd:string[1]" xsi:type="SOAP-ENC:Array"><item xsi:type="xsd:string">x</item></item>'
    "</result_set></return></ns1:requestResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
).encode()

EXPECTED_MIXED = {
    "success": True,
    "sessid": "abc",
    "result_set": [{"id": "1", "name": "Zażółć", "f": 1.5, "b": True, "n": None, "i": 7}, {"id": 5}, [], [1, 2], ["x"]],
}


def test_request_is_byte_identical_to_php_soapclient():
    args = {"username": "u", "password": "p&<", "n": None, "i": 3, "b": False, "f": 2.5}
    assert soap.build_request(URI, "PLATFORM_MNGM", "Login", args, None).decode() == PHP_LOGIN_REQUEST


def test_request_with_session_and_empty_struct():
    body = soap.build_request(URI, "PLATFORM_MNGM", "CheckLogin", {}, "s1d")
    assert b'<param2 xsi:type="SOAP-ENC:Struct"/><param3 xsi:type="xsd:string">s1d</param3>' in body
    env = soap.parse_request(body)
    assert env.method == "request" and env.namespace == URI
    assert env.params == ["PLATFORM_MNGM", "CheckLogin", {}, "s1d"]


def test_request_encodes_dates_decimals_and_nested_values():
    args = {"from": date(2024, 2, 29), "amount": Decimal("12.50"), "tags": ["a", "b"], "opts": {"k": 1}}
    env = soap.parse_request(soap.build_request(URI, "R", "GetBilling", args, "x"))
    assert env.params[2] == {"from": "2024-02-29", "amount": "12.50", "tags": ["a", "b"], "opts": {"k": 1}}
    assert isinstance(env.params[2], soap.Struct)
    assert not isinstance(env.params[2]["opts"], soap.Struct)


def test_decodes_every_kind_php_soapserver_writes():
    decoded = soap.parse_response(PHP_MIXED_RESPONSE)
    assert decoded == EXPECTED_MIXED
    assert isinstance(decoded, soap.Struct)
    assert isinstance(decoded["result_set"][1], soap.Struct)
    assert not isinstance(decoded["result_set"][0], soap.Struct)


def test_our_response_encoding_round_trips_with_wire_shapes():
    value = soap.Struct(
        success=True,
        sessid="abc",
        result_set=[
            {"id": "1", "name": "Zażółć", "f": 1.5, "b": True, "n": None, "i": 7},
            soap.Struct(id=5),
            [],
            [1, 2],
            ["x"],
        ],
    )
    body = soap.build_response("urn:x", value)
    assert soap.parse_response(body) == EXPECTED_MIXED
    assert b'arrayType="xsd:ur-type[5]"' in body and b'<item xsi:type="ns2:Map">' in body
    homogeneous = soap.build_response("urn:x", soap.Struct(result_set=[{"a": "1"}, {"a": "2"}]))
    assert b'SOAP-ENC:arrayType="ns2:Map[2]"' in homogeneous


@pytest.mark.parametrize(
    ("xml_type", "text", "expected"),
    [
        ("xsd:int", "42", 42),
        ("xsd:long", "12345678901234", 12345678901234),
        ("xsd:string", "", ""),
        ("xsd:string", " spaced ", " spaced "),
        ("xsd:boolean", "true", True),
        ("xsd:boolean", "0", False),
        ("xsd:float", "0.1", 0.1),
        ("xsd:double", "-2.5E3", -2500.0),
        ("xsd:decimal", "1.10", Decimal("1.10")),
        ("xsd:base64Binary", "aGk=", b"hi"),
    ],
)
def test_scalars(xml_type, text, expected):
    body = soap.build_response("urn:x", soap.Struct(v=None)).replace(
        b'<v xsi:nil="true"/>', f'<v xsi:type="{xml_type}">{text}</v>'.encode()
    )
    assert soap.parse_response(body) == {"v": expected}


def test_nil_and_untyped_values():
    body = soap.build_response("urn:x", soap.Struct(a=None)).replace(
        b'<a xsi:nil="true"/>', b"<a>plain</a><b><c>1</c></b><d/>"
    )
    assert soap.parse_response(body) == {"a": "plain", "b": {"c": "1"}, "d": ""}


def test_other_prefixes_resolve_by_namespace():
    body = (
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:s="http://www.w3.org/2001/XMLSchema"'
        b' xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:m="http://xml.apache.org/xml-soap"'
        b' xmlns:enc="http://schemas.xmlsoap.org/soap/encoding/"><e:Body><r:requestResponse xmlns:r="urn:r">'
        b'<return i:type="enc:Struct"><n i:type="s:int">3</n><m i:type="m:Map"><item><key i:type="s:string">k'
        b'</key><value i:type="s:boolean">1</value></item></m><a enc:arrayType="s:int[1]" i:type="enc:Array">'
        b'<x i:type="s:int">9</x></a></return></r:requestResponse></e:Body></e:Envelope>'
    )
    assert soap.parse_response(body) == {"n": 3, "m": {"k": True}, "a": [9]}


def test_fault_becomes_exception():
    body = soap.build_fault("SOAP-ENV:Server", "boom <x>")
    with pytest.raises(soap.SoapFault) as caught:
        soap.parse_response(body)
    assert caught.value.faultcode == "SOAP-ENV:Server"
    assert caught.value.faultstring == "boom <x>"
    with pytest.raises(soap.SoapFault):
        list(soap.iter_response(io.BytesIO(body)))


@pytest.mark.parametrize("body", [b"", b"<html>502 Bad Gateway</html>", PHP_MIXED_RESPONSE[:-200], b"<a><b></a>"])
def test_garbage_and_truncation_raise_decode_error(body):
    with pytest.raises(soap.SoapDecodeError):
        soap.parse_response(body)


def test_bad_scalar_raises_decode_error():
    body = soap.build_response("urn:x", soap.Struct(v=1)).replace(b">1<", b">x<")
    with pytest.raises(soap.SoapDecodeError):
        soap.parse_response(body)


def test_streaming_yields_rows_then_fields():
    parts = list(soap.iter_response(io.BytesIO(PHP_MIXED_RESPONSE)))
    rows = [p.value for p in parts if isinstance(p, soap.Row)]
    fields = {p.name: p.value for p in parts if isinstance(p, soap.Field)}
    assert rows == EXPECTED_MIXED["result_set"]
    assert fields == {"success": True, "sessid": "abc"}


def test_streaming_truncated_body_yields_complete_rows_then_fails():
    rows = [{"id": str(i), "x": "y" * 20} for i in range(50)]
    body = soap.build_response(URI, soap.Struct(success=True, result_set=rows))
    cut = body[: len(body) * 2 // 3]
    seen = []
    with pytest.raises(soap.SoapDecodeError):
        for part in soap.iter_response(io.BytesIO(cut)):
            seen.append(part.value)
    assert 0 < len(seen) < 50
    assert seen == rows[: len(seen)]


def test_streaming_drops_rows_from_the_tree():
    """After a row is yielded it is gone from the tree, so memory does not grow with the row count."""
    rows = [{"id": str(i)} for i in range(1000)]
    body = soap.build_response(URI, soap.Struct(success=True, result_set=rows))
    gen = soap.iter_response(io.BytesIO(body))
    got = [next(gen).value["id"] for _ in range(500)]
    assert got == [str(i) for i in range(500)]
    assert gen.gi_frame is not None
    result_set = gen.gi_frame.f_locals["parent"]
    assert result_set.tag == "result_set"
    assert len(result_set) < 100, "rows already yielded must be dropped; only read-ahead may remain"
    assert [p.value["id"] for p in gen if isinstance(p, soap.Row)] == [str(i) for i in range(500, 1000)]
