"""ASGI middleware (Starlette, FastAPI, any ASGI app): every HTTP request goes through
`Engine.check_http_async` before the app sees it (a Redis rate-limit store is asked on
warden's own runtime thread, never blocking the event loop).

A refusal (401, 403, 413, 429, a redirect, a CORS preflight answer ...) is answered here
with the decision's status, headers (`location`, `retry-after`, CORS) and a JSON body
`{"error": reason}`; an allowed request goes on to the app, and the decision's
security and CORS headers are added to its response (replacing the app's own) while the
headers the policy removes are dropped.

    app = WardenMiddleware(app, engine, principal=lambda scope: scope.get("user"))

`principal` is a callable (sync or async) from the ASGI scope to the principal dict of
the request JSON, or None for an anonymous caller. `input` likewise gives the request's
`input` facts (body size, upload prefix ...).
"""

from __future__ import annotations

import inspect
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._warden import Engine

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Hook = Callable[[Scope], Any]


async def _call(hook: Hook | None, scope: Scope) -> Any:
    if hook is None:
        return None
    out = hook(scope)
    return await out if inspect.isawaitable(out) else out


def _ip(scope: Scope) -> str | None:
    client = scope.get("client")
    if not client:
        return None
    try:
        return str(ipaddress.ip_address(client[0]))
    except ValueError:
        return None  # e.g. Starlette's TestClient reports "testclient"


def _headers(scope: Scope) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in scope.get("headers", []):
        out.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return out


class WardenMiddleware:
    def __init__(self, app: ASGIApp, engine: Engine, *, principal: Hook | None = None, input: Hook | None = None) -> None:
        self.app = app
        self.engine = engine
        self.principal = principal
        self.input = input

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path") or scope.get("path", "/").encode("utf-8")
        path = raw.decode("latin-1")
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("latin-1")
        d = await self.engine.check_http_async(
            method=scope.get("method", "GET"),
            path=path,
            headers=_headers(scope),
            ip=_ip(scope),
            principal=await _call(self.principal, scope),
            input=await _call(self.input, scope),
        )
        add = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in d.headers.items()]
        if not d.allowed or d.status != 200:
            body = b"" if d.status in (204, 304) or 300 <= d.status < 400 else json.dumps({"error": d.reason}).encode()
            start = [(b"content-type", b"application/json")] if body else []
            await send({"type": "http.response.start", "status": d.status, "headers": start + add + [(b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        drop = {n.encode("latin-1") for n in d.remove} | {k for k, _ in add}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in drop]
                message = dict(message, headers=kept + add)
            await send(message)

        await self.app(scope, receive, send_with_headers)
