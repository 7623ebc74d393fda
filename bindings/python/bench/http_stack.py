"""FastAPI + Warden vs the stack a FastAPI user assembles for the same answers:
Starlette `CORSMiddleware` + `slowapi` (a per-IP limit) + a PyJWT bearer dependency + a
roles check + a security-headers middleware. Same routes, same statuses and headers
(asserted first, over uvicorn), then requests/s of each app under uvicorn measured
by `wrk`, alternating A/B rounds in one run.

    python bench/http_stack.py [--seconds 10] [--rounds 3]

Run `warden` (one app) or `stack` (the other) with `python bench/http_stack.py serve NAME PORT`.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
from typing import Any

SECRET = "bench-jwt-secret-0123456789abcdef0123"
ORIGIN = "https://app.example.com"
HEADERS = {
    "content-security-policy": "default-src 'self'",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
POLICY = f"""policy bench
role viewer
role admin > viewer
grant viewer: posts:read
grant admin: stats:read
principal {{ id: string, roles: set<role> }}

auth jwt {{
  from: header authorization
  algorithms: HS256
  keys: secret(JWT_SECRET)
  principal.id: sub
  principal.roles: roles
}}

limit global: 1000000 per 1m by ip

route /** {{
  limit global
}}
route GET /health {{
  public
}}
route GET /api/posts {{
  require auth
  require role viewer
}}
route GET /api/stats {{
  require auth
  require role admin
}}

headers {{
{chr(10).join(f'  {k}: "{v}"' for k, v in HEADERS.items())}
}}

cors {{
  origins: "{ORIGIN}"
  methods: GET, POST
  headers: Authorization, Content-Type
  credentials: true
}}
"""
POSTS = [{"id": "p1", "title": "hello"}]


def warden_app() -> Any:
    from fastapi import FastAPI

    import warden
    from warden.asgi import WardenMiddleware, detail_body

    engine = warden.Engine.from_source("bench.warden", POLICY, secrets={"JWT_SECRET": SECRET})
    app = FastAPI()
    app.add_middleware(WardenMiddleware, engine=engine, deny_body=detail_body)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/posts")
    def posts() -> list[dict[str, str]]:
        return POSTS

    @app.get("/api/stats")
    def stats() -> dict[str, int]:
        return {"posts": len(POSTS)}

    return app


def stack_app() -> Any:
    import jwt
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.middleware.cors import CORSMiddleware
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
    from slowapi import Limiter, _rate_limit_exceeded_handler
    from slowapi.errors import RateLimitExceeded
    from slowapi.middleware import SlowAPIMiddleware
    from slowapi.util import get_remote_address

    limiter = Limiter(key_func=get_remote_address, default_limits=["1000000/minute"])
    app = FastAPI()
    app.state.limiter = limiter
    app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]
    app.add_middleware(SlowAPIMiddleware)
    app.add_middleware(
        CORSMiddleware, allow_origins=[ORIGIN], allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"], allow_credentials=True
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    bearer = HTTPBearer(auto_error=False)
    levels = {"viewer": {"viewer"}, "admin": {"viewer", "admin"}}

    def principal(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> dict[str, Any]:
        if creds is None:
            raise HTTPException(401, detail="missing_token", headers={"WWW-Authenticate": "Bearer"})
        try:
            claims = jwt.decode(creds.credentials, SECRET, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            raise HTTPException(401, detail="token_expired", headers={"WWW-Authenticate": "Bearer"}) from None
        except jwt.InvalidTokenError:
            raise HTTPException(401, detail="invalid_token", headers={"WWW-Authenticate": "Bearer"}) from None
        return claims

    def role(needed: str) -> Any:
        def check(claims: dict[str, Any] = Depends(principal)) -> dict[str, Any]:
            held = set().union(*(levels.get(r, set()) for r in claims.get("roles", [])))
            if needed not in held:
                raise HTTPException(403, detail="forbidden")
            return claims

        return check

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/posts")
    def posts(_: Any = Depends(role("viewer"))) -> list[dict[str, str]]:
        return POSTS

    @app.get("/api/stats")
    def stats(_: Any = Depends(role("admin"))) -> dict[str, int]:
        return {"posts": len(POSTS)}

    return app


def token(roles: list[str], lifetime: int = 3600) -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"sub": "u1", "roles": roles, "iat": now, "exp": now + lifetime}, SECRET, algorithm="HS256")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(name: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "serve", name, str(port)])
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{name} did not start")
            time.sleep(0.1)




def cases() -> list[tuple[str, str, dict[str, str]]]:
    viewer, admin = token(["viewer"]), token(["admin"])
    return [
        ("GET", "/health", {}),
        ("GET", "/health", {"origin": ORIGIN}),
        ("GET", "/api/posts", {}),
        ("GET", "/api/posts", {"authorization": f"Bearer {viewer}"}),
        ("GET", "/api/posts", {"authorization": f"Bearer {viewer}", "origin": ORIGIN}),
        ("GET", "/api/posts", {"authorization": "Bearer not.a.token"}),
        ("GET", "/api/posts", {"authorization": f"Bearer {token(['viewer'], -60)}"}),
        ("GET", "/api/stats", {"authorization": f"Bearer {viewer}"}),
        ("GET", "/api/stats", {"authorization": f"Bearer {admin}"}),
        ("OPTIONS", "/api/posts", {"origin": ORIGIN, "access-control-request-method": "GET", "access-control-request-headers": "authorization"}),
    ]


COMPARED = [*HEADERS, "access-control-allow-origin", "access-control-allow-credentials", "www-authenticate"]


def check_same_answers(bases: dict[str, str]) -> None:
    import httpx

    for method, path, headers in cases():
        seen = {}
        for name, base in bases.items():
            r = httpx.request(method, base + path, headers=headers)
            is_preflight = method == "OPTIONS"
            kept = {h: r.headers.get(h) for h in COMPARED if not (is_preflight and h in HEADERS)}
            if "www-authenticate" in kept and kept["www-authenticate"]:
                kept["www-authenticate"] = kept["www-authenticate"].split()[0]  # scheme only
            # Preflight status: Starlette answers 200, Warden 204; both are a success.
            status = 200 if is_preflight and r.status_code in (200, 204) else r.status_code
            body = None if is_preflight or status >= 400 else r.json()
            seen[name] = (status, kept, body)
        assert seen["warden"] == seen["stack"], (method, path, headers, seen)
    print(f"same answers: {len(cases())} requests, statuses, bodies and {len(COMPARED)} headers compared")


def wrk(base: str, path: str, headers: dict[str, str], seconds: int) -> float:
    args = ["wrk", "-t1", "-c32", f"-d{seconds}s", base + path]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    codes = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if codes:
        raise RuntimeError(f"wrk saw {codes.group(1)} non-2xx answers:\n{out}")
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert m, out
    return float(m.group(1))


def bench(seconds: int, rounds: int) -> None:
    procs = {}
    try:
        bases = {}
        for name in ("warden", "stack"):
            procs[name], bases[name] = start(name)
        check_same_answers(bases)
        viewer = token(["viewer"])
        workloads = {
            "GET /health (public, CORS origin)": ("/health", {"origin": ORIGIN}),
            "GET /api/posts (JWT + role)": ("/api/posts", {"authorization": f"Bearer {viewer}", "origin": ORIGIN}),
        }
        for label, (path, headers) in workloads.items():
            figures: dict[str, list[float]] = {"warden": [], "stack": []}
            for _ in range(rounds):
                for name in ("warden", "stack"):
                    wrk(bases[name], path, headers, 1)  # warm-up
                    figures[name].append(wrk(bases[name], path, headers, seconds))
            w, s = figures["warden"], figures["stack"]
            print(f"{label}: warden {' '.join(f'{x:.0f}' for x in w)} req/s; stack {' '.join(f'{x:.0f}' for x in s)} req/s; ratio (median) {sorted(w)[len(w) // 2] / sorted(s)[len(s) // 2]:.2f}")
    finally:
        for p in procs.values():
            p.terminate()
            p.wait()


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        import uvicorn

        app = warden_app() if sys.argv[2] == "warden" else stack_app()
        uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning", access_log=False)
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    a = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    bench(a.seconds, a.rounds)


if __name__ == "__main__":
    main()
