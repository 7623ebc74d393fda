"""Python: Warden's `authorize` from dicts next to cedarpy and pycasbin on the docs-app
workload (core/benches/docs_app.rs). Every peer is first checked to agree with the
hand-written rules on every request; then each is timed (best of 5 rounds). Warden and
the no-op loop also run on 100,000 distinct requests that each own their strings,
shuffled (`docs_app.cold`, the Rust bench's `cold_rows`): the 4,096 fit in the caches.

Run: scripts/bench-python.sh (or `python bench/bench.py` in a venv with warden built
by `maturin develop --release`, and cedarpy / pycasbin installed). A peer that cannot
be imported is reported as missing, not skipped silently.

Counting mode, for instruction counts under callgrind (timings on a shared machine are
noise): `python bench/bench.py --count VARIANT N` decides the workload once, then makes
N calls of VARIANT (`warden`, `warden-kw`, `noop`, `noop-kw`) and exits; the count of
N = 0 subtracted from the count of N, divided by N, is the cost of one call.
"""

import os
import sys
import tempfile
import time
from collections.abc import Callable

import warden

sys.path.insert(0, os.path.dirname(__file__))
import docs_app  # noqa: E402


def best_ns(fn: Callable[[int], object], n: int, rounds: int = 5) -> float:
    """CPU time of this thread per call, best of `rounds`: on a shared machine wall time
    mostly measures the other processes (the CPU time is what the call costs)."""
    best = float("inf")
    for _ in range(rounds):
        t = time.thread_time_ns()
        fn(n)
        best = min(best, (time.thread_time_ns() - t) / n)
    return best


N_COLD = 100_000


