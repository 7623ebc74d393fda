//! The Redis Cluster the test script started (`WARDEN_REDIS_CLUSTER_URLS`), and what
//! the tests read from it directly: its masters, their replicas, a key's slot.
#![allow(dead_code, reason = "each test file uses part of it")]

use std::io::Write;
use std::time::Duration;
use warden::limit::RedisOptions;

/// The seed URLs, or `None` (after saying so) when there is no cluster.
pub fn cluster_urls() -> Option<Vec<String>> {
    match std::env::var("WARDEN_REDIS_CLUSTER_URLS") {
        Ok(urls) if !urls.is_empty() => Some(urls.split(',').map(str::to_owned).collect()),
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!(
            "CI=true but WARDEN_REDIS_CLUSTER_URLS is unset: run under scripts/with-redis-cluster.sh"
        ),
        _ => {
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: Redis Cluster tests need a cluster; run under \
                     scripts/with-redis-cluster.sh"
                );
            });
            None
        }
    }
}

pub fn options() -> RedisOptions {
    RedisOptions {
        connect_timeout: Duration::from_millis(300),
        command_timeout: Duration::from_millis(200),
        reconnect_backoff: Duration::from_millis(50),
        pool_size: 16,
        ca_file: None,
    }
}

/// One master as `CLUSTER NODES` lists it.
#[derive(Debug, Clone)]
pub struct Master {
    pub id: String,
    /// `host:port`
    pub addr: String,
    /// Inclusive slot ranges.
    pub slots: Vec<(u16, u16)>,
    /// How many connected replicas follow it.
    pub replicas: usize,
}

fn connection(url: &str) -> redis::Connection {
    redis::Client::open(url)
        .unwrap()
        .get_connection_with_timeout(Duration::from_secs(2))
        .unwrap()
}

/// The live masters holding slots, as `seed` sees them.
pub fn masters(seed: &str) -> Vec<Master> {
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query(&mut connection(seed))
        .unwrap();
    let lines: Vec<Vec<&str>> = nodes.lines().map(|l| l.split(' ').collect()).collect();
    let mut out = Vec::new();
    for f in &lines {
        let flags = f[2];
        if !flags.contains("master") || flags.contains("fail") || f.len() < 9 {
            continue;
        }
        let slots = f[8..]
            .iter()
            .filter(|r| !r.starts_with('['))
            .map(|r| match r.split_once('-') {
                Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
                None => (r.parse().unwrap(), r.parse().unwrap()),
            })
            .collect();
        let replicas = lines
            .iter()
            .filter(|g| g[3] == f[0] && !g[2].contains("fail") && g[7] == "connected")
            .count();
        out.push(Master {
            id: f[0].to_owned(),
            addr: f[1].split('@').next().unwrap().to_owned(),
            slots,
            replicas,
        });
    }
    out
}

/// `CLUSTER KEYSLOT key`, asked of the server (not computed here).
pub fn slot_of(seed: &str, key: &str) -> u16 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut connection(seed))
        .unwrap()
}
