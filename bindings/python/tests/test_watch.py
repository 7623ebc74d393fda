"""Engine.watch(): the policy file reloads when it changes, a broken version leaves the
old policy serving (reported, counted), and threads deciding meanwhile always get one
version's answer."""

import logging
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import pytest

import warden

# Two versions with different answers; each ends inside a block, so a torn write (the
# first part only) fails to load rather than being a smaller valid policy.
A = "policy p\nrole r\ngrant r: a:read\nresource doc {\n  org: string\n}\n"
B = 'policy p\nrole r\ngrant r: a:write\ndeny a:write on doc if resource.org == "x"\nresource doc {\n  org: string\n}\n'
BROKEN = [
    "policy p\nrole r\ngrant nobody: a:read\n",
    "policy p\nrole r\ngrant r a:read ((\n",
    "policy p\nrole r\ngrant r: a:read\nauth jwt {\n  algorithms: RS256\n  keys: public_key(AUTH_PUBLIC_KEY)\n}\n",
]
SECRET = "not-a-pem-hunter2"
P = {"id": "u", "roles": ["r"]}
REQUESTS = [
    {"principal": P, "action": "a:read"},
    {"principal": P, "action": "a:write"},
    {"principal": P, "action": "a:write", "resource": {"type": "doc", "id": "d", "org": "x"}},
]


def answers(engine: warden.Engine) -> list[tuple[bool, str | None]]:
    out = []
    for r in REQUESTS:
        d = engine.authorize(**r)  # type: ignore[arg-type]
        out.append((d.allowed, d.rule))
    return out


def expected(path: Path, text: str) -> list[tuple[bool, str | None]]:
    return answers(warden.Engine.from_source(str(path), text))


