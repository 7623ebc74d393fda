"""warden.sqlalchemy, differentially: on generated policies and principals, the rows
``select(Doc).where(where_clause(...))`` returns are exactly those `Engine.authorize`
allows, NULL columns, a missing joined row and a child table of tags included; and a
page of the filtered query is the same page of the allowed rows. Against SQLite
always, and against a real PostgreSQL server under scripts/with-postgres.sh
(`WARDEN_PG_URL`)."""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, create_engine, select
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

import warden
from warden.sqlalchemy import CannotFilter, HasMany, residual_clause, where_clause


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[str] = mapped_column(String(8), primary_key=True)
    org: Mapped[str | None] = mapped_column(String(8))


class Doc(Base):
    __tablename__ = "docs"
    id: Mapped[str] = mapped_column(String(8), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(8))
    level: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    published: Mapped[bool | None] = mapped_column(Boolean)
    title: Mapped[str | None] = mapped_column(String(32))
    project: Mapped[str | None] = mapped_column(String(8))


class Tag(Base):
    __tablename__ = "doc_tags"
    doc_id: Mapped[str] = mapped_column(ForeignKey("docs.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(8), primary_key=True)


COLUMNS: dict[str, Any] = {
    "id": Doc.id,
    "owner": Doc.owner,
    "level": Doc.level,
    "rank": Doc.rank,
    "published": Doc.published,
    "title": Doc.title,
    "org": Project.org,
    "tags": HasMany(Tag.tag, key=Tag.doc_id, parent=Doc.id),
}

SHAPES = """principal { id: string, roles: set<role>, level: number?, org: string?, team: string? }
resource doc { owner: string?, level: number?, rank: number?, published: bool?, title: string?, org: string?, tags: set<string> }
"""

ATOMS = [
    "resource.owner == principal.id",
    "resource.owner != principal.id",
    'resource.owner in ["u1", "u2"]',
    "resource.level > 2",
    "resource.level <= principal.level",
    "resource.rank >= 2.5",
    "resource.rank == 2",
    "resource.level in [1, 5]",
    "resource.published",
    "not resource.published",
    'resource.title starts_with "alpha"',
    'resource.title ends_with "bet"',
    'resource.title contains "ph"',
    "resource.title contains principal.team",
    'resource.title ends_with "lan"',
    "resource.org == principal.org",
    'resource.org != "o2"',
    "principal.id in resource.tags",
    'resource.tags contains "t1"',
    "principal is admin",
    "(resource.owner ?? principal.id) == principal.id",
    'resource.id starts_with "d1"',
]


def policies(n: int) -> Iterator[str]:
    rng = random.Random(24)
    for _ in range(n):
        rules = []
        for _ in range(rng.randint(1, 3)):
            effect = rng.choice(["allow", "deny"])
            kind = rng.choice(["if", "unless"])
            e = rng.choice(ATOMS)
            if rng.random() < 0.5:
                e = f"({e} {rng.choice(['and', 'or'])} {rng.choice(ATOMS)})"
            if rng.random() < 0.2:
                e = f"not ({e})"
            missing = rng.choice(["", " missing skip", " missing deny"]) if effect == "deny" else ""
            rules.append(f"{effect} docs:read on doc {kind} {e}{missing}")
        grant = rng.choice(["grant viewer: docs:read\n", ""])
        yield "policy gen\nrole viewer\nrole admin > viewer\n" + SHAPES + grant + "\n".join(rules) + "\n"


PRINCIPALS: list[dict[str, Any] | None] = [
    None,
    {"id": "u1", "roles": ["viewer"], "level": 3, "org": "o1", "team": "ph"},
    {"id": "u2", "roles": ["admin"], "org": "o2"},
    {"id": "u3", "roles": [], "level": 1.5, "team": "é"},
]

PROJECTS = [("p1", "o1"), ("p2", "o2"), ("p3", None)]


def rows() -> list[dict[str, Any]]:
    """Documents over the interesting values; `project` p9 has no row (LEFT JOIN NULL)."""
    rng = random.Random(7)
    out = []
    for i in range(400):
        out.append(
            {
                "id": f"d{i}",
                "owner": rng.choice([None, "u1", "u2", "u3"]),
                "level": rng.choice([None, 0.0, 1.0, 2.0, 2.5, 3.0, 5.0]),
                "rank": rng.choice([None, 1, 2, 3]),
                "published": rng.choice([None, True, False]),
                "title": rng.choice([None, "alpha", "alphabet", "beta", "Alpha", "", "élan", "graph"]),
                "project": rng.choice([None, "p1", "p2", "p3", "p9"]),
                "tags": sorted(set(rng.choices(["t1", "t2", "u1", "u2"], k=rng.randint(0, 3)))),
            }
        )
    return out


ROWS = rows()


def resource(row: dict[str, Any]) -> dict[str, Any]:
    """What `authorize` sees: NULL columns are absent attributes."""
    res: dict[str, Any] = {"type": "doc", "id": row["id"], "tags": row["tags"]}
    for k in ("owner", "level", "rank", "published", "title"):
        if row[k] is not None:
            res[k] = row[k]
    org = dict(PROJECTS).get(row["project"]) if row["project"] else None
    if org is not None:
        res["org"] = org
    return res


def fill(db: SqlEngine) -> SqlEngine:
    Base.metadata.drop_all(db)
    Base.metadata.create_all(db)
    with Session(db) as s:
        s.add_all(Project(id=p, org=o) for p, o in PROJECTS)
        for r in ROWS:
            s.add(Doc(**{k: v for k, v in r.items() if k != "tags"}))
        s.flush()
        s.add_all(Tag(doc_id=r["id"], tag=t) for r in ROWS for t in r["tags"])
        s.commit()
    return db


def databases() -> list[Any]:
    params: list[Any] = [pytest.param("sqlite", id="sqlite")]
    params.append(pytest.param("postgresql", id="postgresql"))
    return params


@pytest.fixture(scope="module", params=databases())
def db(request: pytest.FixtureRequest) -> Iterator[SqlEngine]:
    if request.param == "sqlite":
        eng = create_engine("sqlite://")
    else:
        url = os.environ.get("WARDEN_PG_URL")
        if not url:
            if os.environ.get("CI") == "true":
                pytest.fail("WARDEN_PG_URL is unset under CI=true: run under scripts/with-postgres.sh")
            pytest.skip("SKIPPED: WARDEN_PG_URL is unset (run under scripts/with-postgres.sh)")
        import psycopg

        eng = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url))
    yield fill(eng)
    eng.dispose()


