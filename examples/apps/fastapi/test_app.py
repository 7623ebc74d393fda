"""The seed-003 API on uvicorn, over loopback: every concern of the policy as a client
sees it (authentication, roles, resource-level checks, validation, rate limits, CORS,
headers, cookies, API keys, the HTTPS redirect), with FastAPI's `{"detail": ...}`."""

from __future__ import annotations

import httpx

from app import access_token

ORIGIN = "https://myapp.com"


def bearer(user: str, role: str, lifetime: int = 900) -> dict[str, str]:
    return {"authorization": f"Bearer {access_token(user, role, lifetime)}"}


def test_security_headers_on_every_answer_and_x_powered_by_dropped(dev: httpx.Client) -> None:
    r = dev.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert "x-powered-by" not in r.headers
    refused = dev.get("/api/posts")
    assert refused.headers["x-frame-options"] == "SAMEORIGIN"


def test_anonymous_caller_gets_401_detail_from_the_dependency(dev: httpx.Client) -> None:
    r = dev.get("/api/posts")
    assert r.status_code == 401
    assert r.json() == {"detail": "not authenticated"}
    assert r.headers["www-authenticate"] == "Bearer"


def test_viewer_reads_posts_and_handlers_see_the_principal(dev: httpx.Client) -> None:
    r = dev.get("/api/posts", headers=bearer("u2", "viewer"))
    assert r.status_code == 200
    assert {p["id"] for p in r.json()} >= {"p1"}
    me = dev.get("/api/me", headers=bearer("u2", "viewer"))
    assert me.json() == {"id": "u2", "roles": ["viewer"]}


def test_public_route_sees_who_is_signed_in(dev: httpx.Client) -> None:
    assert dev.get("/api/whoami").json() == {"id": None}
    assert dev.get("/api/whoami", headers=bearer("a1", "admin")).json() == {"id": "a1"}
    # A bad token on a public route is no principal, not a crash.
    assert dev.get("/api/whoami", headers={"authorization": "Bearer x.y.z"}).json() == {"id": None}


def test_policy_refusals_use_the_detail_body(dev: httpx.Client) -> None:
    r = dev.put("/api/posts/p1", json={"title": "x"})
    assert r.status_code == 401
    assert set(r.json()) == {"detail"}
    assert r.headers["www-authenticate"].startswith("Bearer")
    viewer = dev.put("/api/posts/p1", json={"title": "x"}, headers=bearer("u2", "viewer"))
    assert viewer.status_code == 403 and set(viewer.json()) == {"detail"}


def test_expired_and_tampered_tokens(dev: httpx.Client) -> None:
    expired = dev.put("/api/posts/p1", json={}, headers=bearer("u1", "editor", lifetime=-60))
    assert expired.status_code == 401 and expired.json() == {"detail": "token_expired"}
    token = access_token("u1", "editor")
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    bad = dev.put("/api/posts/p1", json={}, headers={"authorization": f"Bearer {forged}"})
    assert bad.status_code == 401 and bad.json() == {"detail": "invalid_token"}


def test_resource_level_check_in_the_dependency(dev: httpx.Client) -> None:
    other = dev.put("/api/posts/p1", json={"title": "mine now"}, headers=bearer("u3", "editor"))
    assert other.status_code == 403
    assert other.json() == {"detail": "Not authorized to edit this post"}
    author = dev.put("/api/posts/p1", json={"title": "edited"}, headers=bearer("u1", "editor"))
    assert author.status_code == 200 and author.json()["title"] == "edited"
    admin = dev.put("/api/posts/p2", json={"body": "by admin"}, headers=bearer("a1", "admin"))
    assert admin.status_code == 200 and admin.json()["body"] == "by admin"
    missing = dev.put("/api/posts/nope", json={}, headers=bearer("u1", "editor"))
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found"}


def test_delete_needs_the_permission(dev: httpx.Client) -> None:
    viewer = dev.delete("/api/posts/p2", headers=bearer("u2", "viewer"))
    assert viewer.status_code == 403 and "detail" in viewer.json()
    editor = dev.delete("/api/posts/p2", headers=bearer("u1", "editor"))
    assert editor.status_code == 204
    assert dev.get("/api/posts/p2", headers=bearer("u1", "editor")).status_code == 404


def test_users_read_and_write_by_role(dev: httpx.Client) -> None:
    assert dev.get("/api/users/u1", headers=bearer("u2", "viewer")).json()["email"] == "ed@example.com"
    good = {"email": "new@example.com", "name": "New", "password": "long enough password"}
    editor = dev.post("/api/users", json=good, headers=bearer("u1", "editor"))
    assert editor.status_code == 403
    admin = dev.post("/api/users", json=good, headers=bearer("a1", "admin"))
    assert admin.status_code == 201 and admin.json()["email"] == "new@example.com"
    gone = dev.delete("/api/users/u2", headers=bearer("u1", "editor"))
    assert gone.status_code == 403


