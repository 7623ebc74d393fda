//! The Redis store over TLS against a real TLS-only redis-server whose certificate a CA
//! made for this run signed (`scripts/with-redis-tls.sh cargo test -p warden-policy
//! --test redis_tls`): verified connections count exactly (two engines share one
//! budget), and every way verification can fail (another CA, the system's roots, a
//! host name the certificate does not name, plain TCP to the TLS port, `#insecure`) is
//! a clear error value, and a 503 through the engine.
//!
//! Without `WARDEN_REDIS_TLS_URL` each test says SKIPPED on stderr and passes, unless
//! `CI=true`, where a missing server is a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[path = "limits/cases.rs"]
mod cases;

use cases::{spec, T0};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use warden::limit::{MemoryStore, RedisOptions, RedisStore};
use warden::{Engine, HttpRequest, LimitStore, ManualClock, OnStoreError, Options, StoreError};

/// The server's URL and its CA, or `None` (after saying so) when there is none.
fn server() -> Option<(String, PathBuf)> {
    match std::env::var("WARDEN_REDIS_TLS_URL") {
        Ok(url) if !url.is_empty() => {
            let ca = std::env::var("WARDEN_REDIS_TLS_CA").expect("WARDEN_REDIS_TLS_CA");
            Some((url, PathBuf::from(ca)))
        }
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but WARDEN_REDIS_TLS_URL is unset: run under scripts/with-redis-tls.sh")
        }
        _ => {
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: Redis TLS tests need a TLS Redis; run under scripts/with-redis-tls.sh"
                );
            });
            None
        }
    }
}

macro_rules! with_tls {
    ($url:ident, $ca:ident) => {
        let Some(($url, $ca)) = server() else { return };
    };
}

/// Tight timeouts, for the tests of how fast a failure answers.
fn options(ca: Option<PathBuf>) -> RedisOptions {
    RedisOptions {
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(300),
        reconnect_backoff: Duration::from_millis(50),
        pool_size: 16,
        ca_file: ca,
    }
}

/// Roomy timeouts, for the counting tests: 16 threads each opening a TLS connection
/// at once on a loaded 2-core CI machine can take longer than the tight bounds, and
/// these tests are about exact counts, not latency.
fn counting_options(ca: &Path) -> RedisOptions {
    RedisOptions {
        connect_timeout: Duration::from_secs(5),
        command_timeout: Duration::from_secs(3),
        ..options(Some(ca.to_path_buf()))
    }
}

/// The documented bound on one failing check: connect, command, one retry.
const BOUND: Duration = Duration::from_millis(500 + 2 * 300 + 300);

/// A database of its own for each test (they run in parallel), emptied first.
fn store_on(url: &str, ca: &Path, db: u8) -> RedisStore {
    let store = RedisStore::open(&format!("{url}/{db}"), counting_options(ca)).unwrap();
    store.clear();
    store
}

#[test]
fn verified_tls_gives_the_memory_stores_answers() {
    with_tls!(url, ca);
    let store = store_on(&url, &ca, 1);
    cases::gcra_window_edges(&store);
    cases::strict_window_edges(&store);
    cases::strict_vs_gcra(&store);
    cases::independent_keys_and_limits(&store);
    cases::clear_forgets(&store);
}

/// Two instances (two stores), 8 threads each, one key, over TLS: exactly what a
/// sequential replay admits, phase by phase.
#[test]
fn two_instances_sixteen_threads_over_tls() {
    with_tls!(url, ca);
    for strict in [false, true] {
        let a = store_on(&url, &ca, 2);
        let b = RedisStore::open(&format!("{url}/2"), counting_options(&ca)).unwrap();
        cases::hammer(&[&a, &b], 8, strict, &MemoryStore::new(16));
    }
}

#[test]
fn async_checks_over_tls_admit_exactly_the_count() {
    with_tls!(url, ca);
    let store = store_on(&url, &ca, 3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = spec("p", "async", 7, 60 * cases::SECOND, true);
    let admitted = rt.block_on(async {
        let mut n = 0;
        let mut handles = Vec::new();
        let store = Arc::new(store);
        for _ in 0..40 {
            let (store, s) = (Arc::clone(&store), s.clone());
            handles.push(tokio::spawn(async move {
                store.check_async(&s, b"k", T0).await.unwrap().allowed
            }));
        }
        for h in handles {
            n += usize::from(h.await.unwrap());
        }
        n
    });
    assert_eq!(admitted, 7);
}

const POLICY: &str = r#"policy app
limit login: 5 per 15m by ip strict
route POST /login {
  public
  limit login
}
"#;

fn engine(store: RedisStore) -> Engine {
    let options = Options::default()
        .store(Arc::new(store))
        .on_store_error(OnStoreError::FailClosed)
        .clock(Arc::new(ManualClock::new(T0)));
    Engine::from_source("app.warden", POLICY, options).unwrap()
}

fn login() -> HttpRequest {
    HttpRequest::new("POST", "/login").ip("203.0.113.9".parse().unwrap())
}

/// Two engines (two app instances) x 8 threads over TLS share one budget: exactly 5
/// of 160 requests are admitted, the rest are 429.
#[test]
fn two_engines_share_one_budget_over_tls() {
    with_tls!(url, ca);
    let engines = [
        engine(store_on(&url, &ca, 4)),
        engine(store_on(&url, &ca, 4)),
    ];
    let barrier = Barrier::new(16);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let (e, barrier) = (&engines[i % 2], &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    (0..10)
                        .map(|_| e.check_http(&login()).status)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 5);
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 155);
}

