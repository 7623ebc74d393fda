//! `Options`: how an engine is loaded (environment, secrets, settings, cache, clock,
//! rate-limit store).

use crate::clock::{Clock, SystemClock};
use crate::decision_log::DecisionLog;
use crate::limit::{LimitStore, OnStoreError};
use crate::metrics::Metrics;
use crate::secret::Secret;
use std::collections::HashMap;
use std::sync::Arc;
use warden_lang::Limits;

/// How an engine is loaded. `Options::default()` is env `development`, no secrets
/// (environment variables are read), no decision cache, the system clock and a private
/// in-memory rate-limit store of 100,000 keys.
#[derive(Debug, Clone)]
pub struct Options {
    /// The deployment environment that `env` evaluates to; folded at load.
    pub env: String,
    /// Host-supplied secrets by name.
    pub secrets: HashMap<String, Secret>,
    /// Host-supplied non-secret settings by name, read by `config(NAME)`; unlike
    /// secrets, their values may appear in diagnostics.
    pub config: HashMap<String, String>,
    /// Read `secret(NAME)` and `config(NAME)` from the environment variable `NAME`
    /// when not in `secrets` / `config`.
    pub secrets_from_env: bool,
    /// Decision-cache entries; 0 turns the cache off (the default: see docs/BENCHMARKS.md).
    pub cache_size: usize,
    /// Verified tokens remembered per `auth jwt` / `auth nextauth` block (4,096 by
    /// default; 0 turns it off). A token seen before skips its signature or
    /// decryption; its `exp`, `nbf` and `max_age` are checked again on every request,
    /// and a reload starts empty (keys rotated or revoked take effect at once).
    pub token_cache_size: usize,
    /// Front-end bounds (source size, nesting, regex size ...).
    pub limits: Limits,
    /// "Now" for rate limits and token expiry, when a request carries no time.
    pub clock: Arc<dyn Clock>,
    /// Where rate-limit state lives; `None` is a private in-memory store bounded by
    /// `limit_keys`.
    pub store: Option<Arc<dyn LimitStore>>,
    /// What a request gets when the store fails (default: fail closed).
    pub on_store_error: OnStoreError,
    /// Most keys the in-memory store keeps; least recently used keys go first.
    pub limit_keys: usize,
    /// IPv6 clients are keyed by this prefix length (64: one host cannot rotate
    /// addresses within its /64 past a limit).
    pub ipv6_prefix: u8,
    /// Where every decision is logged (`None`, the default: no log, no cost).
    pub decision_log: Option<Arc<DecisionLog>>,
    /// Where every decision is counted (`None`, the default: no metrics, no cost).
    pub metrics: Option<Arc<Metrics>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            env: "development".into(),
            secrets: HashMap::new(),
            config: HashMap::new(),
            secrets_from_env: true,
            cache_size: 0,
            token_cache_size: 4096,
            limits: Limits::default(),
            clock: Arc::new(SystemClock),
            store: None,
            on_store_error: OnStoreError::default(),
            limit_keys: 100_000,
            ipv6_prefix: 64,
            decision_log: None,
            metrics: None,
        }
    }
}

impl Options {
    /// Set [`Options::env`].
    pub fn env(mut self, env: impl Into<String>) -> Self {
        self.env = env.into();
        self
    }
    /// Add a secret, read by `secret(NAME)` and by `auth` keys.
    pub fn secret(mut self, name: impl Into<String>, value: impl Into<Secret>) -> Self {
        self.secrets.insert(name.into(), value.into());
        self
    }
    /// Add a setting, read by `config(NAME)`.
    pub fn config(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(name.into(), value.into());
        self
    }
    /// Set [`Options::cache_size`] (0: no decision cache).
    pub fn cache_size(mut self, entries: usize) -> Self {
        self.cache_size = entries;
        self
    }
    /// Set [`Options::token_cache_size`] (0: verify every token in full).
    pub fn token_cache_size(mut self, entries: usize) -> Self {
        self.token_cache_size = entries;
        self
    }
    /// Set the clock (a [`crate::ManualClock`] in tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// Set the rate-limit store (e.g. a shared [`crate::limit::RedisStore`]).
    pub fn store(mut self, store: Arc<dyn LimitStore>) -> Self {
        self.store = Some(store);
        self
    }
    /// Set what a request gets when the store fails.
    pub fn on_store_error(mut self, on: OnStoreError) -> Self {
        self.on_store_error = on;
        self
    }
    /// Log every decision of engines loaded with these options (reloads included).
    pub fn decision_log(mut self, log: Arc<DecisionLog>) -> Self {
        self.decision_log = Some(log);
        self
    }
    /// Count every decision of engines loaded with these options (reloads included).
    pub fn metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub(crate) fn secret_value(&self, name: &str) -> Option<Secret> {
        self.secrets.get(name).cloned().or_else(|| {
            self.secrets_from_env
                .then(|| secret_from_env(name))
                .flatten()
        })
    }

    pub(crate) fn config_value(&self, name: &str) -> Option<String> {
        self.config.get(name).cloned().or_else(|| {
            self.secrets_from_env
                .then(|| std::env::var(name).ok())
                .flatten()
        })
    }
}

/// Secrets as options see them: given by the host, else (if allowed) the environment.
pub(crate) fn secret_from_env(name: &str) -> Option<Secret> {
    std::env::var(name).ok().map(Secret::new)
}
