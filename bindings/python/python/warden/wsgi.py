"""WSGI middleware (Flask, Django, any WSGI app): every request goes through
`Engine.check_http` before the app sees it.

    app.wsgi_app = WardenMiddleware(app.wsgi_app, engine)          # Flask
    application = WardenMiddleware(get_wsgi_application(), engine)  # Django (or warden.django)

A refusal (401, 403, 413, 429, a redirect, a CORS preflight answer ...) is answered here
with the decision's status and headers and the body `deny_body(decision)` builds
(`{"error": reason}` unless told otherwise; `warden.wsgi.detail_body` gives
`{"detail": reason}`). An allowed request goes on to the app with
`environ["warden"]`, a `WardenState` (the decision, the principal, `authorize()`), and
the decision's headers are applied to the app's response: they replace the app's own,
`Vary` is merged, removed headers are dropped and each `Set-Cookie` gets the policy's
`cookies` rules.

`principal` is a callable from the WSGI environ to the principal dict (an app whose
identity comes from its own session layer), or None for an anonymous caller; without
it the policy's `auth` blocks authenticate the request. `input` likewise gives the
request's `input` facts, and `body_input(environ, body)` facts read from the body (with
it, a request with a body is read first, at most `max_body` bytes). Otherwise the body is read (at most `max_body` bytes, else 413) only for
routes that verify a signature over it (`Engine.needs_body`), and handed to the app
unchanged.

The path the engine checks is the one the app routes on: `PATH_INFO` as the server
decoded it, re-encoded, with the query string. `SCRIPT_NAME` (where the app is mounted:
werkzeug's `DispatcherMiddleware`, gunicorn's `SCRIPT_NAME`, which gunicorn also takes
from a request header sent from an address it trusts) is left out, as Flask and Django
route without it: a policy names the paths of the app it wraps.
"""

from __future__ import annotations

import io
import ipaddress
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from ._adapter import (
    BAD_TARGET,
    UNREADABLE,
    UNSET,
    DenyBody,
    Refusal,
    WardenState,
    deny_parts,
    detail_body,
    error_body,
    merge_headers,
    origin_form,
)
from ._warden import Engine, RequestError

__all__ = ["WardenMiddleware", "WardenState", "detail_body", "error_body", "request_args", "state"]

Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
Hook = Callable[[Environ], Any]
BodyHook = Callable[[Environ, bytes], Any]

# CGI names of the two headers WSGI keeps without the HTTP_ prefix.
_UNPREFIXED = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}


def state(environ: Mapping[str, Any]) -> WardenState:
    """The `WardenState` the middleware stored for this request (KeyError without it)."""
    return environ["warden"]  # type: ignore[no-any-return]


def status_line(status: int) -> str:
    """`"403 Forbidden"`: a WSGI status line."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def request_args(environ: Mapping[str, Any]) -> dict[str, Any]:
    """`check_http` keyword arguments (method, path, headers, ip) of a WSGI environ;
    `path` is None when the server passed no path a router could match (`*`, or a
    request target of another form left in `PATH_INFO`): refuse it with 400."""
    headers: dict[str, list[str]] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in _UNPREFIXED:
            name = _UNPREFIXED[key]
        else:
            continue
        if value != "":
            headers.setdefault(name, []).append(value)
    # PEP 3333: PATH_INFO is the decoded path as latin-1 text; encode it again so the
    # engine decodes exactly what the app routes on (a `%2F` the server decoded to `/`
    # is a `/` for both). Without SCRIPT_NAME: with it, a mount point (or a client that
    # gunicorn lets set it) moved the split and the engine matched another route than
    # the app's router did.
    raw = environ.get("PATH_INFO", "") or "/"
    try:
        encoded = raw.encode("latin-1")
    except UnicodeEncodeError:  # a server that broke PEP 3333 by decoding as UTF-8
        encoded = raw.encode("utf-8", "surrogateescape")
    path: str | None = origin_form(quote(encoded, safe="/:@!$&'()*+,;=-._~"))
    if path is not None and environ.get("QUERY_STRING"):
        path += "?" + environ["QUERY_STRING"]
    return {
        "method": environ.get("REQUEST_METHOD", "GET"),
        "path": path,
        "headers": headers,
        "ip": peer_address(environ),
    }


def peer_address(environ: Mapping[str, Any]) -> str | None:
    """The socket peer: `REMOTE_ADDR` as the server set it. werkzeug's `ProxyFix`
    rewrites `REMOTE_ADDR` from `X-Forwarded-For` and keeps the server's value in
    `werkzeug.proxy_fix.orig`: that one is used, so a header a client wrote never becomes
    its address (rate limits by `ip` would give it a fresh budget per request). None when the server gave no address (a
    Unix socket) or something that is not one."""
    orig = environ.get("werkzeug.proxy_fix.orig")
    raw = orig.get("REMOTE_ADDR") if isinstance(orig, Mapping) else environ.get("REMOTE_ADDR")
    if not raw:
        return None
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def read_body(environ: Environ, cap: int) -> bytes | None:
    """The request body (at most `cap` bytes, else None), replayed to the app."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        if int(length) > cap:
            return None
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read(cap + 1)
        if len(body) > cap:
            return None
    else:
        body = b""  # no length and no terminated stream: PEP 3333 says read nothing
    environ["wsgi.input"] = io.BytesIO(body)
    return body  # type: ignore[no-any-return]


class WardenMiddleware:
    """WSGI middleware applying a Warden policy to every request (see the module doc)."""

    def __init__(
        self,
        app: WSGIApp,
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

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        args = request_args(environ)
        if args["path"] is None:
            headers, out = deny_parts(Refusal(400, BAD_TARGET), self.deny_body)  # type: ignore[arg-type]
            start_response(status_line(400), headers)
            return [out]
        engine = self.engine
        body: bytes | None = None
        wants_body = self.body_input is not None and (
            environ.get("CONTENT_LENGTH", "") not in ("", "0") or environ.get("wsgi.input_terminated", False)
        )
        if wants_body or engine.needs_body(args["method"], args["path"]):
            body = read_body(environ, self.max_body)
            if body is None:
                headers, out = deny_parts(Refusal(413, "request body too large"), self.deny_body)  # type: ignore[arg-type]
                start_response(status_line(413), headers)
                return [out]
        who = self.principal(environ) if self.principal is not None else UNSET
        facts = self.input(environ) if self.input is not None else None
        if wants_body and body is not None:
            extra = self.body_input(environ, body)  # type: ignore[misc]
            if extra:
                facts = {**(facts or {}), **extra}
        try:
            d = engine.check_http(
                **args,
                principal=None if who is UNSET else who,
                input=facts,
                body=body,
            )
        except RequestError:
            headers, out = deny_parts(Refusal(400, UNREADABLE), self.deny_body)  # type: ignore[arg-type]
            start_response(status_line(400), headers)
            return [out]
        if not d.allowed or d.status != 200:
            headers, out = deny_parts(d, self.deny_body)
            start_response(status_line(d.status), headers)
            return [out]
        environ["warden"] = WardenState(engine, d, args["headers"], who)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
            return start_response(status, merge_headers(engine, d, headers), exc_info)

        return self.app(environ, start)
