"""A tiny greeting service: the wire protocol the example client speaks (JSON over HTTP).

``GET /greetings?ids=1,2`` answers ``{"greetings": {"1": "...", ...}}``; a wrong bearer token gets
401, and ``fail_every`` makes every n-th call a 503 so retries can be seen working. Like every
simulator, the app offers ``client_settings(url)``: the plugin's settings that reach it.
"""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response


def make_app(token: str = "", fail_every: int = 0, seed: int = 1):
    calls = {"n": 0}
    words = ["Dzień dobry", "Witaj", "Cześć", "Hello"]

    @Request.application
    def app(request: Request) -> Response:
        calls["n"] += 1
        if fail_every and calls["n"] % fail_every == 0:
            return Response("busy", status=503)
        if token and request.headers.get("Authorization") != f"Bearer {token}":
            return Response(json.dumps({"error": "bad token"}), status=401, content_type="application/json")
        if request.path != "/greetings":
            return Response(json.dumps({"error": "not found"}), status=404, content_type="application/json")
        try:
            ids = [int(x) for x in request.args.get("ids", "").split(",") if x]
        except ValueError:
            return Response(json.dumps({"error": "ids must be integers"}), status=400, content_type="application/json")
        body = {"greetings": {str(i): f"{words[(i + seed) % len(words)]}, #{i}" for i in ids}}
        return Response(json.dumps(body), content_type="application/json")

    def client_settings(url: str) -> dict[str, str]:
        settings = {"example.api_url": url.rstrip("/")}
        return settings | {"example.api_token": token} if token else settings

    app.client_settings = client_settings  # type: ignore[attr-defined]
    return app
