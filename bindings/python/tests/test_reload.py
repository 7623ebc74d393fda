"""reload swaps the policy atomically; a broken policy leaves the old one in force."""

from pathlib import Path

import pytest

import warden

V1 = "policy p\nrole r\ngrant r: a:read\n"
V2 = 'policy p\nrole r\ngrant r: a:read, a:write\nresource doc { org: string }\ndeny a:write on doc if resource.org == "x"\n'
P = {"id": "u", "roles": ["r"]}


def test_reload_file_and_source(tmp_path: Path) -> None:
    f = tmp_path / "p.warden"
    f.write_text(V1)
    e = warden.Engine.from_file(f)
    assert e.name == str(f)
    assert not e.authorize(principal=P, action="a:write").allowed
    f.write_text(V2)
    e.reload()
    assert e.authorize(principal=P, action="a:write", resource={"type": "doc", "org": "y"}).allowed
    assert not e.authorize(principal=P, action="a:write", resource={"type": "doc", "org": "x"}).allowed
    assert e.reads["resource"] == ["org"]
    e.reload(source=V1)
    assert not e.authorize(principal=P, action="a:write").allowed and e.reads["resource"] == []


def test_failed_reload_keeps_the_old_policy(tmp_path: Path) -> None:
    e = warden.Engine.from_source("p.warden", V1)
    with pytest.raises(warden.PolicyError) as info:
        e.reload(source="policy p\ngrant nobody: a:read\n")
    assert info.value.diagnostics[0].line == 2
    assert e.authorize(principal=P, action="a:read").allowed
    with pytest.raises(warden.ConfigError):
        e.reload()
    f = tmp_path / "q.warden"
    f.write_text(V2)
    e.reload(f)
    assert e.authorize(principal=P, action="a:write").allowed
