"""warden.wsgi + warden.flask in a Flask app served by a real WSGI server (werkzeug's)
over loopback: refusals, the principal in handlers, resource-level checks, the body
facts, headers, Vary, cookies and the HTTPS redirect."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask, jsonify, make_response, request
from werkzeug.serving import make_server

from seed003 import bearer, engine
from warden.flask import authorize, current
from warden.wsgi import WardenMiddleware, detail_body

POSTS = {"p1": {"id": "p1", "author": "u1"}}


def user_facts(environ: dict[str, Any], body: bytes) -> dict[str, Any] | None:
    if environ.get("PATH_INFO") != "/api/users":
        return None
    data = json.loads(body or b"{}")
    facts = {k: data[k] for k in ("email", "name", "age") if k in data}
    facts["password_length"] = len(data.get("password", ""))
    return facts


def make_app(env: str, **options: Any) -> Flask:
    app = Flask(__name__)

    @app.get("/health")
    def health() -> Any:
        response = make_response(jsonify(status="ok"))
        response.headers["X-Powered-By"] = "Flask"
        response.headers["Vary"] = "Accept-Encoding"
        return response

    @app.get("/api/me")
    def me() -> Any:
        state = current()
        return jsonify(id=(state.principal or {}).get("id"), status=state.decision.status)

    @app.put("/api/posts/<post_id>")
    def update(post_id: str) -> Any:
        post = POSTS[post_id]
        authorize("posts:write", {"type": "post", "id": post_id, "author": post["author"]})
        return jsonify(post)

    @app.post("/api/users")
    def create_user() -> Any:
        data = request.get_json()
        return jsonify(email=data["email"]), 201

    @app.post("/api/auth/login")
    def login() -> Any:
        response = make_response(jsonify(ok=True))
        response.set_cookie("refreshToken", "r-123")
        response.set_cookie("theme", "dark")
        return response

    app.wsgi_app = WardenMiddleware(app.wsgi_app, engine(env), body_input=user_facts, **options)  # type: ignore[method-assign]
    return app


def serve(app: Flask) -> Iterator[httpx.Client]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}") as client:
            yield client
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="module")
def dev() -> Iterator[httpx.Client]:
    yield from serve(make_app("development"))


@pytest.fixture(scope="module")
def dev_detail() -> Iterator[httpx.Client]:
    yield from serve(make_app("development", deny_body=detail_body))


@pytest.fixture(scope="module")
def prod() -> Iterator[httpx.Client]:
    yield from serve(make_app("production"))


def test_headers_replaced_dropped_and_vary_merged(dev: httpx.Client) -> None:
    r = dev.get("/health", headers={"origin": "https://myapp.com"})
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "x-powered-by" not in r.headers
    assert r.headers["access-control-allow-origin"] == "https://myapp.com"
    vary = [t.strip().lower() for t in r.headers["vary"].split(",")]
    assert "accept-encoding" in vary and "origin" in vary


def test_refusals_with_the_default_and_the_detail_body(dev: httpx.Client, dev_detail: httpx.Client) -> None:
    r = dev.put("/api/posts/p1")
    assert r.status_code == 401 and set(r.json()) == {"error"}
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    r = dev_detail.put("/api/posts/p1", headers=bearer("u2", "viewer"))
    assert r.status_code == 403 and set(r.json()) == {"detail"}


def test_handler_sees_the_principal(dev: httpx.Client) -> None:
    assert dev.get("/api/me").json() == {"id": None, "status": 200}
    assert dev.get("/api/me", headers=bearer("u2", "viewer")).json() == {"id": "u2", "status": 200}


def test_resource_level_authorize(dev: httpx.Client) -> None:
    other = dev.put("/api/posts/p1", headers=bearer("u3", "editor"))
    assert other.status_code == 403
    assert other.json() == {"detail": "Not authorized to edit this post"}
    assert dev.put("/api/posts/p1", headers=bearer("u1", "editor")).status_code == 200


def test_body_facts_reach_the_policy_and_the_body_the_app(dev: httpx.Client) -> None:
    ok = dev.post("/api/users", json={"email": "a@example.com", "name": "A", "password": "long enough password"})
    assert ok.status_code == 201 and ok.json() == {"email": "a@example.com"}
    short = dev.post("/api/users", json={"email": "a@example.com", "name": "A", "password": "short"})
    assert short.status_code == 400


def test_cookie_rules_apply_to_set_cookie(dev: httpx.Client) -> None:
    r = dev.post("/api/auth/login")
    cookies = r.headers.get_list("set-cookie")
    refresh = next(c for c in cookies if c.startswith("refreshToken="))
    for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/api/auth/refresh"):
        assert flag.lower() in refresh.lower()
    theme = next(c for c in cookies if c.startswith("theme="))
    assert "secure" not in theme.lower()  # no rule for it: untouched


def test_production_redirect(prod: httpx.Client) -> None:
    r = prod.get("/health", headers={"host": "myapp.com", "x-forwarded-proto": "http"})
    assert r.status_code == 301 and r.headers["location"] == "https://myapp.com/health"
    assert r.content == b""


def test_path_is_what_flask_routes_on(dev: httpx.Client) -> None:
    # `%2F` is decoded by the server before Flask routes; the engine sees the same path.
    r = dev.put("/api%2Fposts/p1")
    assert r.status_code == 401


def test_state_helper_refuses_without_the_middleware() -> None:
    app = Flask(__name__)

    @app.get("/")
    def index() -> Any:
        current()
        return "unreachable"

    app.testing = True  # let the error through instead of a 500 page
    with app.test_client() as client:
        with pytest.raises(RuntimeError, match="WardenMiddleware"):
            client.get("/")
