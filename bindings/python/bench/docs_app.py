"""The docs-app workload of core/benches/docs_app.rs, in Python: the same generator
(SplitMix64, seed 3), so the 4,096 requests are the very ones the Rust bench decides.

Also the same rules written by hand (`hand`), and the same policy for the peers:
Cedar (`CEDAR_POLICY`, entities per request) and Casbin (`CASBIN_MODEL`/`CASBIN_POLICY`).
"""

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "examples" / "00-tour.warden"
MASK = (1 << 64) - 1
RANK = {"viewer": 0, "editor": 1, "admin": 2}


class Rng:
    def __init__(self, seed: int) -> None:
        self.s = seed

    def next(self) -> int:
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return self.next() % n


@dataclass(frozen=True)
class User:
    id: str
    org: str
    role: str


@dataclass(frozen=True)
class Post:
    author: str
    org: str


@dataclass(frozen=True)
class Case:
    user: int
    action: str
    post: int | None
    target: int | None


def world(n_cases: int = 4096) -> tuple[list[User], list[Post], list[Case]]:
    rng = Rng(3)
    users = []
    for i in range(1000):
        r = rng.below(20)
        users.append(User(f"u{i}", f"o{i % 10}", "admin" if r == 0 else "editor" if r <= 5 else "viewer"))
    posts = [Post(users[(j * 7) % 1000].id, users[(j * 7) % 1000].org) for j in range(10_000)]
    cases = []
    for _ in range(n_cases):
        a = rng.below(20)
        action = (
            "posts:read" if a <= 9 else "posts:write" if a <= 14 else "posts:delete" if a == 15
            else "users:read" if a == 16 else "users:write"
        )
        user = rng.below(len(users))
        org = user % 10
        if action.startswith("posts"):
            k = rng.below(4)
            if k == 0:
                p = (143 * user) % 1000 + 1000 * rng.below(10)
            elif k in (1, 2):
                p = 10 * rng.below(1000) + (3 * org) % 10
            else:
                p = rng.below(len(posts))
            cases.append(Case(user, action, p, None))
        else:
            k = rng.below(4)
            t = rng.below(len(users)) if k == 0 else 10 * rng.below(100) + org
            cases.append(Case(user, action, None, t))
    return users, posts, cases


def request(users: list[User], posts: list[Post], c: Case) -> dict:
    """The request as dicts, the way a Python host has it (the JSON of docs/JSON.md)."""
    u = users[c.user]
    if c.post is not None:
        p = posts[c.post]
        resource = {"type": "post", "id": f"p{c.post}", "author": p.author, "org": p.org}
    else:
        t = users[c.target]  # type: ignore[index]
        resource = {"type": "user", "id": t.id, "org": t.org, "role": t.role}
    return {"principal": {"id": u.id, "roles": [u.role], "org": u.org}, "action": c.action, "resource": resource}


def _own(s: str) -> str:
    """A copy of `s` in a str object of its own, as a database driver or a JSON body gives
    a host: not the generator's object, so nothing is shared with another request."""
    return s.encode().decode()


