"""ASGI middleware (Starlette, FastAPI, any ASGI app): every HTTP request goes through
`Engine.check_http_async` before the app sees it (a Redis rate-limit store is asked on
warden's own runtime thread, never blocking the event loop).

A refusal (401, 403, 413, 429, a redirect, a CORS preflight answer ...) is answered here
with the decision's status, headers (`location`, `retry-after`, CORS) and the body
`deny_body(decision)` builds: `{"error": reason}` unless told otherwise
(`warden.asgi.detail_body` gives FastAPI's `{"detail": reason}`; a `bytes` result is
sent as is). An allowed request goes on to the app with `scope["state"]["warden"]`, a
`WardenState` (`request.state.warden` in Starlette and FastAPI: the decision, the
principal, `authorize()`), and the decision's security and CORS headers are added to
its response (replacing the app's own, except `Vary`, whose values are merged) while
the headers the policy removes are dropped (`X-Powered-By` among them unless the
policy sets it).

    app = WardenMiddleware(app, engine, principal=lambda scope: scope.get("user"))

`principal` is a callable (sync or async) from the ASGI scope to the principal dict of
the request JSON, or None for an anonymous caller: the hook for apps whose identity
comes from their own session layer (put that layer's middleware outside this one).
Without it the policy's `auth` blocks authenticate the request, and
`request.state.warden.principal` is what they found. `input` likewise gives the
request's `input` facts (body size, upload prefix ...). `body_input(scope, body)` gives `input`
facts read from the body (the fields a route's requirements validate): with it, a
request that carries a body is read first (at most `max_body` bytes) and replayed to
the app unchanged.

Only for a route that verifies a signature over the body (`require signature`,
`Engine.needs_body`) is the body read first, at most `max_body` bytes (a longer one is
answered 413 without asking the engine), and replayed to the app unchanged. Every
`Set-Cookie` of an allowed response goes through `Engine.enforce_set_cookie` (the
policy's `cookies` rules) when the policy has any.

The client address passed to the engine is the scope's `client`, which ASGI servers
fill with the socket peer; the policy's `proxies` block alone decides which
`X-Forwarded-For`/`Forwarded` headers count. Run uvicorn with `--no-proxy-headers`
(`proxy_headers=False`): its default trusts `X-Forwarded-For` from 127.0.0.1 and
rewrites `client` before any middleware sees it, and the policy then cannot tell a
client's forged header from its proxy's. With `--forwarded-allow-ips='*'` (common in
containers) uvicorn sets `client` to the leftmost `X-Forwarded-For` entry, which
the client writes itself: every rate limit and `ip` check would key on an address
the client chose.
"""

from __future__ import annotations

import inspect
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from ._adapter import (
    BAD_COOKIE,
    BAD_TARGET,
    UNREADABLE,
    UNSET,
    DenyBody,
    Refusal,
    WardenState,
    app_cookie_header,
    deny_parts,
    detail_body,
    error_body,
    last_wins_cookies,
    origin_form,
)
from ._warden import Engine, RequestError

