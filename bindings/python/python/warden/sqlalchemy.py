"""Data filtering for SQLAlchemy: the residual of `warden.filter` as a ``where`` clause.

`where_clause` computes the residual of an action on a resource type for a principal
and builds a SQLAlchemy boolean expression over the columns you map each resource
attribute to, so that ``select(Post).where(clause)`` returns exactly the rows
`Engine.authorize` would allow (and a ``LIMIT``/``OFFSET`` pages over allowed rows only):

>>> clause = where_clause(engine, action="posts:read", resource_type="post",
...     principal={"id": "u1", "roles": ["member"], "org": "o1"},
...     columns={"author": Post.author_id, "org": Team.org,
...              "tags": HasMany(Tag.name, key=Tag.post_id, parent=Post.id)})
>>> session.scalars(select(Post).join(Team, isouter=True).where(clause).limit(20))

An attribute kept on a joined table (tenancy through a team, say) is that table's
column: the query must join it, an outer join making a missing row a missing
attribute. Every atom is false for a NULL column, as `authorize` treats a missing
attribute, and ``not`` is two-valued negation; values are bound parameters. Works with
the SQLite and PostgreSQL dialects (a ``contains`` test compiles to ``instr`` /
``strpos``; another dialect refuses to compile it rather than use case-folding
``LIKE``). `CannotFilter` is raised for a rule no filter can express, or for an
attribute the residual reads and `columns` does not map.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Union

from sqlalchemy import Boolean, Float, String, and_, exists, false, func, literal, not_, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer

from ._warden import CannotFilter, Engine
from .filter import residual as _residual

__all__ = ["CannotFilter", "HasMany", "residual_clause", "where_clause"]

_Kind = Literal["string", "number", "bool", "list"]


@dataclass(frozen=True)
class HasMany:
    """A list attribute kept as rows of another table: its elements are `column` of the
    rows whose `key` equals the resource row's `parent` (never missing, only empty)."""

    column: ColumnElement[Any]
    key: ColumnElement[Any]
    parent: ColumnElement[Any]


Mapped = Union[ColumnElement[Any], HasMany]


def _cannot(reason: str) -> CannotFilter:
    """A `CannotFilter` about the mapping rather than a rule (`rule` is empty)."""
    err = CannotFilter(reason)
    err.rule = ""
    return err


class _Strpos(FunctionElement[int]):
    """Position of `needle` in `haystack` (1-based, 0 if absent), case-sensitive."""

    type = Integer()
    inherit_cache = True
    name = "warden_strpos"


@compiles(_Strpos, "sqlite")
def _strpos_sqlite(element: _Strpos, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_Strpos, "postgresql")
def _strpos_postgres(element: _Strpos, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(_Strpos)
def _strpos_other(element: _Strpos, compiler: SQLCompiler, **kw: Any) -> str:
    raise _cannot(f"warden.sqlalchemy has no exact substring test for the {compiler.dialect.name} dialect")


def _kind_of(col: Mapped) -> _Kind:
    if isinstance(col, HasMany):
        return "list"
    try:
        py = col.type.python_type
    except NotImplementedError:
        py = object
    # bool before int: a Python bool is an int.
    if issubclass(py, bool):
        return "bool"
    if issubclass(py, str):
        return "string"
    if issubclass(py, (int, float, decimal.Decimal)):
        return "number"
    raise _cannot(f"column {col} of type {col.type} holds neither text, numbers nor booleans")


def _value_kind(value: Any) -> _Kind:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    return "number"


def _bind(value: Any) -> Any:
    """A bound parameter: numbers as doubles, whatever the column's numeric type (an
    integer column against 2.5 must not round it); booleans as a typed parameter (a
    bare True would be SQLAlchemy's `IS true`)."""
    kind = _value_kind(value)
    if kind == "number":
        return literal(float(value), Float())
    if kind == "bool":
        return literal(bool(value), Boolean())
    return literal(value, String())


class _Builder:
    def __init__(self, columns: Mapping[str, Mapped]) -> None:
        self.columns = columns

    def column(self, attr: str) -> Mapped:
        try:
            return self.columns[attr]
        except KeyError:
            raise _cannot(f"the column map has no column for `resource.{attr}`") from None

    def scalar(self, attr: str, kind: _Kind) -> ColumnElement[Any] | None:
        """The column of `attr` if it holds values of `kind`, else None (atom false)."""
        col = self.column(attr)
        if isinstance(col, HasMany) or _kind_of(col) != kind:
            return None
        return col

    def cond(self, c: Mapping[str, Any]) -> ColumnElement[bool]:
        ((op, arg),) = c.items()
        if op == "and":
            return and_(*(self.cond(x) for x in arg))
        if op == "or":
            return or_(*(self.cond(x) for x in arg))
        if op == "not":
            return not_(self.cond(arg))
        if op == "present":
            col = self.column(arg["attr"])
            kind = arg.get("kind")
            if kind is not None and kind != _kind_of(col):
                return false()
            return true() if isinstance(col, HasMany) else col.isnot(None)
        if op == "cmp":
            value = arg["value"]
            col = self.scalar(arg["attr"], _value_kind(value))
            if col is None:
                return false()
            p = _bind(value)
            cmp = {
                "eq": col == p,
                "lt": col < p,
                "le": col <= p,
                "gt": col > p,
                "ge": col >= p,
            }[arg["op"]]
            return and_(col.isnot(None), cmp)
        if op == "in":
            values = arg["values"]
            col = self.scalar(arg["attr"], _value_kind(values[0])) if values else None
            if col is None:
                return false()
            return and_(col.isnot(None), col.in_([_bind(v) for v in values]))
        if op in ("contains", "starts_with", "ends_with"):
            col = self.scalar(arg["attr"], "string")
            if col is None:
                return false()
            text: str = arg["value"]
            n = len(text)  # characters, as SQLite's and PostgreSQL's length/substr count
            if op == "contains":
                test = _Strpos(col, _bind(text)) > 0
            elif op == "starts_with":
                test = func.substr(col, 1, n) == _bind(text)
            else:
                test = and_(func.length(col) >= n, func.substr(col, func.length(col) - (n - 1)) == _bind(text))
            return and_(col.isnot(None), test)
        if op == "has":
            col = self.column(arg["attr"])
            value = arg["value"]
            if not isinstance(col, HasMany) or _kind_of(col.column) != _value_kind(value):
                return false()
            return exists(
                select(1).where(col.key == col.parent, col.column == _bind(value))
            )
        raise _cannot(f"unknown residual condition `{op}` (a newer engine?)")


def residual_clause(residual: Mapping[str, Any], columns: Mapping[str, Mapped]) -> ColumnElement[bool]:
    """The ``where`` clause of a residual (as returned by `warden.filter.residual`)."""
    kind = residual["kind"]
    if kind == "always":
        return true()
    if kind == "never":
        return false()
    return _Builder(columns).cond(residual["condition"])


def where_clause(
    engine: Engine,
    *,
    action: str,
    resource_type: str,
    columns: Mapping[str, Mapped],
    principal: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> ColumnElement[bool]:
    """A ``where`` clause selecting exactly the `resource_type` rows on which
    `principal` (None: anonymous) may perform `action`.

    `columns` maps resource attribute paths (``"author"``, ``"owner.id"``) to columns
    of the queried model or of a joined one, or to a `HasMany` for a list attribute.
    The column's SQLAlchemy type says what it holds (text, number, boolean); a value of
    another kind never matches, as in `authorize`.
    """
    r = _residual(
        engine, action=action, resource_type=resource_type, principal=principal, context=context
    )
    return residual_clause(r, columns)
