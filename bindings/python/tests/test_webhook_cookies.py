"""A signed Stripe webhook and the `cookies` rules through the ASGI middleware: the body
is read (only) for the signed route and replayed to the app, and Set-Cookie headers are
rewritten by the engine."""

import hashlib
import hmac
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import warden
from warden.asgi import WardenMiddleware

SECRET = "whsec_test_0123456789"
POLICY = """policy hooks
route POST /hooks/stripe {
  require signature stripe(header stripe-signature, secret(WH)) tolerance 5m else 400
}
cookies {
  session: http_only, secure, same_site lax
}
"""


def engine() -> warden.Engine:
    return warden.Engine.from_source("hooks.warden", POLICY, secrets={"WH": SECRET})


def stripe_header(body: bytes, secret: str = SECRET, at: int | None = None) -> str:
    """Stripe's documented scheme: HMAC-SHA256 over `{t}.{body}`, hex."""
    t = int(time.time()) if at is None else at
    sig = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={sig}"


def client(max_body: int = 1 << 20) -> TestClient:
    async def hook(request: Request) -> PlainTextResponse:
        # The app still reads the body the middleware read first.
        return PlainTextResponse((await request.body()).decode())

    async def login(request: Request) -> PlainTextResponse:
        r = PlainTextResponse("ok")
        r.headers.append("set-cookie", "session=abc; Path=/")
        r.headers.append("set-cookie", "theme=dark; Path=/")
        return r

    app = Starlette(routes=[Route("/hooks/stripe", hook, methods=["POST"]), Route("/login", login, methods=["POST"])])
    return TestClient(WardenMiddleware(app, engine(), max_body=max_body))


def test_needs_body_and_check_http_body() -> None:
    e = engine()
    assert e.needs_body("POST", "/hooks/stripe")
    assert not e.needs_body("POST", "/login")
    body = b'{"id":"evt_1"}'
    now = int(time.time())
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    assert e.check_http(method="POST", path="/hooks/stripe", time=at, body=body, headers={"stripe-signature": stripe_header(body, at=now)}).status == 200
    assert e.check_http(method="POST", path="/hooks/stripe", time=at, body=body.decode(), headers={"stripe-signature": stripe_header(body, at=now)}).status == 200
    assert e.check_http(method="POST", path="/hooks/stripe", time=at, headers={"stripe-signature": stripe_header(body, at=now)}).status == 400


def test_a_signed_webhook_passes_and_reaches_the_app_with_its_body() -> None:
    body = b'{"id":"evt_1","type":"invoice.paid"}'
    r = client().post("/hooks/stripe", content=body, headers={"stripe-signature": stripe_header(body)})
    assert r.status_code == 200
    assert r.text == body.decode()


def test_tampered_wrong_secret_stale_and_unsigned_webhooks_are_refused() -> None:
    body = b'{"id":"evt_1","type":"invoice.paid"}'
    c = client()
    assert c.post("/hooks/stripe", content=body + b" ", headers={"stripe-signature": stripe_header(body)}).status_code == 400
    assert c.post("/hooks/stripe", content=body, headers={"stripe-signature": stripe_header(body, secret="whsec_other")}).status_code == 400
    stale = stripe_header(body, at=int(time.time()) - 600)
    assert c.post("/hooks/stripe", content=body, headers={"stripe-signature": stale}).status_code == 400
    assert c.post("/hooks/stripe", content=body).status_code == 400


def test_a_body_over_the_cap_is_413() -> None:
    body = b"x" * 2048
    r = client(max_body=1024).post("/hooks/stripe", content=body, headers={"stripe-signature": stripe_header(body)})
    assert r.status_code == 413


def test_set_cookie_headers_get_the_policy_attributes() -> None:
    e = engine()
    assert e.has_cookie_rules
    assert e.enforce_set_cookie("session=1") == "session=1; HttpOnly; Secure; SameSite=Lax"
    r = client().post("/login")
    assert r.status_code == 200
    cookies = r.headers.get_list("set-cookie")
    assert "session=abc; Path=/; HttpOnly; Secure; SameSite=Lax" in cookies
    assert "theme=dark; Path=/" in cookies
