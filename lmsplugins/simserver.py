"""Serve a provider simulator (a WSGI app) on loopback in a background thread, and the parts every
simulator shares around its own wire protocol: fault switches set by name and counted down per request,
and the foreground loop of its ``python -m plugins.<name>.simulator`` entry point.

Used by tests, benchmarks and ``lmsplugins demo``: the simulator speaks the provider's real wire
protocol over a real socket, so the client under test cannot tell it from the real service.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
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

    @property
    def app(self) -> WSGIApp:
        return self.server.app

    def client_settings(self) -> dict[str, str]:
        """The plugin settings, by key, that point a client at this instance, as the app declares them
        (``client_settings(url)``: URL, credentials, anything else a login takes); {} if it declares none."""
        declared = getattr(self.app, "client_settings", None)
        return dict(declared(self.url)) if callable(declared) else {}

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


def serve_until_interrupted(app: WSGIApp, port: int, banner: str) -> None:
    """Serve *app* in the foreground until Ctrl-C, after printing *banner* (``{url}`` is the address)."""
    server = serve(app, port=port)
    print(banner.format(url=server.url), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


class FaultSet:
    """Base of a simulator's ``Faults`` dataclass: the fields are the provider's failure modes, set at
    runtime by name (``POST /_control/faults``); a name the simulator does not know is refused, so a
    test cannot think it injected a fault that never happens."""

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}  # type: ignore[arg-type]
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown fault {key!r}")
            setattr(self, key, value)

    def restore_defaults(self) -> None:
        """Every fault back to its default (none injected), as a fresh simulator starts."""
        fresh = type(self)()
        for f in fields(self):  # type: ignore[arg-type]
            setattr(self, f.name, getattr(fresh, f.name))


def count_down(faults: object, name: str) -> bool:
    """Use one of the counter fault *name* (the next N requests): True when it applies to this request.
    The caller holds its simulator's lock."""
    left = getattr(faults, name)
    if left > 0:
        setattr(faults, name, left - 1)
        return True
    return False
