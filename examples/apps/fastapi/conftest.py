"""A real uvicorn server on a loopback port per environment, and JWTs minted like the
app's own (so tests spend no login attempts: the policy allows 5 per 15 minutes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent
SECRETS = {"JWT_SECRET": "test-jwt-secret-0123456789abcdef0123", "JWT_REFRESH_SECRET": "test-jwt-refresh-secret-0123456789ab"}
os.environ.update(SECRETS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: str) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=HERE,
        env={**os.environ, **SECRETS, "WARDEN_ENV": env},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {proc.returncode}")
            try:
                # A bare connect, not a request: every request counts against the policy's limit.
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def dev() -> Iterator[httpx.Client]:
    for base in _serve("development"):
        with httpx.Client(base_url=base) as client:
            yield client


@pytest.fixture(scope="module")
def prod() -> Iterator[httpx.Client]:
    for base in _serve("production"):
        with httpx.Client(base_url=base, follow_redirects=False) as client:
            yield client
