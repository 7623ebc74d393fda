"""warden.django.WardenMiddleware in a Django project, through Django's test client
(the real handler and middleware stack; a server would add only a socket): the
principal from Django's own auth (the PRINCIPAL hook), `request.warden`,
`authorize()` -> 403, the policy's refusals, headers and cookie rules."""

from __future__ import annotations

import json
import sys
import types
from typing import Any

import django
import pytest
from django.conf import settings

from seed003 import bearer, engine

ENGINE = engine()

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="test-only-not-secret",
        ALLOWED_HOSTS=["testserver", "myapp.com"],
        ROOT_URLCONF="test_django_urls",
        MIDDLEWARE=["test_django.FakeSessionAuth", "warden.django.WardenMiddleware"],
        WARDEN={"ENGINE": ENGINE, "PRINCIPAL": "test_django.principal_of"},
        INSTALLED_APPS=[],
    )
    django.setup()

from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402

import warden.django  # noqa: E402

SESSIONS = {"s-editor": {"id": "u1", "roles": ["editor"]}, "s-other": {"id": "u3", "roles": ["editor"]}}


class FakeSessionAuth:
    """Stands for django.contrib.auth's middleware (which needs a database): sets
    `request.user` from a session cookie, before Warden runs."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.user = SESSIONS.get(request.COOKIES.get("sessionid", ""))  # type: ignore[assignment]
        return self.get_response(request)


def principal_of(request: HttpRequest) -> dict[str, Any] | None:
    return request.user  # type: ignore[return-value]


def body_facts(request: HttpRequest) -> dict[str, Any] | None:
    """An INPUT hook reading the JSON body as a view would (`json.loads` takes `NaN`)."""
    return json.loads(request.body) if request.body else None


def me(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"id": (request.warden.principal or {}).get("id")})  # type: ignore[attr-defined]


def update_post(request: HttpRequest, post_id: str) -> HttpResponse:
    warden.django.authorize(request, "posts:write", {"type": "post", "id": post_id, "author": "u1"})
    return JsonResponse({"id": post_id, "body": json.loads(request.body)["body"]})


def login(request: HttpRequest) -> HttpResponse:
    response = JsonResponse({"ok": True})
    response.set_cookie("refreshToken", "r-1")
    response["X-Powered-By"] = "Django"
    response["Vary"] = "Cookie"
    return response


urls = types.ModuleType("test_django_urls")
urls.urlpatterns = [  # type: ignore[attr-defined]
    path("api/me", me),
    path("api/posts/<str:post_id>", update_post),
    path("api/auth/login", login),
]
sys.modules["test_django_urls"] = urls
sys.modules.setdefault("test_django", sys.modules[__name__])


@pytest.fixture
def client() -> Client:
    return Client()


def test_principal_from_the_apps_session_layer(client: Client) -> None:
    assert client.get("/api/me").json() == {"id": None}
    client.cookies["sessionid"] = "s-editor"
    assert client.get("/api/me").json() == {"id": "u1"}


def test_policy_requirements_use_the_host_principal(client: Client) -> None:
    # PUT /api/posts/:id needs auth and editor/admin: no session -> 401 from the policy.
    r = client.put("/api/posts/p1", data=json.dumps({"body": "x"}), content_type="application/json")
    assert r.status_code == 401 and set(r.json()) == {"error"}
    assert r["X-Frame-Options"] == "SAMEORIGIN"


def test_authorize_in_the_view_raises_permission_denied(client: Client) -> None:
    client.cookies["sessionid"] = "s-other"
    r = client.put("/api/posts/p1", data=json.dumps({"body": "x"}), content_type="application/json")
    assert r.status_code == 403
    client.cookies["sessionid"] = "s-editor"
    ok = client.put("/api/posts/p1", data=json.dumps({"body": "mine"}), content_type="application/json")
    assert ok.status_code == 200 and ok.json() == {"id": "p1", "body": "mine"}


def test_headers_and_cookie_rules_on_the_response(client: Client) -> None:
    r = client.post("/api/auth/login", headers={"origin": "https://myapp.com"})
    assert r.status_code == 200
    assert r["X-Content-Type-Options"] == "nosniff"
    assert not r.has_header("X-Powered-By")
    assert r["Access-Control-Allow-Origin"] == "https://myapp.com"
    assert {t.strip().lower() for t in r["Vary"].split(",")} >= {"cookie", "origin"}
    morsel = r.cookies["refreshToken"]
    assert morsel["httponly"] and morsel["secure"]
    assert morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/api/auth/refresh"
    assert str(morsel["max-age"]) == "604800"


def test_bearer_tokens_still_work_without_a_session(client: Client) -> None:
    # The PRINCIPAL hook answers None: the policy's `auth` blocks authenticate.
    r = client.get("/api/me", headers=bearer("u2", "viewer"))
    assert r.json() == {"id": "u2"}


def test_preflight_answered_by_the_middleware(client: Client) -> None:
    r = client.options("/api/posts/p1", headers={"origin": "https://myapp.com", "access-control-request-method": "PUT"})
    assert r.status_code == 204
    assert r["Access-Control-Allow-Origin"] == "https://myapp.com"
    assert r.content == b""


def test_facts_the_engine_cannot_read_are_a_400_not_a_500(client: Client) -> None:
    # A client's `NaN` or `1e400` through the INPUT hook: the engine refuses a
    # non-finite number (RequestError), which the middleware answers 400 instead of
    # raising into Django's 500. A finite body gets the policy's own answer.
    with override_settings(WARDEN={**settings.WARDEN, "INPUT": "test_django.body_facts"}):
        hooked = Client()
        for raw in (b'{"n": NaN}', b'{"n": Infinity}', b'{"n": 1e400}'):
            r = hooked.post("/api/me", data=raw, content_type="application/json")
            assert r.status_code == 400, (raw, r.status_code, r.content)
            assert b"cannot read" in r.content
        finite = hooked.post("/api/me", data=b'{"n": 1}', content_type="application/json").status_code
    assert finite == client.post("/api/me", data=b'{"n": 1}', content_type="application/json").status_code
    assert finite != 400
