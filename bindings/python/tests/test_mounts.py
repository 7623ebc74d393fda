"""Which path the adapters decide on, over real sockets. An app mounted under a prefix: the engine decides on the path the
wrapped app routes, without the mount point (WSGI `SCRIPT_NAME`, ASGI `root_path`), as
Flask, Django and Starlette route. Deciding on the full path let `GET /app/admin/x`
match the policy's `/**` while the mounted app served `/admin/x`, and under gunicorn a
client could move the split itself with a `SCRIPT_NAME` header. And a request target
that is not a path (`*`, absolute-form left unparsed by the server): cut down to the path
a router would match, or refused 400 (it was a 500, the engine refusing the path)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from _servers import uvicorn_serving, werkzeug_serving
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from werkzeug.middleware.dispatcher import DispatcherMiddleware

import warden
from warden.asgi import WardenMiddleware as AsgiWarden
from warden.asgi import route_path
from warden.wsgi import WardenMiddleware as WsgiWarden
from warden.wsgi import request_args

POLICY = """
policy m
role admin
route /admin/** { require role admin }
route /** { public }
"""

USER = {"id": "u1", "roles": []}
ADMIN = {"id": "a1", "roles": ["admin"]}


def engine() -> warden.Engine:
    return warden.Engine.from_source("m.warden", POLICY)


def raw_get(port: int, target: str, extra: bytes = b"") -> tuple[int, str]:
    """GET `target` as written; the status and the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET " + target.encode() + b" HTTP/1.1\r\nHost: localhost\r\n" + extra + b"Connection: close\r\n\r\n")
        buf = b""
        while chunk := s.recv(65536):
            buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body.decode("latin-1")


def flask_app() -> Any:
    app = Flask("mounted")

    @app.get("/admin/<x>")
    def admin(x: str) -> str:
        return "admin handler"

    @app.get("/public")
    def public() -> str:
        return "public handler"

    def who(environ: dict[str, Any]) -> dict[str, Any]:
        return ADMIN if environ.get("HTTP_X_ROLE") == "admin" else USER

    app.wsgi_app = WsgiWarden(app.wsgi_app, engine(), principal=who)  # type: ignore[method-assign]
    return app


@pytest.fixture(scope="module")
def wsgi_port() -> Iterator[int]:
    root = Flask("root")
    with werkzeug_serving(DispatcherMiddleware(root, {"/app": flask_app()})) as port:
        yield port


def test_wsgi_mounted_app_is_decided_on_the_path_it_routes(wsgi_port: int) -> None:
    status, body = raw_get(wsgi_port, "/app/admin/x")
    assert status == 403 and "admin handler" not in body, (status, body)
    assert raw_get(wsgi_port, "/app/admin/x", b"X-Role: admin\r\n") == (200, "admin handler")
    assert raw_get(wsgi_port, "/app/public") == (200, "public handler")


def test_wsgi_script_name_moves_no_path_out_of_the_decision() -> None:
    # What gunicorn builds from a client's `SCRIPT_NAME: /public` header (trusted from
    # 127.0.0.1 by default) for `GET /public/admin/x`: Flask and Django route PATH_INFO.
    environ = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/public", "PATH_INFO": "/admin/x", "QUERY_STRING": "a=1"}
    assert request_args(environ)["path"] == "/admin/x?a=1"
    d = engine().check_http(**request_args(environ), principal=USER)
    assert (d.status, d.to_dict()["route"]["pattern"]) == (403, "/admin/**")
    assert request_args({"SCRIPT_NAME": "/app", "PATH_INFO": ""})["path"] == "/"


def mark(kind: str):  # type: ignore[no-untyped-def]
    async def handler(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{kind} handler")

    return handler


@pytest.fixture(scope="module")
def asgi_port() -> Iterator[int]:
    inner = Starlette(routes=[Route("/admin/{x}", mark("admin")), Route("/{rest:path}", mark("public"))])

    def who(scope: dict[str, Any]) -> dict[str, Any]:
        return ADMIN if (b"x-role", b"admin") in scope["headers"] else USER

    outer = Starlette(routes=[Mount("/app", app=AsgiWarden(inner, engine(), principal=who))])
    with uvicorn_serving(outer) as port:
        yield port


def test_asgi_mounted_app_is_decided_on_the_path_it_routes(asgi_port: int) -> None:
    status, body = raw_get(asgi_port, "/app/admin/x")
    assert status == 403 and "admin handler" not in body, (status, body)
    assert raw_get(asgi_port, "/app/admin/x", b"X-Role: admin\r\n") == (200, "admin handler")
    assert raw_get(asgi_port, "/app/public") == (200, "public handler")
    # Escapes stay for the engine to refuse, under the mount point as anywhere.
    assert raw_get(asgi_port, "/app/%61dmin/x")[0] == 400


def test_route_path_strips_the_mount_point_as_starlette_does() -> None:
    def scope(raw: bytes, path: str, root: str) -> dict[str, Any]:
        return {"raw_path": raw, "path": path, "root_path": root}

    assert route_path(scope(b"/app/admin/x", "/app/admin/x", "/app")) == "/admin/x"
    assert route_path(scope(b"/app", "/app", "/app")) == "/"
    # Not under the mount point (`/application` is not `/app`): unchanged.
    assert route_path(scope(b"/application/admin", "/application/admin", "/app")) == "/application/admin"
    # The mount point escaped on the wire: the decoded path less it, encoded again.
    assert route_path(scope(b"/a%20b/admin/x", "/a b/admin/x", "/a b")) == "/admin/x"
    assert route_path({"raw_path": b"/%61dmin", "path": "/admin"}) == "/%61dmin"


def test_asgi_targets_of_other_forms_are_decided_or_refused_never_an_error(asgi_port: int) -> None:
    # uvicorn parses an absolute-form target (httptools) or leaves it whole in
    # `raw_path` (h11); either way the app's path is decided.
    status, body = raw_get(asgi_port, "http://other.example/app/admin/x")
    assert status in (403, 404) and "admin handler" not in body, (status, body)
    # `*` ends at the outer router (no mount matches it): no handler either way.
    status, body = raw_get(asgi_port, "*")
    assert status in (400, 404) and "handler" not in body, (status, body)
    scope = {"raw_path": b"http://h/app/admin/x", "path": "http://h/app/admin/x", "root_path": ""}
    assert route_path(scope) == "/app/admin/x"
    assert route_path({"raw_path": b"*", "path": "*"}) is None


def test_wsgi_targets_of_other_forms_are_decided_or_refused() -> None:
    # What wsgiref (Django's runserver) puts in PATH_INFO for these targets.
    absolute = {"REQUEST_METHOD": "GET", "PATH_INFO": "http://h/admin/x"}
    assert request_args(absolute)["path"] == "/admin/x"
    assert request_args({"REQUEST_METHOD": "OPTIONS", "PATH_INFO": "*"})["path"] is None
    assert request_args({"REQUEST_METHOD": "GET", "PATH_INFO": "h:443"})["path"] is None


def test_wsgi_middleware_answers_400_for_a_target_no_router_matches() -> None:
    app = WsgiWarden(lambda environ, start: [b"app ran"], engine())
    seen: list[str] = []
    out = app({"REQUEST_METHOD": "OPTIONS", "PATH_INFO": "*", "wsgi.input": None}, lambda status, headers: seen.append(status))
    assert seen == ["400 Bad Request"] and b"app ran" not in b"".join(out)


def test_asgi_middleware_answers_400_for_a_target_no_router_matches() -> None:
    import asyncio

    ran: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        ran.append(True)

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "OPTIONS", "raw_path": b"*", "path": "*", "headers": [], "query_string": b""}
    asyncio.run(AsgiWarden(app, engine())(scope, receive, send))
    assert not ran and sent[0]["status"] == 400, sent
