//! Rate limits: the store interface shared by the in-memory and Redis stores.
//!
//! The HTTP layer evaluates a limit's key expression, then asks a [`LimitStore`] to
//! admit or refuse one request for (limit, key) at a given time. Stores own the
//! algorithm state; the engine owns the policy (which limits apply, and what a store
//! failure means for the decision).

mod gcra;
mod identity;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod sliding;

#[cfg(feature = "redis")]
pub use self::redis::{RedisOptions, RedisStore};
pub use memory::MemoryStore;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// One compiled `limit` declaration, as stores see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSpec {
    /// Index of the limit in its policy: stable for one loaded engine.
    pub id: u32,
    /// The policy's name (`policy NAME`), for namespacing shared keys.
    pub policy: Box<str>,
    /// The limit's name (`limit NAME: ...`).
    pub name: Box<str>,
    /// Requests admitted per period.
    pub count: u64,
    /// The period in microseconds (never 0: the checker refuses a zero period).
    pub period_us: u64,
    /// `strict`: never more than `count` in any window of `period_us`.
    pub strict: bool,
}

/// A store's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// The request is admitted (and counted).
    pub allowed: bool,
    /// The limit's count (for `RateLimit-Policy` / `RateLimit`).
    pub limit: u64,
    /// Requests still admissible right now after this one.
    pub remaining: u64,
    /// Microseconds until the quota is fully restored (`RateLimit: ..., t=`).
    pub reset_us: u64,
    /// For a refusal: microseconds until a retry can be admitted (`Retry-After`).
    pub retry_after_us: u64,
}

/// Why a store could not answer. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The backing service cannot be reached (connection refused, reset, ...).
    Unavailable(String),
    /// No answer within the configured timeout.
    Timeout,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unavailable(why) => write!(f, "rate-limit store unavailable: {why}"),
            StoreError::Timeout => f.write_str("rate-limit store did not answer in time"),
        }
    }
}

impl std::error::Error for StoreError {}

/// A boxed future of an admission, for async stores.
pub type AdmissionFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Admission, StoreError>> + Send + 'a>>;

/// Where limit state lives. `key` is the request's key material (already reduced, e.g.
/// an IPv6 address to its /64), never interpreted by the store beyond equality.
pub trait LimitStore: Send + Sync + fmt::Debug {
    /// Admit or refuse one request at `now_us` (microseconds since the epoch).
    fn check(&self, spec: &LimitSpec, key: &[u8], now_us: u64) -> Result<Admission, StoreError>;

    /// The same, without blocking an async runtime. Stores doing no I/O use the default.
    fn check_async<'a>(
        &'a self,
        spec: &'a LimitSpec,
        key: &'a [u8],
        now_us: u64,
    ) -> AdmissionFuture<'a> {
        let r = self.check(spec, key, now_us);
        Box::pin(std::future::ready(r))
    }

    /// Forget every key (tests reuse one engine across independent cases).
    fn clear(&self);
}

/// What a request gets when the store fails. The default is [`OnStoreError::FailClosed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnStoreError {
    /// Refuse with 503 and the store's error as the reason.
    #[default]
    FailClosed,
    /// Admit, and say so in the decision.
    FailOpen,
    /// Count in this process's memory store until the shared store is back.
    Fallback,
}
