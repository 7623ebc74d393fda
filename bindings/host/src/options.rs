//! Host options (Python keyword arguments, a Node options object) -> `warden::Options`.

use std::fmt;
use std::sync::Arc;
use warden::limit::{RedisOptions, RedisStore};
use warden::{OnStoreError, Options};

/// Load options as hosts spell them; `None` keeps the engine's default.
#[derive(Default)]
pub struct HostOptions {
    pub env: Option<String>,
    /// Secret values by name; never printed (see the `Debug` impl).
    pub secrets: Vec<(String, String)>,
    /// Non-secret settings for `config(NAME)` by name.
    pub config: Vec<(String, String)>,
    pub redis_url: Option<String>,
    /// `"fail_closed"` (default), `"fail_open"` or `"fallback"` (`"closed"` and `"open"`
    /// are accepted too).
    pub on_store_error: Option<String>,
    pub cache_size: Option<usize>,
}

impl fmt::Debug for HostOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostOptions")
            .field("env", &self.env)
            .field(
                "secrets",
                &self.secrets.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("config", &self.config)
            .field("redis_url", &self.redis_url.as_ref().map(|_| "<set>"))
            .field("on_store_error", &self.on_store_error)
            .field("cache_size", &self.cache_size)
            .finish()
    }
}

/// An option that cannot be honoured; the message says which and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

impl HostOptions {
    pub fn to_options(&self) -> Result<Options, ConfigError> {
        let mut o = Options::default();
        if let Some(env) = &self.env {
            o = o.env(env.clone());
        }
        for (name, value) in &self.secrets {
            o = o.secret(name.clone(), value.clone());
        }
        for (name, value) in &self.config {
            o = o.config(name.clone(), value.clone());
        }
        if let Some(n) = self.cache_size {
            o = o.cache_size(n);
        }
        if let Some(on) = &self.on_store_error {
            o = o.on_store_error(match on.as_str() {
                "fail_closed" | "closed" => OnStoreError::FailClosed,
                "fail_open" | "open" => OnStoreError::FailOpen,
                "fallback" => OnStoreError::Fallback,
                other => {
                    return Err(ConfigError {
                        message: format!(
                            "unknown on_store_error `{other}`; expected \"fail_closed\", \"fail_open\" or \"fallback\""
                        ),
                    })
                }
            });
        }
        if let Some(url) = &self.redis_url {
            // Parses the URL only: an unreachable Redis is a store error on checks
            // (decided by `on_store_error`), so a host can start before its Redis.
            let store = RedisStore::open(url, RedisOptions::default()).map_err(|e| {
                // The store's message never quotes the URL (it may hold a password).
                ConfigError {
                    message: format!("redis_url: {e}"),
                }
            })?;
            o = o.store(Arc::new(store));
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_map_and_bad_values_are_errors() {
        let h = HostOptions {
            env: Some("production".into()),
            secrets: vec![("K".into(), "v4lue".into())],
            on_store_error: Some("open".into()),
            cache_size: Some(10),
            ..HostOptions::default()
        };
        let o = h.to_options().map_err(|e| e.message);
        assert!(o.as_ref().is_ok_and(|o| o.env == "production"
            && o.cache_size == 10
            && o.on_store_error == OnStoreError::FailOpen));
        assert!(!format!("{h:?}").contains("v4lue"));
        let bad = HostOptions {
            on_store_error: Some("sometimes".into()),
            ..HostOptions::default()
        };
        assert!(bad
            .to_options()
            .is_err_and(|e| e.message.contains("`sometimes`")));
        let closed = HostOptions {
            on_store_error: Some("fail_closed".into()),
            ..HostOptions::default()
        };
        assert!(closed
            .to_options()
            .is_ok_and(|o| o.on_store_error == OnStoreError::FailClosed));
    }

    #[test]
    fn redis_url_builds_a_store_and_bad_urls_hide_the_password() {
        let ok = HostOptions {
            redis_url: Some("redis://127.0.0.1:6379/0".into()),
            ..HostOptions::default()
        };
        assert!(ok.to_options().is_ok());
        let bad = HostOptions {
            redis_url: Some("nope://user:hunter2@host".into()),
            ..HostOptions::default()
        };
        let err = bad
            .to_options()
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(err.starts_with("redis_url: "), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!format!("{bad:?}").contains("hunter2"));
    }
}
