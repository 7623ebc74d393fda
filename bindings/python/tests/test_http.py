"""check_http from keyword arguments, and the ASGI middleware through Starlette's TestClient."""

import json
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import warden
from warden.asgi import WardenMiddleware

TOUR = Path(__file__).resolve().parents[3] / "examples" / "00-tour.warden"

ADMIN = {"id": "a1", "roles": ["admin"], "org": "o1"}
VIEWER = {"id": "v1", "roles": ["viewer"], "org": "o1"}


def engine() -> warden.Engine:
    """The whole tour, limits included (counted in the engine's default memory store)."""
    return warden.Engine.from_file(TOUR, secrets={"CRON_SECRET": "test-cron-secret"})


def test_redirect_requirements_and_headers() -> None:
    e = engine()
    d = e.check_http(method="GET", path="/dashboard/stats?tab=1")
    assert (d.allowed, d.status) == (False, 302)
    assert d.location == "/login?callbackUrl=%2Fdashboard%2Fstats%3Ftab%3D1"
    assert e.check_http(method="GET", path="/api/admin/users").status == 401
    assert e.check_http(method="GET", path="/api/admin/users", principal=VIEWER).status == 403
    ok = e.check_http(method="GET", path="/api/admin/users", principal=ADMIN)
    assert ok.allowed and ok.status == 200 and ok.headers["x-frame-options"] == "DENY"
    assert ok.to_dict()["headers"]["x-frame-options"] == "DENY"


def test_cors() -> None:
    e = engine()
    good = e.check_http(method="GET", path="/", headers={"Origin": "https://app.example.com"})
    assert good.headers.get("access-control-allow-origin") == "https://app.example.com"
    evil = e.check_http(method="GET", path="/", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers


def test_rate_limit_answers_429_with_retry_after() -> None:
    # The tour: `limit login: 5 per 15m by ip` on POST /api/auth/login.
    e = engine()
    got = [e.check_http(method="POST", path="/api/auth/login", ip="203.0.113.7") for _ in range(6)]
    assert [d.status for d in got] == [200] * 5 + [429]
    last = got[-1]
    assert not last.allowed and int(last.headers["retry-after"]) > 0
    # Another address has its own budget.
    assert e.check_http(method="POST", path="/api/auth/login", ip="203.0.113.8").status == 200


def test_asgi_middleware_relays_429_and_retry_after() -> None:
    e = engine()
    client = app_with(e, client=("203.0.113.7", 50000))
    codes = [client.post("/api/auth/login").status_code for _ in range(5)]
    assert codes == [200] * 5
    r = client.post("/api/auth/login")
    assert r.status_code == 429 and "error" in r.json()
    assert int(r.headers["retry-after"]) > 0
    assert r.headers["x-frame-options"] == "DENY"
    assert app_with(e, client=("203.0.113.9", 50000)).post("/api/auth/login").status_code == 200


def test_explain_http() -> None:
    d = engine().check_http(method="GET", path="/api/admin/users", principal=VIEWER, explain=True)
    assert d.status == 403 and d.trace is not None and d.trace["routes"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"path": "/"}, "missing `method`"),
        ({"method": "GET"}, "missing `path`"),
        ({"method": "G T", "path": "/"}, "HTTP method name"),
        ({"method": "GET", "path": "x"}, "must start with `/`"),
        ({"method": "GET", "path": "/", "ip": "nope"}, "IPv4 or IPv6"),
        ({"method": "GET", "path": "/", "headers": {"a": 1}}, "header `a`"),
        ({"method": "GET", "path": "/", "principal": "u1"}, "`principal` must be"),
        ({"method": "GET", "path": "/", "input": {"x": object()}}, "unsupported type"),
    ],
)
def test_bad_http_requests(kwargs: dict, message: str) -> None:
    with pytest.raises(warden.RequestError, match=message.replace("(", r"\(")):
        engine().check_http(**kwargs)


def app_with(e: warden.Engine, client: tuple[str, int] = ("testclient", 50000)) -> TestClient:
    async def home(request: Request) -> PlainTextResponse:
        return PlainTextResponse("home", headers={"x-frame-options": "SAMEORIGIN", "x-app": "1"})

    async def admin(request: Request) -> PlainTextResponse:
        return PlainTextResponse("admin area")

    app = Starlette(routes=[Route("/", home), Route("/api/admin/users", admin), Route("/api/auth/login", home, methods=["POST"])])

    def principal(scope: dict) -> dict | None:
        for k, v in scope["headers"]:
            if k == b"x-test-user":
                return json.loads(v)
        return None

    return TestClient(WardenMiddleware(app, e, principal=principal), follow_redirects=False, client=client)


def test_asgi_middleware_answers_refusals_and_adds_headers() -> None:
    client = app_with(engine())
    r = client.get("/")
    assert r.status_code == 200 and r.text == "home"
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-app"] == "1"
    assert r.headers["strict-transport-security"].startswith("max-age=")
    r = client.get("/api/admin/users")
    assert r.status_code == 401 and "error" in r.json()
    r = client.get("/api/admin/users", headers={"x-test-user": json.dumps(VIEWER)})
    assert r.status_code == 403
    r = client.get("/api/admin/users", headers={"x-test-user": json.dumps(ADMIN)})
    assert r.status_code == 200 and r.text == "admin area"
    r = client.get("/dashboard/stats?tab=1")
    assert r.status_code == 302 and r.headers["location"] == "/login?callbackUrl=%2Fdashboard%2Fstats%3Ftab%3D1"
    r = client.get("/", headers={"origin": "https://app.example.com"})
    assert r.headers["access-control-allow-origin"] == "https://app.example.com"
    r = client.options("/", headers={"origin": "https://app.example.com", "access-control-request-method": "POST"})
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == "https://app.example.com"


