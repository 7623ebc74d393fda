//! The Redis store against a real Redis (`scripts/with-redis.sh cargo test -p warden-policy
//! --test redis`): the memory store's cases, the Lua script against the Rust
//! algorithms on random arrivals, two instances hammering one key, a Redis killed and
//! restarted, a server that never answers, and `SCRIPT FLUSH`.
//!
//! Without `WARDEN_REDIS_URL` each test says SKIPPED on stderr and passes, unless
//! `CI=true`, where a missing Redis is a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[path = "limits/cases.rs"]
mod cases;

use cases::{spec, SECOND, T0};
use proptest::prelude::*;
use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use warden::limit::{MemoryStore, RedisOptions, RedisStore};
use warden::{LimitStore, StoreError};

/// The Redis under test, or `None` (after saying so) when there is none.
fn redis_url() -> Option<String> {
    match std::env::var("WARDEN_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but WARDEN_REDIS_URL is unset: run under scripts/with-redis.sh")
        }
        _ => {
            // Once, and straight to the process's stderr: the harness captures `eprintln!`.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: Redis store tests need a Redis; set WARDEN_REDIS_URL \
                     (or run under scripts/with-redis.sh)"
                );
            });
            None
        }
    }
}

fn options() -> RedisOptions {
    RedisOptions {
        connect_timeout: Duration::from_millis(300),
        command_timeout: Duration::from_millis(200),
        reconnect_backoff: Duration::from_millis(50),
        pool_size: 16,
        ca_file: None,
    }
}

/// A store on database `db` (tests run in parallel; each gets its own database),
/// emptied first.
fn store_on(url: &str, db: u8) -> RedisStore {
    let url = format!("{}/{db}", url.trim_end_matches('/'));
    flush(&url);
    RedisStore::open(&url, options()).unwrap()
}

fn raw(url: &str) -> redis::Connection {
    redis::Client::open(url)
        .unwrap()
        .get_connection_with_timeout(Duration::from_secs(2))
        .unwrap()
}

fn flush(url: &str) {
    redis::cmd("FLUSHDB").query::<()>(&mut raw(url)).unwrap();
}

macro_rules! with_redis {
    ($url:ident) => {
        let Some($url) = redis_url() else { return };
    };
}

#[test]
fn gcra_window_edges() {
    with_redis!(url);
    cases::gcra_window_edges(&store_on(&url, 1));
}

#[test]
fn strict_window_edges() {
    with_redis!(url);
    cases::strict_window_edges(&store_on(&url, 2));
}

#[test]
fn strict_vs_gcra() {
    with_redis!(url);
    cases::strict_vs_gcra(&store_on(&url, 3));
}

#[test]
fn independent_keys_and_limits() {
    with_redis!(url);
    cases::independent_keys_and_limits(&store_on(&url, 4));
}

#[test]
fn clear_forgets() {
    with_redis!(url);
    cases::clear_forgets(&store_on(&url, 5));
}

/// Two app instances (two stores), 8 threads each, one key: exactly what one thread
/// on the memory store admits, phase by phase; over-admission 0.
#[test]
fn two_instances_sixteen_threads_admit_exactly_the_guarantee() {
    with_redis!(url);
    for strict in [false, true] {
        let a = store_on(&url, 6);
        let b = RedisStore::open(&format!("{url}/6"), options()).unwrap();
        cases::hammer(&[&a, &b], 8, strict, &MemoryStore::new(16));
    }
}

/// 100 concurrent `check_async` calls at one instant admit exactly `count`.
#[test]
fn concurrent_async_checks() {
    with_redis!(url);
    let store = store_on(&url, 7);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for strict in [false, true] {
        let s = spec(
            "p",
            if strict { "as" } else { "ag" },
            30,
            60 * SECOND,
            strict,
        );
        let admitted = rt.block_on(async {
            let checks = (0..100).map(|_| store.check_async(&s, b"k", T0));
            let results = futures_join_all(checks).await;
            results
                .into_iter()
                .filter(|r| r.as_ref().unwrap().allowed)
                .count()
        });
        assert_eq!(admitted, 30, "strict={strict}");
    }
}

