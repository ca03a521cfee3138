"""The fast row scanner in soap.iter_response must return exactly what the lxml decoder returns.

The scanner is only worth having if it is invisible: same rows (keys, values, None for nil, '' for an
empty string, entities resolved), same fields, same exceptions, on the simulator's output, on what
PHP's real SoapServer writes (the interop test at the bottom), and on every irregular body, where it
must hand over to lxml instead of guessing. Each check decodes the same bytes twice, ``scan=True``
and ``scan=False`` (lxml for every row), at several read sizes so rows straddle read boundaries.
"""

from __future__ import annotations

import io
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_interop_php import _php
from werkzeug.test import Client

from plugins.hiperus_c5 import soap
from plugins.hiperus_c5.simulator import CDR_FIELDS, DEFAULT_URI, REALM, Scale, make_app

PHP_DIR = Path(__file__).parent / "php"
READ_SIZES = (1, 7, 333, 4096, 1 << 18)


class _Counting(soap._RowScanner):
    rows = 0

    def scan(self, text: str) -> tuple[list[dict[Any, Any]], int]:
        rows, used = super().scan(text)
        _Counting.rows += len(rows)
        return rows, used


@pytest.fixture
def scanned(monkeypatch: pytest.MonkeyPatch) -> type[_Counting]:
    """Counts the rows the scanner decodes, to prove it did the work where it should."""
    monkeypatch.setattr(soap, "_RowScanner", _Counting)
    _Counting.rows = 0
    return _Counting


def decode(body: bytes, scan: bool, read_size: int = 1 << 18) -> tuple[list[tuple[str, Any]], str | None]:
    """Every part ``iter_response`` yields (with its Python type), then the exception class, if any."""
    parts: list[tuple[str, Any]] = []
    try:
        for part in soap.iter_response(io.BytesIO(body), read_size, scan=scan):
            if isinstance(part, soap.Row):
                parts.append(("row", _typed(part.value)))
            else:
                parts.append((f"field:{part.name}", _typed(part.value)))
    except soap.SoapFault as fault:
        return parts, f"SoapFault({fault.faultcode!r}, {fault.faultstring!r})"
    except soap.SoapDecodeError:
        return parts, "SoapDecodeError"
    return parts, None


