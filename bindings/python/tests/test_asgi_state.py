"""The ASGI middleware's hand-over to the app: `request.state.warden` (decision,
principal, authorize), the principal hook for an app's own session layer, deny bodies,
and body facts — through Starlette's TestClient (the ASGI app itself; the FastAPI
example app covers a real uvicorn server)."""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from seed003 import bearer, engine
from warden.asgi import WardenMiddleware, WardenState, detail_body

SESSIONS = {"s1": {"id": "u1", "roles": ["editor"]}}


async def show(request: Request) -> JSONResponse:
    state = request.state.warden
    assert isinstance(state, WardenState)
    may = state.authorize("posts:write", {"type": "post", "id": "p1", "author": "u1"})
    return JSONResponse({"id": (state.principal or {}).get("id"), "status": state.decision.status, "may_edit": may.allowed})


async def create(request: Request) -> JSONResponse:
    return JSONResponse(await request.json(), status_code=201)


class SessionLayer:
    """The app's own session layer, outside Warden: puts the user into the scope."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            cookie = dict(scope["headers"]).get(b"cookie", b"").decode()
            scope["user"] = SESSIONS.get(cookie.removeprefix("sid="))
        await self.app(scope, receive, send)


def facts(scope: Any, body: bytes) -> dict[str, Any]:
    data = json.loads(body)
    return {"email": data.get("email"), "name": data.get("name"), "password_length": len(data.get("password", ""))}


def client(**options: Any) -> TestClient:
    app = Starlette(routes=[Route("/api/me", show), Route("/api/posts/{id}", show, methods=["PUT"]), Route("/api/users", create, methods=["POST"])])
    return TestClient(SessionLayer(WardenMiddleware(app, engine(), **options)), client=("127.0.0.1", 50000))


def test_state_carries_decision_and_principal_from_auth_blocks() -> None:
    c = client()
    assert c.get("/api/me").json() == {"id": None, "status": 200, "may_edit": False}
    assert c.get("/api/me", headers=bearer("u1", "editor")).json() == {"id": "u1", "status": 200, "may_edit": True}
    assert c.put("/api/posts/p1", headers=bearer("u3", "editor")).json() == {"id": "u3", "status": 200, "may_edit": False}


def test_principal_hook_from_the_apps_session_layer() -> None:
    c = client(principal=lambda scope: scope.get("user"))
    r = c.put("/api/posts/p1", headers={"cookie": "sid=s1"})  # no token: the session decides
    assert r.status_code == 200 and r.json()["id"] == "u1"
    assert c.put("/api/posts/p1").status_code == 401


def test_deny_body_is_configurable() -> None:
    assert client().put("/api/posts/p1").json() == {"error": "missing_token"}
    assert client(deny_body=detail_body).put("/api/posts/p1").json() == {"detail": "missing_token"}
    raw = client(deny_body=lambda d: f"refused: {d.reason}".encode()).put("/api/posts/p1")
    assert raw.status_code == 401 and raw.content == b"refused: missing_token"
    assert "content-type" not in raw.headers


def test_body_facts_reach_the_policy_and_the_body_reaches_the_app() -> None:
    c = client(body_input=facts)
    good = {"email": "a@example.com", "name": "A", "password": "long enough password"}
    r = c.post("/api/users", json=good)
    assert r.status_code == 201 and r.json() == good
    assert c.post("/api/users", json={**good, "password": "short"}).status_code == 400
    big = client(body_input=facts, max_body=10).post("/api/users", json=good)
    assert big.status_code == 413 and big.json() == {"error": "request body too large"}
