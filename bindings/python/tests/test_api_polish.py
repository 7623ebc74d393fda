"""The Python surface: `time=` (aware datetime or RFC 3339 with an offset; naive ones
refused), Python reprs, `Engine.authenticate`, and a docstring on every public callable
that cites only what the package ships."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from zoneinfo import ZoneInfo

import pytest

import warden
import warden.asgi
import warden.django
import warden.fastapi
import warden.flask
import warden.wsgi
from seed003 import bearer, engine, token

UTC = dt.timezone.utc
# Open 09:00Z (1795338000) to 17:00Z (1795366800) on 2026-11-22.
POLICY = """policy t
role user
principal { id: string }
route /office {
  require now >= 1795338000 and now < 1795366800 else 403
}
"""


@pytest.fixture(scope="module")
def office() -> warden.Engine:
    return warden.Engine.from_source("t.warden", POLICY)


@pytest.mark.parametrize(
    "at",
    [
        "2026-11-22T10:00:00Z",
        "2026-11-22T12:00:00+02:00",
        "2026-11-22T05:00:00-05:00",
        "2026-11-22 10:00:00.250z",
        dt.datetime(2026, 11, 22, 10, tzinfo=UTC),
        dt.datetime(2026, 11, 22, 11, tzinfo=ZoneInfo("Europe/Paris")),
        dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    ],
)
def test_time_takes_aware_datetimes_and_offsets(office: warden.Engine, at: object) -> None:
    assert office.check_http(method="GET", path="/office", time=at).status == 200  # type: ignore[arg-type]


def test_the_offset_is_honoured_not_ignored(office: warden.Engine) -> None:
    # 18:00+02:00 is 16:00Z (open); read as UTC it would be closed.
    assert office.check_http(method="GET", path="/office", time="2026-11-22T18:00:00+02:00").status == 200
    assert office.check_http(method="GET", path="/office", time="2026-11-22T18:00:00Z").status == 403
    paris = dt.datetime(2026, 11, 22, 18, 30, tzinfo=ZoneInfo("Europe/Paris"))  # 17:30Z
    assert office.check_http(method="GET", path="/office", time=paris).status == 403


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("2026-11-22 10:00:00", "has no UTC offset"),
        ("2026-11-22T10:00:00", "has no UTC offset"),
        ("2026-11-22T10:00:00+0200", "malformed UTC offset"),
        ("2026-02-30T10:00:00Z", "out of range"),
        ("22/11/2026", "not a timestamp"),
        (dt.datetime(2026, 11, 22, 10), "naive datetime"),
        (dt.date(2026, 11, 22), "has type `date`"),
        (1795341600, "has type `int`"),
    ],
)
def test_naive_or_ambiguous_times_are_refused_clearly(office: warden.Engine, at: object, message: str) -> None:
    with pytest.raises(warden.RequestError, match=re.escape(message)):
        office.check_http(method="GET", path="/office", time=at)  # type: ignore[arg-type]
    with pytest.raises(warden.RequestError, match=re.escape(message)):
        office.authenticate(time=at)  # type: ignore[arg-type]


def test_reprs_read_as_python() -> None:
    e = engine()
    d = e.check_http(method="PUT", path="/api/posts/p1")
    assert repr(d) == "HttpDecision(allowed=False, status=401, reason='missing_token', location=None)"
    assert str(d) == "401 refused: missing_token"
    a = e.authorize(principal={"id": "u2", "roles": ["viewer"]}, action="posts:write", resource={"type": "post", "id": "p", "author": "u2"})
    assert repr(a).startswith("Decision(allowed=False, status=403, reason=")
    assert "Some(" not in repr(a) and "Some(" not in repr(d)
    # Keyword arguments of Python literals: `dict(...)` of the same text rebuilds them.
    fields = eval("dict" + repr(a).removeprefix("Decision"), {"dict": dict, "True": True, "False": False, "None": None})
    assert fields == {"allowed": False, "status": 403, "reason": a.reason, "rule": a.rule}
    redirect = engine("production").check_http(method="GET", path="/x", headers={"host": "myapp.com", "x-forwarded-proto": "http"})
    assert str(redirect) == "301 redirect to https://myapp.com/x"
    ok = e.check_http(method="GET", path="/health")
    assert (repr(ok), str(ok), bool(ok)) == ("HttpDecision(allowed=True, status=200, reason=None, location=None)", "200 allowed", True)
    with pytest.raises(warden.PolicyError) as err:
        warden.Engine.from_source("bad.warden", "policy p\ngrant ghost: x:y\n")
    diag = err.value.diagnostics[0]
    assert repr(diag).startswith("Diagnostic(file='bad.warden', line=2, ")


def test_authenticate_exposes_what_the_auth_blocks_find() -> None:
    e = engine()
    found = e.authenticate(headers=bearer("u1", "editor"))
    assert bool(found) and found.principal == {"id": "u1", "roles": ["editor"]}
    assert found.via is not None and found.via.startswith("jwt:") and found.error is None
    assert "test-jwt-secret" not in repr(found)
    expired = e.authenticate(headers=bearer("u1", "editor", lifetime=-60))
    assert (bool(expired), expired.principal, expired.error) == (False, None, "token_expired")
    key = e.authenticate(headers={"x-api-key": "sk_test_client7_0123456789abcdef"})
    assert key.principal == {"id": "client-7", "roles": ["viewer"], "api_client": "client-7"}
    anonymous = e.authenticate()
    assert (anonymous.principal, anonymous.via, anonymous.error) == (None, None, None)
    # A token minted for one moment is judged at the `time` asked for.
    t = token("u1", "editor")
    later = dt.datetime.now(UTC) + dt.timedelta(hours=1)
    assert e.authenticate(headers={"authorization": f"Bearer {t}"}, time=later).error == "token_expired"


def test_check_http_hands_over_the_verified_principal() -> None:
    d = engine().check_http(method="PUT", path="/api/posts/p1", headers=bearer("u1", "editor"))
    assert d.allowed and d.authenticated_by is not None
    assert d.principal == {"id": "u1", "roles": ["editor"]}
    host = engine().check_http(method="PUT", path="/api/posts/p1", principal={"id": "h", "roles": ["admin"]})
    assert host.allowed and host.principal is None and host.authenticated_by is None


MODULES = [warden, warden.asgi, warden.wsgi, warden.fastapi, warden.flask, warden.django]


def public_callables() -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for module in MODULES:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            out.append((f"{module.__name__}.{name}", obj))
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and (callable(member) or isinstance(member, property)):
                        out.append((f"{module.__name__}.{name}.{attr}", getattr(obj, attr)))
    return out


@pytest.mark.parametrize(("name", "obj"), public_callables(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_callable_has_a_docstring_citing_only_shipped_docs(name: str, obj: object) -> None:
    doc = inspect.getdoc(obj) if not isinstance(obj, property) else obj.__doc__
    assert doc and doc.strip(), f"{name} has no docstring"
    # Documents outside the package (repository files, design notes) are not shipped.
    assert not re.search(r"\b[\w./-]+\.md\b", doc), f"{name} cites a file the package does not ship: {doc!r}"
    if name.count(".") == 1 and name.split(".")[1] in ("Engine", "Decision", "HttpDecision", "Authentication", "Diagnostic"):
        assert inspect.getdoc(obj)


def test_module_docs_cite_nothing_outside_the_package() -> None:
    for module in MODULES:
        assert module.__doc__ and not re.search(r"\b[\w./-]+\.md\b", module.__doc__), module.__name__
