//! `RedisStore`: rate-limit state shared by every instance of an application, in Redis.
//!
//! One round trip per check: `redis.lua` runs the same algorithm as the memory store
//! atomically in Redis, called by its SHA-1 (`EVALSHA`; `redis::Script` loads it again
//! after a `SCRIPT FLUSH` or a restart). Time is the `now_us` the engine passes, not
//! Redis `TIME`: tests and `warden test` drive windows through the request's time, and
//! the memory and Redis stores then answer identically (see docs/ARCHITECTURE.md).
//!
//! Keys are `warden:POLICY:LIMIT:HASH`, where HASH is the first 128 bits of the
//! SHA-256 of the key material in hex: client material (API keys, addresses) never
//! reaches Redis in clear, and names cannot hold `:`, so limits never share a key.
//! Every key carries a TTL, so idle clients vanish.
//!
//! Failures are values: a check waits at most the connect timeout plus the command
//! timeout, then answers `StoreError`. After a connection fails or times out, checks
//! answer `Unavailable` at once for `reconnect_backoff` instead of each waiting on a
//! dead or hung server; the first check after that tries again, so recovery needs
//! nothing from the host. A pooled connection found dead (Redis restarted) is retried
//! once on a fresh one.

use super::{gcra, Admission, AdmissionFuture, LimitSpec, LimitStore, StoreError};
use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, Commands, Connection, RedisError, Script, ScriptInvocation,
};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

const SCRIPT: &str = include_str!("redis.lua");

/// How a [`RedisStore`] talks to Redis.
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
        }
    }
}

/// A [`LimitStore`] in Redis, for limits shared across instances.
///
/// ```
/// use std::sync::Arc;
/// use warden::limit::{RedisOptions, RedisStore};
/// use warden::{Engine, OnStoreError, Options};
///
/// // Parses the URL only: the engine loads before Redis is up.
/// let store = RedisStore::open("redis://127.0.0.1:6379/0", RedisOptions::default())
///     .map_err(|e| e.to_string())?;
/// let options = Options::default()
///     .store(Arc::new(store))
///     // Count in this process while Redis is down, rather than refusing with 503.
///     .on_store_error(OnStoreError::Fallback);
/// let engine = Engine::from_source("api.warden", "policy api\nlimit api: 100 per 1m by ip\n", options)
///     .map_err(|e| e.to_string())?;
/// # let _ = engine;
///
/// // A bad URL is an error that never quotes the URL (it may hold a password).
/// let err = RedisStore::open("http://user:hunter2@host", RedisOptions::default())
///     .err()
///     .ok_or("an http:// URL was taken for Redis")?;
/// assert!(!err.to_string().contains("hunter2"));
/// # Ok::<(), String>(())
/// ```
pub struct RedisStore {
    client: Client,
    options: RedisOptions,
    script: Script,
    /// Blocking connections for `check`, each with read and write timeouts.
    idle: Mutex<Vec<Connection>>,
    /// The multiplexed connection `check_async` shares; `None` until first use and after
    /// a failure.
    shared: Mutex<Option<MultiplexedConnection>>,
    /// Before this many microseconds after `epoch`, do not try to connect.
    down_until_us: AtomicU64,
    epoch: Instant,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may carry a password.
        f.debug_struct("RedisStore")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store for the Redis at `url` (`redis://[user:password@]host:port[/db]`). Parses
    /// the URL only: an unreachable Redis shows up as `StoreError` on checks, so a host
    /// can start before its Redis does.
    pub fn open(url: &str, options: RedisOptions) -> Result<Self, StoreError> {
        let client = Client::open(url).map_err(|_| {
            // Not the parser's message: it may quote the URL, password included.
            StoreError::Unavailable(
                "invalid Redis URL (expected redis://[user:password@]host:port[/db])".into(),
            )
        })?;
        Ok(RedisStore {
            client,
            options,
            script: Script::new(SCRIPT),
            idle: Mutex::new(Vec::new()),
            shared: Mutex::new(None),
            down_until_us: AtomicU64::new(0),
            epoch: Instant::now(),
        })
    }

    /// The SHA-1 the script is called by (for `SCRIPT EXISTS` in tests and operations).
    pub fn script_hash(&self) -> &str {
        self.script.get_hash()
    }

    /// The Redis key holding `key`'s state for `spec`.
    pub fn redis_key(spec: &LimitSpec, key: &[u8]) -> String {
        let digest = Sha256::digest(key);
        let mut out = String::with_capacity(16 + spec.policy.len() + spec.name.len() + 32);
        out.push_str("warden:");
        escape_into(&spec.policy, &mut out);
        out.push(':');
        escape_into(&spec.name, &mut out);
        out.push(':');
        for b in &digest[..16] {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        out
    }

    fn invocation(&self, spec: &LimitSpec, key: &[u8], now_us: u64) -> ScriptInvocation<'_> {
        let mut inv = self.script.prepare_invoke();
        inv.key(Self::redis_key(spec, key))
            .arg(now_us)
            .arg(spec.count)
            .arg(spec.period_us)
            .arg(u8::from(spec.strict))
            .arg(gcra::interval(spec.count, spec.period_us));
        inv
    }

    fn elapsed_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// Fails fast while a recent connect failed.
    fn backoff_gate(&self) -> Result<(), StoreError> {
        if self.elapsed_us() < self.down_until_us.load(Ordering::Relaxed) {
            return Err(StoreError::Unavailable(
                "Redis was unreachable moments ago; retrying shortly".into(),
            ));
        }
        Ok(())
    }

