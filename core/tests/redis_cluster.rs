//! The Redis store on a real Redis Cluster (3 masters, each with a replica, on
//! loopback: `scripts/with-redis-cluster.sh cargo test -p warden-policy --test
//! redis_cluster`): the memory store's cases, two instances x 8 threads admitting
//! exactly the limit (store and engine), keys spread over every master by the client
//! hash tag, and the script reloaded after `SCRIPT FLUSH` on every master.
//!
//! The cluster has one database, so the tests take turns (a lock) instead of each
//! taking a database. Without `WARDEN_REDIS_CLUSTER_URLS` each test says SKIPPED on
//! stderr and passes, unless `CI=true`, where a missing cluster is a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

#[path = "limits/cases.rs"]
mod cases;
mod cluster_support;

use cases::{spec, SECOND, T0};
use cluster_support::{cluster_urls, masters, options, slot_of};
use std::sync::{Arc, Barrier, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use warden::limit::{MemoryStore, RedisStore};
use warden::{Engine, HttpRequest, LimitStore, ManualClock, OnStoreError, Options, StoreError};

static TURN: Mutex<()> = Mutex::new(());

/// This test's turn on the cluster, and a store on it, emptied.
fn turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

fn store(urls: &[String]) -> RedisStore {
    RedisStore::open_cluster(urls, options()).unwrap()
}

macro_rules! with_cluster {
    ($urls:ident, $guard:ident) => {
        let Some($urls) = cluster_urls() else { return };
        let $guard = turn();
        store(&$urls).clear();
    };
}

#[test]
fn the_memory_stores_cases_on_a_cluster() {
    with_cluster!(urls, _turn);
    let s = store(&urls);
    assert!(s.is_cluster());
    cases::gcra_window_edges(&s);
    cases::strict_window_edges(&s);
    cases::strict_vs_gcra(&s);
    cases::independent_keys_and_limits(&s);
    cases::clear_forgets(&s);
}

/// Two app instances (two stores), 8 threads each, one key: exactly what one thread on
/// the memory store admits, phase by phase.
#[test]
fn two_instances_sixteen_threads_admit_exactly_the_guarantee() {
    with_cluster!(urls, _turn);
    for strict in [false, true] {
        let (a, b) = (store(&urls), store(&urls));
        a.clear();
        cases::hammer(&[&a, &b], 8, strict, &MemoryStore::new(16));
    }
}

#[test]
fn concurrent_async_checks_admit_exactly_the_count() {
    with_cluster!(urls, _turn);
    let store = Arc::new(store(&urls));
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
            let handles: Vec<_> = (0..100)
                .map(|_| {
                    let (store, s) = (Arc::clone(&store), s.clone());
                    tokio::spawn(async move { store.check_async(&s, b"k", T0).await })
                })
                .collect();
            let mut n = 0;
            for h in handles {
                n += usize::from(h.await.unwrap().unwrap().allowed);
            }
            n
        });
        assert_eq!(admitted, 30, "strict={strict}");
    }
}

const POLICY: &str = r#"policy app
limit login: 5 per 15m by ip strict
limit api: 5 per 1h by ip
route POST /login {
  public
  limit login
}
route GET /api {
  public
  limit api
}
"#;

fn engine(urls: &[String]) -> Engine {
    let options = Options::default()
        .store(Arc::new(store(urls)))
        .on_store_error(OnStoreError::FailClosed)
        .clock(Arc::new(ManualClock::new(T0)));
    Engine::from_source("app.warden", POLICY, options).unwrap()
}

