"""decision_log= and metrics=: decisions reach the host's callable (or a file) as JSON
lines without any credential, and the metrics count them."""

import json
import sys
import threading
from pathlib import Path

import pytest

import warden

POLICY = """policy app
role staff
grant staff: docs:read
route /admin/** {
  require auth
}
route /cron {
  require header authorization == "Bearer " + secret(CRON_SECRET)
}
"""
CRON = "cron-secret-value-7f3a"
TOKEN = "bearer-token-value-91c2"


def decide(engine: warden.Engine) -> None:
    assert engine.authorize(principal={"id": "u1", "roles": ["staff"]}, action="docs:read").allowed
    assert not engine.authorize(principal={"id": "u2"}, action="docs:read").allowed
    assert engine.check_http(method="GET", path="/admin/users", headers={"authorization": f"Bearer {TOKEN}"}).status == 401
    assert engine.check_http(method="GET", path="/cron", headers={"authorization": f"Bearer {CRON}"}).allowed


def test_decisions_reach_the_callable_without_credentials() -> None:
    lines: list[str] = []
    threads: set[int] = set()

    def sink(line: str) -> None:
        threads.add(threading.get_ident())
        lines.append(line)

    engine = warden.Engine.from_source("app.warden", POLICY, secrets={"CRON_SECRET": CRON}, decision_log=sink)
    decide(engine)
    engine.flush_decision_log()
    assert len(lines) == 4, lines
    assert threading.get_ident() not in threads, "the callable runs on the log's writer thread"
    for line in lines:
        assert CRON not in line and TOKEN not in line, line
    records = [json.loads(line) for line in lines]
    assert [r["kind"] for r in records] == ["authorize", "authorize", "http", "http"]
    assert records[0]["outcome"] == "allow" and records[0]["principal_id"] == "u1"
    assert records[1]["outcome"] == "deny"
    assert records[2]["route"] == "/admin/**" and records[2]["status"] == 401
    assert records[2]["rules"] == ["app.warden:5"]
    assert records[3]["route"] == "/cron" and records[3]["status"] == 200


def test_decisions_go_to_a_file(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    engine = warden.Engine.from_source("app.warden", POLICY, secrets={"CRON_SECRET": CRON}, decision_log=log)
    decide(engine)
    engine.flush_decision_log()
    text = log.read_text()
    assert len(text.splitlines()) == 4 and CRON not in text and TOKEN not in text


def test_sampling_keeps_denials() -> None:
    lines: list[str] = []
    engine = warden.Engine.from_source(
        "app.warden", POLICY, secrets={"CRON_SECRET": CRON}, decision_log=lines.append, decision_log_sample_rate=0.0
    )
    decide(engine)
    engine.flush_decision_log()
    assert [json.loads(x)["outcome"] for x in lines] == ["deny", "deny"]


def test_a_raising_callable_never_fails_a_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    reported: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))

    def sink(line: str) -> None:
        raise RuntimeError("sink down")

    engine = warden.Engine.from_source("app.warden", POLICY, secrets={"CRON_SECRET": CRON}, decision_log=sink)
    decide(engine)
    engine.flush_decision_log()
    assert len(reported) == 4 and all(isinstance(e, RuntimeError) for e in reported), reported


def test_metrics_count_decisions() -> None:
    engine = warden.Engine.from_source("app.warden", POLICY, secrets={"CRON_SECRET": CRON}, metrics=True)
    decide(engine)
    decide(engine)
    m = engine.metrics()
    assert m["decisions"] == {"authorize/allow": 2, "authorize/deny": 2, "http/allow": 2, "http/deny": 2}
    assert m["by_status"][401] == 2 and m["by_status"][200] == 4 and m["by_status"][403] == 2
    assert m["by_route"] == {"/admin/**": 2, "/cron": 2}
    assert m["by_rule"]["app.warden:5"] == 2
    assert sum(m["latency_buckets"]) == 8 and m["latency_sum_ns"] > 0
    assert m["reloads"] == 0 and m["reload_failures"] == 0
    engine.reload(source=POLICY.replace("docs:read", "docs:write"))
    with pytest.raises(warden.PolicyError):
        engine.reload(source="policy app\ngrant nobody: x\n")
    m = engine.metrics()
    assert (m["reloads"], m["reload_failures"]) == (1, 1)
    text = engine.prometheus()
    assert 'warden_decisions_total{kind="authorize",outcome="allow"} 2\n' in text
    assert 'warden_decisions_by_route_total{route="/admin/**"} 2\n' in text
    assert CRON not in text and TOKEN not in text


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(warden.ConfigError, match="metrics=True"):
        warden.Engine.from_source("app.warden", "policy app\n").metrics()
    with pytest.raises(warden.ConfigError, match="metrics=True"):
        warden.Engine.from_source("app.warden", "policy app\n").prometheus()
    with pytest.raises(warden.ConfigError, match="callable"):
        warden.Engine.from_source("app.warden", "policy app\n", decision_log=42)  # type: ignore[arg-type]
    with pytest.raises(warden.ConfigError, match="sample rate"):
        warden.Engine.from_source("app.warden", "policy app\n", decision_log=print, decision_log_sample_rate=2.0)
    with pytest.raises(warden.ConfigError, match="needs a `decision_log`"):
        warden.Engine.from_source("app.warden", "policy app\n", decision_log_sample_rate=0.5)
