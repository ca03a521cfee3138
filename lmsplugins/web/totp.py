"""Time-based one-time codes (RFC 6238 over RFC 4226 HOTP), as LMS's two-factor login checks them.

LMS verifies ``users.twofactorauthsecretkey`` with PragmaRX Google2FA's defaults: the key is Base32
text, codes are 6 digits of HMAC-SHA1 over 30-second steps, and a code of the step before or after
the current one is accepted too (clock drift between the phone and the server). A few lines of
``hmac`` do this; a TOTP package would be a dependency for one function.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import struct
import time

STEP = 30
DIGITS = 6
WINDOW = 1
"""Steps accepted on either side of now (Google2FA's default window)."""


class SecretError(ValueError):
    """The stored secret is not Base32 text."""


def decode_secret(secret: str) -> bytes:
    """The key bytes of a Base32 secret as authenticator apps show it (any case, spaces, no padding)."""
    cleaned = "".join(secret.split()).upper().rstrip("=")
    if not cleaned:
        raise SecretError("empty secret")
    try:
        return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (binascii.Error, ValueError):
        raise SecretError("secret is not Base32") from None


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226: the code for *counter* (dynamic truncation of HMAC-SHA1)."""
    digest = hmac.new(key, struct.pack(">Q", counter), "sha1").digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp(key: bytes, at: float, step: int = STEP, digits: int = DIGITS) -> str:
    """RFC 6238: the code valid at unix time *at*."""
    return hotp(key, int(at // step), digits)


def verify(secret: str, code: str, at: float | None = None, window: int = WINDOW) -> bool:
    """True when *code* is the code of a step within *window* of *at* (default now) for *secret*.

    Every candidate step is compared, in constant time, so the answer's timing says nothing about
    which step (if any) matched. A secret that is not Base32 matches nothing.
    """
    code = code.strip()
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return False
    try:
        key = decode_secret(secret)
    except SecretError:
        return False
    now = time.time() if at is None else at
    counter = int(now // STEP)
    matched = False
    for step in range(counter - window, counter + window + 1):
        matched |= hmac.compare_digest(hotp(key, step), code)
    return matched
