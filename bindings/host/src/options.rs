//! Host options (Python keyword arguments, a Node options object) -> `warden::Options`.

use std::fmt;
use warden::{OnStoreError, Options};

/// Load options as hosts spell them; `None` keeps the engine's default.
#[derive(Default)]
pub struct HostOptions {
    pub env: Option<String>,
    /// Secret values by name; never printed (see the `Debug` impl).
    pub secrets: Vec<(String, String)>,
    pub redis_url: Option<String>,
    /// `"closed"` (default), `"open"` or `"fallback"`.
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
        if let Some(n) = self.cache_size {
            o = o.cache_size(n);
        }
        if let Some(on) = &self.on_store_error {
            o = o.on_store_error(match on.as_str() {
                "closed" => OnStoreError::FailClosed,
                "open" => OnStoreError::FailOpen,
                "fallback" => OnStoreError::Fallback,
                other => {
                    return Err(ConfigError {
                        message: format!(
                            "unknown on_store_error `{other}`; expected \"closed\", \"open\" or \"fallback\""
                        ),
                    })
                }
            });
        }
        if self.redis_url.is_some() {
            // The Redis store (issue: rate limits) is not in the engine this binding
            // was built against; refusing beats silently counting in process memory.
            return Err(ConfigError {
                message: "redis_url: this build of warden has no Redis rate-limit store; \
                          leave it unset to count limits in process memory"
                    .into(),
            });
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
    }
}
