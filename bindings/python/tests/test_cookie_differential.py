"""The engine decides on the cookies the handler reads. Starlette (`request.cookies`,
FastAPI's `Cookie()`) and Django (`request.COOKIES`) keep the LAST cookie of a name,
across every `Cookie` header; the engine alone reads the first. Before the adapters
handed the engine the app's cookies, `Cookie: tenant=t1; tenant=t2` from a t1 caller met
`require cookie tenant == principal.tenant` on `t1` while the handler served `t2`'s data.
Over a real uvicorn socket (raw bytes, so duplicate headers reach the server as sent)
and Django's request handler stack."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from _servers import uvicorn_serving
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import warden
from warden.asgi import WardenMiddleware

POLICY = """policy tenants
principal { id: string, tenant: string }
auth api_key {
  from: header x-api-key
  key secret(T1_KEY) as { id: "u1", tenant: "t1" }
}
route GET /data {
  require auth
  require cookie tenant == principal.tenant else 403
}
"""
KEY = "k-tenant-one-0123456789"


def engine() -> warden.Engine:
    return warden.Engine.from_source("tenants.warden", POLICY, secrets={"T1_KEY": KEY})


def get(port: int, cookies: list[str]) -> tuple[int, str]:
    """GET /data as the t1 caller with these `Cookie` header lines, as written."""
    lines = b"".join(b"Cookie: " + c.encode("latin-1") + b"\r\n" for c in cookies)
    head = b"GET /data HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: " + KEY.encode() + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head + lines + b"Connection: close\r\n\r\n")
        buf = b""
        while chunk := s.recv(65536):
            buf += chunk
    head, _, out = buf.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), out.decode("latin-1")


# (Cookie header lines, status, the tenant the handler served when allowed)
CASES: list[tuple[list[str], int, str | None]] = [
    (["tenant=t1"], 200, "t1"),
    (['tenant="t1"'], 200, "t1"),
    # The handler reads t2: the engine must refuse (it allowed these before).
    (["tenant=t1; tenant=t2"], 403, None),
    (["tenant=t1", "tenant=t2"], 403, None),
    (["a=1; tenant=t1", "b=2; tenant=t2; c=3"], 403, None),
    # The handler reads t1 (the last): allowed, as a browser's shadowed cookie is.
    (["tenant=t2; tenant=t1"], 200, "t1"),
    (["tenant=t2", "tenant=t1"], 200, "t1"),
    # An escape the app unquotes: the engine reads the unquoted value too.
    (['tenant="t\\061"'], 200, "t1"),
    # A value the app reads with a `;` in it cannot be handed to the engine: 400.
    (['tenant="t1\\073x"'], 400, None),
]


@pytest.fixture(scope="module")
def port() -> Any:
    async def data(request: Request) -> JSONResponse:
        return JSONResponse({"tenant": request.cookies.get("tenant")})

    app = WardenMiddleware(Starlette(routes=[Route("/data", data)]), engine())
    with uvicorn_serving(app) as p:
        yield p


@pytest.mark.parametrize(("cookies", "status", "served"), CASES)
def test_starlette_on_uvicorn_decides_on_the_cookie_the_handler_reads(
    port: int, cookies: list[str], status: int, served: str | None
) -> None:
    got, body = get(port, cookies)
    assert got == status, (cookies, got, body)
    if served is not None:
        assert f'"tenant":"{served}"' in body, body


def test_django_decides_on_request_cookies() -> None:
    # Django is configured once per process (test_django.py may have done it): the
    # middleware and URLs of this test come from override_settings.
    import test_django  # noqa: F401  (configures settings when this file runs alone)
    from django.http import HttpRequest, JsonResponse
    from django.test import Client, override_settings
    from django.urls import path

    def data(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"tenant": request.COOKIES.get("tenant")})

    import sys
    import types

    urls = types.ModuleType("test_cookie_differential_urls")
    urls.urlpatterns = [path("data", data)]  # type: ignore[attr-defined]
    sys.modules[urls.__name__] = urls
    with override_settings(
        ROOT_URLCONF=urls.__name__, MIDDLEWARE=["warden.django.WardenMiddleware"], WARDEN={"ENGINE": engine()}
    ):
        client = Client()
        for cookies, status, served in CASES:
            if len(cookies) > 1:
                continue  # WSGI has one HTTP_COOKIE: a server joins repeated lines
            r = client.get("/data", HTTP_COOKIE=cookies[0], HTTP_X_API_KEY=KEY)
            assert r.status_code == status, (cookies, r.status_code, r.content)
            if served is not None:
                assert r.json() == {"tenant": served}
