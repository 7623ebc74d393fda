//! Host options (Python keyword arguments, a Node options object) -> `warden::Options`.

use std::fmt;
use std::path::PathBuf;
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
    /// One Redis (`redis://` or `rediss://`).
    pub redis_url: Option<String>,
    /// A Redis Cluster's seed node URLs (empty: none). Exclusive with `redis_url`.
    pub redis_cluster: Vec<String>,
    /// For `rediss://`: a PEM file of the CA certificate(s) to trust instead of the
    /// system's trust store.
    pub redis_ca_file: Option<PathBuf>,
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
            // Seed URLs may carry the cluster's password too.
            .field("redis_cluster", &self.redis_cluster.len())
            .field("redis_ca_file", &self.redis_ca_file)
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
        // URLs are parsed, not dialled: an unreachable Redis is a store error on checks
        // (decided by `on_store_error`), so a host can start before its Redis. The
        // store's messages never quote a URL (it may hold a password).
        let redis = RedisOptions {
            ca_file: self.redis_ca_file.clone(),
            ..RedisOptions::default()
        };
        let store = match (&self.redis_url, &self.redis_cluster[..]) {
            (Some(_), [_, ..]) => {
                return Err(ConfigError {
                    message: "give redis_url or redis_cluster, not both".into(),
                })
            }
            (Some(url), []) => Some(("redis_url", RedisStore::open(url, redis))),
            (None, []) if self.redis_ca_file.is_some() => {
                return Err(ConfigError {
                    message: "redis_ca_file needs redis_url or redis_cluster".into(),
                })
            }
            (None, []) => None,
            (None, seeds) => Some(("redis_cluster", RedisStore::open_cluster(seeds, redis))),
        };
        match store {
            Some((_, Ok(store))) => o = o.store(Arc::new(store)),
            Some((what, Err(e))) => {
                return Err(ConfigError {
                    message: format!("{what}: {e}"),
                })
            }
            None => {}
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

    #[test]
    fn cluster_and_tls_options_build_stores_or_say_why_not() {
        let message = |h: HostOptions| h.to_options().err().map(|e| e.message).unwrap_or_default();
        let cluster = HostOptions {
            redis_cluster: vec![
                "redis://:hunter2@127.0.0.1:7000".into(),
                "redis://:hunter2@127.0.0.1:7001".into(),
            ],
            ..HostOptions::default()
        };
        assert!(!format!("{cluster:?}").contains("hunter2"));
        assert!(cluster.to_options().is_ok());
        let both = HostOptions {
            redis_url: Some("redis://127.0.0.1:6379".into()),
            redis_cluster: vec!["redis://127.0.0.1:7000".into()],
            ..HostOptions::default()
        };
        assert!(message(both).contains("not both"));
        let db = HostOptions {
            redis_cluster: vec!["redis://:hunter2@127.0.0.1:7000/2".into()],
            ..HostOptions::default()
        };
        let err = message(db);
        assert!(
            err.starts_with("redis_cluster: ") && err.contains("database 0"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        let insecure = HostOptions {
            redis_url: Some("rediss://127.0.0.1:6380/#insecure".into()),
            ..HostOptions::default()
        };
        assert!(message(insecure).contains("verification"));
        let ca_alone = HostOptions {
            redis_ca_file: Some("/nonexistent/ca.pem".into()),
            ..HostOptions::default()
        };
        assert!(message(ca_alone).contains("needs redis_url or redis_cluster"));
        let missing_ca = HostOptions {
            redis_url: Some("rediss://127.0.0.1:6380".into()),
            redis_ca_file: Some("/nonexistent/ca.pem".into()),
            ..HostOptions::default()
        };
        assert!(message(missing_ca).contains("cannot read the CA file /nonexistent/ca.pem"));
        let tls = HostOptions {
            redis_url: Some("rediss://127.0.0.1:6380".into()),
            ..HostOptions::default()
        };
        assert!(tls.to_options().is_ok());
    }
}
