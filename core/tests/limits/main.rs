//! The in-memory rate-limit store: window edges, admission values, both algorithms'
//! guarantees against a brute-force window counter, eviction at the bound, threads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod cases;

use cases::{spec, SECOND, T0};
use proptest::prelude::*;
use warden::limit::MemoryStore;
use warden::LimitStore;

fn store() -> MemoryStore {
    MemoryStore::new(100_000)
}

#[test]
fn gcra_window_edges() {
    cases::gcra_window_edges(&store());
}

#[test]
fn strict_window_edges() {
    cases::strict_window_edges(&store());
}

#[test]
fn strict_vs_gcra() {
    cases::strict_vs_gcra(&store());
}

#[test]
fn independent_keys_and_limits() {
    cases::independent_keys_and_limits(&store());
}

#[test]
fn clear_forgets() {
    cases::clear_forgets(&store());
}

#[test]
fn four_threads_on_one_key_admit_what_one_thread_would() {
    for strict in [false, true] {
        let shared = store();
        cases::hammer(&[&shared], 4, strict, &store());
    }
}

#[test]
fn eviction_drops_the_least_recently_used_key() {
    let store = MemoryStore::new(3);
    let s = spec("p", "l", 1, 60 * SECOND, true);
    for key in [b"a", b"b", b"c"] {
        assert!(store.check(&s, key, T0).unwrap().allowed);
    }
    // Touch `a`, so `b` is now the least recently used.
    assert!(!store.check(&s, b"a", T0 + 1).unwrap().allowed);
    assert!(store.check(&s, b"d", T0 + 2).unwrap().allowed);
    assert_eq!(store.len(), 3);
    // `b` lost its history (a full quota again); `a` and `c` kept theirs.
    assert!(store.check(&s, b"b", T0 + 3).unwrap().allowed);
    assert!(!store.check(&s, b"a", T0 + 4).unwrap().allowed);
    assert!(!store.check(&s, b"d", T0 + 5).unwrap().allowed);
    assert_eq!(store.len(), 3);
}

#[test]
fn the_bound_is_total_across_shards() {
    let store = MemoryStore::new(50_000);
    let s = spec("p", "l", 1, SECOND, false);
    for i in 0u32..120_000 {
        store.check(&s, &i.to_le_bytes(), T0).unwrap();
    }
    assert_eq!(store.len(), 50_000);
    store.clear();
    assert!(store.is_empty());
    assert_eq!(MemoryStore::new(0).max_keys(), 1);
}

/// The GCRA bound is attained: a burst of `count`, then one per interval, puts
/// `2 * count - 1` admissions inside one period.
#[test]
fn gcra_admits_up_to_two_counts_minus_one_in_one_period() {
    let store = store();
    let s = spec("p", "l", 5, SECOND, false);
    let t = SECOND / 5;
    let mut admitted = 0;
    for _ in 0..5 {
        admitted += u64::from(store.check(&s, b"k", T0).unwrap().allowed);
    }
    for k in 1..=4 {
        admitted += u64::from(store.check(&s, b"k", T0 + k * t).unwrap().allowed);
    }
    assert_eq!(admitted, 9);
    assert!(4 * t < SECOND);
}

/// Admitted times of `arrivals` (sorted) replayed against a fresh store.
fn replay(count: u64, period: u64, strict: bool, arrivals: &[u64]) -> Vec<(u64, bool)> {
    let store = MemoryStore::new(16);
    let s = spec("p", "l", count, period, strict);
    arrivals
        .iter()
        .map(|&t| (t, store.check(&s, b"k", t).unwrap().allowed))
        .collect()
}

/// Most admissions in any half-open window `[s, s + len)`.
fn max_in_window(admitted: &[u64], len: u64) -> usize {
    (0..admitted.len())
        .map(|i| {
            admitted[i..]
                .iter()
                .take_while(|&&t| t < admitted[i] + len)
                .count()
        })
        .max()
        .unwrap_or(0)
}

fn arrivals() -> impl Strategy<Value = (u64, u64, Vec<u64>)> {
    (1u64..8, 1u64..400).prop_flat_map(|(count, period)| {
        let gaps = prop::collection::vec(
            prop_oneof![3 => Just(0u64), 5 => 0..period / 2 + 1, 1 => 0..3 * period],
            1..160,
        );
        (Just(count), Just(period), gaps).prop_map(|(c, p, gaps)| {
            let mut t = T0;
            let times = gaps
                .into_iter()
                .map(|g| {
                    t += g;
                    t
                })
                .collect();
            (c, p, times)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Strict: each decision is exactly "fewer than `count` admissions in
    /// `(now - period, now]`", so no window of one period ever holds more than `count`.
    #[test]
    fn strict_is_an_exact_sliding_window((count, period, times) in arrivals()) {
        let decisions = replay(count, period, true, &times);
        let mut admitted: Vec<u64> = Vec::new();
        for &(t, allowed) in &decisions {
            let in_window = admitted.iter().filter(|&&a| a + period > t).count() as u64;
            prop_assert_eq!(allowed, in_window < count, "at {}", t - T0);
            if allowed {
                admitted.push(t);
            }
        }
        prop_assert!(max_in_window(&admitted, period) as u64 <= count);
    }

    /// GCRA: at most `count + floor(w / T)` admissions in any window of length `w`
    /// (`T = ceil(period / count)`), hence at most `2 * count - 1` in one period.
    #[test]
    fn gcra_bound_holds((count, period, times) in arrivals()) {
        let t = period.div_ceil(count);
        let admitted: Vec<u64> = replay(count, period, false, &times)
            .into_iter()
            .filter_map(|(t, allowed)| allowed.then_some(t))
            .collect();
        for i in 0..admitted.len() {
            for j in i..admitted.len() {
                let w = admitted[j] - admitted[i];
                prop_assert!((j - i + 1) as u64 <= count + w / t, "{} in {w} us", j - i + 1);
            }
        }
        prop_assert!((max_in_window(&admitted, period) as u64) < 2 * count);
        // And it is not stricter than its own burst: a fresh key takes `count` at once.
        let burst = replay(count, period, false, &vec![T0; count as usize + 1]);
        prop_assert_eq!(burst.iter().filter(|d| d.1).count() as u64, count);
    }
}
