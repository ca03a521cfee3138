"""TOTP as LMS's Google2FA checks it: the RFC 4226/6238 test vectors, the ±1 step window, Base32 keys."""

from __future__ import annotations

import base64

import pytest

from lmsplugins.web import totp

RFC_KEY = b"12345678901234567890"
RFC_SECRET = base64.b32encode(RFC_KEY).decode("ascii")


@pytest.mark.parametrize(
    ("counter", "code"),
    list(
        enumerate(["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"])
    ),
)
def test_rfc4226_hotp_vectors(counter, code):
    assert totp.hotp(RFC_KEY, counter) == code


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_rfc6238_sha1_vectors(at, code):
    assert totp.totp(RFC_KEY, at, digits=8) == code
    assert totp.totp(RFC_KEY, at) == code[-6:]


def test_verify_accepts_one_step_either_side_and_no_more():
    at = 1234567890
    for offset, expected in ((-60, False), (-30, True), (0, True), (30, True), (60, False)):
        code = totp.totp(RFC_KEY, at + offset)
        assert totp.verify(RFC_SECRET, code, at) is expected, offset


def test_secret_as_authenticator_apps_show_it():
    spaced = " ".join(RFC_SECRET[i : i + 4] for i in range(0, len(RFC_SECRET), 4)).lower()
    code = totp.totp(RFC_KEY, 1111111111)
    assert totp.verify(spaced, code, 1111111111)
    assert totp.verify(RFC_SECRET.rstrip("="), code, 1111111111)


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", " "])
def test_malformed_codes_never_match(code):
    assert not totp.verify(RFC_SECRET, code, 1111111111)


@pytest.mark.parametrize("secret", ["", "   ", "not base32!", "A1B8"])
def test_a_secret_that_is_not_base32_matches_nothing(secret):
    assert not totp.verify(secret, "050471", 1111111111)
    with pytest.raises(totp.SecretError):
        totp.decode_secret(secret)
