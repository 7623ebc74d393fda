//! Rate-limit store costs: one in-memory check (GCRA and sliding log, on a known key
//! and on a stream of new keys through a full store); with `WARDEN_REDIS_URL` set
//! (`scripts/with-redis.sh cargo bench -p warden-policy --bench limits`), one Redis-backed
//! check, sync and async, 100 concurrent async checks, and a bare PING on the same
//! connection kind for the round-trip floor.

mod support;
use support::clients;

use criterion::{black_box, criterion_group, Criterion};
use std::sync::atomic::{AtomicU64, Ordering};
use warden::limit::MemoryStore;
use warden::{LimitSpec, LimitStore};

const T0: u64 = 1_764_000_000_000_000;

fn spec(name: &str, count: u64, strict: bool) -> LimitSpec {
    LimitSpec {
        id: 0,
        policy: "app".into(),
        name: name.into(),
        count,
        period_us: 60_000_000,
        strict,
    }
}

fn memory(c: &mut Criterion) {
    let keys = clients(1_024);
    let mut g = c.benchmark_group("memory store");
    for (label, s) in [
        ("check, GCRA (60 per 1m)", spec("api", 60, false)),
        (
            "check, sliding log (5 per 1m strict)",
            spec("login", 5, true),
        ),
        (
            "check, sliding log (100 per 1m strict)",
            spec("bulk", 100, true),
        ),
    ] {
        let store = MemoryStore::new(100_000);
        let now = AtomicU64::new(T0);
        let mut i = 0usize;
        // Known keys, time moving 1 ms per check: a mix of admissions and refusals.
        g.bench_function(label, |b| {
            b.iter(|| {
                i = (i + 1) & 1_023;
                let t = now.fetch_add(1_000, Ordering::Relaxed);
                black_box(store.check(&s, &keys[i], t))
            })
        });
    }
    // Every check a new key in a full store: insert + evict.
    let fresh = clients(4_000_000);
    let store = MemoryStore::new(100_000);
    let s = spec("api", 60, false);
    let mut i = 0usize;
    g.bench_function("check, new key, store full (GCRA)", |b| {
        b.iter(|| {
            i = (i + 1) % fresh.len();
            black_box(store.check(&s, &fresh[i], T0))
        })
    });
    g.finish();
}

/// Governor's quota equal to the benches' GCRA limit: 60 per minute, a burst of 60.
fn governor_quota() -> governor::Quota {
    governor::Quota::per_minute(std::num::NonZeroU32::MIN.saturating_add(59))
}

/// A governor keyed limiter (its default store: a `DashMap` with std's SipHash) on a
/// manual clock, so it sees the same time as the memory store.
type FakeClockGovernor = governor::RateLimiter<
    Vec<u8>,
    governor::state::keyed::DashMapStateStore<Vec<u8>>,
    governor::clock::FakeRelativeClock,
    governor::middleware::NoOpMiddleware<governor::nanos::Nanos>,
>;

/// The memory store against governor's keyed GCRA limiter (what tower_governor and
/// most Rust services use), same run, same keys (1,024 IPv4 texts), same quota: issue
/// 23's target is the store at or below governor per check.
///
/// Time moves 1 ms per check for the store and for governor on its manual clock
/// (`FakeRelativeClock`), so both see the same mix of admissions and refusals and both
/// pay one atomic read-modify-write to move time: the apples-to-apples pair. Governor
/// on its default clock reads the CPU counter (quanta) on every check, as it does in a
/// service, while the store is handed `now` (the request already carries it); time then
/// moves ~50 ns per check, so after the first bursts nearly every check is a refusal.
///
/// Not equal in what they do: the store namespaces keys by policy and limit, bounds
/// the keys it holds (LRU eviction) and keeps no key bytes; governor's keyed store is
/// unbounded (a host must call `retain_recent`) and clones each new key.
fn against_governor(c: &mut Criterion) {
    use governor::clock::FakeRelativeClock;
    use governor::RateLimiter;
    use std::time::Duration;

    let keys = clients(1_024);
    let mut g = c.benchmark_group("memory store vs governor (same run)");
    let store = MemoryStore::new(100_000);
    let s = spec("api", 60, false);
    let now = AtomicU64::new(T0);
    let mut i = 0usize;
    g.bench_function("MemoryStore::check, GCRA 60/min, 1,024 keys", |b| {
        b.iter(|| {
            i = (i + 1) & 1_023;
            let t = now.fetch_add(1_000, Ordering::Relaxed);
            black_box(store.check(&s, black_box(&keys[i]), t).map(|a| a.allowed))
        })
    });
    let clock = FakeRelativeClock::default();
    let fake: FakeClockGovernor = RateLimiter::dashmap_with_clock(governor_quota(), clock.clone());
    let mut j = 0usize;
    g.bench_function(
        "governor keyed check_key, manual clock, GCRA 60/min, 1,024 keys",
        |b| {
            b.iter(|| {
                j = (j + 1) & 1_023;
                clock.advance(Duration::from_millis(1));
                black_box(fake.check_key(black_box(&keys[j])).is_ok())
            })
        },
    );
    let limiter = RateLimiter::keyed(governor_quota());
    let mut k = 0usize;
    g.bench_function(
        "governor keyed check_key, own clock (quanta), GCRA 60/min, 1,024 keys",
        |b| {
            b.iter(|| {
                k = (k + 1) & 1_023;
                black_box(limiter.check_key(black_box(&keys[k])).is_ok())
            })
        },
    );
    g.finish();
}