def cold(n: int) -> tuple[list[User], list[Post], list[Case], list[dict]]:
    """`n` distinct requests of the mix (the generator's repeats dropped), each owning its
    strings, in a shuffled order: `cold_rows` of core/benches/docs_app.rs (same generator,
    same shuffle), as request dicts. The action and the resource type stay the host's
    literals, as `Row::request` takes them. Returns the world, the cases and the dicts."""
    users, posts, all_cases = world(n + n // 2)
    seen = set()
    cases: list[Case] = []
    for c in all_cases:
        if len(cases) == n:
            break
        key = (c.user, c.action, c.post, c.target)
        if key in seen:
            continue
        seen.add(key)
        cases.append(c)
    if len(cases) != n:
        raise ValueError("the mix has fewer distinct requests than asked")
    rng = Rng(7)
    for i in range(len(cases) - 1, 0, -1):
        j = rng.below(i + 1)
        cases[i], cases[j] = cases[j], cases[i]
    reqs = []
    for c in cases:
        u = users[c.user]
        if c.post is not None:
            p = posts[c.post]
            resource = {"type": "post", "id": _own(f"p{c.post}"), "author": _own(p.author), "org": _own(p.org)}
        else:
            t = users[c.target]  # type: ignore[index]
            resource = {"type": "user", "id": _own(t.id), "org": _own(t.org), "role": _own(t.role)}
        principal = {"id": _own(u.id), "roles": [_own(u.role)], "org": _own(u.org)}
        reqs.append({"principal": principal, "action": c.action, "resource": resource})
    return users, posts, cases, reqs


def hand(users: list[User], posts: list[Post], c: Case) -> bool:
    """The same rules written by hand (`World::hand` of the Rust bench)."""
    u = users[c.user]
    rank = RANK[u.role]
    if c.action in ("posts:read", "users:read"):
        granted = True
    elif c.action in ("posts:write", "posts:delete"):
        granted = rank >= 1
    else:
        granted = c.action.startswith("users:") and rank == 2
    if not granted:
        return False
    admin = rank == 2
    if c.post is not None:
        p = posts[c.post]
        writes = c.action in ("posts:write", "posts:delete")
        return (not writes or p.author == u.id or admin) and (p.org == u.org or admin)
    t = users[c.target]  # type: ignore[index]
    ceiling = c.action in ("users:write", "users:delete") and RANK[t.role] > rank
    return (t.org == u.org or admin) and not ceiling


# Cedar: roles as a rank attribute (Cedar has no role order of its own; a hierarchy
# of Role entities would need them passed with every request).
CEDAR_POLICY = """
permit(principal, action in [Action::"posts:read", Action::"users:read"], resource);
permit(principal, action in [Action::"posts:write", Action::"posts:delete"], resource)
  when { principal.rank >= 1 };
permit(principal, action in [Action::"users:read", Action::"users:write", Action::"users:delete"], resource)
  when { principal.rank >= 2 };
forbid(principal, action in [Action::"posts:write", Action::"posts:delete"], resource is Post)
  unless { resource.author == principal || principal.rank >= 2 };
forbid(principal, action, resource)
  when { resource.org != principal.org && principal.rank < 2 };
forbid(principal, action in [Action::"users:write", Action::"users:delete"], resource is User)
  when { resource.rank > principal.rank };
"""


def cedar_args(users: list[User], posts: list[Post], c: Case) -> tuple[dict, list]:
    u = users[c.user]
    me = {"uid": {"type": "User", "id": u.id}, "attrs": {"org": u.org, "rank": RANK[u.role]}, "parents": []}
    if c.post is not None:
        p = posts[c.post]
        res_uid = {"type": "Post", "id": f"p{c.post}"}
        res = {"uid": res_uid, "attrs": {"org": p.org, "author": {"__entity": {"type": "User", "id": p.author}}}, "parents": []}
        entities = [me, res]
    else:
        t = users[c.target]  # type: ignore[index]
        res_uid = {"type": "User", "id": t.id}
        res = {"uid": res_uid, "attrs": {"org": t.org, "rank": RANK[t.role]}, "parents": []}
        entities = [me] if t.id == u.id else [me, res]
    req = {
        "principal": f'User::"{u.id}"',
        "action": f'Action::"{c.action}"',
        "resource": f'{res_uid["type"]}::"{res_uid["id"]}"',
        "context": {},
    }
    return req, entities


CASBIN_MODEL = """
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub.role, p.sub) && r.act == p.act \
  && (r.obj.kind != "post" || (r.act != "posts:write" && r.act != "posts:delete") || r.obj.author == r.sub.id || r.sub.rank >= 2) \
  && (r.obj.org == r.sub.org || r.sub.rank >= 2) \
  && (r.obj.kind != "user" || (r.act != "users:write" && r.act != "users:delete") || r.obj.rank <= r.sub.rank)
"""

CASBIN_POLICY = """p, viewer, posts:read
p, viewer, users:read
p, editor, posts:write
p, editor, posts:delete
p, admin, users:read
p, admin, users:write
p, admin, users:delete
g, editor, viewer
g, admin, editor
"""


@dataclass(frozen=True)
class Sub:
    id: str
    role: str
    org: str
    rank: int


@dataclass(frozen=True)
class Obj:
    kind: str
    id: str
    org: str
    author: str = ""
    rank: int = 0


def casbin_args(users: list[User], posts: list[Post], c: Case) -> tuple[Sub, Obj, str]:
    u = users[c.user]
    sub = Sub(u.id, u.role, u.org, RANK[u.role])
    if c.post is not None:
        p = posts[c.post]
        return sub, Obj("post", f"p{c.post}", p.org, author=p.author), c.action
    t = users[c.target]  # type: ignore[index]
    return sub, Obj("user", t.id, t.org, rank=RANK[t.role]), c.action
