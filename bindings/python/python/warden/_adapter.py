"""What the ASGI, WSGI and Django adapters share: the per-request `WardenState` the
handlers read, the deny answer (status, headers, body) and the response header merge.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from http.cookies import _unquote  # type: ignore[attr-defined]
from typing import Any

from ._warden import Decision, Engine, HttpDecision

DenyBody = Callable[[HttpDecision], Any]
"""Builds the body of a refusal: a JSON-serialisable value, or `bytes` sent as is."""


def error_body(decision: HttpDecision) -> dict[str, Any]:
    """The default refusal body: `{"error": reason}`."""
    return {"error": decision.reason}


def detail_body(decision: HttpDecision) -> dict[str, Any]:
    """FastAPI's and Django REST framework's shape: `{"detail": reason}`."""
    return {"detail": decision.reason}


UNSET: Any = object()
"""The principal of a request whose host hook did not give one (then `auth` blocks do)."""


class WardenState:
    """What Warden decided about the current request, handed to the handlers
    (`request.state.warden` in Starlette/FastAPI, `environ["warden"]` under WSGI,
    `request.warden` in Django).

    `decision` is the `HttpDecision` of the request. `principal` is the host's
    principal (from the adapter's `principal=` hook) or else, when the hook gave None
    or there is none, the one the policy's `auth` blocks find in the request's
    credentials (computed on first use); None for an anonymous caller.
    """

    __slots__ = ("decision", "_engine", "_headers", "_principal")

    def __init__(
        self,
        engine: Engine,
        decision: HttpDecision,
        headers: Mapping[str, list[str]],
        principal: Mapping[str, Any] | None = UNSET,
    ) -> None:
        self.decision = decision
        self._engine = engine
        self._headers = headers
        # A hook's None means what it means to the engine: the `auth` blocks decide.
        self._principal = UNSET if principal is None else principal

    @property
    def principal(self) -> dict[str, Any] | None:
        """The caller as a principal dict (`id`, `roles`, attributes), or None."""
        if self._principal is UNSET:
            if self.decision.authenticated_by is not None:
                self._principal = self.decision.principal  # verified by check_http
            else:
                # Only when asked: most handlers of public routes never look.
                self._principal = self._engine.authenticate(headers=self._headers).principal
        return self._principal  # type: ignore[no-any-return]

    def authorize(
        self,
        action: str,
        resource: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Decision:
        """`Engine.authorize` of `action` on `resource` by this request's principal."""
        return self._engine.authorize(
            principal=self.principal, action=action, resource=resource, context=context
        )

    def __repr__(self) -> str:
        shown = "<not computed>" if self._principal is UNSET else repr(self._principal)
        return f"WardenState(decision={self.decision!r}, principal={shown})"


def deny_parts(decision: HttpDecision, deny_body: DenyBody) -> tuple[list[tuple[str, str]], bytes]:
    """The headers and body of a refusal, redirect or preflight answer."""
    headers = list(decision.headers.items())
    status = decision.status
    if status in (204, 304) or 300 <= status < 400:
        return headers + [("content-length", "0")], b""
    out = deny_body(decision)
    if isinstance(out, bytes):
        body = out
    else:
        body = json.dumps(out).encode()
        headers.insert(0, ("content-type", "application/json"))
    return headers + [("content-length", str(len(body)))], body


def merge_headers(
    engine: Engine, decision: HttpDecision, headers: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """An allowed response's headers with the decision applied: the policy's headers
    replace the app's own (but `Vary` tokens are merged, so the app's stay), the ones
    it removes are dropped, and every `Set-Cookie` gets the policy's `cookies` rules."""
    add = decision.headers
    drop = {n.lower() for n in decision.remove} | {n for n in add if n != "vary"}
    cookies = engine.has_cookie_rules
    kept: list[tuple[str, str]] = []
    vary: list[str] = []
    for name, value in headers:
        low = name.lower()
        if low in drop:
            continue
        if low == "vary" and "vary" in add:
            vary.extend(t.strip() for t in value.split(",") if t.strip())
            continue
        if cookies and low == "set-cookie":
            value = engine.enforce_set_cookie(value)
        kept.append((name, value))
    for name, value in add.items():
        if name == "vary":
            seen = {t.lower() for t in vary}
            vary.extend(t.strip() for t in value.split(",") if t.strip() and t.strip().lower() not in seen)
            value = ", ".join(vary)
        kept.append((name, value))
    return kept


_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def origin_form(target: str) -> str | None:
    """`target` as the path (and query) a router matches: as it is when it starts with
    `/`; an absolute-form target (`GET http://host/x`, which servers must accept) cut
    down to its path, unchanged, as the servers that parse it give it to the app; `None`
    for any other form (`*`, `host:port`), which the adapters answer with 400."""
    if target.startswith("/"):
        return target
    origin = _ABSOLUTE.match(target)
    if origin is None:
        return None
    rest = target[origin.end() :]
    return rest if rest.startswith("/") else "/" + rest


BAD_TARGET = "bad request target"

#: The reason of the 400 an adapter answers when the engine cannot read the facts it
#: was given (`RequestError`): a body hook's `NaN` or `Infinity`, which Python's
#: `json.loads` accepts from a client, is a bad request, not a server error.
UNREADABLE = "bad request: facts the engine cannot read"


#: The reason of the 400 for a `Cookie` header whose cookies the engine cannot be handed
#: as the app reads them (see `app_cookie_header`).
BAD_COOKIE = "bad request: cookies the engine cannot read as the app does"


def last_wins_cookies(headers: Iterable[str]) -> dict[str, str]:
    """The cookies of `Cookie` header values as Starlette (`request.cookies`, FastAPI's
    `Cookie()`) and Django (`request.COOKIES`) hand them to a handler: every header, split
    at `;`, names and values stripped, values unquoted, and the LAST cookie of a name
    wins. The engine alone reads the first, so `session=<valid>; session=<forged>`
    would be verified on one value and acted on with the other."""
    out: dict[str, str] = {}
    for header in headers:
        for chunk in header.split(";"):
            name, sep, value = chunk.partition("=")
            if not sep:
                name, value = "", chunk
            name, value = name.strip(), value.strip()
            if name or value:
                out[name] = _unquote(value)
    return out


def app_cookie_header(cookies: Mapping[str, str]) -> str | None:
    """One `Cookie` value in which the engine (first cookie of a name, split at `;`,
    trimmed, surrounding quotes dropped) reads exactly `cookies`, the app's view; None
    when a value cannot be written so (an unquoted `;`, edge whitespace or quotes that
    the engine would strip): the adapters answer 400 rather than let the engine decide on
    another value than the handler acts on."""
    parts = []
    for name, value in cookies.items():
        if ";" in value or value != value.strip() or value.startswith('"') or value.endswith('"'):
            return None
        parts.append(f"{name}={value}")
    return "; ".join(parts)


class Refusal:
    """A refusal decided before the engine is asked (a body over `max_body`), shaped
    like the `HttpDecision` a `deny_body` callable reads."""

    allowed = False
    location: str | None = None
    note: str | None = None
    rules: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        self.headers: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Refusal(status={self.status}, reason={self.reason!r})"
