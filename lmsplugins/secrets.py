"""Keeping secrets out of what the host stores and shows: job command lines, job output, provider errors.

A job's command line is kept with its run record and shown on the job detail page, and a provider's
error may quote a request; both can carry a password. Two rules cover what an administrator types
and what the configuration holds: the value after a password-like flag (``--password X``,
``--api-key=X``) is masked whatever it is, and every current value of a declared secret setting (and
the database password) is masked wherever it appears.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lmsplugins.host import Host

MASK = "***"
MIN_SECRET = 3
"""Shorter values are not masked inside other text: a one-character secret would mask every digit."""

_SECRET_WORDS = frozenset({"pass", "passwd", "password", "passphrase", "secret", "token", "apikey", "pin"})


def _is_secret_flag(arg: str) -> bool:
    """``--password``, ``--api-key``, ``--db_passwd``: a flag with a secret word among its parts."""
    if not arg.startswith("-") or arg in ("-", "--"):
        return False
    parts = set(re.split(r"[-_]+", arg.lstrip("-").lower()))
    return bool(parts & _SECRET_WORDS) or {"api", "key"} <= parts


def secret_values(host: Host) -> list[str]:
    """Current values of every declared secret setting (ini and uiconfig), longest first."""
    found: set[str] = set()
    try:
        config = host.config()
    except Exception:
        try:
            config = host.ini_config
        except Exception:
            return []
    keys = ["lmsplugins.secret_key", "database.password"]
    keys += [s.key for plugin in host.registry.found for s in plugin.settings if s.secret]
    for key in keys:
        value = config.get(key)
        if value and len(value) >= MIN_SECRET:
            found.add(value)
    return sorted(found, key=len, reverse=True)


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """*text* with every secret value replaced by ``***`` (give the longest first)."""
    for value in secrets:
        if value:
            text = text.replace(value, MASK)
    return text


def mask_argv(argv: Sequence[str], secrets: Iterable[str] = ()) -> list[str]:
    """*argv* with the value of each password-like flag and every secret value masked."""
    values = sorted({s for s in secrets if s}, key=len, reverse=True)
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(MASK)
            hide_next = False
            continue
        flag, eq, _value = arg.partition("=")
        if _is_secret_flag(flag):
            if eq:
                out.append(f"{flag}={MASK}")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(mask_text(arg, values))
    return out
