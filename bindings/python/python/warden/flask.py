"""Flask helpers over `warden.wsgi.WardenMiddleware`:

    app.wsgi_app = WardenMiddleware(app.wsgi_app, engine)

    @app.delete("/posts/<post_id>")
    def delete_post(post_id):
        post = load(post_id)
        authorize("posts:delete", {"type": "post", "id": post_id, "author": post.author})
        ...

`authorize` aborts with 403 (`{"detail": reason}`), or 401 for an anonymous caller;
`current()` is the request's `WardenState` and `current().principal` its principal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, jsonify, request

from ._adapter import WardenState
from ._warden import Decision

__all__ = ["authorize", "current"]


def current() -> WardenState:
    """The `WardenState` of the current request. Raises RuntimeError when the WSGI
    middleware is not installed, rather than letting every check pass."""
    state = request.environ.get("warden")
    if not isinstance(state, WardenState):
        raise RuntimeError("warden.flask needs warden.wsgi.WardenMiddleware around app.wsgi_app")
    return state


def authorize(
    action: str,
    resource: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> Decision:
    """May the current principal do `action` on `resource`? Returns the `Decision`;
    a refusal aborts the request with 403 `{"detail": reason}` (401 when anonymous)."""
    state = current()
    decision = state.authorize(action, resource=resource, context=context)
    if not decision.allowed:
        if state.principal is None:
            response = jsonify(detail="not authenticated")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = "Bearer"
        else:
            response = jsonify(detail=decision.reason or "forbidden")
            response.status_code = 403
        abort(response)
    return decision
