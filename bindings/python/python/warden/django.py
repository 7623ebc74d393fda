"""Django middleware: add `"warden.django.WardenMiddleware"` to `MIDDLEWARE` (after
`AuthenticationMiddleware` when the principal comes from Django's own auth) and name
the engine in settings:

    WARDEN = {
        "ENGINE": "myproject.policy.engine",          # an Engine, or its dotted path
        "PRINCIPAL": "myproject.policy.principal",    # optional: request -> dict | None
        "INPUT": None,                                # optional: request -> dict | None
        "DENY_BODY": "warden.django.detail_body",     # optional; default {"error": reason}
        "MAX_BODY": 1048576,
    }

Each request goes through `Engine.check_http` before the view: a refusal, redirect or
CORS preflight answer is returned from here with the decision's status and headers; an
allowed request reaches the view with `request.warden`, a `WardenState` (decision,
principal, `authorize()`), and the decision's headers are applied to the view's
response (replacing its own, `Vary` merged, removed headers dropped, each cookie given
the policy's `cookies` rules). `authorize(request, action, resource)` is the view-level
check, raising `PermissionDenied` (403).

Without `PRINCIPAL` the policy's `auth` blocks authenticate the request. The body is
read (at most `MAX_BODY` bytes, else 413) only for routes that verify a signature over
it, and the view can still read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http.cookies import SimpleCookie
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from ._adapter import (
    BAD_COOKIE,
    BAD_TARGET,
    UNREADABLE,
    UNSET,
    Refusal,
    WardenState,
    app_cookie_header,
    deny_parts,
    detail_body,
    error_body,
    merge_headers,
)
from ._warden import Decision, Engine, RequestError
from .wsgi import request_args

__all__ = ["WardenMiddleware", "authorize", "detail_body", "error_body"]


def _setting(conf: Mapping[str, Any], name: str, default: Any = None) -> Any:
    value = conf.get(name, default)
    return import_string(value) if isinstance(value, str) else value


class WardenMiddleware:
    """Django `MIDDLEWARE` entry applying a Warden policy (see the module doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        conf = getattr(settings, "WARDEN", None)
        if not isinstance(conf, Mapping) or "ENGINE" not in conf:
            raise ImproperlyConfigured("warden.django.WardenMiddleware needs settings.WARDEN['ENGINE']")
        engine = _setting(conf, "ENGINE")
        if not isinstance(engine, Engine):
            raise ImproperlyConfigured("settings.WARDEN['ENGINE'] must be a warden.Engine or its dotted path")
        self.engine = engine
        self.principal = _setting(conf, "PRINCIPAL")
        self.input = _setting(conf, "INPUT")
        self.deny_body = _setting(conf, "DENY_BODY", error_body)
        self.max_body = int(conf.get("MAX_BODY", 1 << 20))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        args = request_args(request.META)
        if args["path"] is None:
            return self._deny(Refusal(400, BAD_TARGET))
        if "cookie" in args["headers"]:
            # The engine reads `request.COOKIES`, what the view reads (the last cookie of
            # a name), not its own first-wins reading of `HTTP_COOKIE`.
            cookie = app_cookie_header(request.COOKIES)
            if cookie is None:
                return self._deny(Refusal(400, BAD_COOKIE))
            args["headers"]["cookie"] = [cookie]
        engine = self.engine
        body: bytes | None = None
        if engine.needs_body(args["method"], args["path"]):
            length = request.META.get("CONTENT_LENGTH") or "0"
            if not length.isdigit() or int(length) > self.max_body:
                return self._deny(Refusal(413, "request body too large"))
            body = request.body  # Django keeps it, so the view reads it again
        who = self.principal(request) if self.principal is not None else UNSET
        try:
            d = engine.check_http(
                **args,
                principal=None if who is UNSET else who,
                input=self.input(request) if self.input is not None else None,
                body=body,
            )
        except RequestError:
            return self._deny(Refusal(400, UNREADABLE))
        if not d.allowed or d.status != 200:
            return self._deny(d)
        request.warden = WardenState(engine, d, args["headers"], who)  # type: ignore[attr-defined]
        response = self.get_response(request)
        self._apply(d, response)
        return response

    def _deny(self, decision: Any) -> HttpResponse:
        headers, body = deny_parts(decision, self.deny_body)
        response = HttpResponse(body, status=decision.status)
        del response["Content-Type"]  # only the one deny_parts gives, if any
        for name, value in headers:
            response[name] = value
        return response

    def _apply(self, decision: Any, response: HttpResponse) -> None:
        merged = merge_headers(self.engine, decision, response.items())
        for name, _ in list(response.items()):
            del response[name]
        for name, value in merged:
            response[name] = value
        if self.engine.has_cookie_rules and response.cookies:
            # Django writes `Set-Cookie` from `response.cookies` after every middleware
            # ran: rewrite each morsel through the policy and parse the result back.
            cookies: SimpleCookie = SimpleCookie()
            for morsel in response.cookies.values():
                cookies.load(self.engine.enforce_set_cookie(morsel.OutputString()))
            response.cookies = cookies


def authorize(
    request: HttpRequest,
    action: str,
    resource: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> Decision:
    """May this request's principal do `action` on `resource`? Returns the `Decision`;
    a refusal raises `PermissionDenied(reason)` (Django answers 403)."""
    state = getattr(request, "warden", None)
    if not isinstance(state, WardenState):
        raise ImproperlyConfigured("warden.django.authorize needs warden.django.WardenMiddleware")
    decision = state.authorize(action, resource=resource, context=context)
    if not decision.allowed:
        raise PermissionDenied(decision.reason or "forbidden")
    return decision
