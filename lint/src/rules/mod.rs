//! The lints, one family a file. Each family exposes `check(policy, config, out)`.

pub(crate) mod cookies;
pub(crate) mod cors;
pub(crate) mod csp;
pub(crate) mod hsts;
pub(crate) mod limits;
pub(crate) mod matching;
pub(crate) mod shadow;
pub(crate) mod suppression;
pub(crate) mod textcase;
pub(crate) mod unused;

use crate::{Config, Finding};
use warden_lang::ast::{Item, Policy, RouteStmt, Span, StrLit};

pub(crate) fn run(policy: &Policy, source: &str, config: &Config, out: &mut Vec<Finding>) {
    cors::check(policy, out);
    csp::check(policy, out);
    hsts::check(policy, out);
    cookies::check(policy, out);
    limits::check(policy, config, out);
    textcase::check(policy, out);
    shadow::check(policy, source, out);
    matching::check(policy, out);
    unused::check(policy, out);
}

/// A literal response header, in the `headers` block or a route's `header set`.
pub(crate) struct HeaderValue<'a> {
    pub value: &'a StrLit,
}

/// Every literal value given to the header `name` (case-insensitive).
pub(crate) fn header_values<'a>(policy: &'a Policy, name: &str) -> Vec<HeaderValue<'a>> {
    let mut out = Vec::new();
    for item in &policy.items {
        match item {
            Item::Headers(h) => {
                for e in &h.entries {
                    if e.name.name.eq_ignore_ascii_case(name) {
                        out.push(HeaderValue { value: &e.value });
                    }
                }
            }
            Item::Route(r) => {
                for s in &r.body {
                    if let RouteStmt::HeaderSet { name: n, value, .. } = s {
                        if n.name.eq_ignore_ascii_case(name) {
                            out.push(HeaderValue { value });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The first `len` bytes of a span: a declaration's keyword.
pub(crate) fn head(span: Span, len: u32) -> Span {
    Span::new(span.start, span.end.min(span.start + len))
}
