"""Replay every authorization test of examples/*.test.toml (and policies/*.test.toml)
through the binding and through the Rust engine (`warden eval`): same decisions, and
each test's expectation met.

`WARDEN_BIN` names the `warden` binary (scripts/test-python.sh builds it);
`WARDEN_REPLAY_DIRS` (os.pathsep-separated) replaces the default directories.
"""

import json
import os
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

import warden

ROOT = Path(__file__).resolve().parents[3]
DIRS = [Path(d) for d in os.environ.get("WARDEN_REPLAY_DIRS", "").split(os.pathsep) if d] or [
    ROOT / "examples",
    ROOT / "policies",
]
FILES = sorted(f for d in DIRS if d.is_dir() for f in d.glob("*.test.toml"))
KEYS = ("principal", "action", "resource", "context")


def auth_cases(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every authorization request of a test file: single tests and sequence steps."""
    out = []
    for t in doc.get("test", []):
        for step in [t, *t.get("steps", [])]:
            if "action" in step:
                out.append({"name": t.get("name", "?"), **step, **{k: t[k] for k in ("because", "rule") if k in t and k not in step}})
    return out


def rust_decisions(policy: Path, env: str, secrets: dict[str, str], reqs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    binary = os.environ.get("WARDEN_BIN") or str(ROOT / "target" / "debug" / "warden")
    args = [binary, "eval", "--policy", str(policy), "--env", env]
    for k, v in secrets.items():
        args += ["--secret", f"{k}={v}"]
    lines = "\n".join(json.dumps(r, default=str) for r in reqs)
    run = subprocess.run(args, input=lines, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines() if line.strip()]


def test_replay_finds_test_files() -> None:
    assert FILES, f"no *.test.toml under {[str(d) for d in DIRS]}"


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_replay_matches_rust(path: Path) -> None:
    doc = tomllib.loads(path.read_text())
    cases = auth_cases(doc)
    if not cases:
        pytest.skip("no authorization tests in this file")
    policy = path.parent / doc["policy"]
    env = doc.get("env", "development")
    secrets = {k: str(v) for k, v in doc.get("secrets", {}).items()}
    engine = warden.Engine.from_file(policy, env=env, secrets=secrets)
    reqs = [{k: c[k] for k in KEYS if k in c} for c in cases]
    rust = rust_decisions(policy, env, secrets, reqs)
    assert len(rust) == len(cases)
    for case, req, want in zip(cases, reqs, rust):
        got = engine.authorize(**req).to_dict()
        assert got == {k: want.get(k) for k in got}, case["name"]
        expect = case.get("expect")
        if isinstance(expect, str):
            expect = {"allowed": expect == "allow"}
        expect = dict(expect or {})
        for short in ("because", "rule"):
            if short in case and short not in expect:
                expect[short] = case[short]
        if "allowed" in expect:
            assert got["allowed"] == expect["allowed"], case["name"]
        if "status" in expect:
            assert got["status"] == expect["status"], case["name"]
        if "because" in expect:
            assert got["reason"] == expect["because"], case["name"]
        if "rule" in expect:
            rule = expect["rule"]
            assert any(r == rule or r.endswith("/" + rule) for r in got["rules"]), case["name"]
