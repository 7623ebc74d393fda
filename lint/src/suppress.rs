//! In-place suppressions: `# lint: allow(ID, ...) REASON`.
//!
//! A suppression on a line of its own covers findings that start in the declaration
//! (or route statement) that begins on the next line that is neither blank nor a
//! comment, all its lines included: `warden fmt` keeps such comments above a rule that
//! spans lines. A suppression after code covers findings that start on its own line. The reason is required: a suppression
//! is a reviewed decision, and the reason is what the reviewer reads. A suppression
//! without a reason, naming an unknown lint, or covering nothing is itself a finding.

use crate::config::Config;
use crate::{finding, registry, Finding};
use warden_lang::ast::{Item, Policy, Span};
use warden_lang::diag::LineIndex;

/// The marker after `#`.
const MARKER: &str = "lint:";

struct Suppression {
    ids: Vec<&'static str>,
    /// The 1-based lines whose findings it covers.
    lines: std::ops::RangeInclusive<usize>,
    span: Span,
    used: Vec<bool>,
}

/// Remove suppressed findings; add findings about the suppressions themselves.
pub(crate) fn apply(
    policy: &Policy,
    source: &str,
    findings: Vec<Finding>,
    config: &Config,
) -> Vec<Finding> {
    let index = LineIndex::new(source);
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    let mut sups = Vec::new();
    for c in &policy.comments {
        let text = c.text.trim();
        let Some(rest) = text.strip_prefix(MARKER) else {
            continue;
        };
        match parse(rest.trim_start()) {
            Err(msg) => out.push(invalid(c.span, msg)),
            Ok((names, reason)) => {
                let mut ids = Vec::new();
                for name in names {
                    match registry::find(name) {
                        Some(l) => ids.push(l.id),
                        None => {
                            let hint = warden_lang::diag::did_you_mean(name, registry::ids())
                                .map(|h| format!("; {h}"))
                                .unwrap_or_default();
                            out.push(invalid(c.span, format!("unknown lint `{name}`{hint}")));
                        }
                    }
                }
                if reason.is_empty() {
                    out.push(invalid(
                        c.span,
                        "a suppression needs a reason after `allow(...)`".to_string(),
                    ));
                    continue;
                }
                let (line, col) = index.line_col(source, c.span.start as usize);
                let before = lines
                    .get(line - 1)
                    .and_then(|l| l.get(..l.char_indices().nth(col - 1).map_or(0, |(i, _)| i)))
                    .unwrap_or("");
                let lines = if before.trim().is_empty() {
                    let target = next_code_line(&lines, line);
                    let end = statement_spans(policy)
                        .filter(|s| index.line_col(source, s.start as usize).0 == target)
                        .map(|s| index.line_col(source, s.end as usize).0)
                        .max()
                        .unwrap_or(target);
                    target..=end.max(target)
                } else {
                    line..=line
                };
                let used = vec![false; ids.len()];
                sups.push(Suppression {
                    ids,
                    lines,
                    span: c.span,
                    used,
                });
            }
        }
    }
    for f in findings {
        let (line, _) = index.line_col(source, f.span.start as usize);
        let mut suppressed = false;
        for s in sups.iter_mut().filter(|s| s.lines.contains(&line)) {
            if let Some(i) = s.ids.iter().position(|id| *id == f.code) {
                s.used[i] = true;
                suppressed = true;
            }
        }
        if !suppressed {
            out.push(f);
        }
    }
    for s in &sups {
        for (id, used) in s.ids.iter().zip(&s.used) {
            // A suppression of a lint the project turned off is not "unused": it keeps
            // the policy clean for projects that turn it back on.
            if !used && config.enabled(id) {
                out.push(
                    finding(
                        "unused-suppression",
                        s.span,
                        format!("`{id}` is suppressed here but reports nothing on this line"),
                    )
                    .with_help("remove it, or move it above the declaration it is about"),
                );
            }
        }
    }
    out.into_iter().filter_map(|f| config.apply(f)).collect()
}

fn invalid(span: Span, msg: String) -> Finding {
    finding("invalid-suppression", span, msg)
        .with_help("write `# lint: allow(LINT-ID) why this is fine here`")
}

/// `allow(a, b) reason` -> (["a", "b"], "reason").
fn parse(text: &str) -> Result<(Vec<&str>, &str), String> {
    let Some(rest) = text.strip_prefix("allow(") else {
        return Err("expected `allow(LINT-ID) reason` after `lint:`".to_string());
    };
    let Some(close) = rest.find(')') else {
        return Err("`allow(` is not closed".to_string());
    };
    let names: Vec<&str> = rest[..close]
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Err("`allow()` names no lint".to_string());
    }
    let reason = rest[close + 1..]
        .trim()
        .trim_start_matches(['-', ':'])
        .trim();
    Ok((names, reason))
}

/// Spans of declarations and route statements: what a suppression above one covers.
fn statement_spans(policy: &Policy) -> impl Iterator<Item = Span> + '_ {
    policy.items.iter().flat_map(|item| {
        let mut spans = vec![item.span()];
        if let Item::Route(r) = item {
            spans.extend(r.body.iter().map(|s| s.span()));
        }
        spans
    })
}

/// The first line after `line` (1-based) that is neither blank nor only a comment.
fn next_code_line(lines: &[&str], line: usize) -> usize {
    (line + 1..=lines.len())
        .find(|&n| {
            let t = lines[n - 1].trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .unwrap_or(line + 1)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_ids_and_reason() {
        assert_eq!(
            parse("allow(hsts-short, csp-missing) -- the seed's value").ok(),
            Some((vec!["hsts-short", "csp-missing"], "the seed's value"))
        );
        assert_eq!(parse("allow(x)").ok(), Some((vec!["x"], "")));
        assert!(parse("allow x").is_err());
        assert!(parse("allow(").is_err());
        assert!(parse("allow() why").is_err());
    }
}
