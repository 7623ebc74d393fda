//! Load generator for the shared limit store on a Redis Cluster: how checks per second
//! scale with the number of masters (issue 22). One process runs `WARDEN_LOAD_TASKS`
//! concurrent `check_async` loops (default 64) for `WARDEN_LOAD_SECS` seconds (default
//! 10) against the cluster named by `WARDEN_REDIS_CLUSTER_URLS`, each check on one of
//! 100,000 client keys (spread over every slot by their hash tag), and prints one line
//! of JSON: checks, checks/s, store errors, and latency percentiles.
//!
//! `scripts/bench-redis-cluster.sh` starts a 1-master and then a 3-master cluster and
//! runs two of these processes side by side against each (figures in docs/BENCHMARKS.md,
//! "Redis Cluster: 1 vs 3 masters"). It is a load generator, not a criterion bench:
//! what it measures is throughput under concurrency, which criterion's one-at-a-time
//! iterations do not show.

mod support;
use support::clients;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use warden::limit::{RedisOptions, RedisStore};
use warden::{LimitSpec, LimitStore};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn exit(message: impl std::fmt::Display) -> ! {
    eprintln!("redis_cluster: {message}");
    std::process::exit(1)
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() {
    // `cargo bench` passes `--bench`; this generator runs only when asked to.
    let Ok(urls) = std::env::var("WARDEN_REDIS_CLUSTER_URLS") else {
        eprintln!("SKIPPED: set WARDEN_REDIS_CLUSTER_URLS (scripts/bench-redis-cluster.sh)");
        return;
    };
    let urls: Vec<&str> = urls.split(',').collect();
    let tasks = env_or("WARDEN_LOAD_TASKS", 64);
    let secs = env_or("WARDEN_LOAD_SECS", 10);
    // Each process gets its own keys (`WARDEN_LOAD_OFFSET`), as two app instances serve
    // different clients.
    let offset = env_or("WARDEN_LOAD_OFFSET", 0) as u32;
    let store = Arc::new(
        RedisStore::open_cluster(&urls, RedisOptions::default()).unwrap_or_else(|e| exit(e)),
    );
    let spec = Arc::new(LimitSpec {
        id: 0,
        policy: "bench".into(),
        name: "api".into(),
        count: 1_000_000,
        period_us: 60_000_000,
        strict: false,
    });
    let keys: Arc<Vec<Vec<u8>>> = Arc::new(
        clients(100_000)
            .into_iter()
            .map(|mut k| {
                k.extend_from_slice(format!("#{offset}").as_bytes());
                k
            })
            .collect(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| exit(e));
    let epoch = Instant::now();
    let t0 = 1_764_000_000_000_000u64;

    // Warm up: every master connected and the script loaded before the clock starts.
    rt.block_on(async {
        for k in keys.iter().take(256) {
            if let Err(e) = store.check_async(&spec, k, t0).await {
                exit(format!("warm-up check failed: {e}"));
            }
        }
    });

    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let latencies: Vec<u32> = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for t in 0..tasks {
            let (store, spec, keys, stop, errors) = (
                store.clone(),
                spec.clone(),
                keys.clone(),
                stop.clone(),
                errors.clone(),
            );
            set.spawn(async move {
                let mut lat = Vec::with_capacity(1 << 16);
                let mut i = (t as usize * 7_919) % keys.len();
                while !stop.load(Ordering::Relaxed) {
                    let now = t0 + epoch.elapsed().as_micros() as u64;
                    let begin = Instant::now();
                    if store.check_async(&spec, &keys[i], now).await.is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    lat.push(begin.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    i = (i + 1) % keys.len();
                }
                lat
            });
        }
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        while let Some(r) = set.join_next().await {
            all.extend(r.unwrap_or_else(|e| exit(e)));
        }
        all
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut sorted = latencies;
    sorted.sort_unstable();
    println!(
        "{{\"masters_seeds\":{},\"tasks\":{tasks},\"seconds\":{elapsed:.2},\"checks\":{},\"checks_per_s\":{:.0},\"errors\":{},\"p50_us\":{},\"p99_us\":{}}}",
        urls.len(),
        sorted.len(),
        sorted.len() as f64 / elapsed,
        errors.load(Ordering::Relaxed),
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.99),
    );
}
