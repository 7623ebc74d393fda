//! A master of the real Redis Cluster dies under two engines
//! (`scripts/with-redis-cluster.sh cargo test -p warden-policy --test
//! redis_cluster_failover`): requests whose keys live on it get the configured answer
//! (fail closed: 503; fail open: admitted) within the store's timeout, requests whose
//! keys live on the other masters keep counting, and once the dead master's replica
//! has taken over, counting resumes on it by itself, exact again.
//!
//! It shuts a master down, so it runs alone in its own test binary, against a cluster
//! whose masters have replicas (what the script starts). Without
//! `WARDEN_REDIS_CLUSTER_URLS` it says SKIPPED and passes, unless `CI=true`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod cluster_support;

use cluster_support::{cluster_urls, masters, options};
use std::sync::Arc;
use std::time::{Duration, Instant};
use warden::limit::RedisStore;
use warden::{Engine, HttpRequest, ManualClock, OnStoreError, Options};

const POLICY: &str = r#"policy app
limit login: 5 per 15m by ip strict
route POST /login {
  public
  limit login
}
"#;

const T0: u64 = 1_795_341_600_000_000;

fn engine(urls: &[String], on: OnStoreError) -> Engine {
    let store = RedisStore::open_cluster(urls, options()).unwrap();
    let options = Options::default()
        .store(Arc::new(store))
        .on_store_error(on)
        .clock(Arc::new(ManualClock::new(T0)));
    Engine::from_source("app.warden", POLICY, options).unwrap()
}

fn login(ip: &str) -> HttpRequest {
    HttpRequest::new("POST", "/login").ip(ip.parse().unwrap())
}

fn connection(addr: &str) -> redis::Connection {
    redis::Client::open(format!("redis://{addr}"))
        .unwrap()
        .get_connection_with_timeout(Duration::from_secs(2))
        .unwrap()
}

fn dbsize(con: &mut redis::Connection) -> u64 {
    redis::cmd("DBSIZE").query(con).unwrap()
}

/// Client addresses never used before, in order.
struct Clients(u32);

impl Clients {
    fn next(&mut self) -> String {
        self.0 += 1;
        format!("198.51.{}.{}", self.0 / 250, self.0 % 250 + 1)
    }
}

/// A new client whose `login` key lives (`on`) or does not live (`!on`) on the node at
/// `addr`, found by watching that node's key count across its first request (which the
/// engine admits: the client has 4 left). Where the engine puts a key is its business;
/// the test only observes it.
fn client(engine: &Engine, clients: &mut Clients, addr: &str, on: bool) -> String {
    let mut con = connection(addr);
    for _ in 0..500 {
        let ip = clients.next();
        let before = dbsize(&mut con);
        assert_eq!(engine.check_http(&login(&ip)).status, 200);
        if (dbsize(&mut con) > before) == on {
            return ip;
        }
    }
    panic!("no client lands {} {addr}", if on { "on" } else { "off" });
}

#[test]
fn a_master_dies_fails_closed_or_open_then_recovers_after_failover() {
    let Some(urls) = cluster_urls() else { return };
    let seed = urls[0].clone();
    let all = masters(&seed);
    let victim = all
        .iter()
        .find(|m| m.replicas > 0 && format!("redis://{}", m.addr) != seed)
        .cloned()
        .expect("a master with a replica (run under a fresh scripts/with-redis-cluster.sh)");
    let closed = engine(&urls, OnStoreError::FailClosed);
    let open = engine(&urls, OnStoreError::FailOpen);

    let mut clients = Clients(0);
    // Each has had one request admitted: 4 left.
    let doomed = client(&closed, &mut clients, &victim.addr, true);
    let later = client(&closed, &mut clients, &victim.addr, true);
    let safe = client(&closed, &mut clients, &victim.addr, false);

    let mut con = connection(&victim.addr);
    // The reply never comes: the server exits.
    let _ = redis::cmd("SHUTDOWN").arg("NOSAVE").query::<()>(&mut con);

    // Down: the configured answer, within connect + 2 x command timeout (and the
    // client library's one reconnect), per request.
    let bound = Duration::from_millis(3 * (300 + 200) + 200);
    let started = Instant::now();
    let d = closed.check_http(&login(&doomed));
    assert!(started.elapsed() < bound, "{:?}", started.elapsed());
    assert_eq!((d.allowed, d.status), (false, 503), "{:?}", d.note);
    let started = Instant::now();
    let d = open.check_http(&login(&doomed));
    assert!(started.elapsed() < bound, "{:?}", started.elapsed());
    assert_eq!((d.allowed, d.status), (true, 200));
    assert!(
        d.note.as_deref().unwrap_or("").contains("fail-open"),
        "{:?}",
        d.note
    );

    // Keys on the other masters keep counting: 4 more admitted (5 in all), then 429.
    // Once the cluster marks the node failed (1 s) it refuses every slot until the
    // replica takes over; on a slow machine some of these may land in that window,
    // and then they fail closed too, never admitting more than 4.
    let statuses: Vec<u16> = (0..5)
        .map(|_| closed.check_http(&login(&safe)).status)
        .collect();
    if statuses.contains(&503) {
        assert!(
            statuses.iter().filter(|&&s| s == 200).count() <= 4,
            "{statuses:?}"
        );
    } else {
        assert_eq!(statuses, [200, 200, 200, 200, 429]);
    }

    // The replica takes over (node timeout 1 s): counting resumes by itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = closed.check_http(&login(&later));
        if d.status == 200 {
            break;
        }
        assert_eq!(d.status, 503, "{:?}", d.note);
        assert!(
            Instant::now() < deadline,
            "no recovery within 30 s: {:?}",
            d.note
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let now = masters(&seed);
    assert!(!now.iter().any(|m| m.addr == victim.addr), "{now:?}");
    let promoted = now
        .iter()
        .find(|m| m.slots == victim.slots)
        .expect("the replica holds the dead master's slots");
    // Exact again on the promoted replica, through both engines: a new client there
    // has 4 left after its first request.
    let fresh = client(&closed, &mut clients, &promoted.addr, true);
    let statuses: Vec<u16> = (0..6)
        .map(|i| [&closed, &open][i % 2].check_http(&login(&fresh)).status)
        .collect();
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429]);
}
