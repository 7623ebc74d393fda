//! Store-agnostic rate-limit cases: every function takes a `&dyn LimitStore`, so the
//! memory store (`tests/limits/main.rs`) and the Redis store (`tests/redis.rs`) must
//! give the same answers.

use std::sync::Barrier;
use warden::{Admission, LimitSpec, LimitStore};

/// A realistic "now": the Redis script does its arithmetic in doubles, so the tests use
/// epoch-sized microsecond values, not small ones.
pub const T0: u64 = 1_764_000_000_000_000;
pub const SECOND: u64 = 1_000_000;

pub fn spec(policy: &str, name: &str, count: u64, period_us: u64, strict: bool) -> LimitSpec {
    LimitSpec {
        id: 0,
        policy: policy.into(),
        name: name.into(),
        count,
        period_us,
        strict,
    }
}

fn check(store: &dyn LimitStore, spec: &LimitSpec, key: &[u8], now: u64) -> Admission {
    match store.check(spec, key, now) {
        Ok(a) => a,
        Err(e) => panic!("{store:?}: {e}"),
    }
}

/// GCRA, 3 per second: a burst of 3, then one every ceil(1 s / 3) = 333,334 us.
pub fn gcra_window_edges(store: &dyn LimitStore) {
    let s = spec("p", "api", 3, SECOND, false);
    let t = 333_334;
    for (i, left) in [2, 1, 0].into_iter().enumerate() {
        let a = check(store, &s, b"k", T0);
        assert_eq!(
            a,
            Admission {
                allowed: true,
                limit: 3,
                remaining: left,
                reset_us: t * (i as u64 + 1),
                retry_after_us: 0
            }
        );
    }
    let refused = check(store, &s, b"k", T0);
    assert_eq!(
        refused,
        Admission {
            allowed: false,
            limit: 3,
            remaining: 0,
            reset_us: 3 * t,
            retry_after_us: t
        }
    );
    // One microsecond before the next emission, then exactly at it.
    let a = check(store, &s, b"k", T0 + t - 1);
    assert!(!a.allowed);
    assert_eq!(a.retry_after_us, 1);
    let a = check(store, &s, b"k", T0 + t);
    assert!(a.allowed);
    assert_eq!((a.remaining, a.reset_us), (0, 3 * t));
    // After a full idle period the whole burst is back.
    let later = T0 + t + 3 * t;
    let a = check(store, &s, b"k", later);
    assert_eq!((a.allowed, a.remaining), (true, 2));
}

/// Strict, 3 per second: admissions at +0, +10, +20 us; the window is half-open.
pub fn strict_window_edges(store: &dyn LimitStore) {
    let s = spec("p", "login", 3, SECOND, true);
    for (dt, left) in [(0, 2), (10, 1), (20, 0)] {
        let a = check(store, &s, b"k", T0 + dt);
        assert_eq!(
            a,
            Admission {
                allowed: true,
                limit: 3,
                remaining: left,
                reset_us: SECOND,
                retry_after_us: 0
            }
        );
    }
    let a = check(store, &s, b"k", T0 + SECOND - 1);
    assert_eq!(
        a,
        Admission {
            allowed: false,
            limit: 3,
            remaining: 0,
            reset_us: 21,
            retry_after_us: 1
        }
    );
    // Exactly one period after the first admission it has left the window.
    let a = check(store, &s, b"k", T0 + SECOND);
    assert_eq!((a.allowed, a.remaining, a.reset_us), (true, 0, SECOND));
    let a = check(store, &s, b"k", T0 + SECOND + 9);
    assert_eq!((a.allowed, a.retry_after_us), (false, 1));
    let a = check(store, &s, b"k", T0 + SECOND + 10);
    assert!(a.allowed);
}

