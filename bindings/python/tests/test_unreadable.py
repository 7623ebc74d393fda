"""A body the host's `body_input` hook reads into facts the engine cannot read: Python's
`json.loads` accepts `NaN`, `Infinity` and `1e400` from a client, and the engine refuses
a non-finite number (`RequestError`). The adapters answer that request 400, over real
sockets (uvicorn for ASGI, werkzeug for WSGI), where it was a 500 any client could
cause; a finite body is still decided by the policy."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from _servers import uvicorn_serving, werkzeug_serving
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import warden
from warden.asgi import WardenMiddleware as AsgiWarden
from warden.wsgi import WardenMiddleware as WsgiWarden

POLICY = """
policy u
route POST /upload {
  public
  require input.size <= 1000 else 413
}
"""

BODIES = [b'{"size": NaN}', b'{"size": Infinity}', b'{"size": -Infinity}', b'{"size": 1e400}']


def engine() -> warden.Engine:
    return warden.Engine.from_source("u.warden", POLICY)


def facts(_request: Any, body: bytes) -> dict[str, Any]:
    return {"size": json.loads(body)["size"]}


def post(port: int, body: bytes) -> tuple[int, str]:
    """POST `body` to /upload as written; the status and the response body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        head = b"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        s.sendall(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        buf = b""
        while chunk := s.recv(65536):
            buf += chunk
    head, _, out = buf.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), out.decode("latin-1")


def check(port: int) -> None:
    for body in BODIES:
        status, out = post(port, body)
        assert status == 400 and "handler" not in out, (body, status, out)
    assert post(port, b'{"size": 10}') == (200, "upload handler")
    assert post(port, b'{"size": 5000}')[0] == 413


@pytest.fixture(scope="module")
def asgi_port() -> Iterator[int]:
    async def upload(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("upload handler")

    app = Starlette(routes=[Route("/upload", upload, methods=["POST"])])
    with uvicorn_serving(AsgiWarden(app, engine(), body_input=facts)) as port:
        yield port


@pytest.fixture(scope="module")
def wsgi_port() -> Iterator[int]:
    app = Flask("unreadable")

    @app.post("/upload")
    def upload() -> str:
        return "upload handler"

    app.wsgi_app = WsgiWarden(app.wsgi_app, engine(), body_input=facts)  # type: ignore[method-assign]
    with werkzeug_serving(app) as port:
        yield port


def test_asgi_answers_unreadable_facts_400(asgi_port: int) -> None:
    check(asgi_port)


def test_wsgi_answers_unreadable_facts_400(wsgi_port: int) -> None:
    check(wsgi_port)
