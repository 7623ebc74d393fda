//! Every lint: a stable id, a default severity, a one-line summary and its documentation,
//! which is the doc comment of the lint's constant (see `declare_lint!`).
//!
//! Ids are kebab-case and never change meaning: suppressions and project configs name
//! them. A retired lint's id is not reused.

use warden_lang::Severity;

/// One lint's identity and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lint {
    /// Stable kebab-case id, e.g. `hsts-short`.
    pub id: &'static str,
    /// Severity unless the project config changes it.
    pub severity: Severity,
    /// One line, for `warden lint --list` and SARIF's `shortDescription`.
    pub summary: &'static str,
    /// The lint's doc comment: why it matters and how to fix it (Markdown).
    pub doc: &'static str,
}

/// Declare a lint constant; its doc comment becomes [`Lint::doc`].
macro_rules! declare_lint {
    ($(#[doc = $doc:expr])* $vis:vis $name:ident, $id:literal, $sev:ident, $summary:literal) => {
        $(#[doc = $doc])*
        $vis const $name: $crate::registry::Lint = $crate::registry::Lint {
            id: $id,
            severity: warden_lang::Severity::$sev,
            summary: $summary,
            doc: concat!($($doc, "\n"),*),
        };
    };
}
pub(crate) use declare_lint;

use crate::rules::{
    cookies, cors, csp, hsts, limits, matching, shadow, suppression, textcase, unused,
};

/// Every lint, in documentation order.
pub const LINTS: &[Lint] = &[
    cors::CORS_CREDENTIALS_BROAD_ORIGINS,
    csp::CSP_MISSING,
    csp::CSP_UNSAFE_SCRIPT,
    limits::AUTH_ROUTE_WITHOUT_STRICT_LIMIT,
    limits::IP_LIMIT_WITHOUT_TRUSTED_PROXY,
    limits::PUBLIC_ROUTE_WITHOUT_LIMIT,
    cookies::COOKIE_MISSING_ATTRIBUTES,
    hsts::HSTS_SHORT,
    textcase::CASE_SENSITIVE_COMPARE,
    shadow::SHADOWED_RULE,
    shadow::OVERRIDDEN_GRANT,
    matching::NEVER_MATCHING_RULE,
    unused::UNUSED_ROLE,
    unused::UNUSED_GRANT,
    unused::UNUSED_LIMIT,
    unused::UNUSED_SHAPE,
    suppression::INVALID_SUPPRESSION,
    suppression::UNUSED_SUPPRESSION,
];

/// The lint of this id.
pub fn find(id: &str) -> Option<&'static Lint> {
    LINTS.iter().find(|l| l.id == id)
}

/// The ids, for "did you mean" help.
pub fn ids() -> impl Iterator<Item = &'static str> {
    LINTS.iter().map(|l| l.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for l in LINTS {
            assert!(seen.insert(l.id), "duplicate id {}", l.id);
            assert!(
                l.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{} is not kebab-case",
                l.id
            );
            assert!(
                l.doc.trim().len() > 80,
                "{} has no real documentation",
                l.id
            );
            assert!(!l.summary.is_empty());
        }
    }
}
