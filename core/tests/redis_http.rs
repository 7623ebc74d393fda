//! `Engine::check_http` over a `RedisStore` whose Redis is down (a closed port): each
//! `OnStoreError` choice decides as documented, within the store's timeout, and a live
//! Redis (`WARDEN_REDIS_URL`, as in `tests/redis.rs`) counts through the engine.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};
use warden::limit::{RedisOptions, RedisStore};
use warden::{Engine, HttpRequest, ManualClock, OnStoreError, Options};

const POLICY: &str = r#"policy app
limit login: 2 per 15m by ip strict
route POST /login {
  public
  limit login
}
"#;

const T0: u64 = 1_795_341_600_000_000;

fn options() -> RedisOptions {
    RedisOptions {
        connect_timeout: Duration::from_millis(300),
        command_timeout: Duration::from_millis(200),
        reconnect_backoff: Duration::from_millis(50),
        pool_size: 4,
        ca_file: None,
    }
}

fn engine(url: &str, on: OnStoreError) -> Engine {
    let store = RedisStore::open(url, options()).unwrap();
    let options = Options::default()
        .store(Arc::new(store))
        .on_store_error(on)
        .clock(Arc::new(ManualClock::new(T0)));
    Engine::from_source("app.warden", POLICY, options).unwrap()
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn login() -> HttpRequest {
    HttpRequest::new("POST", "/login").ip("203.0.113.7".parse().unwrap())
}

#[test]
fn redis_down_each_choice() {
    let url = format!("redis://127.0.0.1:{}", closed_port());
    let bound = Duration::from_millis(300 + 200 + 200);

    let e = engine(&url, OnStoreError::FailClosed);
    let started = Instant::now();
    let d = e.check_http(&login());
    assert!(started.elapsed() < bound, "{:?}", started.elapsed());
    assert_eq!((d.allowed, d.status), (false, 503));
    // What failed goes to the log (`note`), never to the client (issue 15).
    assert_eq!(d.reason.as_deref(), Some("service temporarily unavailable"));
    let note = d.note.as_deref().unwrap();
    assert!(note.contains("rate-limit store unavailable"), "{note}");
    assert!(!note.contains("203.0.113.7"), "{note}");

    let e = engine(&url, OnStoreError::FailOpen);
    let d = e.check_http(&login());
    assert_eq!((d.allowed, d.status), (true, 200));
    assert!(d.note.as_deref().unwrap().contains("fail-open"));

    // Fallback counts in process memory while Redis is down: the strict 2 still holds.
    let e = engine(&url, OnStoreError::Fallback);
    let statuses: Vec<u16> = (0..3).map(|_| e.check_http(&login()).status).collect();
    assert_eq!(statuses, [200, 200, 429]);
}

#[test]
fn live_redis_counts_through_the_engine() {
    let Ok(url) = std::env::var("WARDEN_REDIS_URL") else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "CI=true needs WARDEN_REDIS_URL"
        );
        return;
    };
    let url = format!("{}/11", url.trim_end_matches('/'));
    let mut con = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    redis::cmd("FLUSHDB").query::<()>(&mut con).unwrap();
    // Two engines (two app instances) share the count.
    let a = engine(&url, OnStoreError::FailClosed);
    let b = engine(&url, OnStoreError::FailClosed);
    assert!(a.check_http(&login()).allowed);
    assert!(b.check_http(&login()).allowed);
    let d = a.check_http(&login());
    assert_eq!(d.status, 429);
    assert_eq!(d.header("retry-after"), Some("900"));
}