__all__ = ["WardenMiddleware", "WardenState", "detail_body", "error_body"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Hook = Callable[[Scope], Any]
BodyHook = Callable[[Scope, bytes], Any]


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


def route_path(scope: Scope) -> str | None:
    """The path the app routes, as the engine reads it: `raw_path` (undecoded, so the
    engine refuses ambiguous escapes) less the `root_path` the app is mounted under (a
    Starlette `Mount`, `uvicorn --root-path`), which Starlette strips before matching
    its routes: a policy names the paths of the app it wraps. None for a target no
    router matches (`*`): the middleware answers 400."""
    raw: bytes = scope.get("raw_path") or scope.get("path", "/").encode("utf-8")
    root: str = scope.get("root_path", "")
    if not raw.startswith(b"/"):
        # A server that left another form of target in `raw_path` (h11: absolute-form).
        target = origin_form(raw.decode("latin-1"))
        if target is None:
            return None
        raw = target.encode("latin-1")
    if not root:
        return raw.decode("latin-1")
    prefix = root.encode("utf-8")
    path: str = scope.get("path", "/")
    if raw.startswith(prefix) and raw[len(prefix) : len(prefix) + 1] in (b"", b"/"):
        raw = raw[len(prefix) :]
    elif path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        # The mount point spelled otherwise on the wire (escaped): the decoded path, as
        # Starlette compares it, less the mount point, encoded again.
        raw = quote(path[len(root) :].encode("utf-8"), safe="/:@!$&'()*+,;=-._~").encode("latin-1")
    return (raw if raw.startswith(b"/") else b"/" + raw).decode("latin-1")


class WardenMiddleware:
    """ASGI middleware applying a Warden policy to every HTTP request (see the module doc)."""

    def __init__(
        self,
        app: ASGIApp,
        engine: Engine,
        *,
        principal: Hook | None = None,
        input: Hook | None = None,
        body_input: BodyHook | None = None,
        deny_body: DenyBody = error_body,
        max_body: int = 1 << 20,
    ) -> None:
        self.app = app
        self.engine = engine
        self.principal = principal
        self.input = input
        self.body_input = body_input
        self.deny_body = deny_body
        self.max_body = max_body

    async def _refuse(self, send: Send, refusal: Refusal) -> None:
        """Answer a refusal decided before the engine is asked."""
        parts, out = deny_parts(refusal, self.deny_body)  # type: ignore[arg-type]
        start = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in parts]
        await send({"type": "http.response.start", "status": refusal.status, "headers": start})
        await send({"type": "http.response.body", "body": out})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        routed = route_path(scope)
        if routed is None:
            await self._refuse(send, Refusal(400, BAD_TARGET))
            return
        path = routed
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("latin-1")
        method = scope.get("method", "GET")
        body: bytes | None = None
        headers = _headers(scope)
        if "cookie" in headers:
            # The engine reads the cookies Starlette hands the handler (the last of a
            # name, across every `Cookie` header), not its own first-wins reading.
            cookie = app_cookie_header(last_wins_cookies(headers["cookie"]))
            if cookie is None:
                await self._refuse(send, Refusal(400, BAD_COOKIE))
                return
            headers["cookie"] = [cookie]
        wants_body = self.body_input is not None and ("content-length" in headers or "transfer-encoding" in headers)
        if wants_body or self.engine.needs_body(method, path):
            body = await _read_body(receive, self.max_body)
            if body is None:
                await self._refuse(send, Refusal(413, "request body too large"))
                return
            receive = _replay(body, receive)
        who = await _call(self.principal, scope) if self.principal is not None else UNSET
        facts = await _call(self.input, scope)
        if wants_body and body is not None:
            extra = self.body_input(scope, body)  # type: ignore[misc]
            if extra:
                facts = {**(facts or {}), **extra}
        try:
            d = await self.engine.check_http_async(
                method=scope.get("method", "GET"),
                path=path,
                headers=headers,
                ip=_ip(scope),
                principal=None if who is UNSET else who,
                input=facts,
                body=body,
            )
        except RequestError:
            await self._refuse(send, Refusal(400, UNREADABLE))
            return
        add = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in d.headers.items() if k != "vary"]
        vary = d.headers.get("vary")
        if not d.allowed or d.status != 200:
            parts, body = deny_parts(d, self.deny_body)
            start = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in parts]
            await send({"type": "http.response.start", "status": d.status, "headers": start})
            await send({"type": "http.response.body", "body": body})
            return
        # `request.state.warden` in Starlette: a server's lifespan state is copied per
        # request into scope["state"], so this never leaks into another request.
        scope.setdefault("state", {})["warden"] = WardenState(self.engine, d, headers, who)
        drop = {n.encode("latin-1") for n in d.remove} | {k for k, _ in add}
        cookies = self.engine.has_cookie_rules
        enforce = self.engine.enforce_set_cookie

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in drop]
                if cookies:
                    kept = [
                        (k, enforce(v.decode("latin-1")).encode("latin-1")) if k.lower() == b"set-cookie" else (k, v)
                        for k, v in kept
                    ]
                if vary is not None:
                    kept = _merge_vary(kept, vary)
                message = dict(message, headers=kept + add)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _merge_vary(headers: list[tuple[bytes, bytes]], vary: str) -> list[tuple[bytes, bytes]]:
    """The app's headers with the decision's `Vary` tokens merged into its own `Vary`
    (never replacing it: a replaced `Vary: Cookie` lets a cache serve one user's answer
    to another); `*` stays `*`."""
    tokens: list[str] = []
    rest: list[tuple[bytes, bytes]] = []
    for k, v in headers:
        if k.lower() == b"vary":
            tokens += [t.strip() for t in v.decode("latin-1").split(",") if t.strip()]
        else:
            rest.append((k, v))
    if "*" not in tokens:
        for t in (t.strip() for t in vary.split(",")):
            if t and t.lower() not in (x.lower() for x in tokens):
                tokens.append(t)
    return rest + [(b"vary", ", ".join(tokens).encode("latin-1"))]


async def _read_body(receive: Receive, cap: int) -> bytes | None:
    """The whole body, or None once it exceeds `cap` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # http.disconnect: what arrived is all there is
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then defers to the server."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
