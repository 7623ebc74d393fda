#!/usr/bin/env python3
"""Runs the "Getting started" sections of README.md as written, one bash script per
section, each in a fresh directory under WORKDIR (outside the repository).

What a section holds and how it runs:
- a fenced block after `<!-- readme: file NAME -->` is written to NAME, one after
  `<!-- readme: append NAME -->` is appended to it;
- a `sh` block after `<!-- readme: serve PORT -->` starts each of its commands in the
  background and waits until PORT accepts connections (the servers are stopped when the
  section ends); one after `<!-- readme: in the repository -->` runs in the repository;
- every other `sh` block runs line by line; a command ending in `  # TEXT` (two spaces)
  must print TEXT (whitespace runs compared as one space), and lines holding only
  `# TEXT` right after it continue TEXT;
- any other block, or a marker this script does not know, is an error: nothing in the
  sections escapes the run.
The files of the first section (the policy) are copied into every later section's
directory, as the README says ("a directory holding `app.warden` from above").

Usage: readme_run.py README.md WORKDIR [--env SECTION:NAME=VALUE]... [SECTION...]

`--env` sets NAME for that section's commands only (scripts/test-packages.sh points
the policy authors' `cargo install` at the target directory its release build was
prebuilt in, while the Rust section keeps the one `cargo test` filled).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

MARKER = re.compile(r"^<!-- readme: (file|append|serve|in the repository)\s*(\S*)\s*-->$")
FENCE = re.compile(r"^```(\S*)\s*$")
EXPECT = re.compile(r"^(?P<cmd>.*?\S)  +# (?P<text>.+)$")
CONTINUED = re.compile(r"^\s*# (?P<text>.+)$")

PRELUDE = r"""set -euo pipefail
servers=()
readme_stop() { for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap readme_stop EXIT
readme_wait() { # PORT PID: until PORT accepts, or fail when PID died or after 60 s
  for _ in $(seq 600); do
    if ! kill -0 "$2" 2>/dev/null; then echo "readme: the server for port $1 exited" >&2; cat "server-$1.log" >&2; return 1; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "readme: nothing listens on port $1 after 60 s" >&2; cat "server-$1.log" >&2; return 1
}
readme_expect() { # EXPECTED ACTUAL COMMAND
  local want got
  want=$(echo "$1" | tr -s '[:space:]' ' ' | sed 's/^ //; s/ $//')
  got=$(echo "$2" | tr -s '[:space:]' ' ' | sed 's/^ //; s/ $//')
  if [ "$want" != "$got" ]; then
    printf 'readme: `%s`\n  expected: %s\n  printed:  %s\n' "$3" "$want" "$got" >&2
    return 1
  fi
  echo "ok: $3  # $want"
}
"""


def sections(readme: str) -> list[tuple[str, list[str]]]:
    """The `###` sections under `## Getting started`, as (title, lines)."""
    out: list[tuple[str, list[str]]] = []
    inside = False
    for line in readme.splitlines():
        if line.startswith("## "):
            inside = line.strip() == "## Getting started"
            continue
        if not inside:
            continue
        if line.startswith("### "):
            out.append((line[4:].strip(), []))
        elif out:
            out[-1][1].append(line)
    return out


def blocks(lines: list[str]):
    """(marker kind, marker argument, fence language, body lines) of each fenced block."""
    marker: tuple[str, str] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line.strip())
        if line.strip().startswith("<!-- readme:") and not m:
            raise SystemExit(f"readme: unknown marker {line.strip()!r}")
        if m:
            marker = (m.group(1), m.group(2))
        f = FENCE.match(line)
        if f:
            body = []
            i += 1
            while not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            kind, arg = marker or ("", "")
            yield kind, arg, f.group(1), body
            marker = None
        i += 1


def heredoc(path: str, body: list[str], op: str) -> str:
    q = shlex.quote(path)
    return f'mkdir -p "$(dirname {q})"\ncat {op} {q} <<\'README_EOF\'\n' + "\n".join(body) + "\nREADME_EOF\n"


def commands(body: list[str]) -> str:
    out = []
    i = 0
    while i < len(body):
        line = body[i]
        i += 1
        if not line.strip():
            continue
        m = EXPECT.match(line)
        if not m:
            out.append(line)
            continue
        text = [m.group("text")]
        while i < len(body) and CONTINUED.match(body[i]):
            text.append(CONTINUED.match(body[i]).group("text"))
            i += 1
        cmd = m.group("cmd")
        out.append(f"readme_out=$({cmd})")
        out.append(f"readme_expect {shlex.quote(' '.join(text))} \"$readme_out\" {shlex.quote(cmd)}")
    return "\n".join(out) + "\n"


def script(title: str, lines: list[str], repo: Path) -> tuple[str, list[str]]:
    """The bash script of one section, and the files it writes."""
    parts = [PRELUDE, f'echo "== README: {title}"\n']
    files: list[str] = []
    for kind, arg, lang, body in blocks(lines):
        if kind == "file":
            parts.append(heredoc(arg, body, ">"))
            files.append(arg)
        elif kind == "append":
            parts.append(heredoc(arg, body, ">>"))
        elif lang != "sh":
            raise SystemExit(f"readme: a `{lang}` block in {title!r} is neither run nor written")
        elif kind == "serve":
            for cmd in filter(str.strip, body):
                parts.append(f"( exec {cmd} ) > server-{arg}.log 2>&1 &\nservers+=($!)\nreadme_wait {arg} $!\n")
        elif kind == "in the repository":
            parts.append(f"(cd {shlex.quote(str(repo))} && {{\n{commands(body)}}})\n")
        else:
            parts.append(commands(body))
    return "".join(parts), files


def main() -> int:
    readme, work = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    only, section_env = [], {}
    args = iter(sys.argv[3:])
    for arg in args:
        if arg == "--env":
            spec = next(args, "")
            title, sep, assignment = spec.partition(":")
            name, eq, value = assignment.partition("=")
            if not (sep and eq and name):
                raise SystemExit(f"readme: --env wants SECTION:NAME=VALUE, got {spec!r}")
            section_env.setdefault(title, {})[name] = value
        else:
            only.append(arg)
    repo = readme.parent
    found = sections(readme.read_text(encoding="utf-8"))
    if not found:
        raise SystemExit("readme: no `### ` sections under `## Getting started`")
    unknown = set(section_env) - {title for title, _ in found}
    if unknown:
        raise SystemExit(f"readme: --env names sections the README does not have: {sorted(unknown)}")
    # The first section's files (the policy and its tests), for the sections after it.
    shared = {arg: body for kind, arg, _, body in blocks(found[0][1]) if kind == "file"}
    for n, (title, lines) in enumerate(found):
        text, _ = script(title, lines, repo)
        if only and title not in only:
            continue
        cwd = work / re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        cwd.mkdir(parents=True)
        if n > 0:
            for name, body in shared.items():
                (cwd / name).write_text("\n".join(body) + "\n", encoding="utf-8")
        (cwd / "readme-section.sh").write_text(text, encoding="utf-8")
        start = time.monotonic()
        env = {**os.environ, **section_env.get(title, {})}
        r = subprocess.run(["bash", "readme-section.sh"], cwd=cwd, env=env)
        print(f"-- README: {title}: {time.monotonic() - start:.0f} s", flush=True)
        if r.returncode != 0:
            print(f"readme: section {title!r} failed (exit {r.returncode}); its script: {cwd}/readme-section.sh", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