def _typed(value: Any) -> Any:
    """The value with its types spelled out, so 1 == 1.0 == True and '' vs None cannot slip through."""
    if isinstance(value, dict):
        return (type(value).__name__, [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, value)


def assert_same(body: bytes, read_sizes: tuple[int, ...] = READ_SIZES) -> list[tuple[str, Any]]:
    """Both decoders agree on *body*: the same parts and outcome, at every read size.

    When the body is broken, how many rows lxml delivers before raising depends on how much it was
    fed at once (an error anywhere in a read swallows that read's rows), so there the reference is
    lxml fed one byte at a time: the scanner, fed the same way, must match it exactly, and fed in
    bigger reads it must raise the same error after a prefix of those rows.
    """
    expected = decode(body, scan=False)
    if expected[1] is None or expected[1].startswith("SoapFault"):
        for size in read_sizes:
            assert decode(body, scan=True, read_size=size) == expected, f"read size {size}"
        return expected[0]
    reference = decode(body, scan=False, read_size=1)
    assert reference[1] == expected[1]
    assert decode(body, scan=True, read_size=1) == reference
    for size in read_sizes:
        parts, error = decode(body, scan=True, read_size=size)
        assert error == reference[1], f"read size {size}"
        assert parts == reference[0][: len(parts)], f"read size {size}"
    return reference[0]


def response(rows: list[Any], **fields: Any) -> bytes:
    return soap.build_response(DEFAULT_URI, soap.Struct(success=True, **fields, result_set=rows))


# --------------------------------------------------------------------------------------------------
# The simulator's GetBilling answers


def _billing_body(app: Any, faults: dict[str, Any] | None = None, **args: Any) -> bytes:
    client = Client(app)
    login = soap.build_request(
        DEFAULT_URI, REALM, "Login", {"username": "reseller", "password": "secret", "domain": "demo.hiperus.pl"}, None
    )
    sessid = soap.parse_response(client.post("/hiperusapi.php", data=login).get_data())["sessid"]
    app.faults.update(faults or {})
    request = soap.build_request(DEFAULT_URI, REALM, "GetBilling", args, sessid)
    return client.post("/hiperusapi.php", data=request).get_data()


BILLING_ARGS = {
    "from": "2024-03-30",
    "to": "2024-04-02",
    "offset": None,
    "limit": None,
    "compress": False,
    "success_calls": True,
    "calltype": "outgoing",
    "id_customer": None,
}


def test_simulator_billing_is_decoded_identically_and_without_lxml(scanned):
    body = _billing_body(make_app(seed=3, scale=Scale(customers=20, cdrs_per_day=150), rate_limit=None), **BILLING_ARGS)
    parts = assert_same(body)
    rows = [p for p in parts if p[0] == "row"]
    assert len(rows) > 300
    assert [k for k, _v in rows[0][1][1]] == [("str", f) for f in CDR_FIELDS]
    assert any(("NoneType", None) in [v for _k, v in r[1][1]] for r in rows), "nil values are covered"
    scanned.rows = 0
    decode(body, scan=True)
    assert scanned.rows == len(rows), "the simulator writes only regular rows: lxml must not have decoded any"


def test_simulator_names_with_markup_characters_survive():
    app = make_app(seed=1, scale=Scale(customers=40, cdrs_per_day=100), rate_limit=None)
    awkward = {t[1] for t in app.state.cdr_terminals if any(c in t[1] for c in "&<>ąęółśżźćń")}
    assert awkward, "the seed should give names with & < > or Polish letters"
    body = _billing_body(app, **{**BILLING_ARGS, "calltype": "incoming"})
    assert b"&amp;" in body or b"&lt;" in body
    names = {dict(row)["customer_name"] for row in _rows(body)}
    assert names & awkward


def _rows(body: bytes) -> list[dict[str, Any]]:
    return [p.value for p in soap.iter_response(io.BytesIO(body)) if isinstance(p, soap.Row)]


@pytest.mark.parametrize("fault", ["truncate", "reset"])
def test_simulator_cut_bodies_fail_after_the_same_rows(fault):
    app = make_app(seed=2, scale=Scale(customers=10, cdrs_per_day=400), rate_limit=None)
    faults = {fault: 1, "truncate_after_rows": 123}
    if fault == "reset":
        with pytest.raises(ConnectionAbortedError):
            _billing_body(app, faults, **BILLING_ARGS)
        return
    body = _billing_body(app, faults, **BILLING_ARGS)
    parts, error = decode(body, scan=True)
    assert error == "SoapDecodeError"
    assert len(parts) == 123
    assert (parts, error) == decode(body, scan=False)


# --------------------------------------------------------------------------------------------------
# Awkward text, irregular encodings and broken bodies


AWKWARD = [
    "",
    "a & b",
    "<tag>",
    "x > y",
    '"quoted"',
    "it's",
    "Zażółć gęślą jaźń",
    "tab\there",
    "new\nline",
    "]]>",
    "&amp; literally",
    "😀",
    " spaced ",
    "\\",
    "%s",
    "ŁÓDŹ",
    "\u2028",
    "\x7f\x85",
    "a\r\nb",
    "\r",
]


def test_awkward_text_and_nil():
    rows = [{"k": v, "nil": None, "empty": ""} for v in AWKWARD] + [{"&<>\"'": "key with markup"}, {"": "empty key"}]
    assert_same(response(rows))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("&amp;&lt;&gt;&quot;&apos;", "&<>\"'"),
        ("&#13;&#xD;&#10;&#x9;", "\r\r\n\t"),
        ("&#x17F;&#382;&#x1F600;", "ſž😀"),
    ],
)
def test_entities_are_resolved_like_lxml(text, expected):
    body = response([{"k": "PLACEHOLDER"}]).replace(b"PLACEHOLDER", text.encode())
    parts = assert_same(body)
    assert parts[0] == ("row", ("dict", [(("str", "k"), ("str", expected))]))


