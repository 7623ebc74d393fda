//! [`RedisOptions`]: timeouts, pool size and the CA file of a Redis store.

use std::path::PathBuf;
use std::time::Duration;

/// How a [`RedisStore`](super::RedisStore) talks to Redis.
#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// Longest wait for a TCP connection (and the `HELLO`/`AUTH` exchange).
    pub connect_timeout: Duration,
    /// Longest wait for one check's answer once connected.
    pub command_timeout: Duration,
    /// After a connection fails or times out, checks answer `Unavailable` at once for
    /// this long.
    pub reconnect_backoff: Duration,
    /// Idle blocking connections kept for `check` (more are opened under load).
    pub pool_size: usize,
    /// For `rediss://`: a PEM bundle holding the CA certificate(s) to trust instead of
    /// the system's trust store (a private CA, or a managed Redis's own CA).
    /// Verification of the certificate and the host name is always on.
    pub ca_file: Option<PathBuf>,
}

impl Default for RedisOptions {
    /// 500 ms to connect, 250 ms per command, 100 ms backoff, 16 idle connections: a
    /// loopback or same-zone Redis answers in well under a millisecond, so these only
    /// bound how long a request waits on a broken one.
    fn default() -> Self {
        RedisOptions {
            connect_timeout: Duration::from_millis(500),
            command_timeout: Duration::from_millis(250),
            reconnect_backoff: Duration::from_millis(100),
            pool_size: 16,
            ca_file: None,
        }
    }
}
