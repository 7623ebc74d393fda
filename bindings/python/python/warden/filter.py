"""Data filtering: which resources of a type may a principal act on?

`residual` answers with the condition `authorize` would apply to every resource of
the type, computed from the same compiled rules: ``{"kind": "always"}``,
``{"kind": "never"}``, or ``{"kind": "conditional", "condition": {...}}`` over
resource attributes (see docs/LANGUAGE.md, "Data filtering"). `sql_filter` turns it
into a parameterized ``WHERE`` fragment for PostgreSQL or SQLite.

>>> where, params = sql_filter(engine, action="posts:read", resource_type="post",
...     principal={"id": "u1", "roles": ["member"]}, dialect="sqlite",
...     columns={"table": "posts",
...              "columns": {"author": {"column": "author_id", "type": "string"}}})
>>> rows = db.execute(f"SELECT * FROM posts WHERE {where}", params).fetchall()

A rule no filter can express raises `CannotFilter` (its `.rule` is ``file:line``):
authorize each row instead. Values are always parameters, never part of the SQL.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Mapping

from ._warden import CannotFilter, Engine, _residual_json

__all__ = ["CannotFilter", "residual", "sql_filter"]


def _request(
    action: str,
    resource_type: str,
    principal: Mapping[str, Any] | None,
    context: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "action": action,
        "resource_type": resource_type,
        "principal": dict(principal) if principal is not None else None,
        "context": dict(context) if context is not None else None,
    }


def residual(
    engine: Engine,
    *,
    action: str,
    resource_type: str,
    principal: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The residual of `action` on `resource_type` for `principal` (None: anonymous).

    Raises `CannotFilter` for a rule no filter can express and `RequestError` for a
    malformed principal or context.
    """
    req = _request(action, resource_type, principal, context)
    answer: dict[str, Any] = json.loads(_residual_json(engine, json.dumps(req)))
    return answer["residual"]


def sql_filter(
    engine: Engine,
    *,
    action: str,
    resource_type: str,
    columns: Mapping[str, Any],
    dialect: Literal["postgres", "sqlite"] = "postgres",
    principal: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    first_param: int = 1,
) -> tuple[str, list[Any]]:
    """A ``WHERE`` fragment and its parameters selecting exactly the allowed rows.

    `columns` maps resource attributes to columns: ``{"table": T, "columns": {ATTR:
    {"column": C, "type": "string" | "number" | "boolean"}}}``; a joined table's column
    names its ``"table"``; a list is ``{"type": "list", "table": ..., "key": ...,
    "parent": ..., "column": ..., "element": ...}``. PostgreSQL placeholders start at
    ``$first_param``; SQLite's are ``?``. Booleans come back as ``True``/``False``
    (sqlite3 binds them as 1/0).
    """
    req = _request(action, resource_type, principal, context)
    req["sql"] = {"dialect": dialect, "columns": dict(columns), "first_param": first_param}
    answer = json.loads(_residual_json(engine, json.dumps(req)))
    return answer["sql"], list(answer["params"])