/// `LIMIT_CALLS=governor:N` / `governor-quanta:N`: N governor checks over the 1,024
/// keys, on the manual clock moving 1 ms per check (as the store's `gcra` case) or on
/// governor's own clock.
fn governor_calls(case: &str, n: usize) {
    use governor::clock::FakeRelativeClock;
    use governor::RateLimiter;
    use std::time::Duration;

    let keys = clients(1_024);
    if case == "governor" {
        let clock = FakeRelativeClock::default();
        let limiter: FakeClockGovernor =
            RateLimiter::dashmap_with_clock(governor_quota(), clock.clone());
        for i in 0..n {
            clock.advance(Duration::from_millis(1));
            black_box(limiter.check_key(black_box(&keys[i & 1_023])).is_ok());
        }
    } else {
        let limiter = RateLimiter::keyed(governor_quota());
        for i in 0..n {
            black_box(limiter.check_key(black_box(&keys[i & 1_023])).is_ok());
        }
    }
}

#[cfg(feature = "redis")]
fn redis(c: &mut Criterion) {
    use std::sync::Arc;
    use warden::limit::{RedisOptions, RedisStore};

    let Ok(url) = std::env::var("WARDEN_REDIS_URL") else {
        eprintln!("SKIPPED: Redis benches; set WARDEN_REDIS_URL (scripts/with-redis.sh)");
        return;
    };
    let store = Arc::new(
        RedisStore::open(&url, RedisOptions::default()).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1)
        }),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1)
        });
    let keys = clients(1_024);
    let s = Arc::new(spec("api", 60, false));
    let strict = spec("login", 5, true);
    let now = Arc::new(AtomicU64::new(T0));
    let mut g = c.benchmark_group("redis store");
    let mut i = 0usize;
    g.bench_function("check (sync), GCRA", |b| {
        b.iter(|| {
            i = (i + 1) & 1_023;
            let t = now.fetch_add(1_000, Ordering::Relaxed);
            black_box(store.check(&s, &keys[i], t))
        })
    });
    g.bench_function("check (sync), sliding log", |b| {
        b.iter(|| {
            i = (i + 1) & 1_023;
            let t = now.fetch_add(1_000, Ordering::Relaxed);
            black_box(store.check(&strict, &keys[i], t))
        })
    });
    g.bench_function("check_async, GCRA", |b| {
        b.iter(|| {
            i = (i + 1) & 1_023;
            let t = now.fetch_add(1_000, Ordering::Relaxed);
            black_box(rt.block_on(store.check_async(&s, &keys[i], t)))
        })
    });
    let keys = Arc::new(keys);
    g.bench_function("100 concurrent check_async, GCRA (per batch)", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for j in 0..100 {
                    let (store, s, keys, now) =
                        (store.clone(), s.clone(), keys.clone(), now.clone());
                    set.spawn(async move {
                        let t = now.fetch_add(1_000, Ordering::Relaxed);
                        store.check_async(&s, &keys[j], t).await
                    });
                }
                while let Some(r) = set.join_next().await {
                    black_box(r.ok());
                }
            })
        })
    });
    // The floor: one PING round trip on a blocking connection and on a multiplexed one.
    if let Ok(client) = redis::Client::open(url.as_str()) {
        if let Ok(mut con) = client.get_connection() {
            g.bench_function("PING (sync connection)", |b| {
                b.iter(|| black_box(redis::cmd("PING").query::<String>(&mut con).ok()))
            });
        }
        if let Ok(mut con) = rt.block_on(client.get_multiplexed_async_connection()) {
            g.bench_function("PING (multiplexed connection)", |b| {
                b.iter(|| {
                    rt.block_on(async {
                        black_box(
                            redis::cmd("PING")
                                .query_async::<String>(&mut con)
                                .await
                                .ok(),
                        )
                    })
                })
            });
        }
    }
    g.finish();
}

