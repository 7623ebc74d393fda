//! Loading a policy with many routes, for n = 10k, 20k, 40k, 80k, 100k literal-prefixed
//! routes: the whole load (`Engine::from_source`: parse, check, compile, route trie),
//! and the compile alone (`Engine::from_policy` on a tree parsed and checked once: the
//! decision tables and the route trie). Issue 15: the route table was quadratic
//! (10k/20k/40k/80k routes in 0.23/0.39/1.3/4.8 s); a linear build doubles its time
//! with n. Run with `cargo bench -p warden-policy --bench route_table`.
//!
//! `WARDEN_BENCH_ROUTES=N` instead loads N routes once, prints the time of each stage and
//! exits, for measuring the peak memory of one load
//! (`/usr/bin/time -v target/release/deps/route_table-*`).

use criterion::{black_box, criterion_group, BenchmarkId, Criterion};
use warden::{Engine, Options};

/// `n` routes under one literal prefix, each with a requirement, as a generated
/// policy (an API gateway's table) would have them.
fn policy(n: usize) -> String {
    let mut s = String::with_capacity(n * 48);
    s.push_str("policy big\nrole admin\n");
    for i in 0..n {
        s.push_str(&format!(
            "route /api/r{i}/:id {{\n  require role admin\n}}\n"
        ));
    }
    s
}

fn load(c: &mut Criterion) {
    let mut g = c.benchmark_group("load n routes");
    g.sample_size(10);
    for n in [10_000, 20_000, 40_000, 80_000, 100_000] {
        let src = policy(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &src, |b, src| {
            b.iter(|| {
                black_box(Engine::from_source("big.warden", src, Options::default()).is_ok())
            });
        });
    }
    g.finish();
    let mut g = c.benchmark_group("compile n routes (parsed and checked)");
    g.sample_size(10);
    for n in [10_000, 20_000, 40_000, 80_000, 100_000] {
        let src = policy(n);
        let Ok(checked) = warden_lang::load(&src, &Options::default().limits) else {
            eprintln!("the generated policy of {n} routes does not check");
            std::process::exit(1)
        };
        g.bench_with_input(BenchmarkId::from_parameter(n), &src, |b, src| {
            b.iter(|| {
                black_box(
                    Engine::from_policy("big.warden", src, &checked.policy, Options::default())
                        .is_ok(),
                )
            });
        });
    }
    g.finish();
}

criterion_group!(benches, load);

fn main() {
    if let Some(n) = std::env::var("WARDEN_BENCH_ROUTES")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let src = policy(n);
        let t = std::time::Instant::now();
        let checked = warden_lang::load(&src, &Options::default().limits);
        let checking = t.elapsed();
        let ok = checked.is_ok_and(|c| {
            Engine::from_policy("big.warden", &src, &c.policy, Options::default()).is_ok()
        });
        println!(
            "{n} routes ({} bytes): loaded={ok} in {:?} (parse and check {checking:?}, compile {:?})",
            src.len(),
            t.elapsed(),
            t.elapsed() - checking
        );
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
