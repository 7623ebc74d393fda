//! Rate-limit store costs: one in-memory check (GCRA and sliding log, on a known key
//! and on a stream of new keys through a full store).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
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

/// Clients as IPv4 text, as the HTTP layer passes them.
fn clients(n: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let [a, b, c, d] = (i + 0x0A00_0000).to_be_bytes();
            format!("{a}.{b}.{c}.{d}").into_bytes()
        })
        .collect()
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

criterion_group!(benches, memory);
criterion_main!(benches);
