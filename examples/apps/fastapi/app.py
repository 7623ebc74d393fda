"""Seed 003 ("Security Patterns") users/posts API on FastAPI, with Warden doing what the
seed's Express middlewares do: `policies/security-patterns.warden` authenticates
(bearer JWT, API keys), enforces roles, rate limits, CORS, the security headers, the
HTTPS redirect in production and the cookie flags; the handlers only load data and
ask for resource-level checks.

    WARDEN_ENV=development JWT_SECRET=... JWT_REFRESH_SECRET=... uvicorn app:app
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import secrets
import time
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import String, create_engine, delete, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool

from warden import Engine
from warden.asgi import WardenMiddleware, detail_body
from warden.fastapi import Authorize, current_principal, require_principal
from warden.sqlalchemy import where_clause

POLICY = Path(__file__).resolve().parents[3] / "policies" / "security-patterns.warden"
JWT_SECRET = os.environ["JWT_SECRET"]

engine = Engine.from_file(
    POLICY,
    env=os.environ.get("WARDEN_ENV", "development"),
    secrets={"JWT_SECRET": JWT_SECRET, "JWT_REFRESH_SECRET": os.environ["JWT_REFRESH_SECRET"]},
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def access_token(user_id: str, role: str, lifetime: int = 15 * 60) -> str:
    """An HS256 JWT like the seed's `jwt.sign({ sub, role }, JWT_SECRET, { expiresIn: "15m" })`."""
    now = int(time.time())
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps({"sub": user_id, "role": role, "iat": now, "exp": now + lifetime}).encode())
    sig = hmac.new(JWT_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return salt.hex() + ":" + digest.hex()


def verify_password(password: str, stored: str) -> bool:
    salt, _ = stored.split(":")
    return hmac.compare_digest(hash_password(password, bytes.fromhex(salt)), stored)


USERS: dict[str, dict[str, Any]] = {
    "u1": {"id": "u1", "email": "ed@example.com", "name": "Ed", "role": "editor", "password": hash_password("correct horse battery")},
    "u2": {"id": "u2", "email": "vi@example.com", "name": "Vi", "role": "viewer", "password": hash_password("viewer password 1")},
    "u3": {"id": "u3", "email": "eve@example.com", "name": "Eve", "role": "editor", "password": hash_password("another editor pw")},
    "a1": {"id": "a1", "email": "ad@example.com", "name": "Ad", "role": "admin", "password": hash_password("admin password 1")},
}


class Base(DeclarativeBase):
    pass


class Post(Base):
    """The posts table, in a real SQLite database (in memory, one connection)."""

    __tablename__ = "posts"
    id: Mapped[str] = mapped_column(String, primary_key=True)
    author: Mapped[str] = mapped_column(String)
    title: Mapped[str] = mapped_column(String)
    body: Mapped[str] = mapped_column(String)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "author": self.author, "title": self.title, "body": self.body}


def seed_posts() -> list[dict[str, Any]]:
    """`p1` by u1 and `p2` by u3, then 100 more by the four users and two others."""
    posts = [
        {"id": "p1", "author": "u1", "title": "Hello", "body": "first"},
        {"id": "p2", "author": "u3", "title": "Other", "body": "second"},
    ]
    authors = ["u1", "u2", "u3", "a1", "u1", "x9", "u3", "ghost"]
    posts += [{"id": f"p{i:03}", "author": authors[(i * 5) % len(authors)], "title": f"post {i}", "body": ""} for i in range(3, 103)]
    return posts


db = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
Base.metadata.create_all(db)
with Session(db) as _s:
    _s.add_all(Post(**p) for p in seed_posts())
    _s.commit()
REFRESH: dict[str, str] = {}