/// Two engines x 8 threads through `check_http`: exactly 5 of 160 admitted for a
/// strict and for an ordinary limit, for each of several clients (whose keys sit on
/// different masters).
#[test]
fn two_engines_eight_threads_admit_exactly_the_limit() {
    with_cluster!(urls, _turn);
    let engines = [engine(&urls), engine(&urls)];
    for (method, path) in [("POST", "/login"), ("GET", "/api")] {
        for client in ["203.0.113.1", "203.0.113.2", "198.51.100.7"] {
            let barrier = Barrier::new(16);
            let statuses: Vec<u16> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..16)
                    .map(|i| {
                        let (e, barrier) = (&engines[i % 2], &barrier);
                        scope.spawn(move || {
                            let req = HttpRequest::new(method, path).ip(client.parse().unwrap());
                            barrier.wait();
                            (0..10)
                                .map(|_| e.check_http(&req).status)
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap())
                    .collect()
            });
            let ok = statuses.iter().filter(|&&s| s == 200).count();
            let limited = statuses.iter().filter(|&&s| s == 429).count();
            assert_eq!((ok, limited), (5, 155), "{method} {path} from {client}");
        }
    }
}

/// The hash tag is the client's digest: the keys of one limit's many clients spread
/// over every master, and each key's slot is the slot of its tag alone.
#[test]
fn one_limits_clients_spread_over_every_master() {
    with_cluster!(urls, _turn);
    let s = store(&urls);
    let limit = spec("app", "login", 5, 60 * SECOND, false);
    for i in 0..120u32 {
        s.check(&limit, format!("client-{i}").as_bytes(), T0)
            .unwrap();
    }
    let masters = masters(&urls[0]);
    assert_eq!(masters.len(), 3);
    let mut holding = 0;
    for m in &masters {
        let mut con = redis::Client::open(format!("redis://{}", m.addr))
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(2))
            .unwrap();
        let keys: Vec<String> = redis::cmd("KEYS").arg("warden:*").query(&mut con).unwrap();
        holding += usize::from(!keys.is_empty());
        for key in keys {
            let tag = &key[key.find('{').unwrap() + 1..key.find('}').unwrap()];
            assert_eq!(slot_of(&urls[0], &key), slot_of(&urls[0], tag), "{key}");
            assert!(key.starts_with("warden:app:login:{"), "{key}");
        }
    }
    assert_eq!(holding, 3, "every master holds some of the limit's keys");
    // The key names the client by digest only.
    let key = RedisStore::redis_key(&limit, b"client-7");
    assert!(!key.contains("client"), "{key}");
}

/// After `SCRIPT FLUSH` on every node, the next checks load the script again (on the
/// masters they reach), sync and async, without an error reaching the caller.
#[test]
fn script_flush_on_every_master_recovers() {
    with_cluster!(urls, _turn);
    let s = store(&urls);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let limit = spec("p", "flush", 1_000, SECOND, false);
    for round in 0..2u64 {
        for m in masters(&urls[0]) {
            let mut con = redis::Client::open(format!("redis://{}", m.addr))
                .unwrap()
                .get_connection_with_timeout(Duration::from_secs(2))
                .unwrap();
            redis::cmd("SCRIPT")
                .arg("FLUSH")
                .query::<()>(&mut con)
                .unwrap();
        }
        for i in 0..30u32 {
            let key = format!("k{i}");
            assert!(s.check(&limit, key.as_bytes(), T0 + round).unwrap().allowed);
            let a = rt.block_on(s.check_async(&limit, key.as_bytes(), T0 + round));
            assert!(a.unwrap().allowed);
        }
    }
}

/// Settings a cluster cannot honour are refused when the store is built.
#[test]
fn bad_cluster_settings_are_errors_at_open() {
    let none: [&str; 0] = [];
    for (urls, needle) in [
        (&none[..], "at least one seed"),
        (&["redis://127.0.0.1:7000/3"][..], "database 0"),
        (
            &["redis://127.0.0.1:7000", "rediss://127.0.0.1:7001"][..],
            "mix",
        ),
        (&["http://:hunter2@127.0.0.1:7000"][..], "invalid redis url"),
    ] {
        let e = RedisStore::open_cluster(urls, options()).unwrap_err();
        let StoreError::Unavailable(message) = &e else {
            panic!("{e:?}")
        };
        assert!(
            message.to_lowercase().contains(needle),
            "{urls:?}: {message}"
        );
        assert!(!message.contains("hunter2"), "{message}");
    }
}
