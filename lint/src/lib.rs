//! `warden lint`: security and correctness lints over a policy that already checks.
//!
//! `warden check` says whether a policy is valid; the lints say where a valid policy is
//! probably not what its author meant, across concerns (CORS with auth, limits with
//! routes, headers, rule tables). Each lint has a stable id, a default severity and a
//! doc ([`registry::LINTS`]); a finding points at a span and says what to do.
//!
//! | module | owns |
//! | --- | --- |
//! | `registry` | every lint's id, severity and documentation |
//! | `config` | the per-project `warden.toml` `[lint]` section |
//! | `suppress` | in-place `# lint: allow(ID) reason` comments |
//! | `routes` | which route patterns cover which (ancestors, statically) |
//! | `walk` | visiting every expression of a policy |
//! | `rules/*` | one file per lint family |

pub mod config;
pub mod registry;
mod routes;
mod rules;
mod suppress;
mod walk;

pub use config::Config;
pub use registry::{Lint, LINTS};

use warden_lang::ast::{Policy, Span};
use warden_lang::{Diagnostic, Severity};

/// One lint finding: a [`Diagnostic`] whose code is the lint's id.
pub type Finding = Diagnostic;

/// Lint a parsed, checked policy (`source` is its text: suppression comments are
/// matched to lines). Findings come sorted by position; suppressed ones are gone, and
/// suppressions that are malformed, lack a reason or suppress nothing are findings too.
pub fn lint(policy: &Policy, source: &str, config: &Config) -> Vec<Finding> {
    let mut raw = Vec::new();
    rules::run(policy, source, config, &mut raw);
    let mut findings: Vec<Finding> = raw.into_iter().filter_map(|f| config.apply(f)).collect();
    findings = suppress::apply(policy, source, findings, config);
    findings.sort_by_key(|d| (d.span.start, d.span.end, d.code));
    findings.dedup();
    findings
}

/// A finding of lint `id` at `span` with the lint's default severity.
pub(crate) fn finding(id: &'static str, span: Span, message: impl Into<String>) -> Finding {
    let severity = registry::find(id).map_or(Severity::Warning, |l| l.severity);
    Diagnostic {
        severity,
        code: id,
        message: message.into(),
        span,
        label: String::new(),
        help: None,
    }
}