def renamed(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{random.random()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def torn(path: Path, text: str, pause: float) -> None:
    cut = text.index("org: str") + len("org: str")
    with open(path, "w") as f:
        f.write(text[:cut])
        f.flush()
        os.fsync(f.fileno())
        time.sleep(pause)
        f.write(text[cut:])


def wait_for(what: str, ok: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not ok():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_threads_deciding_while_the_file_is_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "p.warden"
    path.write_text(A)
    want_a, want_b = expected(path, A), expected(path, B)
    assert want_a != want_b
    engine = warden.Engine.from_file(path, secrets={"AUTH_PUBLIC_KEY": SECRET}, metrics=True)
    errors: list[warden.PolicyError] = []
    reloads: list[None] = []
    stop = threading.Event()
    failures: list[BaseException] = []
    decided = [0]
    seen: set[tuple[bool, str | None]] = set()

    def decide() -> None:
        try:
            while not stop.is_set():
                got = answers(engine)
                for i, g in enumerate(got):
                    # One request at a time: a reload may land between two requests.
                    assert g in (want_a[i], want_b[i]), g
                seen.add(got[0])
                decided[0] += 1
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            failures.append(e)

    with engine.watch(debounce=0.03, on_reload=lambda: reloads.append(None), on_error=errors.append):
        threads = [threading.Thread(target=decide) for _ in range(4)]
        for t in threads:
            t.start()
        rng = random.Random(22)
        for i in range(40):
            pick = rng.randrange(6)
            text = A if pick < 2 else B if pick < 4 else rng.choice(BROKEN) if pick == 4 else ""
            how = rng.randrange(3)
            if text == "":
                torn(path, A if i % 2 else B, rng.random() * 0.08)
            elif how == 0:
                path.write_text(text)
            else:
                renamed(path, text)
            time.sleep(rng.random() * 0.08)
        # A broken version: refused and counted, the previous policy still serving.
        renamed(path, A)
        wait_for("A in force", lambda: answers(engine) == want_a)
        refused = engine.metrics()["reload_failures"]
        renamed(path, BROKEN[2])
        wait_for("the refused reload", lambda: engine.metrics()["reload_failures"] > refused)
        assert answers(engine) == want_a
        renamed(path, B)
        wait_for("B in force", lambda: answers(engine) == want_b)
        stop.set()
        for t in threads:
            t.join()
    assert not failures, failures[0]
    assert decided[0] > 0 and seen == {want_a[0], want_b[0]}, (decided, seen)
    m = engine.metrics()
    print(f"{decided[0]} answer sets ({decided[0] * len(REQUESTS)} decisions); reloads {m['reloads']} ok, {m['reload_failures']} refused")
    assert m["reloads"] >= 3 and m["reload_failures"] >= 1, m
    assert len(errors) == m["reload_failures"] and len(reloads) == m["reloads"]
    for e in errors:
        assert isinstance(e, warden.PolicyError)
        assert e.diagnostics and e.diagnostics[0].file == str(path) and e.diagnostics[0].line >= 1
        assert SECRET not in str(e) and all(SECRET not in str(d) for d in e.diagnostics)
    assert any("AUTH_PUBLIC_KEY" in str(e) for e in errors)
    text = engine.prometheus()
    assert f"warden_reloads_total {m['reloads']}\n" in text
    assert f"warden_reload_failures_total {m['reload_failures']}\n" in text


def test_closing_stops_reloading(tmp_path: Path) -> None:
    path = tmp_path / "p.warden"
    path.write_text(A)
    engine = warden.Engine.from_file(path)
    w = engine.watch(debounce=0.02)
    assert not w.closed
    renamed(path, B)
    wait_for("B in force", lambda: answers(engine) == expected(path, B))
    w.close()
    assert w.closed and repr(w) == "Watch(closed=True)"
    renamed(path, A)
    time.sleep(0.3)
    assert answers(engine) == expected(path, B)
    w.close()  # twice is harmless


def test_a_refused_reload_is_logged_without_on_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "p.warden"
    path.write_text(A)
    engine = warden.Engine.from_file(path)
    with caplog.at_level(logging.ERROR, logger="warden"), engine.watch(debounce=0.02):
        renamed(path, BROKEN[0])
        wait_for("the log record", lambda: any(r.name == "warden" for r in caplog.records))
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "warden")
    assert "reload refused" in text and f"{path}:3:" in text, text
    assert answers(engine) == expected(path, A)


def test_only_a_file_can_be_watched(tmp_path: Path) -> None:
    with pytest.raises(warden.ConfigError, match="source text"):
        warden.Engine.from_source("p.warden", A).watch()
    path = tmp_path / "p.warden"
    path.write_text(A)
    engine = warden.Engine.from_file(path)
    with pytest.raises(warden.ConfigError, match="debounce"):
        engine.watch(debounce=-1)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "p.warden").write_text(A)
    moved = warden.Engine.from_file(sub / "p.warden")
    (sub / "p.warden").unlink()
    sub.rmdir()
    with pytest.raises(warden.ConfigError, match="cannot watch"):
        moved.watch()


def test_the_interpreter_exits_with_a_watch_running(tmp_path: Path) -> None:
    path = tmp_path / "p.warden"
    path.write_text(A)
    code = (
        "import pathlib, warden\n"
        f"p = pathlib.Path({str(path)!r})\n"
        "e = warden.Engine.from_file(p)\n"
        "w = e.watch(debounce=0.0, on_reload=lambda: None, on_error=lambda err: None)\n"
        f"for i in range(200): p.write_text([{A!r}, {B!r}][i % 2])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=60, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_concurrent_reloads_and_watches_do_not_deadlock(tmp_path: Path) -> None:
    # A reload loads with the GIL released: it must not hold a lock another thread
    # waits for with the GIL held (a second reload, or watch()).
    path = tmp_path / "p.warden"
    big = A + "".join(f"role extra{i}\ngrant extra{i}: a:read, b:write\n" for i in range(300))
    path.write_text(big)
    engine = warden.Engine.from_file(path)

    def reloads() -> None:
        for _ in range(30):
            engine.reload()

    def watches() -> None:
        for _ in range(30):
            engine.watch().close()

    threads = [threading.Thread(target=f, daemon=True) for f in (reloads, reloads, watches)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "deadlocked"
