//! `authorize` on the docs-app workload, next to the same rules written by hand in Rust.
//!
//! Run: `cargo bench -p warden-policy --bench authorize`. Besides criterion's groups it prints
//! the engine / hand-written ratio and the 1- vs 2-thread throughput; `AUTHZ_CALLS`
//! (see [`count_calls`]) runs one configuration for instruction counting instead, and
//! `AUTHZ_WORKING_SET` (see [`working_set`]) times the paths on a smaller working set.
//! `AUTHZ_COLD=0` skips the cold set ([`cold`]), `AUTHZ_COLD=only` runs only it.

mod docs_app;

use criterion::{black_box, Criterion};
use docs_app::{Row, World};
use std::sync::Barrier;
use std::time::{Duration, Instant};
use warden::{Engine, Request};

const N: usize = 4096;
/// The cold set: distinct requests, each owning its data (~40 MB of rows, requests and
/// texts together), walked in a shuffled order.
const N_COLD: usize = 100_000;

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
    // The host holds the request as JSON values: checked and read in place.
    g.bench_function("authorize (request built from JSON values)", |b| {
        b.iter(|| {
            i = (i + 1) % N;
            let d = e.authorize_json(black_box(&jsons[i])).map(|d| d.allowed);
            black_box(d.ok())
        })
    });
    // The same through an owned copy: every key and string copied.
    g.bench_function("authorize (Request::from_json, owned copy)", |b| {
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
    let e = engine(0);
    let requests: Vec<Request> = world.cases.iter().map(|c| world.request(c)).collect();
    let rounds = 2_000_000;
    let jsons: Vec<serde_json::Value> = world.cases.iter().map(|c| world.json(c)).collect();
    let eng = ns_per(rounds, |k| e.authorize(&requests[k]).allowed);
    let hand = ns_per(rounds, |k| world.hand(&world.cases[k]));
    let json = ns_per(rounds, |k| {
        e.authorize_json(&jsons[k]).is_ok_and(|d| d.allowed)
    });
    println!(
        "engine {eng:.1} ns/decision, hand-written {hand:.1} ns, ratio {:.2}x",
        eng / hand
    );
    println!(
        "engine from JSON values {json:.1} ns/decision, {:.2}x the built request",
        json / eng
    );

    // Throughput: the same total number of decisions on 1 thread, then split over 2;
    // best of 5 rounds each.
    let total = 4_000_000;
    let one = best_rate(&e, &requests, 1, total);
    let two = best_rate(&e, &requests, 2, total);
    println!(
        "throughput ({total} decisions, best of 5): 1 thread {:.2} M/s, 2 threads {:.2} M/s, \
         scaling {:.2}x",
        one / 1e6,
        two / 1e6,
        two / one
    );
}

/// Decisions per second of `threads` threads sharing one engine, `total` decisions split
/// evenly, best of 5 rounds. The threads are spawned and waiting at a barrier before the
/// clock starts, and the clock stops when the last one is done, so that both
/// configurations are timed the same way.
fn best_rate(e: &Engine, requests: &[Request], threads: usize, total: usize) -> f64 {
    let per = total / threads;
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Barrier::new(threads + 1);
        let done = Barrier::new(threads + 1);
        let elapsed = std::thread::scope(|s| {
            for t in 0..threads {
                let (start, done) = (&start, &done);
                s.spawn(move || {
                    let mut k = t * 997;
                    start.wait();
                    for _ in 0..per {
                        k = (k + 1) % N;
                        black_box(e.authorize(black_box(&requests[k])).allowed);
                    }
                    done.wait();
                });
            }
            start.wait();
            let t0 = Instant::now();
            done.wait();
            t0.elapsed()
        });
        best = best.min(elapsed);
    }
    (per * threads) as f64 / best.as_secs_f64()
}

/// `AUTHZ_WORKING_SET=K`: the three ways to decide, timed alike (best of 5 rounds) over
/// the first K requests of the mix only. A small K keeps every request in the L1 cache;
/// K = 4096 is the criterion benches' mix, where the JSON trees (B-tree nodes, a heap
/// block per string) are spread over ~10 MB, the built requests over less.
fn working_set(world: &World, k: usize) {
    let e = engine(0);
    let k = k.clamp(1, N);
    let requests: Vec<Request> = world.cases.iter().map(|c| world.request(c)).collect();
    let jsons: Vec<serde_json::Value> = world.cases.iter().map(|c| world.json(c)).collect();
    let built = ns_per(2_000_000, |i| e.authorize(&requests[i % k]).allowed);
    let json = ns_per(2_000_000, |i| {
        e.authorize_json(&jsons[i % k]).is_ok_and(|d| d.allowed)
    });
    let owned = ns_per(500_000, |i| {
        Request::from_json(&jsons[i % k]).is_ok_and(|q| e.authorize(&q).allowed)
    });
    println!(
        "{k} requests: built {built:.1} ns, JSON in place {json:.1} ns ({:.2}x), \
         Request::from_json {owned:.1} ns ({:.2}x)",
        json / built,
        owned / built
    );
}

