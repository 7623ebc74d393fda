//! The per-project lint configuration: the `[lint]` table of a `warden.toml` found next
//! to the linted file or in a folder above it.
//!
//! ```toml
//! [lint]
//! disable = ["unused-role"]              # lints the project does not want
//! severity = { hsts-short = "error" }    # "error", "warning" or "off"
//! auth_route_words = ["session"]         # more words that mark a login-like route
//! ```

use crate::registry;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use warden_lang::{Diagnostic, Severity};

/// The name of the project file searched for.
pub const FILE_NAME: &str = "warden.toml";

/// Resolved lint settings; [`Config::default`] is every lint at its default severity.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Lint id -> its severity, or `None` when turned off.
    overrides: BTreeMap<String, Option<Severity>>,
    /// Path segments that mark a route as login, registration or password reset, on
    /// top of the built-in ones.
    pub extra_auth_words: Vec<String>,
    /// The file this came from, when any.
    pub source: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    lint: Option<LintTable>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LintTable {
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    #[serde(default)]
    auth_route_words: Vec<String>,
}

impl Config {
    /// Parse a `warden.toml` text. Unknown keys, unknown lint ids and unknown severities
    /// are errors: a misspelt setting must not silently lint less.
    pub fn parse(text: &str) -> Result<Config, String> {
        let file: File = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let table = file.lint.unwrap_or_default();
        let mut cfg = Config {
            extra_auth_words: table
                .auth_route_words
                .iter()
                .map(|w| w.to_ascii_lowercase())
                .collect(),
            ..Config::default()
        };
        let known = |id: &str| -> Result<(), String> {
            if registry::find(id).is_some() {
                return Ok(());
            }
            let hint = warden_lang::diag::did_you_mean(id, registry::ids())
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            Err(format!("unknown lint `{id}`{hint}"))
        };
        for id in &table.disable {
            known(id)?;
            cfg.overrides.insert(id.clone(), None);
        }
        for (id, sev) in &table.severity {
            known(id)?;
            let sev = match sev.as_str() {
                "error" => Some(Severity::Error),
                "warning" => Some(Severity::Warning),
                "off" => None,
                other => {
                    return Err(format!(
                    "severity of `{id}` must be \"error\", \"warning\" or \"off\", not `{other}`"
                ))
                }
            };
            cfg.overrides.insert(id.clone(), sev);
        }
        Ok(cfg)
    }

    /// The `warden.toml` that applies to a policy file: the nearest one in the file's
    /// folder or a folder above it; the default config when there is none.
    pub fn discover(policy_file: &Path) -> Result<Config, String> {
        let start = policy_file
            .canonicalize()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        for dir in start.ancestors() {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                return Self::load(&candidate);
            }
        }
        Ok(Config::default())
    }

    /// Read and parse one config file.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let mut cfg = Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        cfg.source = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Whether a lint is on.
    pub fn enabled(&self, id: &str) -> bool {
        !matches!(self.overrides.get(id), Some(None))
    }

    /// The finding with the project's severity, or `None` when its lint is off.
    pub fn apply(&self, mut finding: Diagnostic) -> Option<Diagnostic> {
        match self.overrides.get(finding.code) {
            Some(None) => None,
            Some(Some(sev)) => {
                finding.severity = *sev;
                Some(finding)
            }
            None => Some(finding),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disable_and_severity() {
        let c = Config::parse(
            "[lint]\ndisable = [\"unused-role\"]\nseverity = { hsts-short = \"error\", csp-missing = \"off\" }\n",
        )
        .unwrap_or_default();
        assert!(!c.enabled("unused-role"));
        assert!(!c.enabled("csp-missing"));
        assert!(c.enabled("hsts-short"));
        let f = Diagnostic::warning("hsts-short", Default::default(), "x");
        assert_eq!(c.apply(f).map(|f| f.severity), Some(Severity::Error));
    }

    #[test]
    fn unknown_ids_and_keys_are_errors() {
        let e = Config::parse("[lint]\ndisable = [\"hsts-shrt\"]\n").err();
        assert_eq!(
            e.as_deref(),
            Some("unknown lint `hsts-shrt` (did you mean `hsts-short`?)")
        );
        assert!(Config::parse("[lint]\ndisabled = []\n").is_err());
        assert!(Config::parse("[lint]\nseverity = { hsts-short = \"fatal\" }\n").is_err());
    }
}
