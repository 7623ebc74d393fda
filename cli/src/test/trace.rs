//! Explain traces as indented text under a failing test: what the engine looked at.

use std::fmt::Write as _;
use warden::Trace;

/// An authorization trace, one fact per line.
pub fn authz(t: &Trace) -> String {
    let mut s = String::new();
    let on = t
        .resource_type
        .as_deref()
        .map_or_else(|| " (no resource)".to_owned(), |r| format!(" on {r}"));
    let who = match &t.roles {
        None => "anonymous principal".to_owned(),
        Some(r) if r.is_empty() => "principal with no declared role".to_owned(),
        Some(r) => format!("principal roles: {}", r.join(", ")),
    };
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
        let outcome = match (r.effect, r.matched) {
            ("allow", true) => "permits",
            ("allow", false) => "does not permit",
            (_, true) => "denies",
            (_, false) => "does not deny",
        };
        let _ = writeln!(
            s,
            "rule {} ({}): condition {}, {outcome}",
            r.rule, r.effect, r.condition
        );
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
