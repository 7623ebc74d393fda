"""Warden: an embedded policy-as-code engine.

Host adapters: `warden.asgi` (Starlette, FastAPI) with `warden.fastapi` dependencies,
`warden.wsgi` (Flask, any WSGI app) with `warden.flask` helpers, and `warden.django`.

>>> engine = Engine.from_file("policy.warden", env="production")
>>> engine.authorize(principal={"id": "u1", "roles": ["editor"]}, action="posts:read",
...                  resource={"type": "post", "id": "p1"}).allowed
"""

from ._warden import (
    Authentication,
    ConfigError,
    Decision,
    Diagnostic,
    Engine,
    HttpDecision,
    PolicyError,
    RequestError,
    WardenError,
    Watch,
)

__all__ = [
    "Authentication",
    "ConfigError",
    "Decision",
    "Diagnostic",
    "Engine",
    "HttpDecision",
    "PolicyError",
    "RequestError",
    "WardenError",
    "Watch",
]
