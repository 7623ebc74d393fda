"""Replay every test of examples/*.test.toml (and policies/*.test.toml) through the
binding and through the Rust engine (`warden eval`): same decisions, and each test's
expectation met. Authorization tests share one engine per file; each HTTP test (or
sequence) gets a fresh engine and a fresh `warden eval`, its requests stamped with the
test's clock (`start`, `advance`, `at`) as `time`, as `warden test` runs them.

`WARDEN_BIN` names the `warden` binary (scripts/test-python.sh builds it);
`WARDEN_REPLAY_DIRS` (os.pathsep-separated) replaces the default directories.
"""

import base64
import datetime as dt
import json
import os
import re
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
    """Every authorization request of a test file: single tests and sequence steps.

    `warden test` runs each test on an engine whose clock is the test's clock, which
    `now` reads when a request has no `context.time`. The engines here (the binding's
    and `warden eval`'s) run on the system clock, so a request without `context.time`
    is given the test's clock as `context.time`, which `now` reads first."""
    out = []
    start = instant(doc.get("start", "2026-01-01T00:00:00Z"))
    for t in doc.get("test", []):
        clock = start
        for step in [t, *t.get("steps", [])]:
            if "advance" in step:
                clock += duration(step["advance"])
            if "at" in step:
                clock = instant(step["at"])
            if "action" in step:
                case = {"name": t.get("name", "?"), **step, **{k: t[k] for k in ("because", "rule") if k in t and k not in step}}
                context = dict(case.get("context") or {})
                context.setdefault("time", clock.isoformat().replace("+00:00", "Z"))
                case["context"] = context
                out.append(case)
    return out


def instant(v: Any) -> dt.datetime:
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))


def duration(text: str) -> dt.timedelta:
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", text)
    assert m, f"unsupported duration {text!r}"
    unit = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[m[2]]
    return dt.timedelta(**{unit: int(m[1])})


def py_kwargs(req: dict[str, Any]) -> dict[str, Any]:
    """The request JSON as `check_http` keywords: `body_base64` becomes `body` bytes."""
    if "body_base64" not in req:
        return req
    out = {k: v for k, v in req.items() if k != "body_base64"}
    out["body"] = base64.b64decode(req["body_base64"])
    return out


def http_sequences(doc: dict[str, Any]) -> list[tuple[str, list[tuple[dict[str, Any], dict[str, Any]]]]]:
    """Per test with HTTP requests: (name, [(request stamped with the clock, expect)])."""
    out = []
    start = instant(doc.get("start", "2026-01-01T00:00:00Z"))
    for t in doc.get("test", []):
        clock = start
        seq = []
        for step in t.get("steps", [t]):
            if "advance" in step:
                clock += duration(step["advance"])
            if "at" in step:
                clock = instant(step["at"])
            if "http" in step:
                req = {"time": clock.isoformat().replace("+00:00", "Z"), **step["http"]}
                expect = step.get("expect", {})
                expect = {"allowed": expect == "allow"} if isinstance(expect, str) else dict(expect)
                for short in ("because", "rule"):
                    if short in t and short not in expect and "steps" not in t:
                        expect[short] = t[short]
                seq += [(req, expect)] * int(step.get("repeat", 1))
        if seq:
            out.append((t.get("name", "?"), seq))
    return out


def load_options(doc: dict[str, Any]) -> dict[str, Any]:
    """A test file's `env`, `[secrets]` and `[config]`, as `Engine.from_file` keywords."""
    return {
        "env": doc.get("env", "development"),
        "secrets": {k: str(v) for k, v in doc.get("secrets", {}).items()},
        "config": {k: str(v) for k, v in doc.get("config", {}).items()},
    }


def rust_decisions(policy: Path, opts: dict[str, Any], reqs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    binary = os.environ.get("WARDEN_BIN") or str(ROOT / "target" / "debug" / "warden")
    args = [binary, "eval", "--policy", str(policy), "--env", opts["env"]]
    for k, v in opts["secrets"].items():
        args += ["--secret", f"{k}={v}"]
    for k, v in opts["config"].items():
        args += ["--config", f"{k}={v}"]
    lines = "\n".join(json.dumps(r, default=str) for r in reqs)
    run = subprocess.run(args, input=lines, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines() if line.strip()]


def test_replay_finds_test_files() -> None:
    assert FILES, f"no *.test.toml under {[str(d) for d in DIRS]}"
    assert AUTH_FILES and HTTP_FILES, "no authorization or no HTTP tests to replay"


# Only files that hold authorization (or HTTP) tests are replayed by each test below.
AUTH_FILES = [f for f in FILES if auth_cases(tomllib.loads(f.read_text()))]
HTTP_FILES = [f for f in FILES if http_sequences(tomllib.loads(f.read_text()))]


@pytest.mark.parametrize("path", AUTH_FILES, ids=[f.name for f in AUTH_FILES])
def test_replay_matches_rust(path: Path) -> None:
    doc = tomllib.loads(path.read_text())
    cases = auth_cases(doc)
    policy = path.parent / doc["policy"]
    opts = load_options(doc)
    engine = warden.Engine.from_file(policy, **opts)
    reqs = [{k: c[k] for k in KEYS if k in c} for c in cases]
    rust = rust_decisions(policy, opts, reqs)
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


def check_http_expect(got: dict[str, Any], expect: dict[str, Any], where: str) -> None:
    for key in ("allowed", "status", "location"):
        if key in expect:
            assert got[key] == expect[key], (where, key, got)
    if "because" in expect:
        assert got["reason"] == expect["because"], (where, got)
    if "rule" in expect:
        rule = expect["rule"]
        assert any(r == rule or r.endswith("/" + rule) for r in got["rules"]), (where, got)
    headers = {k.lower(): v for k, v in got["headers"].items()}
    for name, value in expect.get("headers", {}).items():
        assert headers.get(name.lower()) == value, (where, name, got)
    for name in expect.get("absent", []):
        assert name.lower() not in headers, (where, name, got)
    for name in expect.get("removed", []):
        assert name.lower() in {r.lower() for r in got["remove"]}, (where, name, got)


@pytest.mark.parametrize("path", HTTP_FILES, ids=[f.name for f in HTTP_FILES])
def test_replay_http_matches_rust(path: Path) -> None:
    doc = tomllib.loads(path.read_text())
    sequences = http_sequences(doc)
    policy = path.parent / doc["policy"]
    opts = load_options(doc)
    for name, seq in sequences:
        # Fresh on both sides: each test starts with no request counted.
        engine = warden.Engine.from_file(policy, **opts)
        reqs = [req for req, _ in seq]
        rust = rust_decisions(policy, opts, reqs)
        assert len(rust) == len(seq), name
        for i, ((req, expect), want) in enumerate(zip(seq, rust)):
            got = engine.check_http(**py_kwargs(req)).to_dict()
            where = f"{name} (request {i + 1} of {len(seq)})"
            assert got == want, where
            check_http_expect(got, expect, where)
            for app, sent in expect.get("set_cookie", {}).items():
                assert engine.enforce_set_cookie(app) == sent, (where, app)
