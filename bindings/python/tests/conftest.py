"""Shared fixtures: the repository root and the tour policy of examples/."""

from pathlib import Path

import pytest

import warden

ROOT = Path(__file__).resolve().parents[3]
TOUR = ROOT / "examples" / "00-tour.warden"


@pytest.fixture(scope="session")
def tour() -> warden.Engine:
    return warden.Engine.from_file(TOUR, secrets={"CRON_SECRET": "test-cron-secret"})