/// The cold set of [`docs_app::cold_rows`]: 100,000 distinct requests whose data a host
/// holds per request (a user row, a post or user row), built and decided end to end as a
/// Rust host would: an owned `Request` then `authorize`, a borrowed `RequestRef` then
/// `authorize_ref`, the hand-written rules over the same rows; and the request as JSON
/// text: `authorize_json_str` (no `serde_json::Value`) against `serde_json::from_str`
/// then `authorize_json`. Every iteration moves to the next request, so its rows are
/// not in the CPU caches. Then the same-run ratios, best of 5 passes over the set each.
fn cold(c: &mut Criterion, rows: &[Row]) {
    let e = engine(0);
    let prebuilt: Vec<Request> = rows.iter().map(Row::request).collect();
    let texts: Vec<String> = rows
        .iter()
        .map(|r| docs_app::json_of(&r.request()).to_string())
        .collect();
    let n = rows.len();
    let mut g = c.benchmark_group("docs-app cold (100k distinct requests)");
    let mut i = 0usize;
    g.bench_function("owned Request built, then authorize", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            black_box(e.authorize(&black_box(&rows[i]).request()).allowed)
        })
    });
    g.bench_function("RequestRef built, then authorize_ref", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            black_box(e.authorize_ref(&black_box(&rows[i]).request_ref()).allowed)
        })
    });
    g.bench_function("hand-written Rust over the same rows", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            black_box(black_box(&rows[i]).hand())
        })
    });
    g.bench_function("authorize on prebuilt Requests", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            black_box(e.authorize(black_box(&prebuilt[i])).allowed)
        })
    });
    g.bench_function("JSON text: authorize_json_str", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            black_box(
                e.authorize_json_str(black_box(&texts[i]))
                    .map(|d| d.allowed)
                    .ok(),
            )
        })
    });
    g.bench_function(
        "JSON text: serde_json::from_str, then authorize_json",
        |b| {
            b.iter(|| {
                i = (i + 1) % n;
                let v: Option<serde_json::Value> = serde_json::from_str(black_box(&texts[i])).ok();
                black_box(v.and_then(|v| e.authorize_json(&v).map(|d| d.allowed).ok()))
            })
        },
    );
    g.finish();

    // Same-run ratios: each path timed alike, best of 5 passes over the whole set.
    let pass = |f: &dyn Fn(usize) -> bool| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                let mut k = 0usize;
                for j in 0..n {
                    k += usize::from(f(j));
                }
                black_box(k);
                t.elapsed().as_nanos() as f64 / n as f64
            })
            .fold(f64::INFINITY, f64::min)
    };
    let hand = pass(&|j| rows[j].hand());
    let borrowed = pass(&|j| e.authorize_ref(&rows[j].request_ref()).allowed);
    let owned = pass(&|j| e.authorize(&rows[j].request()).allowed);
    let text = pass(&|j| e.authorize_json_str(&texts[j]).is_ok_and(|d| d.allowed));
    let value = pass(&|j| {
        serde_json::from_str::<serde_json::Value>(&texts[j])
            .is_ok_and(|v| e.authorize_json(&v).is_ok_and(|d| d.allowed))
    });
    println!(
        "cold, {n} distinct requests (best of 5 passes): hand-written {hand:.1} ns; \
         RequestRef + authorize_ref {borrowed:.1} ns ({:.2}x hand); owned Request + authorize \
         {owned:.1} ns ({:.2}x hand); authorize_json_str {text:.1} ns ({:.2}x RequestRef); \
         from_str + authorize_json {value:.1} ns ({:.2}x RequestRef)",
        borrowed / hand,
        owned / hand,
        text / borrowed,
        value / borrowed
    );
}

