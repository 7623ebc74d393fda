//! `check_http` on a generated 200-route policy with security headers, CORS and one
//! rate limit (the engine's default in-memory store).
//!
//! Run: `cargo bench -p warden-policy --bench http`. Figures in docs/BENCHMARKS.md (`## HTTP`,
//! and `## Decision log and metrics` for the `observe` group: the same requests on
//! engines with metrics, and metrics plus a decision log to `/dev/null`).

use criterion::{black_box, Criterion};
use std::fmt::Write;
use std::sync::Arc;
use warden::decision_log::{DecisionLog, LogConfig, Sink};
use warden::metrics::Metrics;
use warden::{Engine, HttpRequest, Options, Principal};

const ROUTES: usize = 200;

/// 200 routes: 50 resource families, each with a catch-all, an item route with a
/// parameter, an admin subtree and a public sub-route; plus headers, cors, one limit.
fn policy() -> String {
    let mut p = String::from(
        "policy bench\nrole viewer\nrole editor > viewer\nrole admin > editor\n\
         principal { id: string, roles: set<role>, api_client: string? }\n\
         input { size: number }\n\
         limit api: 1000000000 per 1m by principal.api_client ?? ip\n\
         headers {\n  Strict-Transport-Security: \"max-age=31536000\"\n  \
         X-Content-Type-Options: \"nosniff\"\n  X-Frame-Options: \"DENY\"\n  \
         Content-Security-Policy: \"default-src 'self'\"\n  \
         Referrer-Policy: \"no-referrer\"\n}\n\
         cors {\n  origins: \"https://app.example.com\", \"https://admin.example.com\"\n  \
         methods: GET, POST, PUT, DELETE\n  headers: Content-Type, Authorization\n  \
         credentials: true\n  max_age: 1h\n}\n",
    );
    for f in 0..ROUTES / 4 {
        let _ = write!(
            p,
            "route /api/r{f}/** {{\n  require auth\n  limit api\n}}\n\
             route GET, PUT /api/r{f}/items/:id {{\n  require input.size <= 10MB else 413\n}}\n\
             route /api/r{f}/admin/** {{ require role admin }}\n\
             route GET /api/r{f}/public/** {{\n  public\n  header set Cache-Control: \"public, max-age=60\"\n}}\n"
        );
    }
    p
}

fn load(text: &str, options: Options) -> Engine {
    match Engine::from_source("bench.warden", text, options) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}