def query(clause: Any) -> Any:
    return select(Doc.id).outerjoin(Project, Project.id == Doc.project).where(clause).order_by(Doc.id)


@pytest.mark.parametrize("source", list(policies(40)))
def test_where_clause_selects_exactly_the_allowed_rows(db: SqlEngine, source: str) -> None:
    engine = warden.Engine.from_source("gen.warden", source)
    checked = 0
    for principal in PRINCIPALS:
        clause = where_clause(engine, action="docs:read", resource_type="doc", principal=principal, columns=COLUMNS)
        with Session(db) as s:
            got = list(s.scalars(query(clause)))
        want = sorted(
            r["id"]
            for r in ROWS
            if engine.authorize(principal=principal, action="docs:read", resource=resource(r)).allowed
        )
        assert got == want, f"policy:\n{source}\nprincipal: {principal}"
        checked += 1
    assert checked == len(PRINCIPALS)


def test_pages_of_the_filtered_query_are_pages_of_the_allowed_rows(db: SqlEngine) -> None:
    src = "policy p\nrole viewer\nrole admin > viewer\n" + SHAPES + (
        "allow docs:read on doc if resource.owner == principal.id or resource.published\n"
        "deny docs:read on doc unless resource.org == principal.org\n"
    )
    engine = warden.Engine.from_source("p.warden", src)
    me = {"id": "u1", "roles": ["viewer"], "org": "o1"}
    clause = where_clause(engine, action="docs:read", resource_type="doc", principal=me, columns=COLUMNS)
    allowed = sorted(
        r["id"] for r in ROWS if engine.authorize(principal=me, action="docs:read", resource=resource(r)).allowed
    )
    assert len(allowed) > 25
    pages = []
    with Session(db) as s:
        for offset in itertools.count(0, 10):
            page = list(s.scalars(query(clause).limit(10).offset(offset)))
            if not page:
                break
            pages.append(page)
    assert all(len(p) == 10 for p in pages[:-1])
    assert [i for p in pages for i in p] == allowed


def test_always_never_and_errors() -> None:
    engine = warden.Engine.from_source(
        "p.warden", "policy p\nrole admin\ngrant admin: docs:*\n" + SHAPES + "deny docs:read on doc if resource.title matches /^a/\n"
    )
    sqlite = create_engine("sqlite://")
    always = str(select(Doc.id).where(residual_clause({"kind": "always"}, {})).compile(sqlite))
    assert always.endswith("WHERE 1 = 1"), always
    with pytest.raises(CannotFilter) as info:
        where_clause(engine, action="docs:read", resource_type="doc", principal={"id": "u", "roles": ["admin"]}, columns=COLUMNS)
    assert info.value.rule == "p.warden:6"
    # Nobody has a grant for docs:write: never, whatever the columns.
    never = where_clause(engine, action="docs:write", resource_type="doc", columns={})
    sql = str(select(Doc.id).where(never).compile(sqlite))
    assert sql.endswith("WHERE 0 = 1"), sql


def test_unmapped_attribute_is_cannot_filter() -> None:
    engine = warden.Engine.from_source(
        "p.warden", "policy p\nrole m\ngrant m: docs:read\n" + SHAPES + "deny docs:read on doc unless resource.owner == principal.id\n"
    )
    with pytest.raises(CannotFilter, match="resource.owner") as info:
        where_clause(engine, action="docs:read", resource_type="doc", principal={"id": "u", "roles": ["m"]}, columns={"title": Doc.title})
    assert info.value.rule == ""


def test_values_are_bound_parameters() -> None:
    engine = warden.Engine.from_source(
        "p.warden", "policy p\nrole m\ngrant m: docs:read\n" + SHAPES + "deny docs:read on doc unless resource.owner == principal.id\n"
    )
    evil = "u1' OR '1'='1"
    clause = where_clause(engine, action="docs:read", resource_type="doc", principal={"id": evil, "roles": ["m"]}, columns=COLUMNS)
    compiled = select(Doc.id).where(clause).compile(create_engine("sqlite://"))
    assert evil not in str(compiled)
    assert evil in compiled.params.values()
