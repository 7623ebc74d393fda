//! `RedisStore`: rate-limit state shared by every instance of an application, in Redis
//! (one server, `rediss://` with TLS, or a Redis Cluster; see [`target`]).
//!
//! One round trip per check: `redis.lua` runs the same algorithm as the memory store
//! atomically in Redis, called by its SHA-1 (`EVALSHA`; `redis::Script` loads it again
//! after a `SCRIPT FLUSH`, a restart or a failover). Time is the `now_us` the engine
//! passes, not Redis `TIME`: tests and `warden test` drive windows through the
//! request's time, and the memory and Redis stores then answer identically (see
//! docs/ARCHITECTURE.md).
//!
//! Keys are `warden:POLICY:LIMIT:{HASH}`, where HASH is the first 128 bits of the
//! SHA-256 of the key material in hex: client material (API keys, addresses) never
//! reaches Redis in clear, and names cannot hold `:`, `{` or `}`, so limits never
//! share a key. Every key carries a TTL, so idle clients vanish.
//!
//! In a cluster, the braces are a hash tag: the slot is the CRC16 of HASH alone. Each
//! check's script touches exactly one key (its `KEYS[1]`), so a check never spans two
//! slots whatever the tag; the tag decides *placement*. Keying the slot by the client
//! spreads one busy limit (`login`, keyed by address) over every master instead of
//! piling all its clients onto the one master a per-limit tag would pick, and puts the
//! states of one client under every limit in one slot, so a future script could check
//! a request's limits in one round trip. Names never steer placement.
//!
//! Failures are values: a check waits at most the connect timeout plus the command
//! timeout (per attempt), then answers `StoreError`. After a connection fails or times
//! out, checks answer `Unavailable` at once for `reconnect_backoff` instead of each
//! waiting on a dead or hung server; the first check after that tries again, so
//! recovery needs nothing from the host. A pooled connection found dead (Redis
//! restarted, a master failed over) is retried once on a fresh one.

mod options;
mod target;

pub use self::options::RedisOptions;

use self::target::{AsyncConnection, SyncConnection, Target};
use super::{gcra, Admission, AdmissionFuture, LimitSpec, LimitStore, StoreError};
use redis::{RedisError, Script, ScriptInvocation};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

const SCRIPT: &str = include_str!("redis.lua");

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
    target: Target,
    options: RedisOptions,
    script: Script,
    /// Blocking connections for `check`, each with read and write timeouts.
    idle: Mutex<Vec<SyncConnection>>,
    /// The multiplexed connection `check_async` shares; `None` until first use and after
    /// a failure.
    shared: Mutex<Option<AsyncConnection>>,
    /// Held while one task opens the shared connection, so that a burst of
    /// `check_async` calls on a cold store opens one connection, not one each (a TLS
    /// handshake each, on a busy server, is what turned bursts into timeouts).
    connecting: tokio::sync::Mutex<()>,
    /// Before this many microseconds after `epoch`, do not try to connect.
    down_until_us: AtomicU64,
    epoch: Instant,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may carry a password.
        f.debug_struct("RedisStore")
            .field(
                "target",
                &match self.target {
                    Target::Single(_) => "single",
                    Target::Cluster(_) => "cluster",
                },
            )
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store for the Redis at `url`: `redis://[user:password@]host:port[/db]`, or
    /// `rediss://...` for TLS (verified against the system's roots or
    /// [`RedisOptions::ca_file`]). Parses the URL (and reads the CA file) only: an
    /// unreachable Redis shows up as `StoreError` on checks, so a host can start before
    /// its Redis does.
    pub fn open(url: &str, options: RedisOptions) -> Result<Self, StoreError> {
        let target = Target::single(url, &options).map_err(StoreError::Unavailable)?;
        Ok(Self::with_target(target, options))
    }

    /// A store for the Redis Cluster reachable through the seed nodes `urls` (all
    /// `redis://` or all `rediss://`, database 0; one live seed is enough, the client
    /// discovers the other nodes). Nothing is dialled until the first check.
    pub fn open_cluster<S: AsRef<str>>(
        urls: &[S],
        options: RedisOptions,
    ) -> Result<Self, StoreError> {
        let urls: Vec<&str> = urls.iter().map(AsRef::as_ref).collect();
        let target = Target::cluster(&urls, &options).map_err(StoreError::Unavailable)?;
        Ok(Self::with_target(target, options))
    }

    fn with_target(target: Target, options: RedisOptions) -> Self {
        RedisStore {
            target,
            options,
            script: Script::new(SCRIPT),
            idle: Mutex::new(Vec::new()),
            shared: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            down_until_us: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// Whether this store talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster(_))
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
        // The cluster hash tag (see the module docs): the slot follows the client.
        out.push_str(":{");
        for b in &digest[..16] {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
        out.push('}');
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

    fn connect(&self) -> Result<SyncConnection, StoreError> {
        self.backoff_gate()?;
        self.target
            .connect(&self.options)
            .map_err(|e| self.failed(&e))
    }

    fn idle(&self) -> MutexGuard<'_, Vec<SyncConnection>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn shared(&self) -> MutexGuard<'_, Option<AsyncConnection>> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn shared_connection(&self) -> Result<(AsyncConnection, bool), StoreError> {
        if let Some(con) = self.shared().clone() {
            return Ok((con, true));
        }
        let _one_at_a_time = self.connecting.lock().await;
        // Another task may have connected (or failed, starting the backoff) meanwhile.
        if let Some(con) = self.shared().clone() {
            return Ok((con, false));
        }
        self.backoff_gate()?;
        let con = self
            .target
            .connect_async(&self.options)
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
        // A TLS failure says why (an unknown issuer, a name mismatch) in its message.
        StoreError::Unavailable(format!("Redis: {e}"))
    }
}

/// Names are identifiers today; `%`, `:` and the hash-tag braces are escaped anyway so
/// a key stays unambiguous, and its slot the client's, whatever the grammar allows
/// later.
fn escape_into(name: &str, out: &mut String) {
    for c in name.chars() {
        match c {
            '%' => out.push_str("%25"),
            ':' => out.push_str("%3A"),
            '{' => out.push_str("%7B"),
            '}' => out.push_str("%7D"),
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
            match inv.invoke::<Reply>(con.as_dyn()) {
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
            let budget = target::budget(&self.options);
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

    /// Deletes this store's keys (`warden:*`, on every master of a cluster) with
    /// `UNLINK`. Meant for tests; failures are ignored, as the trait's `clear` cannot
    /// report them.
    fn clear(&self) {
        let Ok(mut con) = self.connect() else { return };
        let Ok(keys) = self.target.keys(&mut con) else {
            return;
        };
        for chunk in keys.chunks(512) {
            // A cluster client splits a multi-key `UNLINK` by slot.
            if redis::cmd("UNLINK")
                .arg(chunk)
                .query::<()>(con.as_dyn())
                .is_err()
            {
                return;
            }
        }
    }
}
