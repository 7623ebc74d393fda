"""The `warden` command the wheel installs (`[project.scripts]`, `warden._cli`): the
command line compiled into the module, run as a user runs it, from the venv's `bin/`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from warden import _warden

ROOT = Path(__file__).resolve().parents[3]

VERSION = next(
    line.split('"')[1]
    for line in (ROOT / "bindings" / "Cargo.toml").read_text().splitlines()
    if line.startswith("version = ")
)


def warden_script() -> Path:
    script = Path(sys.executable).parent / "warden"
    assert script.is_file(), f"the wheel installed no `warden` script in {script.parent}"
    return script


def run(*args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(warden_script()), *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_version_is_the_packages() -> None:
    r = run("--version")
    assert (r.returncode, r.stdout.strip()) == (0, f"warden {VERSION}")


def test_runs_the_examples_tests() -> None:
    r = run("test", "examples/", cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    summary = r.stdout.strip().splitlines()[-1]
    assert summary.endswith("files)") and " 0 failed" in summary, summary
    assert int(summary.split()[0]) > 100, summary


def test_a_policy_with_an_error_exits_1_with_its_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "bad.warden").write_text("policy bad\ngrant nobody: posts:read\n")
    r = run("check", "bad.warden", cwd=tmp_path)
    assert r.returncode == 1
    assert "bad.warden:2:7: error: unknown role `nobody`" in r.stderr


def test_eval_reads_standard_input(tmp_path: Path) -> None:
    (tmp_path / "p.warden").write_text("policy p\nrole member\ngrant member: posts:read\n")
    r = run(
        "eval",
        "--policy",
        "p.warden",
        cwd=tmp_path,
        stdin='{"principal": {"id": "a", "roles": ["member"]}, "action": "posts:read"}\n',
    )
    assert r.returncode == 0, r.stderr
    assert '"allowed":true' in r.stdout.replace(" ", "")


def test_usage_errors_exit_2_and_help_exits_0() -> None:
    r = run("chek")
    assert r.returncode == 2
    assert "unrecognized subcommand 'chek'" in r.stderr
    h = run("--help")
    assert h.returncode == 0 and "Usage: warden <COMMAND>" in h.stdout


def test_cli_main_returns_the_status_instead_of_exiting() -> None:
    # The module function never ends the interpreter: the script turns it into the exit.
    assert _warden.cli_main(["warden", "--version"]) == 0
    assert _warden.cli_main(["warden", "no-such-command"]) == 2


@pytest.mark.parametrize("argv", [["warden"], ["warden", "check"]])
def test_missing_arguments_are_usage_errors(argv: list[str]) -> None:
    assert _warden.cli_main(argv) == 2
