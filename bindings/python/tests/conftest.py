"""Shared fixtures: the repository root and the tour policy of examples/."""

import os
from pathlib import Path

import pytest

import warden

ROOT = Path(__file__).resolve().parents[3]
TOUR = ROOT / "examples" / "00-tour.warden"


@pytest.fixture(scope="session")
def tour() -> warden.Engine:
    return warden.Engine.from_file(TOUR, secrets={"CRON_SECRET": "test-cron-secret"})


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Loud, because a skipped Redis test passes silently otherwise (test_redis.py fails
    # instead under CI=true).
    if not os.environ.get("WARDEN_REDIS_URL"):
        terminalreporter.write_line(
            "SKIPPED: the live-Redis tests of test_redis.py (WARDEN_REDIS_URL is unset; "
            "run under scripts/with-redis.sh)",
            red=True,
            bold=True,
        )
