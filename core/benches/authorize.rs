//! `authorize` on the docs-app workload, next to the same rules written by hand in Rust.
//!
//! Run: `cargo bench -p warden --bench authorize`. Besides criterion's groups it prints
//! the engine / hand-written ratio and the 1- vs 2-thread throughput.

mod docs_app;

use criterion::{black_box, Criterion};
use docs_app::World;
use std::sync::Arc;
use std::time::{Duration, Instant};
use warden::{Engine, Request};

const N: usize = 4096;

fn engine(cache: usize) -> Engine {
    let opts = docs_app::options().cache_size(cache);
    match Engine::from_source("docs-app.warden", docs_app::POLICY, opts) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}

fn benches(c: &mut Criterion, world: &World) {
    let e = engine(0);
    let cached = engine(100_000);
    let requests: Vec<Request> = world.cases.iter().map(|c| world.request(c)).collect();
    let jsons: Vec<serde_json::Value> = world.cases.iter().map(|c| world.json(c)).collect();

    let mut g = c.benchmark_group("docs-app");
    let mut i = 0usize;
    g.bench_function("authorize (built request)", |b| {
        b.iter(|| {
            i = (i + 1) % N;
            black_box(e.authorize(black_box(&requests[i])).allowed)
        })
    });
    g.bench_function("authorize (request built from JSON values)", |b| {
        b.iter(|| {
            i = (i + 1) % N;
            let q = Request::from_json(black_box(&jsons[i])).map(|q| e.authorize(&q).allowed);
            black_box(q.ok())
        })
    });
    g.bench_function("authorize (built request, decision cache on)", |b| {
        b.iter(|| {
            i = (i + 1) % N;
            black_box(cached.authorize(black_box(&requests[i])).allowed)
        })
    });
    g.bench_function("hand-written Rust", |b| {
        b.iter(|| {
            i = (i + 1) % N;
            black_box(world.hand(black_box(&world.cases[i])))
        })
    });
    g.bench_function("compile policy", |b| b.iter(|| black_box(engine(0))));
    g.finish();
}

/// Nanoseconds per call of `f` over the case indices, best of 5 rounds.
fn ns_per(rounds: usize, mut f: impl FnMut(usize) -> bool) -> f64 {
    (0..5)
        .map(|_| {
            let t = Instant::now();
            let mut n = 0usize;
            for k in 0..rounds {
                n += usize::from(f(k % N));
            }
            black_box(n);
            t.elapsed().as_nanos() as f64 / rounds as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn ratio_and_scaling(world: &World) {
    let e = Arc::new(engine(0));
    let requests: Arc<Vec<Request>> =
        Arc::new(world.cases.iter().map(|c| world.request(c)).collect());
    let rounds = 2_000_000;
    let eng = ns_per(rounds, |k| e.authorize(&requests[k]).allowed);
    let hand = ns_per(rounds, |k| world.hand(&world.cases[k]));
    println!(
        "engine {eng:.1} ns/decision, hand-written {hand:.1} ns, ratio {:.2}x",
        eng / hand
    );

    // Throughput: decisions in a fixed time on 1 thread, then on 2.
    let run = |threads: usize| {
        let window = Duration::from_millis(1500);
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (e, requests) = (Arc::clone(&e), Arc::clone(&requests));
                std::thread::spawn(move || {
                    let start = Instant::now();
                    let mut n = 0u64;
                    let mut k = t * 997;
                    while start.elapsed() < window {
                        for _ in 0..1024 {
                            k = (k + 1) % N;
                            black_box(e.authorize(&requests[k]).allowed);
                            n += 1;
                        }
                    }
                    n as f64 / start.elapsed().as_secs_f64()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(0.0))
            .sum::<f64>()
    };
    let one = run(1);
    let two = run(2);
    println!(
        "throughput: 1 thread {:.2} M/s, 2 threads {:.2} M/s, scaling {:.2}x",
        one / 1e6,
        two / 1e6,
        two / one
    );
}

fn main() {
    let world = docs_app::world(N);
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    benches(&mut c, &world);
    ratio_and_scaling(&world);
    c.final_summary();
}