def _finite(text: str) -> float:
    """A JSON number as the engine reads numbers: finite (`1e400` is no number)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text[:20]}")
    return value


def _no_constant(text: str) -> float:
    raise ValueError(f"not JSON: {text}")


def body_input(scope: dict[str, Any], body: bytes) -> dict[str, Any] | None:
    """The `input` facts of `POST /api/users` (the password's length only, never the password).
    Python's `json` reads `NaN`, `Infinity` and numbers past a float's range, which are no
    JSON a client may send and no number the engine takes: such a body has no facts, so
    the policy's requirements refuse it (400) instead of the engine's error (500)."""
    if scope["path"] != "/api/users":
        return None
    try:
        data = json.loads(body or b"{}", parse_constant=_no_constant, parse_float=_finite, parse_int=_finite)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    facts = {k: data[k] for k in ("email", "name", "age") if k in data}
    if isinstance(data.get("password"), str):
        facts["password_length"] = len(data["password"])
    return facts


app = FastAPI()
app.add_middleware(WardenMiddleware, engine=engine, deny_body=detail_body, body_input=body_input)


class Login(BaseModel):
    email: str
    password: str


class NewUser(BaseModel):
    email: str = Field(max_length=255)
    name: str = Field(min_length=1, max_length=100)
    age: int | None = Field(default=None, ge=13, le=150)
    password: str = Field(min_length=12, max_length=128)


class PostUpdate(BaseModel):
    title: str | None = None
    body: str | None = None


@app.post("/api/auth/login")
def login(form: Login, response: Response) -> dict[str, str]:
    user = next((u for u in USERS.values() if u["email"] == form.email), None)
    if user is None or not verify_password(form.password, user["password"]):
        raise HTTPException(401, detail="Invalid email or password")
    token = secrets.token_urlsafe(24)
    REFRESH[token] = user["id"]
    # The flags are the policy's business: Warden adds HttpOnly, Secure, SameSite, Path, Max-Age.
    response.set_cookie("refreshToken", token)
    return {"accessToken": access_token(user["id"], user["role"])}


@app.post("/api/auth/refresh")
def refresh(request: Request) -> dict[str, str]:
    user_id = REFRESH.get(request.cookies.get("refreshToken", ""))
    if user_id is None:
        raise HTTPException(401, detail="Invalid refresh token")
    user = USERS[user_id]
    return {"accessToken": access_token(user["id"], user["role"])}


@app.get("/api/me")
def me(principal: dict[str, Any] = Depends(require_principal)) -> dict[str, Any]:
    return {"id": principal["id"], "roles": principal["roles"]}


@app.get("/api/whoami")
def whoami(principal: dict[str, Any] | None = Depends(current_principal)) -> dict[str, Any]:
    return {"id": principal["id"] if principal else None}


def load_post(post_id: str) -> dict[str, Any]:
    with Session(db) as s:
        post = s.get(Post, post_id)
        if post is None:
            raise HTTPException(404, detail="Not found")
        return post.as_dict()


def post_resource(post: dict[str, Any]) -> dict[str, Any]:
    return {"type": "post", "id": post["id"], "author": post["author"]}


@app.get("/api/posts")
def list_posts(_: Any = Depends(Authorize("posts:read"))) -> list[dict[str, Any]]:
    with Session(db) as s:
        return [p.as_dict() for p in s.scalars(select(Post).order_by(Post.id))]


@app.get("/api/posts/editable")
def editable_posts(
    principal: dict[str, Any] = Depends(require_principal),
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """The list twin of `PUT /api/posts/{id}`'s check: the posts the caller may edit,
    filtered by SQLite with the policy's own "author or admin" rule (`where_clause`
    over the residual), paged after it."""
    clause = where_clause(
        engine, action="posts:write", resource_type="post", principal=principal, columns={"id": Post.id, "author": Post.author}
    )
    with Session(db) as s:
        rows = s.scalars(select(Post).where(clause).order_by(Post.id).limit(limit).offset(offset))
        return {"posts": [p.as_dict() for p in rows], "limit": limit, "offset": offset}


@app.get("/api/posts/{post_id}")
def get_post(post: dict[str, Any] = Depends(Authorize("posts:read", resource=load_post, to_resource=post_resource))) -> dict[str, Any]:
    return post


@app.put("/api/posts/{post_id}")
def update_post(
    change: PostUpdate,
    post: dict[str, Any] = Depends(Authorize("posts:write", resource=load_post, to_resource=post_resource)),
) -> dict[str, Any]:
    with Session(db) as s:
        row = s.get(Post, post["id"])
        if row is None:
            raise HTTPException(404, detail="Not found")
        for k, v in change.model_dump(exclude_none=True).items():
            setattr(row, k, v)
        s.commit()
        return row.as_dict()


@app.delete("/api/posts/{post_id}", status_code=204)
def delete_post(
    post: dict[str, Any] = Depends(Authorize("posts:delete", resource=load_post, to_resource=post_resource)),
) -> None:
    with Session(db) as s:
        s.execute(delete(Post).where(Post.id == post["id"]))
        s.commit()


def load_user(user_id: str) -> dict[str, Any]:
    user = USERS.get(user_id)
    if user is None:
        raise HTTPException(404, detail="Not found")
    return user


def user_resource(user: dict[str, Any]) -> dict[str, Any]:
    return {"type": "user", "id": user["id"]}


@app.get("/api/users/{user_id}")
def get_user(user: dict[str, Any] = Depends(Authorize("users:read", resource=load_user, to_resource=user_resource))) -> dict[str, Any]:
    return {k: user[k] for k in ("id", "email", "name", "role")}


@app.post("/api/users", status_code=201)
def create_user(new: NewUser, _: Any = Depends(Authorize("users:write"))) -> dict[str, Any]:
    uid = "u" + secrets.token_hex(4)
    USERS[uid] = {"id": uid, "email": new.email, "name": new.name.strip(), "role": "viewer", "password": hash_password(new.password)}
    return {"id": uid, "email": new.email, "name": new.name.strip()}


@app.delete("/api/users/{user_id}", status_code=204)
def delete_user(user: dict[str, Any] = Depends(Authorize("users:delete", resource=load_user, to_resource=user_resource))) -> None:
    USERS.pop(user["id"], None)


@app.get("/api/v1/reports")
def reports(request: Request) -> dict[str, Any]:
    principal = request.state.warden.principal
    return {"client": principal["api_client"], "reports": []}


@app.get("/health")
def health(response: Response) -> dict[str, str]:
    response.headers["X-Powered-By"] = "FastAPI"  # the policy drops it
    return {"status": "ok"}
