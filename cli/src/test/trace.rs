//! Explain traces as indented text under a failing test: what the engine looked at.

use std::fmt::Write as _;
use warden::http::HttpTrace;
use warden::Trace;

/// An authorization trace, one fact per line.
pub fn authz(t: &Trace) -> String {
    let mut s = String::new();
    let on = t
        .resource_type
        .as_deref()
        .map_or_else(|| " (no resource)".to_owned(), |r| format!(" on {r}"));
    let who = crate::explain::principal_roles(t);
    let _ = writeln!(s, "action {}{on}; {who}", t.action);
    match &t.grant {
        Some(g) => {
            let _ = writeln!(s, "grant: {g}");
        }
        None => s.push_str("grant: none covers this action for these roles\n"),
    }
    if t.rules.is_empty() {
        s.push_str("rules: none applies to this action and resource type\n");
    }
    for r in &t.rules {
        let _ = writeln!(
            s,
            "rule {} ({}): condition {}, {}",
            r.rule,
            r.effect,
            r.condition,
            crate::explain::rule_outcome(r.effect, r.matched)
        );
        for read in &r.reads {
            let _ = writeln!(s, "  {} = {}", read.attribute, read.value);
        }
    }
    s
}

/// An HTTP trace: path, routes, CORS, limits, principal, requirements.
pub fn http(t: &HttpTrace) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "path {}", t.path);
    if t.routes.is_empty() {
        s.push_str("route: none matches\n");
    }
    for r in &t.routes {
        let public = if r.public { " public" } else { "" };
        let applies = if r.applies {
            "applies"
        } else {
            "cut by a public route"
        };
        let _ = writeln!(s, "route {} {}{public}: {applies}", r.rule, r.pattern);
    }
    let preflight = if t.preflight { " (preflight)" } else { "" };
    let _ = writeln!(s, "cors: {}{preflight}", t.cors);
    for l in &t.limits {
        let remaining = l
            .remaining
            .map_or_else(String::new, |r| format!(", {r} remaining"));
        let _ = writeln!(
            s,
            "limit {} ({}) key {}: {}{remaining}",
            l.limit, l.rule, l.key, l.outcome
        );
    }
    let _ = writeln!(s, "principal: {}", t.principal);
    for r in &t.requirements {
        let _ = writeln!(s, "require {} ({}): {}", r.rule, r.kind, r.value);
        for read in &r.reads {
            let _ = writeln!(s, "  {} = {}", read.attribute, read.value);
        }
    }
    s
}

/// Indent every line of `text` by `n` spaces.
pub fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines().fold(String::new(), |mut out, l| {
        let _ = writeln!(out, "{pad}{l}");
        out
    })
}
