"""Warden: an embedded policy-as-code engine.

>>> engine = Engine.from_file("policy.warden", env="production")
>>> engine.authorize(principal={"id": "u1", "roles": ["editor"]}, action="posts:read",
...                  resource={"type": "post", "id": "p1"}).allowed
"""

from ._warden import (
    ConfigError,
    Decision,
    Diagnostic,
    Engine,
    HttpDecision,
    PolicyError,
    RequestError,
    WardenError,
)

__all__ = [
    "ConfigError",
    "Decision",
    "Diagnostic",
    "Engine",
    "HttpDecision",
    "PolicyError",
    "RequestError",
    "WardenError",
]