def count(variant: str, k: int) -> int:
    users, posts, cases = docs_app.world()
    engine = warden.Engine.from_file(docs_app.POLICY, secrets={"CRON_SECRET": "bench-cron-secret"})
    reqs = [docs_app.request(users, posts, c) for c in cases]
    n = len(reqs)
    authorize = engine.authorize
    for r in reqs:
        authorize(**r)

    def noop_kw(*, action=None, principal=None, resource=None, context=None) -> None:  # type: ignore[no-untyped-def]
        return None

    if variant == "warden":
        for i in range(k):
            authorize(**reqs[i % n])
    elif variant == "warden-kw":
        for i in range(k):
            r = reqs[i % n]
            authorize(principal=r["principal"], action=r["action"], resource=r["resource"])
    elif variant == "noop-kw":
        for i in range(k):
            noop_kw(**reqs[i % n])
    elif variant == "noop":
        for i in range(k):
            pass
    else:
        print(f"unknown variant {variant!r}")
        return 2
    return 0


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--count":
        return count(sys.argv[2], int(sys.argv[3]))
    users, posts, cases = docs_app.world()
    want = [docs_app.hand(users, posts, c) for c in cases]
    print(f"docs-app workload: {len(cases)} requests, {sum(want)} allowed")
    results: dict[str, float] = {}
    engine = warden.Engine.from_file(docs_app.POLICY, secrets={"CRON_SECRET": "bench-cron-secret"})
    reqs = [docs_app.request(users, posts, c) for c in cases]
    got = [engine.authorize(**r).allowed for r in reqs]
    bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    if bad:
        print(f"warden disagrees with the hand-written rules on {len(bad)} requests, e.g. {reqs[bad[0]]}")
        return 1
    n = len(reqs)
    authorize = engine.authorize

    def run_warden(k: int) -> None:
        for i in range(k):
            authorize(**reqs[i % n])

    def run_warden_kw(k: int) -> None:
        for i in range(k):
            r = reqs[i % n]
            authorize(principal=r["principal"], action=r["action"], resource=r["resource"])

    def run_empty(k: int) -> None:
        def f(**kw: object) -> None:
            return None

        for i in range(k):
            f(**reqs[i % n])

    results["warden authorize(**dict)"] = best_ns(run_warden, 400_000)
    results["warden authorize(principal=..., ...)"] = best_ns(run_warden_kw, 400_000)
    def run_empty_kwonly(k: int) -> None:
        def f(*, action=None, principal=None, resource=None, context=None) -> None:  # type: ignore[no-untyped-def]
            return None

        for i in range(k):
            f(**reqs[i % n])

    results["(the loop with a no-op Python function)"] = best_ns(run_empty, 400_000)
    results["(the same, keyword-only parameters)"] = best_ns(run_empty_kwonly, 400_000)

    cusers, cposts, ccases, creqs = docs_app.cold(N_COLD)
    cwant = [docs_app.hand(cusers, cposts, c) for c in ccases]
    cbad = [i for i, r in enumerate(creqs) if engine.authorize(**r).allowed != cwant[i]]
    if cbad:
        print(f"warden disagrees with the hand-written rules on {len(cbad)} cold requests, e.g. {creqs[cbad[0]]}")
        return 1
    print(f"cold set: {N_COLD} distinct requests, {sum(cwant)} allowed, each owning its strings")
    m = len(creqs)

    def run_warden_cold(k: int) -> None:
        for i in range(k):
            authorize(**creqs[i % m])

    def run_empty_kwonly_cold(k: int) -> None:
        def f(*, action=None, principal=None, resource=None, context=None) -> None:  # type: ignore[no-untyped-def]
            return None

        for i in range(k):
            f(**creqs[i % m])

    results["warden authorize(**dict), 100k cold"] = best_ns(run_warden_cold, 400_000)
    results["(keyword-only no-op loop), 100k cold"] = best_ns(run_empty_kwonly_cold, 400_000)

    try:
        import cedarpy
    except ImportError as e:
        print(f"cedarpy: not installed ({e})")
    else:
        cargs = [docs_app.cedar_args(users, posts, c) for c in cases]
        # The policies parsed once (a `PolicySet` handle); entities per request, as a
        # host passes them.
        policy = cedarpy.PolicySet.from_str(docs_app.CEDAR_POLICY)
        cgot = [cedarpy.is_authorized(q, policy, ents).allowed for q, ents in cargs]
        bad = [i for i, (g, w) in enumerate(zip(cgot, want)) if g != w]
        if bad:
            print(f"cedarpy disagrees on {len(bad)} requests, e.g. {cargs[bad[0]]}")
            return 1

        def run_cedar(k: int) -> None:
            for i in range(k):
                q, ents = cargs[i % n]
                cedarpy.is_authorized(q, policy, ents)

        results["cedarpy is_authorized"] = best_ns(run_cedar, 20_000)

    try:
        import casbin
    except ImportError as e:
        print(f"pycasbin: not installed ({e})")
    else:
        with tempfile.TemporaryDirectory() as d:
            model = os.path.join(d, "model.conf")
            policy_csv = os.path.join(d, "policy.csv")
            with open(model, "w") as f:
                f.write(docs_app.CASBIN_MODEL)
            with open(policy_csv, "w") as f:
                f.write(docs_app.CASBIN_POLICY)
            enforcer = casbin.Enforcer(model, policy_csv)
        bargs = [docs_app.casbin_args(users, posts, c) for c in cases]
        bgot = [bool(enforcer.enforce(*a)) for a in bargs]
        bad = [i for i, (g, w) in enumerate(zip(bgot, want)) if g != w]
        if bad:
            print(f"pycasbin disagrees on {len(bad)} requests, e.g. {bargs[bad[0]]}")
            return 1
        enforce = enforcer.enforce

        def run_casbin(k: int) -> None:
            for i in range(k):
                enforce(*bargs[i % n])

        results["pycasbin enforce"] = best_ns(run_casbin, 20_000)

    print("all engines agree with the hand-written rules on every request")
    base = results["warden authorize(**dict)"]
    for name, ns in results.items():
        ratio = f"{ns / base:6.1f}x warden" if not name.startswith("(") else ""
        print(f"{name:42s} {ns / 1000:8.3f} µs/call  {ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
