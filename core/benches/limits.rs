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

criterion_group!(benches, memory, redis);

fn main() {
    // Instruction counting (docs/BENCHMARKS.md, Rate limits): `LIMIT_CALLS=CASE:N` runs
    // N memory-store checks of one case (`gcra`, `log`, `new`) and exits, for
    // `valgrind --tool=callgrind` at two values of N.
    if let Ok(arg) = std::env::var("LIMIT_CALLS") {
        let (case, n) = arg.split_once(':').unwrap_or((&arg, "10000"));
        let n = n.parse::<usize>().unwrap_or(10_000);
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
    benches();
    Criterion::default().configure_from_args().final_summary();
}