#[cfg(not(feature = "redis"))]
fn redis(_: &mut Criterion) {}

criterion_group!(benches, memory, against_governor, redis);

/// After criterion: the store and governor timed in interleaved rounds (store, governor
/// on the manual clock, governor on its own clock, repeated), each keeping its best
/// round, so that load from other processes on this shared machine hits all three
/// alike and the best round is the least disturbed. Same keys, quota and time steps as
/// [`against_governor`].
fn interleaved(rounds: usize, checks: usize) {
    use governor::clock::FakeRelativeClock;
    use governor::RateLimiter;
    use std::time::{Duration, Instant};

    let keys = clients(1_024);
    let store = MemoryStore::new(100_000);
    let s = spec("api", 60, false);
    let clock = FakeRelativeClock::default();
    let fake: FakeClockGovernor = RateLimiter::dashmap_with_clock(governor_quota(), clock.clone());
    let own = RateLimiter::keyed(governor_quota());
    // Moving time costs one atomic read-modify-write on both sides, as in
    // `against_governor`: a `fetch_add` here, a compare-exchange in `advance`.
    let now = AtomicU64::new(T0);
    let mut best = [f64::INFINITY; 3];
    let per = |start: Instant| start.elapsed().as_nanos() as f64 / checks as f64;
    for _ in 0..rounds {
        let start = Instant::now();
        for i in 0..checks {
            let t = now.fetch_add(1_000, Ordering::Relaxed);
            black_box(
                store
                    .check(&s, black_box(&keys[i & 1_023]), t)
                    .map(|a| a.allowed),
            )
            .ok();
        }
        best[0] = best[0].min(per(start));
        let start = Instant::now();
        for i in 0..checks {
            clock.advance(Duration::from_millis(1));
            black_box(fake.check_key(black_box(&keys[i & 1_023])).is_ok());
        }
        best[1] = best[1].min(per(start));
        let start = Instant::now();
        for i in 0..checks {
            black_box(own.check_key(black_box(&keys[i & 1_023])).is_ok());
        }
        best[2] = best[2].min(per(start));
    }
    println!(
        "interleaved, best of {rounds} rounds of {checks} checks: MemoryStore::check {:.1} ns, \
         governor (manual clock) {:.1} ns ({:.2}x the store), governor (own clock) {:.1} ns \
         ({:.2}x)",
        best[0],
        best[1],
        best[1] / best[0],
        best[2],
        best[2] / best[0]
    );
}

fn main() {
    // Instruction counting (docs/BENCHMARKS.md, Rate limits): `LIMIT_CALLS=CASE:N` runs
    // N memory-store checks of one case (`gcra`, `log`, `new`; `governor` and
    // `governor-quanta` for the baseline, see `governor_calls`) and exits, for
    // `valgrind --tool=callgrind` at two values of N.
    if let Ok(arg) = std::env::var("LIMIT_CALLS") {
        let (case, n) = arg.split_once(':').unwrap_or((&arg, "10000"));
        let n = n.parse::<usize>().unwrap_or(10_000);
        if case.starts_with("governor") {
            governor_calls(case, n);
            return;
        }
        let store = MemoryStore::new(100_000);
        let s = match case {
            "log" => spec("login", 5, true),
            _ => spec("api", 60, false),
        };
        let keys = clients(if case == "new" { 200_000 } else { 1_024 });
        if case == "new" {
            // Fill the store first, so every counted check inserts and evicts.
            for k in keys.iter().take(100_000) {
                black_box(store.check(&s, k, T0).ok());
            }
        }
        let mask = keys.len();
        for i in 0..n {
            let k = &keys[(i + 100_000 * usize::from(case == "new")) % mask];
            let t = T0 + 1_000 * i as u64;
            black_box(store.check(&s, black_box(k), t).ok());
        }
        return;
    }
    // `LIMIT_AB=ROUNDS[:CHECKS]` runs only the interleaved comparison.
    if let Ok(arg) = std::env::var("LIMIT_AB") {
        let (rounds, checks) = arg.split_once(':').unwrap_or((&arg, "100000"));
        interleaved(
            rounds.parse().unwrap_or(100),
            checks.parse().unwrap_or(100_000),
        );
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().all(|a| a != "--list") {
        interleaved(100, 100_000);
    }
}
