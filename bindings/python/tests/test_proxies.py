"""Trusted proxies over real sockets: clients (distinct loopback source addresses,
127.0.0.2 to 127.0.0.8) -> a reverse proxy on 127.0.0.1 that appends the address it saw
to `X-Forwarded-For` (or writes RFC 7239 `Forwarded`), as nginx does -> uvicorn ->
Starlette or FastAPI behind `warden.asgi.WardenMiddleware`. The middleware passes the ASGI
`client` (the socket peer: uvicorn runs with `proxy_headers=False`, see warden.asgi);
the policy's `proxies` block decides which forwarding headers count."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from typing import Any
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from _servers import uvicorn_serving
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import warden
from warden.asgi import WardenMiddleware

LIMITED = """
limit login: 2 per 15m by ip strict
route POST /login { limit login }
route /** { public }
"""
BEHIND_PROXY = 'policy p\nproxies { trusted: "127.0.0.1" }\n' + LIMITED
FORWARDED = 'policy p\nproxies {\n  trusted: "127.0.0.1"\n  header: Forwarded\n}\n' + LIMITED
NO_PROXIES = "policy p\n" + LIMITED
CLIENTS = [f"127.0.0.{n}" for n in range(2, 9)]


async def login(request: Request) -> JSONResponse:
    return JSONResponse({"client": request.client.host if request.client else None})


def asgi_app(framework: str, engine: warden.Engine) -> Any:
    """The login app on `framework`, behind the middleware as each framework adds it."""
    if framework == "fastapi":
        api = FastAPI()
        api.add_middleware(WardenMiddleware, engine=engine)
        api.post("/login")(login)
        return api
    return WardenMiddleware(Starlette(routes=[Route("/login", login, methods=["POST"])]), engine)


def serve_app(policy: str, framework: str = "starlette") -> Iterator[int]:
    """uvicorn on a loopback port with the policy's app; yields the port."""
    engine = warden.Engine.from_source("p.warden", policy)
    app = asgi_app(framework, engine)
    with uvicorn_serving(app) as port:
        yield port


def reverse_proxy(upstream: int, style: str) -> ThreadingHTTPServer:
    """A reverse proxy to `upstream` that reports each client's socket address."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            peer, port = self.client_address[0], self.client_address[1]
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            if style == "forwarded":
                node = f'"[{peer}]:{port}"' if ":" in peer else f'"{peer}:{port}"'
                prior = self.headers.get("forwarded")
                headers["Forwarded"] = (f"{prior}, " if prior else "") + f"for={node};proto=http"
            else:
                prior = self.headers.get("x-forwarded-for")
                headers["X-Forwarded-For"] = (f"{prior}, " if prior else "") + peer
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=10)
            conn.request("POST", self.path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            self.send_response(r.status)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def post_login(port: int, source: str, headers: dict[str, str] | None = None) -> int:
    """POST /login from the loopback address `source`; the status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    conn.request("POST", "/login", headers=headers or {})
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.fixture
def behind(request: pytest.FixtureRequest) -> Iterator[tuple[int, int]]:
    """(proxy port, app port) for the (policy, style, framework) the test is
    parametrised with."""
    policy, style, framework = request.param
    for app_port in serve_app(policy, framework):
        proxy = reverse_proxy(app_port, style)
        try:
            yield proxy.server_address[1], app_port
        finally:
            proxy.shutdown()
            proxy.server_close()


@pytest.mark.parametrize(
    "behind",
    [
        (BEHIND_PROXY, "x-forwarded-for", "starlette"),
        (FORWARDED, "forwarded", "starlette"),
        (BEHIND_PROXY, "x-forwarded-for", "fastapi"),
        (FORWARDED, "forwarded", "fastapi"),
    ],
    indirect=True,
)
def test_seven_clients_behind_a_trusted_proxy_keep_seven_budgets(behind: tuple[int, int]) -> None:
    proxy, _ = behind
    for c in CLIENTS:
        assert [post_login(proxy, c), post_login(proxy, c)] == [200, 200], c
    for c in CLIENTS:
        assert post_login(proxy, c) == 429, c


@pytest.mark.parametrize(
    "behind", [(BEHIND_PROXY, "x-forwarded-for", "starlette"), (BEHIND_PROXY, "x-forwarded-for", "fastapi")], indirect=True
)
def test_a_forged_forwarded_for_earns_no_fresh_budget(behind: tuple[int, int]) -> None:
    proxy, app = behind
    spoof = [{"x-forwarded-for": f"198.51.100.{i}"} for i in range(8)]
    # Through the proxy: it appends the real address right of the forged one.
    assert [post_login(proxy, "127.0.0.2", spoof[i]) for i in range(3)] == [200, 200, 429]
    assert post_login(proxy, "127.0.0.2", {"forwarded": "for=198.51.100.9"}) == 429
    # Around the proxy, straight to the app: the peer is not a trusted proxy.
    assert [post_login(app, "127.0.0.3", spoof[i]) for i in range(3, 6)] == [200, 200, 429]


@pytest.mark.parametrize("framework", ["starlette", "fastapi"])
def test_without_a_proxies_block_forwarding_headers_are_ignored(framework: str) -> None:
    for app in serve_app(NO_PROXIES, framework):
        forged = [{"x-forwarded-for": f"198.51.100.{i}", "forwarded": f"for=203.0.113.{i}"} for i in range(3)]
        assert [post_login(app, "127.0.0.4", h) for h in forged] == [200, 200, 429]
        assert post_login(app, "127.0.0.5", forged[0]) == 200