/// Instruction counting (docs/BENCHMARKS.md, Engine): `AUTHZ_CALLS=MODE:N` makes N calls
/// over the mix in one mode and exits, for `valgrind --tool=callgrind` at two values of N.
/// Modes: `built` (`authorize` on built requests), `json` (`authorize_json`, in place),
/// `from_json` (`Request::from_json` then `authorize`), `cached` (`authorize` on built
/// requests with the decision cache on, capacity 100,000); building included:
/// `build_owned` (an owned `Request` built from the world's data, then `authorize`),
/// `build_ref` (a `RequestRef` borrowing it, then `authorize_ref`), `hand` (the
/// hand-written rules); from JSON text: `json_str` (`authorize_json_str`), `json_value`
/// (`serde_json::from_str` then `authorize_json`).
fn count_calls(world: &World, spec: &str) {
    let (mode, n) = spec.split_once(':').unwrap_or((spec, "8192"));
    let e = engine(if mode == "cached" { 100_000 } else { 0 });
    let n: usize = n.parse().unwrap_or(8192);
    if let Some(mode) = mode.strip_prefix("cold_") {
        let rows = docs_app::cold_rows(N_COLD);
        let texts: Vec<String> = rows
            .iter()
            .map(|r| docs_app::json_of(&r.request()).to_string())
            .collect();
        let allowed = cold_calls(mode, n, &e, &rows, &texts);
        println!("cold_{mode}: {n} calls, {allowed} allowed");
        return;
    }
    let requests: Vec<Request> = world.cases.iter().map(|c| world.request(c)).collect();
    let jsons: Vec<serde_json::Value> = world.cases.iter().map(|c| world.json(c)).collect();
    let texts: Vec<String> = world.cases.iter().map(|c| world.json_text(c)).collect();
    let allowed = calls(mode, n, world, &e, &requests, &jsons, &texts);
    println!("{mode}: {n} calls, {allowed} allowed");
}

/// The measured loop of [`count_calls`] on the cold set (modes `cold_hand`, `cold_ref`,
/// `cold_owned`, `cold_json_str`), one request after the other: with callgrind's
/// `--cache-sim=yes` it shows what the cold set costs in cache misses, load-independent.
#[inline(never)]
fn cold_calls(mode: &str, n: usize, e: &Engine, rows: &[Row], texts: &[String]) -> usize {
    let mut allowed = 0usize;
    for i in 0..n {
        let k = i % rows.len();
        let ok = match mode {
            "hand" => black_box(&rows[k]).hand(),
            "owned" => e.authorize(&black_box(&rows[k]).request()).allowed,
            "json_str" => e
                .authorize_json_str(black_box(&texts[k]))
                .is_ok_and(|d| d.allowed),
            _ => e.authorize_ref(&black_box(&rows[k]).request_ref()).allowed,
        };
        allowed += usize::from(black_box(ok));
    }
    allowed
}

/// The measured loop of [`count_calls`], alone in a function so that callgrind can count
/// only it: `--toggle-collect='*calls*'` leaves out building the world, loading the
/// policy and the clock's calibration (which varies from run to run).
#[inline(never)]
fn calls(
    mode: &str,
    n: usize,
    world: &World,
    e: &Engine,
    requests: &[Request],
    jsons: &[serde_json::Value],
    texts: &[String],
) -> usize {
    let mut allowed = 0usize;
    for i in 0..n {
        let k = i % N;
        let ok = match mode {
            "build_owned" => {
                e.authorize(&world.request(black_box(&world.cases[k])))
                    .allowed
            }
            "build_ref" => {
                e.authorize_ref(&world.request_ref(black_box(&world.cases[k])))
                    .allowed
            }
            "hand" => world.hand(black_box(&world.cases[k])),
            "json_str" => e
                .authorize_json_str(black_box(&texts[k]))
                .is_ok_and(|d| d.allowed),
            "json_value" => serde_json::from_str::<serde_json::Value>(black_box(&texts[k]))
                .is_ok_and(|v| e.authorize_json(&v).is_ok_and(|d| d.allowed)),
            "json" => e
                .authorize_json(black_box(&jsons[k]))
                .map(|d| d.allowed)
                .unwrap_or(false),
            "from_json" => Request::from_json(black_box(&jsons[k]))
                .map(|q| e.authorize(&q).allowed)
                .unwrap_or(false),
            _ => e.authorize(black_box(&requests[k])).allowed,
        };
        allowed += usize::from(black_box(ok));
    }
    allowed
}

fn main() {
    let world = docs_app::world(N);
    if let Ok(k) = std::env::var("AUTHZ_WORKING_SET") {
        working_set(&world, k.parse().unwrap_or(64));
        return;
    }
    if let Ok(spec) = std::env::var("AUTHZ_CALLS") {
        count_calls(&world, &spec);
        return;
    }
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    let which = std::env::var("AUTHZ_COLD").unwrap_or_default();
    if which != "only" {
        benches(&mut c, &world);
        ratio_and_scaling(&world);
    }
    if which != "0" {
        cold(&mut c, &docs_app::cold_rows(N_COLD));
    }
    c.final_summary();
}
