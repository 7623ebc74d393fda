//! Criterion bench: parse, and parse + check, a generated 10,000-rule policy.
//!
//! The policy mixes what real ones hold: a role DAG, grants, shapes, allow and deny
//! rules whose conditions use comparisons, `in`, `contains`, `starts_with`, `matches`,
//! `??`, `is` and `.len`, limits, routes with requirements, headers and cors.
//! Run: `cargo bench -p warden-policy-lang --bench parse`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use warden_lang::{load, parse, Limits};

mod gen;
use gen::{generate, RULES};

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let src = generate(RULES);
    // The generated policy must be valid, or the bench measures error recovery.
    if let Err(d) = load(&src, &limits) {
        let shown = warden_lang::diag::render("bench.warden", &src, &d[..d.len().min(5)], false);
        panic!("generated policy does not load:\n{shown}");
    }
    let mut g = c.benchmark_group("10k-rules");
    g.throughput(Throughput::Bytes(src.len() as u64));
    g.sample_size(20);
    g.bench_function("parse", |b| {
        b.iter(|| parse(black_box(&src), &limits).unwrap())
    });
    g.bench_function("load (parse + check)", |b| {
        b.iter(|| load(black_box(&src), &limits).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
