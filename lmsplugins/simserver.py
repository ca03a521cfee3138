"""Serve a provider simulator (a WSGI app) on loopback in a background thread.

Used by tests, benchmarks and ``lmsplugins demo``: the simulator speaks the provider's real wire
protocol over a real socket, so the client under test cannot tell it from the real service.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

WSGIApp = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class RunningServer:
    """A simulator listening on ``url`` until :meth:`stop` is called."""

    server: BaseWSGIServer
    thread: threading.Thread = field(repr=False)

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(app: WSGIApp, port: int = 0, host: str = "127.0.0.1") -> RunningServer:
    """Start *app* on ``host:port`` (0 = any free port) and return at once."""
    if not host.startswith("127.") and host not in ("localhost", "::1"):
        raise ValueError("simulators listen on loopback only")
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"simulator:{server.server_port}", daemon=True)
    thread.start()
    return RunningServer(server, thread)