    /// The answer for a failure; one that says Redis is unreachable or hung (not, say,
    /// a script error) also starts the backoff, so requests stop queueing on it.
    fn failed(&self, e: &RedisError) -> StoreError {
        if e.is_timeout() || e.is_io_error() || stale(e) {
            let backoff =
                u64::try_from(self.options.reconnect_backoff.as_micros()).unwrap_or(u64::MAX);
            self.down_until_us
                .store(self.elapsed_us().saturating_add(backoff), Ordering::Relaxed);
        }
        store_error(e)
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        self.backoff_gate()?;
        let con = self
            .client
            .get_connection_with_timeout(self.options.connect_timeout)
            .map_err(|e| self.failed(&e))?;
        let timeout = Some(self.options.command_timeout);
        con.set_read_timeout(timeout)
            .and_then(|()| con.set_write_timeout(timeout))
            .map_err(|e| store_error(&e))?;
        Ok(con)
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn shared(&self) -> MutexGuard<'_, Option<MultiplexedConnection>> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn shared_connection(&self) -> Result<(MultiplexedConnection, bool), StoreError> {
        if let Some(con) = self.shared().clone() {
            return Ok((con, true));
        }
        self.backoff_gate()?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(self.options.connect_timeout)
            .set_response_timeout(self.options.command_timeout);
        let con = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| self.failed(&e))?;
        *self.shared() = Some(con.clone());
        Ok((con, false))
    }

    async fn check_shared(
        &self,
        spec: &LimitSpec,
        key: &[u8],
        now_us: u64,
    ) -> Result<Admission, StoreError> {
        let inv = self.invocation(spec, key, now_us);
        loop {
            let (mut con, reused) = self.shared_connection().await?;
            match inv.invoke_async::<Reply>(&mut con).await {
                Ok(reply) => return Ok(admission(spec, reply)),
                Err(e) => {
                    *self.shared() = None;
                    // A connection that died while idle (Redis restarted): one fresh try.
                    if !(reused && stale(&e)) {
                        return Err(self.failed(&e));
                    }
                }
            }
        }
    }
}

/// `{allowed, remaining, reset_us, retry_after_us}` as `redis.lua` returns it.
type Reply = (u8, u64, u64, u64);

fn admission(spec: &LimitSpec, (allowed, remaining, reset_us, retry_after_us): Reply) -> Admission {
    Admission {
        allowed: allowed == 1,
        limit: spec.count,
        remaining,
        reset_us,
        retry_after_us,
    }
}

/// The connection was already closed when used: worth one retry on a new one.
fn stale(e: &RedisError) -> bool {
    e.is_connection_dropped() || e.is_unrecoverable_error() && !e.is_timeout()
}

fn store_error(e: &RedisError) -> StoreError {
    if e.is_timeout() {
        StoreError::Timeout
    } else {
        // Redis errors name the failing command, never its arguments; keys are hashed.
        StoreError::Unavailable(format!("Redis: {e}"))
    }
}

/// Names are identifiers today; `%` and `:` are escaped anyway so a key stays
/// unambiguous whatever the grammar allows later.
fn escape_into(name: &str, out: &mut String) {
    for c in name.chars() {
        match c {
            '%' => out.push_str("%25"),
            ':' => out.push_str("%3A"),
            c => out.push(c),
        }
    }
}

impl LimitStore for RedisStore {
    fn check(&self, spec: &LimitSpec, key: &[u8], now_us: u64) -> Result<Admission, StoreError> {
        if spec.count == 0 {
            return Ok(gcra::check(0, spec.period_us, None, now_us).0);
        }
        let inv = self.invocation(spec, key, now_us);
        loop {
            let pooled = self.idle().pop();
            let reused = pooled.is_some();
            let mut con = match pooled {
                Some(con) => con,
                None => self.connect()?,
            };
            match inv.invoke::<Reply>(&mut con) {
                Ok(reply) => {
                    let mut idle = self.idle();
                    if idle.len() < self.options.pool_size {
                        idle.push(con);
                    }
                    return Ok(admission(spec, reply));
                }
                Err(e) => {
                    // The connection may be mid-reply or dead: never reuse it. A dead
                    // one means its idle siblings are dead too.
                    drop(con);
                    if stale(&e) {
                        self.idle().clear();
                    }
                    if !(reused && stale(&e)) {
                        return Err(self.failed(&e));
                    }
                }
            }
        }
    }

    fn check_async<'a>(
        &'a self,
        spec: &'a LimitSpec,
        key: &'a [u8],
        now_us: u64,
    ) -> AdmissionFuture<'a> {
        Box::pin(async move {
            if spec.count == 0 {
                return Ok(gcra::check(0, spec.period_us, None, now_us).0);
            }
            // The connection's own timeouts cover each step; this bounds the whole,
            // including a retry on a fresh connection.
            let budget = self.options.connect_timeout + 2 * self.options.command_timeout;
            match tokio::time::timeout(budget, self.check_shared(spec, key, now_us)).await {
                Ok(result) => result,
                Err(_) => {
                    *self.shared() = None;
                    Err(self.failed(&RedisError::from(std::io::Error::from(
                        std::io::ErrorKind::TimedOut,
                    ))))
                }
            }
        })
    }

    /// Deletes this store's keys (`warden:*`) with `SCAN` + `UNLINK`. Meant for tests;
    /// failures are ignored, as the trait's `clear` cannot report them.
    fn clear(&self) {
        let Ok(mut con) = self.connect() else { return };
        let keys: Vec<String> = match con.scan_match::<_, String>("warden:*") {
            Ok(iter) => iter.collect(),
            Err(_) => return,
        };
        for chunk in keys.chunks(512) {
            if redis::cmd("UNLINK")
                .arg(chunk)
                .query::<()>(&mut con)
                .is_err()
            {
                return;
            }
        }
    }
}