REGULAR = response([{"id": str(i), "v": AWKWARD[i % len(AWKWARD)], "n": None} for i in range(6)], sessid="abc")
ROW = '<item xsi:type="ns2:Map"><item><key xsi:type="xsd:string">id</key><value xsi:type="xsd:string">3</value></item>'


@pytest.mark.parametrize(
    "old, new",
    [
        (ROW, ROW.replace('"xsd:string">3<', '"xsd:int">3<')),
        (ROW, ROW.replace('"xsd:string">3<', '"xsd:float">3.5<')),
        (ROW, ROW.replace('"xsd:string">3<', '"xsd:boolean">true<')),
        (ROW, ROW.replace('"xsd:string">3<', '"xsd:string"/><x>')),
        (ROW, ROW.replace(">3<", "><![CDATA[3]]><")),
        (ROW, ROW.replace(">3<", ">3<!-- c --><")),
        (ROW, ROW.replace(">3<", "><?pi x?>3<")),
        (ROW, ROW.replace("<value ", '<value extra="1" ')),
        (ROW, ROW.replace('<item xsi:type="ns2:Map">', '<item xsi:type="ns2:Map" xmlns:ns2="urn:other">')),
        (ROW, ROW.replace('<item xsi:type="ns2:Map">', '<item xmlns:xsd="urn:other" xsi:type="ns2:Map">')),
        (ROW, ROW.replace("xsi:type", "xsi:type ")),
        (ROW, "\n" + ROW),
        (
            ROW,
            ROW.replace(
                '<value xsi:type="xsd:string">3</value>',
                '<value xsi:type="ns2:Map"><item><key '
                'xsi:type="xsd:string">a</key><value xsi:type="xsd:string">b</value></item></value>',
            ),
        ),
        (
            ROW,
            ROW.replace(
                '<value xsi:type="xsd:string">3</value>',
                '<value SOAP-ENC:arrayType="xsd:int[1]" '
                'xsi:type="SOAP-ENC:Array"><item xsi:type="xsd:int">1</item></value>',
            ),
        ),
        (ROW, ROW.replace('<key xsi:type="xsd:string">id</key>', '<key xsi:type="xsd:int">7</key>')),
        (ROW, ROW.replace('<key xsi:type="xsd:string">id</key>', '<key xsi:nil="true"/>')),
        (ROW, ROW.replace(">3<", ">&#1;<")),
        (ROW, ROW.replace(">3<", ">&#0;<")),
        (ROW, ROW.replace(">3<", ">&#xFFFE;<")),
        (ROW, ROW.replace(">3<", ">&nbsp;<")),
        (ROW, ROW.replace(">3<", ">\x01<")),
        (ROW, ROW.replace(">3<", ">\ufffe<")),
        (ROW, ROW.replace(">3<", ">a\rb<")),
        (ROW, ROW.replace(">3<", ">a]]>b<")),
        (ROW, ROW.replace(">3<", ">&amp<")),
        (ROW, ROW.replace("</item>", "</item >", 1)),
        (ROW, ROW.replace("<item>", '<item xsi:type="ns2:Map">', 1)),
        ("<result_set ", "<!-- <result_set> --><result_set "),
        ("<SOAP-ENV:Body>", '<SOAP-ENV:Body xmlns="urn:default">'),
        ("<SOAP-ENV:Body>", '<SOAP-ENV:Body xmlns:xsi="urn:not-xsi">'),
        ('encoding="UTF-8"', 'encoding="ISO-8859-2"'),
        ('version="1.0"', 'version="1.1"'),
        ("</result_set>", "</result_set><result_set>" + ROW + "</item></result_set>"),
        ("</result_set>", " </result_set>"),
    ],
)
def test_irregular_bodies_fall_back_to_lxml_and_agree(old, new):
    body = REGULAR.decode()
    assert old in body
    assert_same(body.replace(old, new, 1).encode())


def test_invalid_utf8_falls_back_and_fails_like_lxml():
    assert_same(REGULAR.replace(b">3<", b">\xc3\x28<"))
    assert_same(REGULAR.replace(b">3<", b">\xff<"))


