//! Route patterns and the hosts and origins a policy names: pattern errors, pattern
//! conflicts across routes (decided on the patterns' shapes, in linear time) and the
//! syntax of `hosts:` entries and CORS origins.

use crate::ast::*;
use crate::diag::Diagnostic;
use std::collections::HashMap;

/// `name[:port]`: dot-separated labels of letters, digits and inner hyphens.
pub(crate) fn valid_host(h: &str) -> bool {
    let (name, port) = match h.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (h, None),
    };
    let port_ok = match port {
        None => true,
        Some(p) => {
            !p.is_empty()
                && p.len() <= 5
                && p.chars().all(|c| c.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
        }
    };
    port_ok
        && !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Whether `o` is `scheme://host[:port]` (also used when the engine splits a setting).
pub fn valid_origin(o: &str) -> bool {
    let Some((scheme, rest)) = o.split_once("://") else {
        return false;
    };
    if !matches!(scheme, "http" | "https") || rest.is_empty() {
        return false;
    }
    let host = rest.rsplit_once(':').map_or(rest, |(h, port)| {
        if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            "/" // forces failure
        }
    });
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
}

/// What is wrong with a path pattern, if anything.
pub(crate) fn pattern_error(p: &RoutePattern) -> Option<Diagnostic> {
    let bad = |msg: String, help: &str| {
        Some(Diagnostic::error("invalid-pattern", p.span, msg).with_help(help.to_string()))
    };
    let text = p.text.as_str();
    if text.len() > 1 && text.ends_with('/') {
        return bad(
            format!("pattern `{text}` ends with `/`"),
            "paths are matched without a trailing slash; remove it",
        );
    }
    let segments: Vec<&str> = text.split('/').skip(1).collect();
    let mut params: Vec<&str> = Vec::new();
    for (i, seg) in segments.iter().enumerate() {
        if text == "/" {
            break;
        }
        if seg.is_empty() {
            return bad(
                format!("pattern `{text}` has an empty segment"),
                "remove the doubled `/`",
            );
        }
        if *seg == "." || *seg == ".." {
            return bad(
                format!("pattern `{text}` has a `{seg}` segment"),
                "write the path as it resolves",
            );
        }
        if seg.contains('%') {
            return bad(
                format!("pattern `{text}` contains a percent-encoding"),
                "write the decoded character; requests are decoded before matching",
            );
        }
        if *seg == "**" {
            if i + 1 != segments.len() {
                return bad(
                    format!("`**` must be the last segment of `{text}`"),
                    "`**` matches the rest of the path",
                );
            }
            continue;
        }
        if seg.contains('*') {
            return bad(
                format!("`*` in `{seg}` is not a pattern"),
                "use `:name` for one segment or `**` for the rest of the path",
            );
        }
        if let Some(name) = seg.strip_prefix(':') {
            let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return bad(
                    format!("`{seg}` is not a valid parameter"),
                    "a parameter is `:` then a name, alone in its segment",
                );
            }
            if params.contains(&name) {
                return bad(
                    format!("parameter `:{name}` appears twice in `{text}`"),
                    "give each parameter its own name",
                );
            }
            params.push(name);
        } else if seg.contains(':') {
            return bad(
                format!("`:` inside segment `{seg}`"),
                "a parameter must be a whole segment, e.g. `/users/:id`",
            );
        }
    }
    None
}

/// The pattern with parameter names erased: two routes with the same shape match the same paths.
pub(crate) fn pattern_shape(text: &str) -> String {
    text.split('/')
        .map(|s| if s.starts_with(':') { ":" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Two routes with the same pattern shape and overlapping methods conflict.
pub(crate) fn route_conflicts(policy: &Policy, diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<(String, String), Span> = HashMap::new();
    // The shapes in `seen`, so that a route for every method finds a clash in one
    // lookup (a scan of `seen` made loading n such routes quadratic).
    let mut shapes: std::collections::HashSet<String> = std::collections::HashSet::new();
    for item in &policy.items {
        let Item::Route(r) = item else { continue };
        let methods: Vec<String> = if r.methods.is_empty() {
            vec!["*".to_string()]
        } else {
            r.methods.iter().map(|m| m.name.clone()).collect()
        };
        let mut mine = Vec::new();
        for p in &r.patterns {
            let shape = pattern_shape(&p.text);
            for m in &methods {
                let clash = if m == "*" {
                    shapes.contains(&shape)
                } else {
                    seen.contains_key(&(shape.clone(), m.clone()))
                        || seen.contains_key(&(shape.clone(), "*".into()))
                };
                if clash {
                    diags.push(
                        Diagnostic::error(
                            "conflicting-routes",
                            p.span,
                            format!(
                                "another route already matches `{}` with these methods",
                                p.text
                            ),
                        )
                        .with_help("merge the two route blocks, or give them different methods"),
                    );
                    break;
                }
            }
            mine.extend(methods.iter().map(|m| (shape.clone(), m.clone())));
        }
        // A route's own repeated patterns are reported by `route`, not as a conflict.
        for key in mine {
            shapes.insert(key.0.clone());
            seen.insert(key, r.span);
        }
    }
}
