"""authorize from plain dicts: decisions, frozen cached results, explain, reads."""

import inspect

import pytest

import warden

EDITOR = {"id": "u1", "roles": ["editor"], "org": "o1"}
OWN_POST = {"type": "post", "id": "p1", "author": "u1", "org": "o1"}
OTHER_POST = {"type": "post", "id": "p2", "author": "u2", "org": "o1"}


def test_allow_and_deny_with_reason_and_rule(tour: warden.Engine) -> None:
    d = tour.authorize(principal=EDITOR, action="posts:write", resource=OWN_POST)
    assert d.allowed and d.status == 200 and d.reason is None
    assert d.rule is not None and d.rule.endswith("00-tour.warden:13")
    d = tour.authorize(principal=EDITOR, action="posts:write", resource=OTHER_POST)
    assert not d.allowed and d.status == 403
    assert d.reason == "only the author or an admin may change a post"
    assert d.rules == (d.rule,) and d.rule.endswith(":23")
    assert d.to_dict() == {"allowed": False, "status": 403, "reason": d.reason, "rules": [d.rule]}
    assert not d


def test_anonymous_and_unknown_action_deny_by_default(tour: warden.Engine) -> None:
    d = tour.authorize(principal=None, action="posts:read", resource=OWN_POST)
    assert not d.allowed and d.reason == "no grant or allow rule applies" and d.rule is None
    d = tour.authorize(principal=EDITOR, action="billing:refund")
    assert not d.allowed and d.rule is None


def test_single_role_spelling_and_numeric_id(tour: warden.Engine) -> None:
    p = {"id": 7, "role": "editor", "org": "o1"}
    d = tour.authorize(principal=p, action="posts:write", resource=dict(OWN_POST, author="7"))
    assert d.allowed


def test_results_are_frozen_and_shared(tour: warden.Engine) -> None:
    a = tour.authorize(principal=EDITOR, action="posts:read", resource=OWN_POST)
    b = tour.authorize(principal=EDITOR, action="posts:read", resource=OTHER_POST)
    assert a is b
    with pytest.raises(AttributeError):
        a.allowed = False  # type: ignore[misc]


def test_explain_returns_the_trace(tour: warden.Engine) -> None:
    d = tour.authorize(principal=EDITOR, action="posts:write", resource=OTHER_POST, explain=True)
    assert not d.allowed and d.trace is not None
    assert d.trace["action"] == "posts:write" and d.trace["roles"] == ["editor"]
    deny = [r for r in d.trace["rules"] if r["effect"] == "deny" and r["matched"]]
    assert deny and {"attribute": "resource.author", "value": '"u2"'} in deny[0]["reads"]
    plain = tour.authorize(principal=EDITOR, action="posts:write", resource=OTHER_POST)
    assert plain.trace is None and plain.rule == d.rule


def test_only_read_attributes_are_converted(tour: warden.Engine) -> None:
    assert tour.reads == {"principal": ["org"], "resource": ["author", "org", "role"], "context": []}
    # An attribute the policy never reads may hold anything, even a non-JSON object.
    p = dict(EDITOR, avatar=object())
    assert tour.authorize(principal=p, action="posts:write", resource=OWN_POST).allowed


def test_reused_buffers_do_not_leak_between_calls(tour: warden.Engine) -> None:
    # A call with attributes, then one without: the second must see them missing.
    assert tour.authorize(principal=EDITOR, action="posts:read", resource=OWN_POST).allowed
    d = tour.authorize(principal={"id": "u1", "roles": ["editor"]}, action="posts:read", resource={"type": "post"})
    # `resource.org != principal.org` is missing -> the deny applies (fail closed).
    assert not d.allowed


def test_context_attributes_are_read() -> None:
    e = warden.Engine.from_source(
        "ctx.warden",
        'policy c\nrole r\ngrant r: a:b\ndeny a:b if context.country != "FR" because "FR only"\n',
    )
    assert e.reads["context"] == ["country"]
    p = {"id": "x", "roles": ["r"]}
    assert e.authorize(principal=p, action="a:b", context={"country": "FR"}).allowed
    assert not e.authorize(principal=p, action="a:b", context={"country": "DE"}).allowed
    assert not e.authorize(principal=p, action="a:b").allowed
    assert e.authorize(principal=p, action="a:b", context={"country": "FR"}).allowed


def test_actions_resolved_once_per_string_object_decide_like_by_name(tour: warden.Engine) -> None:
    # Action strings built at run time are distinct objects with equal text; more of
    # them than the per-plan cache keeps (64) must still be resolved by name.
    want = tour.authorize(principal=EDITOR, action="posts:write", resource=OWN_POST)
    for i in range(200):
        action = "".join(["posts", ":", "write"])
        assert tour.authorize(principal=EDITOR, action=action, resource=OWN_POST) is want
        other = f"posts:x{i}"
        assert not tour.authorize(principal=EDITOR, action=other, resource=OWN_POST).allowed
    assert tour.authorize(principal=EDITOR, action="posts:write", resource=OTHER_POST).reason == (
        "only the author or an admin may change a post"
    )


def test_action_cache_follows_reload() -> None:
    e = warden.Engine.from_source("r.warden", "policy p\nrole r\ngrant r: a:read\n")
    p = {"id": "u", "roles": ["r"]}
    action = "a:write"
    assert not e.authorize(principal=p, action=action)
    e.reload(source="policy p\nrole r\ngrant r: a:read, a:write\n")
    assert e.authorize(principal=p, action=action)
    e.reload(source="policy p\nrole r\ngrant r: a:read\n")
    assert not e.authorize(principal=p, action=action)


def test_keyword_arguments_are_parsed_like_a_python_signature(tour: warden.Engine) -> None:
    # `authorize` is a raw fastcall method: keywords are matched by identity, then by
    # value; everything else is the TypeError of a keyword-only signature.
    want = tour.authorize(principal=EDITOR, action="posts:write", resource=OWN_POST)
    runtime = {"".join(["act", "ion"]): "posts:write", "".join(["princ", "ipal"]): EDITOR}
    assert tour.authorize(resource=OWN_POST, **runtime) is want
    assert tour.authorize(**{"action": "posts:write", "principal": EDITOR, "resource": OWN_POST}) is want
    assert tour.authorize(action="posts:write", principal=EDITOR, resource=OWN_POST, context=None, explain=False) is want
    with pytest.raises(TypeError, match="0 positional arguments but 1 were given"):
        tour.authorize("posts:write")  # type: ignore[misc]
    with pytest.raises(TypeError, match="unexpected keyword argument 'actions'"):
        tour.authorize(actions="posts:write")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="argument 'explain'"):
        tour.authorize(action="posts:write", explain=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="doesn't apply"):
        warden.Engine.authorize(object(), action="posts:write")  # type: ignore[arg-type]
    with pytest.raises(warden.RequestError, match="missing `action`"):
        tour.authorize(principal=EDITOR)
    sig = inspect.signature(warden.Engine.authorize)
    assert [(p.name, p.kind, p.default) for p in sig.parameters.values()][1:] == [
        (n, inspect.Parameter.KEYWORD_ONLY, d)
        for n, d in [("action", None), ("principal", None), ("resource", None), ("context", None), ("explain", False)]
    ]
