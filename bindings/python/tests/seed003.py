"""The seed-003 policy and JWTs for it, shared by the adapter tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import warden

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "policies" / "security-patterns.warden"
SECRETS = {"JWT_SECRET": "test-jwt-secret-0123456789abcdef0123", "JWT_REFRESH_SECRET": "test-jwt-refresh-secret-0123456789ab"}


def engine(env: str = "development") -> warden.Engine:
    return warden.Engine.from_file(POLICY, env=env, secrets=SECRETS)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(sub: str, role: str, lifetime: int = 900) -> str:
    now = int(time.time())
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps({"sub": sub, "role": role, "iat": now, "exp": now + lifetime}).encode())
    sig = hmac.new(SECRETS["JWT_SECRET"].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


def bearer(sub: str, role: str, lifetime: int = 900) -> dict[str, str]:
    return {"authorization": f"Bearer {token(sub, role, lifetime)}"}