def test_key_sequences_may_change_between_rows():
    rows: list[dict[str, Any]] = []
    for i in range(200):
        keys = ["id", "a", "b"] if i % 3 else ["b", "id"]
        rows.append({k: f"{k}{i}" for k in keys[: 1 + i % len(keys)]})
    rows += [{f"k{i}": str(i)} for i in range(soap._RowScanner.LEARN_LIMIT * 2)]
    assert_same(response(rows))


def test_duplicate_keys_keep_the_last_value_like_lxml():
    body = REGULAR.replace(b'<key xsi:type="xsd:string">v</key>', b'<key xsi:type="xsd:string">id</key>')
    assert_same(body)


def test_every_truncation_fails_after_the_same_rows():
    body = response([{"id": str(i), "v": "Zażółć & <x>", "n": None} for i in range(3)])
    for cut in range(0, len(body), 3):
        assert_same(body[:cut], (97,))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>502 Bad Gateway</html>",
        soap.build_fault("SOAP-ENV:Server", "boom & <x>"),
        response([]),
        response([{"a": "b"}], error_message="x & y")
        .replace(b"<result_set", b"<other_set")
        .replace(b"</result_set>", b"</other_set>"),
        response([soap.Struct(id=1)]),
        response([[1, 2], "scalar", None]),
    ],
)
def test_bodies_without_regular_rows(body):
    assert_same(body)


def test_random_rows_and_random_damage():
    """Seeded property test: random rows, then random damage (cuts, inserted bytes); both agree."""
    rng = random.Random(20240401)
    alphabet = "ab&<>\"' \t\n\rżŁ😀\x85]"
    inserts = [b" ", b"\n", b"<x/>", b"<!--c-->", b"&", b"&amp;", b"<", b"\xff", b'"', b"/>", b"</item>"]
    for _ in range(300):
        rows = []
        for _r in range(rng.randint(0, 6)):
            keys = rng.sample(["id", "a", "b", "c", "ż&", ""], rng.randint(1, 5))
            rows.append(
                {
                    k: None if rng.random() < 0.2 else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
                    for k in keys
                }
            )
        body = response(rows)
        damage = rng.random()
        if damage < 0.3:
            body = body[: rng.randint(0, len(body))]
        elif damage < 0.6:
            at = rng.randint(0, len(body))
            body = body[:at] + rng.choice(inserts) + body[at:]
        assert_same(body, (rng.choice(READ_SIZES),))


# --------------------------------------------------------------------------------------------------
# PHP's real SoapServer


def _php_body(rows: int, seed: int, mode: str) -> bytes:
    out = subprocess.run(
        [_php(), str(PHP_DIR / "billing_response.php"), str(rows), str(seed), mode],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout


@pytest.mark.interop
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_php_soapserver_billing_rows(seed, scanned):
    body = _php_body(400, seed, "cdr")
    for text in (b"&amp;", b"&lt;", b"&gt;", b"&#13;", "Zażółć".encode(), b'xsi:nil="true"', b'"xsd:string"></value>'):
        assert text in body, text
    parts = assert_same(body)
    assert len([p for p in parts if p[0] == "row"]) == 400
    scanned.rows = 0
    decode(body, scan=True)
    assert scanned.rows == 400, "PHP's CDR rows are regular: lxml must not have decoded any"


@pytest.mark.interop
def test_php_soapserver_irregular_rows_fall_back(scanned):
    body = _php_body(50, 4, "mixed")
    parts = assert_same(body)
    assert len([p for p in parts if p[0] == "row"]) == 56
    scanned.rows = 0
    decode(body, scan=True)
    assert scanned.rows == 50, "the first 50 rows are scanned; lxml decodes from the first typed row on"


@pytest.mark.interop
@pytest.mark.parametrize("mode", ["empty", "fault"])
def test_php_soapserver_empty_and_fault(mode):
    parts, error = decode(_php_body(0, 1, mode), scan=True)
    assert (parts, error) == decode(_php_body(0, 1, mode), scan=False)
    if mode == "fault":
        assert error == "SoapFault('SOAP-ENV:Server', 'Billing & <database> is down')"
    else:
        assert error is None
