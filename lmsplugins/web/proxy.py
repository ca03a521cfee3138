"""Which ``X-Forwarded-*`` headers the app believes: only those sent by a trusted proxy.

The client address decides ``users.hosts``, ``trustedhosts``, the single sign-on address check and
the login throttle, so a client that reaches gunicorn directly must not be able to name its own
address in ``X-Forwarded-For``. Two settings in ``[lmsplugins]``:

- ``trusted_proxies`` (default ``127.0.0.0/8, ::1, unix``): the peers (addresses or networks;
  ``unix`` for a Unix socket, whose peer has no address) whose forwarded headers are read;
- ``proxy_hops`` (default 1): how many proxies in a row add to ``X-Forwarded-*`` (0: none are
  believed at all), the meaning it had before ``trusted_proxies`` existed.

A request from any other peer is served as it arrived, with its forwarded headers ignored.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

from lmsplugins.errors import ConfigError

DEFAULT_TRUSTED = "127.0.0.0/8, ::1, unix"
UNIX_PEER = "unix"
_SEPARATORS = re.compile(r"[\s,;]+")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted(value: str) -> tuple[tuple[Network, ...], bool]:
    """(networks, whether Unix-socket peers are trusted) from a ``trusted_proxies`` value."""
    networks: list[Network] = []
    unix = False
    for item in _SEPARATORS.split(value.strip()):
        if not item:
            continue
        if item.lower() == UNIX_PEER:
            unix = True
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"setting lmsplugins.trusted_proxies: {item!r} is not an address or network (e.g. 10.0.0.5, ::1, unix)"
            ) from None
    return tuple(networks), unix


def peer_trusted(peer: str | None, networks: Iterable[Network], unix: bool) -> bool:
    if not peer:
        return unix
    try:
        addr = ipaddress.ip_address(peer.strip())
    except ValueError:
        return unix and peer.startswith("/")
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return any(addr.version == net.version and addr in net for net in networks)


class TrustedProxyFix:
    """:class:`werkzeug.middleware.proxy_fix.ProxyFix` for trusted peers; others pass untouched."""

    def __init__(self, app: Any, trusted: str, hops: int):
        self.app = app
        self.networks, self.unix = parse_trusted(trusted)
        self.fixed = (
            ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops) if hops > 0 else app
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if peer_trusted(environ.get("REMOTE_ADDR"), self.networks, self.unix):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