/// The same arrivals: GCRA refills one slot per interval, strict waits for the period.
pub fn strict_vs_gcra(store: &dyn LimitStore) {
    let g = spec("p", "g", 4, 4 * SECOND, false);
    let s = spec("p", "s", 4, 4 * SECOND, true);
    for _ in 0..4 {
        assert!(check(store, &g, b"k", T0).allowed);
        assert!(check(store, &s, b"k", T0).allowed);
    }
    assert!(!check(store, &g, b"k", T0).allowed);
    assert!(!check(store, &s, b"k", T0).allowed);
    let one = T0 + SECOND;
    assert!(check(store, &g, b"k", one).allowed);
    let refused = check(store, &s, b"k", one);
    assert!(!refused.allowed);
    assert_eq!(refused.retry_after_us, 3 * SECOND);
}

/// Keys, limits and policies never share state.
pub fn independent_keys_and_limits(store: &dyn LimitStore) {
    let a = spec("p", "a", 1, SECOND, false);
    let b = spec("p", "b", 1, SECOND, false);
    let other_policy = spec("q", "a", 1, SECOND, false);
    let strict = spec("p", "c", 1, SECOND, true);
    for s in [&a, &b, &other_policy, &strict] {
        for key in [&b"x"[..], b"y", b"", b"x\0"] {
            assert!(check(store, s, key, T0).allowed, "{s:?} {key:?}");
            assert!(!check(store, s, key, T0).allowed, "{s:?} {key:?}");
        }
    }
    // A key containing what looks like another limit's prefix is still its own key.
    let tricky = spec("p", "a", 1, SECOND, false);
    assert!(check(store, &tricky, b"b\0x", T0).allowed);
}

/// `clear` forgets every key.
pub fn clear_forgets(store: &dyn LimitStore) {
    let s = spec("p", "c", 1, 60 * SECOND, true);
    assert!(check(store, &s, b"k", T0).allowed);
    assert!(!check(store, &s, b"k", T0 + 1).allowed);
    store.clear();
    assert!(check(store, &s, b"k", T0 + 2).allowed);
}

/// Threads hammer one key in phases; within a phase every check has the same `now`, so
/// the number admitted is fixed by the algorithm whatever the interleaving: the
/// concurrent total must equal a sequential replay, and never exceed the guarantee.
/// `stores` are the instances sharing the state (several for "several app instances").
pub fn hammer(
    stores: &[&dyn LimitStore],
    threads_per_store: usize,
    strict: bool,
    replay: &dyn LimitStore,
) {
    let s = spec("p", if strict { "hs" } else { "hg" }, 10, SECOND, strict);
    let phases: Vec<u64> = (0..12).map(|i| T0 + i * 150_000).collect();
    let per_thread = 25;
    let n = stores.len() * threads_per_store;
    let barrier = Barrier::new(n);
    let admitted: Vec<Vec<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = stores
            .iter()
            .flat_map(|&store| (0..threads_per_store).map(move |_| store))
            .map(|store| {
                let (s, barrier, phases) = (&s, &barrier, &phases);
                scope.spawn(move || {
                    let mut per_phase = Vec::new();
                    for &now in phases {
                        barrier.wait();
                        let mut got = 0;
                        for _ in 0..per_thread {
                            got += u64::from(check(store, s, b"hot", now).allowed);
                        }
                        per_phase.push(got);
                    }
                    per_phase
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut concurrent = vec![0u64; phases.len()];
    for per_phase in &admitted {
        for (c, got) in concurrent.iter_mut().zip(per_phase) {
            *c += got;
        }
    }
    let mut sequential = Vec::new();
    for &now in &phases {
        let mut got = 0;
        for _ in 0..n * per_thread {
            got += u64::from(check(replay, &s, b"hot", now).allowed);
        }
        sequential.push(got);
    }
    assert_eq!(
        concurrent, sequential,
        "concurrent vs sequential admissions per phase"
    );
    // The first phase is a fresh key: exactly `count`, for both algorithms.
    assert_eq!(concurrent[0], 10);
    // Any run of phases spanning less than one period.
    let window = phases.iter().take_while(|&&t| t - T0 < SECOND).count();
    for start in 0..phases.len() {
        let sum: u64 = concurrent[start..(start + window).min(phases.len())]
            .iter()
            .sum();
        let bound = if strict { 10 } else { 2 * 10 - 1 };
        assert!(
            sum <= bound,
            "{sum} admitted in one period from phase {start}"
        );
    }
}