def test_create_user_input_validated_by_the_policy(dev: httpx.Client) -> None:
    admin = bearer("a1", "admin")
    for bad in (
        {"email": "not-an-email", "name": "X", "password": "long enough password"},
        {"email": "x@example.com", "name": "", "password": "long enough password"},
        {"email": "x@example.com", "name": "X", "password": "short"},
        {"email": "x@example.com", "name": "X", "age": 12, "password": "long enough password"},
        {"email": "x@example.com", "name": "X", "age": 13.5, "password": "long enough password"},
        {"email": "x@example.com", "name": ["X"], "password": "long enough password"},
    ):
        r = dev.post("/api/users", json=bad, headers=admin)
        assert r.status_code == 400, bad
        assert set(r.json()) == {"detail"}
    # Not JSON numbers, though Python's json reads them: refused, never an error.
    for age in ("NaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 400):
        text = '{"email": "x@example.com", "name": "X", "age": %s, "password": "long enough password"}' % age
        r = dev.post("/api/users", content=text, headers={**admin, "content-type": "application/json"})
        assert r.status_code == 400, age
    ok = dev.post("/api/users", json={"email": "y@example.com", "name": "Y", "age": 40, "password": "p" * 128}, headers=admin)
    assert ok.status_code == 201


def test_cors_preflight_and_simple_requests(dev: httpx.Client) -> None:
    pre = dev.options(
        "/api/posts/p1",
        headers={"origin": ORIGIN, "access-control-request-method": "PUT", "access-control-request-headers": "authorization, content-type"},
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == ORIGIN
    assert pre.headers["access-control-allow-credentials"] == "true"
    assert "PUT" in pre.headers["access-control-allow-methods"]
    assert pre.content == b""
    simple = dev.get("/api/posts", headers={"origin": ORIGIN, **bearer("u2", "viewer")})
    assert simple.status_code == 200
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert "origin" in simple.headers["vary"].lower()
    stranger = dev.get("/api/posts", headers={"origin": "https://evil.example", **bearer("u2", "viewer")})
    assert "access-control-allow-origin" not in stranger.headers


def test_api_keys_on_v1(dev: httpx.Client) -> None:
    ok = dev.get("/api/v1/reports", headers={"x-api-key": "sk_test_client7_0123456789abcdef"})
    assert ok.status_code == 200 and ok.json() == {"client": "client-7", "reports": []}
    assert dev.get("/api/v1/reports").status_code == 401
    revoked = dev.get("/api/v1/reports", headers={"x-api-key": "sk_test_client3_0123456789abcdef"})
    assert revoked.status_code == 401 and revoked.json() == {"detail": "invalid_api_key"}
    jwt_only = dev.get("/api/v1/reports", headers=bearer("a1", "admin"))
    assert jwt_only.status_code == 401


def test_login_cookie_flags_refresh_and_rate_limit(dev: httpx.Client) -> None:
    r = dev.post("/api/auth/login", json={"email": "ed@example.com", "password": "correct horse battery"})
    assert r.status_code == 200 and r.json()["accessToken"].count(".") == 2
    cookie = r.headers["set-cookie"]
    for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/api/auth/refresh", "Max-Age=604800"):
        assert flag.lower() in cookie.lower(), (flag, cookie)
    token = cookie.split(";")[0].split("=", 1)[1]
    assert dev.post("/api/auth/refresh").status_code == 401  # no cookie: refused by the policy
    refreshed = dev.post("/api/auth/refresh", headers={"cookie": f"refreshToken={token}"})
    assert refreshed.status_code == 200 and "accessToken" in refreshed.json()
    wrong = dev.post("/api/auth/login", json={"email": "ed@example.com", "password": "wrong password!!"})
    assert wrong.status_code == 401 and wrong.json() == {"detail": "Invalid email or password"}
    statuses = [dev.post("/api/auth/login", json={"email": "nobody@example.com", "password": "x"}).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = dev.post("/api/auth/login", json={"email": "ed@example.com", "password": "correct horse battery"})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert set(limited.json()) == {"detail"}


def test_production_redirects_plain_http_to_https(prod: httpx.Client) -> None:
    r = prod.get("/health?x=1", headers={"host": "myapp.com", "x-forwarded-proto": "http"})
    assert r.status_code == 301
    assert r.headers["location"] == "https://myapp.com/health?x=1"
    assert r.content == b""
    stranger = prod.get("/health", headers={"host": "evil.example", "x-forwarded-proto": "http"})
    assert stranger.status_code == 400
    ok = prod.get("/health", headers={"host": "myapp.com", "x-forwarded-proto": "https"})
    assert ok.status_code == 200
    # Production lists no localhost origin.
    pre = prod.options("/api/posts", headers={"host": "myapp.com", "x-forwarded-proto": "https", "origin": "http://localhost:3000", "access-control-request-method": "GET"})
    assert "access-control-allow-origin" not in pre.headers


def test_list_endpoint_pages_through_exactly_the_posts_authorize_allows(dev: httpx.Client) -> None:
    """`GET /api/posts/editable` (SQLAlchemy `where_clause`, run by SQLite) against the
    same policy deciding each stored post one at a time, as `PUT /api/posts/{id}` does."""
    from app import engine

    assert dev.get("/api/posts/editable").status_code == 401
    stored = dev.get("/api/posts", headers=bearer("u2", "viewer")).json()
    sizes = {}
    for user, role in [("u2", "viewer"), ("u1", "editor"), ("u3", "editor"), ("a1", "admin")]:
        principal = dev.get("/api/me", headers=bearer(user, role)).json()
        want = sorted(
            p["id"]
            for p in stored
            if engine.authorize(
                principal=principal, action="posts:write", resource={"type": "post", "id": p["id"], "author": p["author"]}
            ).allowed
        )
        got: list[str] = []
        offset = 0
        while True:
            r = dev.get("/api/posts/editable", params={"limit": 20, "offset": offset}, headers=bearer(user, role))
            assert r.status_code == 200
            page = [p["id"] for p in r.json()["posts"]]
            # Every page but the last is full: the filter runs before LIMIT/OFFSET.
            if len(got) + len(page) < len(want):
                assert len(page) == 20, (user, offset)
            got += page
            if len(page) < 20:
                break
            offset += 20
        assert got == want, user
        sizes[user] = len(got)
    # The viewer edits nothing, an editor their own posts, the admin every stored post.
    assert sizes["u2"] == 0
    assert sizes["u1"] == len([p for p in stored if p["author"] == "u1"]) > 20
    assert sizes["a1"] == len(stored) > 100
