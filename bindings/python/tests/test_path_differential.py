"""The path rule (docs/ARCHITECTURE.md) against a real Starlette router: a corpus of
spellings of a protected path goes over a real socket to uvicorn, byte for byte (a raw
HTTP/1.1 request line: no client library resolves or re-encodes it), through the ASGI
middleware to an app whose admin handlers answer `x-handler: admin`. For every
spelling, either Warden refused it (400), or the handler Starlette dispatched belongs to
the route the engine matched; a non-admin principal never reaches an admin handler.

Starlette routes the *decoded* path (uvicorn percent-decodes `raw_path` into `path`,
`%2F` included), case-sensitively; Express and axum the raw one: the same corpus runs
against them in bindings/node/test/differential.test.js and
tower/tests/path_differential.rs."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from _servers import uvicorn_serving
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import warden
from warden.asgi import WardenMiddleware

POLICY = """
policy d
role admin
route /api/admin/** { require role admin }
route /** { public }
"""

USER = {"id": "u1", "roles": []}
ADMIN = {"id": "a1", "roles": ["admin"]}


def corpus() -> list[str]:
    """Spellings of paths under and around `/api/admin` (issue 15's list, and more)."""
    admin = ["admin", "ADMIN", "Admin", "%61dmin", "adm%69n", "%41dmin", "admin;x", "admin%3Bx",
             "admin%2F", "admin%2f", "admin%5C", "admin\\", "admin%00", "%EF%BD%81dmin", "admin%20",
             "admin.", ".admin"]
    tails = ["", "/", "//", "/x", "/x/", "/..", "/../", "/.", "/%2e%2e", "/%2E%2E", "/.%2E", "/%2e.",
             "/x/..", "/x/../..", "/x/%2e%2e/%2e%2e", "/..;", "/..;/x", "/%2e", "/x%2F..", "/%00",
             "/x?y=/..", "/\u00e9", "/%C0%AE%C0%AE", "//x", "/%2Fx", "/x%2F%2E%2E%2F%2E%2E"]
    heads = ["/api/", "/API/", "/api//", "//api/", "/x/../api/", "/api/x/../", "/%61pi/", "/api\\",
             "/api%2F", "/api%2f"]
    out = {h + a + t for h in heads for a in admin for t in tails}
    out |= {"/api" + t for t in tails}
    return sorted(out)


def mark(kind: str):  # type: ignore[no-untyped-def]
    async def handler(request: Request) -> PlainTextResponse:
        return PlainTextResponse(kind, headers={"x-handler": kind})

    return handler


def app(engine: warden.Engine) -> WardenMiddleware:
    routes = Starlette(routes=[
        Route("/api/admin", mark("admin")),
        Route("/api/admin/{section}", mark("admin")),
        Route("/api/admin/{section}/{rest:path}", mark("admin")),
        Route("/api/{x}", mark("public")),
        Route("/api/{x}/{rest:path}", mark("public")),
        Route("/{rest:path}", mark("public")),
    ])
    return WardenMiddleware(routes, engine, principal=_principal)


def _principal(scope: dict) -> dict:  # type: ignore[type-arg]
    """An admin when the request says `x-role: admin` (the control), else `USER`."""
    return ADMIN if (b"x-role", b"admin") in scope["headers"] else USER


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    engine = warden.Engine.from_source("d.warden", POLICY)
    with uvicorn_serving(app(engine)) as port:
        yield ("127.0.0.1", port)


def raw_get(addr: tuple[str, int], raw: str, extra: bytes = b"") -> tuple[int, str | None]:
    """GET `raw` exactly as written (UTF-8 on the wire); the status and `x-handler`."""
    with socket.create_connection(addr, timeout=10) as s:
        s.sendall(b"GET " + raw.encode("utf-8") + b" HTTP/1.1\r\nHost: localhost\r\n" + extra + b"Connection: close\r\n\r\n")
        buf = b""
        while chunk := s.recv(65536):
            buf += chunk
    head = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    status = int(lines[0].split(" ")[1]) if lines and len(lines[0].split(" ")) > 1 else 0
    handler = next((line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("x-handler:")), None)
    return status, handler


def test_starlette_no_spelling_reaches_an_admin_handler_the_engine_did_not_route_to(server: tuple[str, int]) -> None:
    engine = warden.Engine.from_source("d.warden", POLICY)
    refused = served = 0
    for p in corpus():
        status, handler = raw_get(server, p)
        if handler is None:
            # No handler ran: refused by Warden (400, or 403 for the admin route), by
            # uvicorn's parser (400), or no route of Starlette's (404).
            refused += status == 400
            continue
        assert handler != "admin", f"{p}: a non-admin reached an admin handler ({status})"
        d = engine.check_http(method="GET", path=p, principal=USER).to_dict()
        route = (d.get("route") or {}).get("pattern")
        assert route == "/**", f"{p}: the engine matched {route}, Starlette ran {handler}"
        served += 1
    # The corpus exercises both outcomes.
    assert refused > 100, f"refused {refused}"
    assert served > 10, f"served {served}"


def test_the_admin_handler_is_reachable(server: tuple[str, int]) -> None:
    """The control: an admin reaches the protected handler, so the test above can fail."""
    assert raw_get(server, "/api/admin/x", b"x-role: admin\r\n") == (200, "admin")
    assert raw_get(server, "/api/admin", b"x-role: admin\r\n") == (200, "admin")
    assert raw_get(server, "/api/admin/x") == (403, None)
    assert raw_get(server, "/api/other") == (200, "public")
