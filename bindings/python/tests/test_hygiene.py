"""Issue 15, the ASGI middleware's response hygiene: `Vary` merged with the app's own
(never replaced), `X-Powered-By` removed, and a 503 that says nothing of the store.
(Starlette's TestClient drives the real middleware and router in process.)"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import warden
from warden.asgi import WardenMiddleware

POLICY = """
policy p
cors {
  origins: "https://app.example"
  credentials: true
}
route /me {
  public
  header set Vary: "Cookie"
}
route /** { public }
"""


def app(engine: warden.Engine) -> TestClient:
    async def me(request: Request) -> PlainTextResponse:
        return PlainTextResponse("me", headers={"vary": "Accept-Language", "x-powered-by": "Starlette"})

    async def plain(request: Request) -> PlainTextResponse:
        return PlainTextResponse("plain")

    routes = [Route("/me", me), Route("/plain", plain)]
    return TestClient(WardenMiddleware(Starlette(routes=routes), engine))


def tokens(value: str | None) -> list[str]:
    return sorted(t.strip().lower() for t in (value or "").split(",") if t.strip())


def test_vary_is_merged_with_the_apps_own() -> None:
    c = app(warden.Engine.from_source("p.warden", POLICY))
    origin = {"origin": "https://app.example"}
    r = c.get("/me", headers=origin)
    assert r.status_code == 200
    assert r.headers.get_list("vary") == [r.headers["vary"]]
    assert tokens(r.headers["vary"]) == ["accept-language", "cookie", "origin"]
    assert tokens(c.get("/plain", headers=origin).headers.get("vary")) == ["origin"]
    refused = c.get("/a%2Fb", headers=origin)
    assert refused.status_code == 400
    assert tokens(refused.headers.get("vary")) == ["origin"]


def test_x_powered_by_is_removed() -> None:
    c = app(warden.Engine.from_source("p.warden", POLICY))
    r = c.get("/me")
    assert r.status_code == 200
    assert "x-powered-by" not in r.headers


def test_a_store_failure_503_does_not_say_what_failed() -> None:
    policy = "policy p\nlimit api: 5 per 1m by ip\nroute /** {\n  public\n  limit api\n}\n"
    e = warden.Engine.from_source("p.warden", policy, redis_url="redis://127.0.0.1:1/")
    r = app(e).get("/plain")
    assert r.status_code == 503
    assert r.json() == {"error": "service temporarily unavailable"}
    assert "redis" not in r.text.lower() and "127.0.0.1" not in r.text