/// The engines of the `observe` group: off, metrics, metrics + a decision log of every
/// decision to `/dev/null` (a queue large enough that nothing is dropped).
fn observed(text: &str) -> [(&'static str, Engine); 3] {
    let metrics = Arc::new(Metrics::new());
    let log = match DecisionLog::open(LogConfig {
        capacity: 1 << 16,
        ..LogConfig::new(Sink::File("/dev/null".into()))
    }) {
        Ok(l) => Arc::new(l),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    };
    [
        ("off", load(text, Options::default())),
        (
            "metrics",
            load(text, Options::default().metrics(Arc::clone(&metrics))),
        ),
        (
            "metrics+log",
            load(text, Options::default().metrics(metrics).decision_log(log)),
        ),
    ]
}

fn main() {
    let text = policy();
    // `HTTP_OBSERVE=metrics|metrics+log` runs the counting mode below on that engine.
    let observe = std::env::var("HTTP_OBSERVE").unwrap_or_default();
    let engine = observed(&text)
        .into_iter()
        .find(|(name, _)| *name == observe)
        .map_or_else(|| load(&text, Options::default()), |(_, e)| e);
    let allowed = HttpRequest::new("PUT", "/api/r37/items/9f2c")
        .header("origin", "https://app.example.com")
        .header("content-type", "application/json")
        .ip("203.0.113.7"
            .parse()
            .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()))
        .principal(
            Principal::new("u1")
                .role("editor")
                .attr("api_client", "acme"),
        )
        .input("size", 2048.0);
    let d = engine.check_http(&allowed);
    assert!(d.allowed && d.status == 200, "{d:?}");
    let denied = HttpRequest::new("GET", "/api/r12/admin/users")
        .ip("203.0.113.7"
            .parse()
            .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()))
        .principal(Principal::new("u1").role("editor"));
    assert_eq!(engine.check_http(&denied).status, 403);
    let unmatched = HttpRequest::new("GET", "/assets/app.js");
    assert!(engine.check_http(&unmatched).allowed);

    // Instruction counting (docs/BENCHMARKS.md, HTTP): `HTTP_CALLS=allowed:N` runs N
    // calls of one case and exits, for `valgrind --tool=callgrind` at two values of N.
    if let Ok(spec) = std::env::var("HTTP_CALLS") {
        // `SystemClock` calibrates on a thread of its own and reads `SystemTime` until
        // it is done (~280 more instructions a request under valgrind): count after.
        std::thread::sleep(std::time::Duration::from_secs(2));
        let (case, n) = spec.split_once(':').unwrap_or((&spec, "10000"));
        let req = match case {
            "denied" => &denied,
            "unmatched" => &unmatched,
            _ => &allowed,
        };
        for _ in 0..n.parse::<u32>().unwrap_or(10_000) {
            black_box(engine.check_http(black_box(req)).status);
        }
        return;
    }
    // The metrics' cost in one process (docs/BENCHMARKS.md, decision log and metrics):
    // `HTTP_AB=CASE:ROUNDS` times batches of 20,000 calls of the case on the engine
    // without metrics and on the one with them, alternated (the order swapped each
    // round), and prints the median and mean of the rounds' ratios. Separate processes
    // differ by ±3% in their layout and the VM's phase; adjacent batches of one process
    // do not, so this resolves a one-point difference that process pairs cannot.
    if let Ok(spec) = std::env::var("HTTP_AB") {
        let (case, rounds) = spec.split_once(':').unwrap_or((&spec, "200"));
        let req = if case == "denied" { &denied } else { &allowed };
        let engines = observed(&text);
        let batch = |e: &Engine| {
            let start = std::time::Instant::now();
            for _ in 0..20_000 {
                black_box(e.check_http(black_box(req)).status);
            }
            start.elapsed().as_nanos() as f64 / 20_000.0
        };
        let (off, on) = (&engines[0].1, &engines[1].1);
        batch(off);
        batch(on);
        let mut ratios = Vec::new();
        let (mut sum_off, mut sum_on) = (0.0, 0.0);
        for round in 0..rounds.parse::<usize>().unwrap_or(200) {
            let (a, b) = if round % 2 == 0 {
                let a = batch(off);
                (a, batch(on))
            } else {
                let b = batch(on);
                (batch(off), b)
            };
            ratios.push(b / a);
            sum_off += a;
            sum_on += b;
        }
        ratios.sort_by(f64::total_cmp);
        let q = |f: f64| (ratios[((ratios.len() - 1) as f64 * f) as usize] - 1.0) * 100.0;
        let n = ratios.len() as f64;
        println!(
            "{case}: off {:.1} ns, metrics {:.1} ns; metrics' cost: median {:+.2}% (quartiles {:+.2}% / {:+.2}%), of the means {:+.2}%, {} rounds",
            sum_off / n,
            sum_on / n,
            q(0.5),
            q(0.25),
            q(0.75),
            (sum_on / sum_off - 1.0) * 100.0,
            ratios.len()
        );
        return;
    }
    // Threads (docs/BENCHMARKS.md, decision log and metrics): `HTTP_THREADS=T` runs
    // the allowed request on T threads at once, on each engine of the `observe`
    // group in turn, alternated for five rounds, and prints ns per request per
    // thread: counters every thread increments are shared cache lines.
    if let Ok(t) = std::env::var("HTTP_THREADS") {
        let threads = t.parse::<usize>().unwrap_or(2);
        let engines = observed(&text);
        let n = 2_000_000u32;
        for round in 0..5 {
            for (name, e) in &engines {
                let start = std::time::Instant::now();
                std::thread::scope(|s| {
                    for i in 0..threads {
                        // A key of its own per thread: the limit's counter is not shared.
                        let mut req = allowed.clone();
                        if let Some(p) = req.principal.as_mut() {
                            *p = p.clone().attr("api_client", format!("client{i}"));
                        }
                        s.spawn(move || {
                            for _ in 0..n {
                                black_box(e.check_http(black_box(&req)).status);
                            }
                        });
                    }
                });
                let ns = start.elapsed().as_nanos() as f64 / f64::from(n);
                println!("round {round} {name:12} {threads} threads: {ns:.1} ns/request");
            }
        }
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("http-200-routes");
    g.bench_function("check_http allowed (auth, limit, input, cors)", |b| {
        b.iter(|| black_box(engine.check_http(black_box(&allowed)).status))
    });
    g.bench_function("check_http denied by role", |b| {
        b.iter(|| black_box(engine.check_http(black_box(&denied)).status))
    });
    g.bench_function("check_http no route", |b| {
        b.iter(|| black_box(engine.check_http(black_box(&unmatched)).status))
    });
    g.finish();
    // Same run, same requests, interleaved per case: the cost of metrics and the log.
    let engines = observed(&text);
    let mut g = c.benchmark_group("observe");
    for (case, req) in [("allowed", &allowed), ("denied", &denied)] {
        for (name, e) in &engines {
            g.bench_function(format!("check_http {case} {name}"), |b| {
                b.iter(|| black_box(e.check_http(black_box(req)).status))
            });
        }
    }
    g.finish();
    c.final_summary();
}