/// Awaits every future, concurrently (tokio has no `join_all`; spawning would need
/// `'static` borrows).
async fn futures_join_all<F: std::future::Future + Unpin>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut pending: Vec<Option<F>> = futures.map(Some).collect();
    let mut out: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, result) in pending.iter_mut().zip(out.iter_mut()) {
            if let Some(f) = slot {
                match std::pin::Pin::new(f).poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *result = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

/// Keys hold no client material, carry a TTL, and vanish once idle.
#[test]
fn keys_are_hashed_and_expire() {
    with_redis!(url);
    let store = store_on(&url, 8);
    let s = spec("app", "api", 5, 30_000, false);
    store.check(&s, b"secret-api-key", T0).unwrap();
    let mut con = raw(&format!("{url}/8"));
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
    assert_eq!(keys, [RedisStore::redis_key(&s, b"secret-api-key")]);
    assert!(keys[0].starts_with("warden:app:api:{") && keys[0].ends_with('}'));
    assert!(!keys[0].contains("secret"));
    let ttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query(&mut con).unwrap();
    // The time until the quota is whole (one interval, 6 ms) plus a second for skew.
    assert!(ttl > 900 && ttl <= 1_006, "{ttl}");
    std::thread::sleep(Duration::from_millis(1_100));
    let left: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
    assert!(left.is_empty(), "{left:?}");
}

/// After `SCRIPT FLUSH` the next check loads the script again, sync and async.
///
/// On a Redis of its own: the script cache is server-wide, and the other tests (on
/// other databases of the shared server) load the script at any moment, which made
/// the "absent after FLUSH" precondition race.
#[test]
fn script_flush_recovery() {
    with_redis!(_url);
    let port = free_port();
    let _child = start_redis(port);
    let url = format!("redis://127.0.0.1:{port}");
    let store = RedisStore::open(&url, options()).unwrap();
    let mut con = raw(&url);
    let s = spec("p", "f", 100, SECOND, false);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for round in 0..2u64 {
        redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query::<()>(&mut con)
            .unwrap();
        let loaded: Vec<bool> = redis::cmd("SCRIPT")
            .arg("EXISTS")
            .arg(store.script_hash())
            .query(&mut con)
            .unwrap();
        assert_eq!(loaded, [false]);
        assert!(store.check(&s, b"k", T0 + round).unwrap().allowed);
        redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query::<()>(&mut con)
            .unwrap();
        assert!(
            rt.block_on(store.check_async(&s, b"k", T0 + round))
                .unwrap()
                .allowed
        );
        let loaded: Vec<bool> = redis::cmd("SCRIPT")
            .arg("EXISTS")
            .arg(store.script_hash())
            .query(&mut con)
            .unwrap();
        assert_eq!(loaded, [true]);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A redis-server child, stopped and reaped when dropped (also when a test panics).
struct RedisChild(Child);

impl Drop for RedisChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(port: u16) -> RedisChild {
    let child = RedisChild(
        Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (scripts/with-redis.sh installs it)"),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("redis-server did not start on port {port}");
}

/// Redis dies under a running store: checks fail within the timeout, as values; after
/// a restart (empty, no scripts loaded) checks resume by themselves.
#[test]
fn redis_killed_and_restarted() {
    with_redis!(_url);
    let port = free_port();
    let child = start_redis(port);
    let store = RedisStore::open(&format!("redis://127.0.0.1:{port}"), options()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let s = spec("p", "k", 1_000, SECOND, false);
    assert!(store.check(&s, b"k", T0).unwrap().allowed);
    assert!(
        rt.block_on(store.check_async(&s, b"k", T0))
            .unwrap()
            .allowed
    );

    drop(child);
    let bound = Duration::from_millis(300 + 2 * 200 + 200);
    for _ in 0..3 {
        let started = Instant::now();
        let e = store.check(&s, b"k", T0).unwrap_err();
        assert!(started.elapsed() < bound, "{:?}", started.elapsed());
        assert!(
            matches!(e, StoreError::Unavailable(_) | StoreError::Timeout),
            "{e:?}"
        );
        let started = Instant::now();
        let e = rt.block_on(store.check_async(&s, b"k", T0)).unwrap_err();
        assert!(started.elapsed() < bound, "{:?}", started.elapsed());
        assert!(
            matches!(e, StoreError::Unavailable(_) | StoreError::Timeout),
            "{e:?}"
        );
    }

    let child = start_redis(port);
    let deadline = Instant::now() + Duration::from_secs(5);
    let (mut sync_ok, mut async_ok) = (false, false);
    while Instant::now() < deadline && !(sync_ok && async_ok) {
        sync_ok = sync_ok || store.check(&s, b"k", T0).is_ok();
        async_ok = async_ok || rt.block_on(store.check_async(&s, b"k", T0)).is_ok();
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(child);
    assert!(sync_ok && async_ok, "sync {sync_ok}, async {async_ok}");
}

/// A server that accepts connections and never answers: `Timeout`, within the timeout.
#[test]
fn silent_server_times_out() {
    with_redis!(_url);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        // Hold every connection open, read nothing, write nothing.
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let store = RedisStore::open(&format!("redis://127.0.0.1:{port}"), options()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let s = spec("p", "k", 10, SECOND, false);
    let bound = Duration::from_millis(300 + 2 * 200 + 200);
    let started = Instant::now();
    assert_eq!(store.check(&s, b"k", T0), Err(StoreError::Timeout));
    assert!(started.elapsed() < bound, "{:?}", started.elapsed());
    // Within the backoff after that failure, checks answer at once.
    let started = Instant::now();
    assert!(matches!(
        store.check(&s, b"k", T0),
        Err(StoreError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < Duration::from_millis(20),
        "{:?}",
        started.elapsed()
    );
    std::thread::sleep(Duration::from_millis(60));
    let started = Instant::now();
    assert_eq!(
        rt.block_on(store.check_async(&s, b"k", T0)),
        Err(StoreError::Timeout)
    );
    assert!(started.elapsed() < bound, "{:?}", started.elapsed());
}

fn arrivals() -> impl Strategy<Value = (u64, u64, bool, Vec<u64>)> {
    (1u64..8, 1u64..400, any::<bool>())
        .prop_flat_map(|(count, period, strict)| {
            let gaps = prop::collection::vec(
                prop_oneof![3 => Just(0u64), 5 => 0..period / 2 + 1, 1 => 0..3 * period],
                1..120,
            );
            (Just(count), Just(period), Just(strict), gaps)
        })
        .prop_map(|(c, p, strict, gaps)| {
            let mut t = T0;
            let times = gaps
                .into_iter()
                .map(|g| {
                    t += g;
                    t
                })
                .collect();
            (c, p, strict, times)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The Lua script and the Rust algorithms give the same answers, field for field.
    #[test]
    fn lua_matches_the_memory_store((count, period, strict, times) in arrivals()) {
        let Some(url) = redis_url() else { return Ok(()) };
        let redis = store_on(&url, 10);
        let memory = MemoryStore::new(16);
        let s = spec("p", "diff", count, period, strict);
        for &t in &times {
            let want = memory.check(&s, b"k", t).unwrap();
            let got = redis.check(&s, b"k", t).unwrap();
            prop_assert_eq!(got, want, "at {}", t - T0);
        }
    }
}
