"""FastAPI dependencies over `warden.asgi.WardenMiddleware`: the principal of the
request, and resource-level checks that answer like FastAPI's own security
dependencies (`HTTPException` with a `detail`).

    from fastapi import Depends, FastAPI
    from warden.asgi import WardenMiddleware, detail_body
    from warden.fastapi import Authorize, current_principal

    app = FastAPI()
    app.add_middleware(WardenMiddleware, engine=engine, deny_body=detail_body)

    def load_post(post_id: str) -> dict: ...   # the resource dict: {"type", "id", ...}

    @app.delete("/posts/{post_id}")
    def delete_post(post: dict = Depends(Authorize("posts:delete", resource=load_post))):
        ...

`Authorize(action, resource=dep)` resolves the dependency `dep` (FastAPI calls it once
per request even when the handler depends on it too), asks `Engine.authorize` whether
the request's principal may do `action` on it, and returns the resource; a refusal is
`HTTPException(403, detail=reason)`, or 401 with `WWW-Authenticate: Bearer` when the
caller is anonymous.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Depends, HTTPException, Request

from ._adapter import WardenState
from ._warden import Decision

__all__ = ["Authorize", "current_principal", "require_principal", "warden_state"]


def warden_state(request: Request) -> WardenState:
    """The `WardenState` of the request (`request.state.warden`). Raises RuntimeError
    when `WardenMiddleware` is not installed, rather than letting every check pass."""
    state = getattr(request.state, "warden", None)
    if not isinstance(state, WardenState):
        raise RuntimeError("warden.fastapi needs warden.asgi.WardenMiddleware on the app")
    return state


def current_principal(request: Request) -> dict[str, Any] | None:
    """Dependency: the request's principal dict, or None for an anonymous caller."""
    return warden_state(request).principal


def require_principal(request: Request) -> dict[str, Any]:
    """Dependency: the request's principal dict; 401 when the caller is anonymous."""
    principal = warden_state(request).principal
    if principal is None:
        raise HTTPException(401, detail="not authenticated", headers={"WWW-Authenticate": "Bearer"})
    return principal


def _refuse(state: WardenState, decision: Decision) -> HTTPException:
    if state.principal is None:
        return HTTPException(401, detail="not authenticated", headers={"WWW-Authenticate": "Bearer"})
    return HTTPException(403, detail=decision.reason or "forbidden")


class Authorize:
    """Dependency factory for a resource-level check: `Depends(Authorize(action,
    resource=dep, to_resource=fn, context=fn))`.

    `resource` is a dependency (any callable FastAPI can inject) giving the resource;
    `to_resource` maps it to the resource dict when it is not one already (e.g. a
    Pydantic model or ORM row); `context` is a callable from the `Request` to the
    context dict. Without `resource`, the check is of the action alone. The dependency
    returns the resource as `resource` gave it (or the `Decision` when there is none).
    """

    def __init__(
        self,
        action: str,
        resource: Callable[..., Any] | None = None,
        *,
        to_resource: Callable[[Any], Mapping[str, Any]] | None = None,
        context: Callable[[Request], Mapping[str, Any] | None] | None = None,
    ) -> None:
        self.action = action
        self.resource = resource
        self.to_resource = to_resource
        self.context = context
        params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
        if resource is not None:
            params.append(
                inspect.Parameter("loaded", inspect.Parameter.KEYWORD_ONLY, default=Depends(resource), annotation=Any)
            )
        # FastAPI reads the dependency's parameters from its signature: `loaded` is
        # the `resource` dependency, resolved (and cached per request) by FastAPI.
        self.__signature__ = inspect.Signature(params)

    def __call__(self, request: Request, loaded: Any = None) -> Any:
        state = warden_state(request)
        res = None
        if self.resource is not None:
            res = self.to_resource(loaded) if self.to_resource is not None else loaded
        ctx = self.context(request) if self.context is not None else None
        decision = state.authorize(self.action, resource=res, context=ctx)
        if not decision.allowed:
            raise _refuse(state, decision)
        return loaded if self.resource is not None else decision

    def __repr__(self) -> str:
        return f"Authorize({self.action!r}, resource={self.resource!r})"
