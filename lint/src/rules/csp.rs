//! Content-Security-Policy: missing, or letting injected script run.

use super::{head, header_values};
use crate::registry::declare_lint;
use crate::{finding, Finding};
use warden_lang::ast::{Item, Policy};

declare_lint! {
    /// A `headers` block without `Content-Security-Policy`.
    ///
    /// A policy that manages the security headers should manage the one that limits
    /// what an injected script can do. Add a `Content-Security-Policy` line (helmet's
    /// default is a good start: `default-src 'self'; script-src 'self'; object-src
    /// 'none'; frame-ancestors 'self'`), or suppress with the reason when the
    /// application sets it itself (e.g. per-request nonces).
    pub CSP_MISSING, "csp-missing", Warning,
    "security headers without a Content-Security-Policy"
}

declare_lint! {
    /// A `Content-Security-Policy` whose script sources (`script-src`, else
    /// `default-src`) include `'unsafe-inline'` (without a nonce or hash, which make
    /// browsers ignore it), `'unsafe-eval'`, a wildcard (`*`, `https://*.cdn.com`), a
    /// bare scheme (`https:`, `http:`, `data:`, `blob:`), or that has neither directive.
    ///
    /// Each lets an attacker who can inject markup run script: the CSP no longer
    /// mitigates XSS. Use `'self'`, exact hosts, nonces or hashes (`'strict-dynamic'`
    /// for script loaders). `style-src 'unsafe-inline'` is not reported.
    pub CSP_UNSAFE_SCRIPT, "csp-unsafe-script", Warning,
    "a Content-Security-Policy that lets injected or inline script run"
}

const CSP: &str = "content-security-policy";

pub(crate) fn check(policy: &Policy, out: &mut Vec<Finding>) {
    let values = header_values(policy, CSP);
    for item in &policy.items {
        if let Item::Headers(h) = item {
            if !h
                .entries
                .iter()
                .any(|e| e.name.name.eq_ignore_ascii_case(CSP))
            {
                out.push(
                    finding(CSP_MISSING.id, head(h.span, 7), "the security headers have no `Content-Security-Policy`")
                        .with_label("no CSP")
                        .with_help("add `Content-Security-Policy: \"default-src 'self'; script-src 'self'; object-src 'none'\"`"),
                );
            }
        }
    }
    for v in values {
        if let Some(problem) = unsafe_script(&v.value.value) {
            out.push(
                finding(
                    CSP_UNSAFE_SCRIPT.id,
                    v.value.span,
                    format!("the Content-Security-Policy lets injected script run: {problem}"),
                )
                .with_help("allow scripts by `'self'`, exact hosts, nonces or hashes only"),
            );
        }
    }
}

/// Why the script sources of a CSP value are unsafe, if they are.
pub(crate) fn unsafe_script(csp: &str) -> Option<String> {
    let directive = |name: &str| {
        csp.split(';').find_map(|d| {
            let mut words = d.split_ascii_whitespace();
            let first = words.next()?;
            first
                .eq_ignore_ascii_case(name)
                .then(|| words.map(str::to_ascii_lowercase).collect::<Vec<_>>())
        })
    };
    let (name, sources) = match directive("script-src") {
        Some(s) => ("script-src", s),
        None => match directive("default-src") {
            Some(s) => ("default-src", s),
            None => return Some("neither `script-src` nor `default-src` is set".to_string()),
        },
    };
    let nonce_or_hash = sources.iter().any(|s| {
        s.starts_with("'nonce-")
            || s.starts_with("'sha256-")
            || s.starts_with("'sha384-")
            || s.starts_with("'sha512-")
    });
    for s in &sources {
        let bad = match s.as_str() {
            "'unsafe-inline'" => !nonce_or_hash,
            "'unsafe-eval'" => true,
            "http:" | "https:" | "data:" | "blob:" | "filesystem:" => true,
            s => s.contains('*'),
        };
        if bad {
            return Some(format!("`{name}` allows `{s}`"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::unsafe_script;

    #[test]
    fn script_sources() {
        assert_eq!(unsafe_script("default-src 'self'; script-src 'self'"), None);
        assert_eq!(
            unsafe_script("default-src 'self'; style-src 'self' 'unsafe-inline'"),
            None
        );
        assert!(unsafe_script("script-src 'self' 'unsafe-inline'").is_some());
        assert_eq!(
            unsafe_script("script-src 'self' 'unsafe-inline' 'nonce-abc'"),
            None
        );
        assert!(unsafe_script("default-src *").is_some());
        assert!(unsafe_script("default-src 'self'; script-src https:").is_some());
        assert!(unsafe_script("script-src https://*.cdn.example").is_some());
        assert!(unsafe_script("SCRIPT-SRC 'UNSAFE-EVAL'").is_some());
        assert!(unsafe_script("frame-ancestors 'none'").is_some());
    }
}