/// Roomy timeouts for the refusal tests: what they check is that verification fails
/// with a clear message, and with tight ones a loaded machine (a debug build parsing
/// the system's trust store on every connection) can time out before the verdict.
fn refusal_options(ca: Option<PathBuf>) -> RedisOptions {
    RedisOptions {
        connect_timeout: Duration::from_secs(5),
        command_timeout: Duration::from_secs(3),
        ..options(ca)
    }
}

/// A failed check: `Unavailable` whose message says the certificate was refused.
fn assert_refused(store: &RedisStore, what: &str, needle: &str) {
    let s = spec("p", "tls", 5, cases::SECOND, false);
    let e = store.check(&s, b"k", T0).unwrap_err();
    let StoreError::Unavailable(message) = &e else {
        panic!("{what}: {e:?}")
    };
    assert!(
        message.to_lowercase().contains(needle),
        "{what}: `{message}` should mention {needle}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // After the backoff, the async path refuses the same way.
    std::thread::sleep(Duration::from_millis(60));
    let e = rt.block_on(store.check_async(&s, b"k", T0)).unwrap_err();
    assert!(
        matches!(&e, StoreError::Unavailable(m) if m.to_lowercase().contains(needle)),
        "{what} (async): {e:?}"
    );
}

#[test]
fn another_ca_is_refused_with_a_clear_error() {
    with_tls!(url, _ca);
    let wrong = PathBuf::from(std::env::var("WARDEN_REDIS_TLS_WRONG_CA").unwrap());
    let store = RedisStore::open(&url, refusal_options(Some(wrong.clone()))).unwrap();
    assert_refused(&store, "another CA", "certificate");
    // Through the engine: fail closed.
    let d_engine = engine(RedisStore::open(&url, refusal_options(Some(wrong))).unwrap());
    let d = d_engine.check_http(&login());
    assert_eq!((d.allowed, d.status), (false, 503));
    assert!(
        d.note.as_deref().unwrap().contains("certificate"),
        "{:?}",
        d.note
    );
}

#[test]
fn the_system_roots_do_not_trust_a_private_ca() {
    with_tls!(url, _ca);
    let store = RedisStore::open(&url, refusal_options(None)).unwrap();
    assert_refused(&store, "system roots", "certificate");
}

/// The certificate names IP 127.0.0.1 only: `localhost`, resolving to the same
/// server, is another name and is refused although the CA is right.
#[test]
fn a_host_name_the_certificate_does_not_name_is_refused() {
    with_tls!(url, ca);
    let localhost = url.replace("127.0.0.1", "localhost");
    let store = RedisStore::open(&localhost, refusal_options(Some(ca))).unwrap();
    assert_refused(&store, "host name", "certificate");
}

#[test]
fn plain_tcp_to_the_tls_port_fails_within_the_bound() {
    with_tls!(url, _ca);
    let plain = url.replace("rediss://", "redis://");
    let store = RedisStore::open(&plain, options(None)).unwrap();
    let started = Instant::now();
    let e = store
        .check(&spec("p", "plain", 5, cases::SECOND, false), b"k", T0)
        .unwrap_err();
    assert!(started.elapsed() < BOUND, "{:?}", started.elapsed());
    assert!(
        matches!(e, StoreError::Unavailable(_) | StoreError::Timeout),
        "{e:?}"
    );
}

/// Settings that cannot be honoured are refused when the store is built, and the
/// message never quotes the URL's password.
#[test]
fn bad_tls_settings_are_errors_at_open() {
    let ca = std::env::temp_dir().join(format!("warden-not-a-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, "not a certificate").unwrap();
    let cases: [(&str, Option<PathBuf>, &str); 4] = [
        (
            "rediss://:hunter2@127.0.0.1:6380/#insecure",
            None,
            "verification",
        ),
        (
            "rediss://:hunter2@127.0.0.1:6380",
            Some(PathBuf::from("/nonexistent/warden-ca.pem")),
            "cannot read the ca file",
        ),
        (
            "rediss://:hunter2@127.0.0.1:6380",
            Some(ca.clone()),
            "no pem certificate",
        ),
        (
            "redis://:hunter2@127.0.0.1:6379",
            Some(ca.clone()),
            "not rediss://",
        ),
    ];
    for (url, ca_file, needle) in cases {
        let e = RedisStore::open(url, options(ca_file)).unwrap_err();
        let message = e.to_string();
        assert!(message.to_lowercase().contains(needle), "{url}: {message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
    let _ = std::fs::remove_file(ca);
}
