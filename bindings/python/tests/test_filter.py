"""Data filtering from Python: the SQL fragment, run by the stdlib's sqlite3, selects
exactly the rows `Engine.authorize` allows, NULLs and joined tables included."""

import itertools
import sqlite3

import pytest

import warden
from warden.filter import CannotFilter, residual, sql_filter

POLICY = """
policy docs
role member
role admin > member
grant member: docs:read
grant admin: docs:*
principal { id: string, roles: set<role>, org: string? }
resource doc { author: string?, org: string?, level: number?, public: bool? }
deny docs:read on doc unless resource.org == principal.org because "other tenant"
deny docs:read on doc if resource.level > 3 and not principal is admin missing skip
allow docs:list on doc if resource.public or resource.author == principal.id
"""

COLUMNS = {
    "table": "d",
    "columns": {
        "author": {"column": "author", "type": "string"},
        "level": {"column": "level", "type": "number"},
        "public": {"column": "public", "type": "boolean"},
        "org": {"table": "t", "column": "org", "type": "string"},
    },
}


@pytest.fixture(scope="module")
def db() -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    con.executescript(
        "CREATE TABLE teams (id TEXT PRIMARY KEY, org TEXT);"
        "CREATE TABLE docs (id TEXT PRIMARY KEY, author TEXT, team TEXT, level REAL, public INTEGER);"
        "INSERT INTO teams VALUES ('t1', 'o1'), ('t2', 'o2'), ('t3', NULL);"
    )
    values = itertools.product(
        [None, "u1", "u2"], [None, "t1", "t2", "t3", "t9"], [None, 1.0, 5.0], [None, True, False]
    )
    con.executemany(
        "INSERT INTO docs VALUES (?, ?, ?, ?, ?)",
        [(f"d{i}", *row) for i, row in enumerate(values)],
    )
    return con


def rows(con: sqlite3.Connection) -> list[dict[str, object]]:
    q = "SELECT d.id, d.author, t.org, d.level, d.public FROM docs AS d LEFT JOIN teams AS t ON t.id = d.team"
    out = []
    for id_, author, org, level, public in con.execute(q):
        res: dict[str, object] = {"type": "doc", "id": id_}
        for k, v in (("author", author), ("org", org), ("level", level)):
            if v is not None:
                res[k] = v
        if public is not None:
            res["public"] = bool(public)
        out.append(res)
    return out


PRINCIPALS = [
    None,
    {"id": "u1", "roles": ["member"], "org": "o1"},
    {"id": "u2", "roles": ["admin"], "org": "o2"},
    {"id": "u1", "roles": ["member"]},
    {"id": "u3", "roles": []},
]


@pytest.mark.parametrize("action", ["docs:read", "docs:list"])
@pytest.mark.parametrize("principal", PRINCIPALS)
def test_filter_selects_exactly_the_allowed_rows(
    db: sqlite3.Connection, action: str, principal: dict[str, object] | None
) -> None:
    engine = warden.Engine.from_source("docs.warden", POLICY)
    where, params = sql_filter(
        engine, action=action, resource_type="doc", principal=principal, columns=COLUMNS, dialect="sqlite"
    )
    q = f"SELECT d.id FROM docs AS d LEFT JOIN teams AS t ON t.id = d.team WHERE {where}"
    got = {r[0] for r in db.execute(q, params)}
    want = {
        r["id"]
        for r in rows(db)
        if engine.authorize(principal=principal, action=action, resource=r).allowed
    }
    assert got == want
    assert "?" in where or where in ("TRUE", "FALSE")


def test_residual_kinds() -> None:
    engine = warden.Engine.from_source("docs.warden", POLICY)
    assert residual(engine, action="docs:read", resource_type="doc")["kind"] == "never"
    r = residual(engine, action="docs:read", resource_type="doc", principal={"id": "u1", "roles": ["member"], "org": "o1"})
    assert r["kind"] == "conditional"
    # The tenant and the level ceiling, with the principal's org folded in.
    assert atoms(r["condition"]) == [
        {"cmp": {"attr": "org", "op": "eq", "value": "o1"}},
        {"cmp": {"attr": "level", "op": "gt", "value": 3.0}},
    ]


def atoms(c: dict[str, object]) -> list[dict[str, object]]:
    """The comparisons of a condition tree, in order."""
    ((op, arg),) = c.items()
    if op in ("and", "or"):
        assert isinstance(arg, list)
        return [a for x in arg for a in atoms(x)]
    if op == "not":
        assert isinstance(arg, dict)
        return atoms(arg)
    return [c]


def test_values_are_parameters_never_sql_text() -> None:
    engine = warden.Engine.from_source("docs.warden", POLICY)
    evil = "o1' OR '1'='1"
    where, params = sql_filter(
        engine,
        action="docs:read",
        resource_type="doc",
        principal={"id": "u1", "roles": ["member"], "org": evil},
        columns=COLUMNS,
    )
    assert evil not in where
    assert evil in params
    assert "$1" in where


def test_a_rule_that_cannot_filter_is_named() -> None:
    src = "policy p\nrole m\ngrant m: a\nresource doc { slug: string }\ndeny a on doc unless resource.slug matches /^x/\n"
    engine = warden.Engine.from_source("p.warden", src)
    with pytest.raises(CannotFilter) as info:
        residual(engine, action="a", resource_type="doc", principal={"id": "u", "roles": ["m"]})
    assert info.value.rule == "p.warden:5"
    assert isinstance(info.value, warden.WardenError)


def test_unmapped_attribute_and_bad_request() -> None:
    engine = warden.Engine.from_source("docs.warden", POLICY)
    me = {"id": "u1", "roles": ["member"], "org": "o1"}
    with pytest.raises(CannotFilter, match="resource.org"):
        sql_filter(engine, action="docs:read", resource_type="doc", principal=me, columns={"table": "d", "columns": {}})
    with pytest.raises(warden.RequestError):
        residual(engine, action="docs:read", resource_type="doc", principal={"roles": "member"})
