"""Bad inputs give typed errors: PolicyError with every diagnostic, RequestError, ConfigError."""

from pathlib import Path

import pytest

import warden

EDITOR = {"id": "u1", "roles": ["editor"], "org": "o1"}
POST = {"type": "post", "id": "p1", "author": "u1", "org": "o1"}


def test_policy_error_carries_every_diagnostic() -> None:
    src = "policy p\nrole a\ngrant b: x:y\ngrant c: x:y\n"
    with pytest.raises(warden.PolicyError) as info:
        warden.Engine.from_source("p.warden", src)
    e = info.value
    assert isinstance(e, warden.WardenError)
    assert [(d.file, d.line, d.column, d.code) for d in e.diagnostics] == [
        ("p.warden", 3, 7, "unknown-role"),
        ("p.warden", 4, 7, "unknown-role"),
    ]
    assert all("`b`" in d.message or "`c`" in d.message for d in e.diagnostics)
    assert "p.warden:3:7" in str(e)


def test_unreadable_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(warden.PolicyError) as info:
        warden.Engine.from_file(tmp_path / "missing.warden")
    assert info.value.diagnostics[0].code == "io"


def test_missing_secret_never_prints_values(tmp_path: Path) -> None:
    src = 'policy s\nrole r\ngrant r: c:run\ndeny c:run unless context.t == secret(NOPE_SECRET_X)\n'
    with pytest.raises(warden.PolicyError) as info:
        warden.Engine.from_source("s.warden", src, secrets={"OTHER": "hunter2-value"})
    assert "NOPE_SECRET_X" in str(info.value) and "hunter2-value" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "missing `action`"),
        ({"action": 3}, "`action` must be a string"),
        ({"action": "a:b", "principal": "u1"}, "`principal` must be a dict or None"),
        ({"action": "a:b", "principal": {"id": ["x"]}}, "`principal.id` must be a string"),
        ({"action": "a:b", "principal": {"id": True}}, "`principal.id` must be a string"),
        ({"action": "a:b", "principal": {"roles": "editor"}}, "`principal.roles` must be a list"),
        ({"action": "a:b", "principal": {"roles": [1]}}, "role names must be strings"),
        ({"action": "a:b", "principal": {"roles": [], "role": "x"}}, "not both"),
        ({"action": "a:b", "resource": {"id": "p"}}, "missing `resource.type`"),
        ({"action": "a:b", "resource": {"type": 1}}, "`resource.type` must be a string"),
        ({"action": "a:b", "resource": []}, "`resource` must be a dict or None"),
        ({"action": "a:b", "context": 5}, "`context` must be a dict or None"),
    ],
)
def test_bad_requests_raise_request_error(tour: warden.Engine, kwargs: dict, message: str) -> None:
    with pytest.raises(warden.RequestError, match=message.replace("(", r"\(")):
        tour.authorize(**kwargs)


def test_unsupported_value_types_of_read_attributes(tour: warden.Engine) -> None:
    with pytest.raises(warden.RequestError, match="`principal.org` has unsupported type `object`"):
        tour.authorize(principal=dict(EDITOR, org=object()), action="posts:read", resource=POST)
    with pytest.raises(warden.RequestError, match="finite number"):
        tour.authorize(principal=dict(EDITOR, org=float("nan")), action="posts:read", resource=POST)
    with pytest.raises(warden.RequestError, match="map keys must be strings"):
        tour.authorize(principal=dict(EDITOR, org={1: "x"}), action="posts:read", resource=POST)
    with pytest.raises(warden.RequestError, match="could not be read"):
        tour.authorize(principal=dict(EDITOR, org=10**400), action="posts:read", resource=POST)


def test_huge_and_deep_inputs_are_refused(tour: warden.Engine) -> None:
    with pytest.raises(warden.RequestError, match="longer than the limit"):
        tour.authorize(principal=dict(EDITOR, org="x" * (2 << 20)), action="posts:read", resource=POST)
    deep: object = "leaf"
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(warden.RequestError, match="deeper than 32"):
        tour.authorize(principal=dict(EDITOR, org=deep), action="posts:read", resource=POST)
    with pytest.raises(warden.RequestError, match="more than 100000 values"):
        tour.authorize(principal=dict(EDITOR, org=list(range(200_000))), action="posts:read", resource=POST)
    with pytest.raises(warden.RequestError, match="longer than the limit"):
        tour.authorize(principal=EDITOR, action="x" * (2 << 20))
    # After all that the engine still answers normally.
    assert tour.authorize(principal=EDITOR, action="posts:read", resource=POST).allowed


def test_bad_options_raise_config_error() -> None:
    src = "policy p\nrole r\n"
    with pytest.raises(warden.ConfigError, match="sometimes"):
        warden.Engine.from_source("p.warden", src, on_store_error="sometimes")
    with pytest.raises(warden.ConfigError, match="secret names"):
        warden.Engine.from_source("p.warden", src, secrets={"A": 1})  # type: ignore[dict-item]
    with pytest.raises(warden.ConfigError, match="invalid Redis URL") as bad:
        warden.Engine.from_source("p.warden", src, redis_url="nope://user:hunter2@host")
    assert "hunter2" not in str(bad.value)
    # A well-formed URL builds a store without connecting (Redis may start later).
    assert warden.Engine.from_source("p.warden", src, redis_url="redis://127.0.0.1:1", on_store_error="fail_open").name == "p.warden"
