//! `warden test --coverage`: which grants, rules, routes, limits and security-header
//! lines of each policy the tests exercised, and which none did.
//!
//! "Exercised" is read from the explain traces of the tests' requests: a grant that
//! some decision named, a rule the engine evaluated for some request, a route that
//! matched some request, a limit that counted some request, a header line whose value
//! some HTTP decision carried. A policy tested by several files (one per environment)
//! adds up their hits.

use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use warden::http::HttpTrace;
use warden::Trace;
use warden_lang::ast::{Item, Policy};
use warden_lang::diag::LineIndex;

/// Kinds of coverable declarations, in report order.
const KINDS: &[&str] = &["grant", "rule", "route", "limit", "header"];

#[derive(Debug)]
struct Entry {
    kind: &'static str,
    line: usize,
    /// What to call it: the source's first line, trimmed.
    label: String,
    /// For limits: the name traces use; for header lines: (lower-case name, value).
    key: Option<(String, String)>,
}

#[derive(Debug, Default)]
struct PolicyCoverage {
    entries: Vec<Entry>,
    /// (kind, line) exercised.
    hit: BTreeSet<(&'static str, usize)>,
}

impl PolicyCoverage {
    /// (exercised, total) entries of one kind.
    fn count(&self, kind: &str) -> (usize, usize) {
        let of_kind = || self.entries.iter().filter(|e| e.kind == kind);
        let hit = of_kind()
            .filter(|e| self.hit.contains(&(e.kind, e.line)))
            .count();
        (hit, of_kind().count())
    }
}

/// Coverage of every policy the run loaded.
#[derive(Debug, Default)]
pub struct Coverage {
    policies: BTreeMap<PathBuf, PolicyCoverage>,
}

/// The coverage of one test file's policy while its tests run.
pub struct Recorder<'a> {
    cov: &'a mut PolicyCoverage,
}

fn line_of(loc: &str) -> Option<usize> {
    loc.rsplit_once(':')?
        .1
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

impl Coverage {
    /// Start recording for a policy (parsed from `source`); hits of earlier test files
    /// of the same policy are kept.
    pub fn policy(&mut self, path: &Path, source: &str, policy: &Policy) -> Recorder<'_> {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let cov = self.policies.entry(key).or_default();
        if cov.entries.is_empty() {
            cov.entries = entries(source, policy);
        }
        Recorder { cov }
    }

    /// The report as text, and whether anything is uncovered.
    pub fn text(&self, cwd: &Path) -> (String, bool) {
        let mut s = String::from("coverage:\n");
        let mut gaps = false;
        for (path, p) in &self.policies {
            let name = path.strip_prefix(cwd).unwrap_or(path).display().to_string();
            let counts: Vec<String> = KINDS
                .iter()
                .filter_map(|k| {
                    let (hit, total) = p.count(k);
                    (total > 0).then(|| format!("{k}s {hit}/{total}"))
                })
                .collect();
            let _ = writeln!(s, "  {name}: {}", counts.join(", "));
            for e in p
                .entries
                .iter()
                .filter(|e| !p.hit.contains(&(e.kind, e.line)))
            {
                gaps = true;
                let _ = writeln!(
                    s,
                    "    not covered: {} {name}:{} `{}`",
                    e.kind, e.line, e.label
                );
            }
        }
        if !gaps {
            s.push_str("  every grant, rule, route, limit and header line is exercised\n");
        }
        (s, gaps)
    }

    /// The report as JSON.
    pub fn json(&self, cwd: &Path) -> Json {
        let policies: Vec<Json> = self
            .policies
            .iter()
            .map(|(path, p)| {
                let name = path.strip_prefix(cwd).unwrap_or(path).display().to_string();
                let mut totals = serde_json::Map::new();
                for k in KINDS {
                    let (hit, total) = p.count(k);
                    totals.insert(format!("{k}s"), json!({ "covered": hit, "total": total }));
                }
                let uncovered: Vec<Json> = p
                    .entries
                    .iter()
                    .filter(|e| !p.hit.contains(&(e.kind, e.line)))
                    .map(|e| json!({ "kind": e.kind, "line": e.line, "source": e.label }))
                    .collect();
                json!({ "policy": name, "totals": totals, "uncovered": uncovered })
            })
            .collect();
        json!({ "coverage": policies })
    }
}

fn entries(source: &str, policy: &Policy) -> Vec<Entry> {
    let index = LineIndex::new(source);
    let line = |start: u32| index.line_col(source, start as usize).0;
    let label = |start: u32| {
        source
            .get(start as usize..)
            .and_then(|s| s.lines().next())
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let mut out = Vec::new();
    for item in &policy.items {
        let (kind, span, key) = match item {
            Item::Grant(g) => ("grant", g.span, None),
            Item::Rule(r) => ("rule", r.span, None),
            Item::Route(r) => ("route", r.span, None),
            Item::Limit(l) => ("limit", l.span, Some((l.name.name.clone(), String::new()))),
            Item::Headers(h) => {
                for e in &h.entries {
                    out.push(Entry {
                        kind: "header",
                        line: line(e.span.start),
                        label: label(e.span.start),
                        key: Some((e.name.name.to_ascii_lowercase(), e.value.value.clone())),
                    });
                }
                continue;
            }
            _ => continue,
        };
        out.push(Entry {
            kind,
            line: line(span.start),
            label: label(span.start),
            key,
        });
    }
    out
}

impl Recorder<'_> {
    fn hit_line(&mut self, kind: &'static str, loc: &str) {
        if let Some(l) = line_of(loc) {
            self.cov.hit.insert((kind, l));
        }
    }

    /// An authorization request's trace.
    pub fn authz(&mut self, t: &Trace) {
        if let Some(g) = &t.grant {
            self.hit_line("grant", g);
        }
        for r in &t.rules {
            self.hit_line("rule", &r.rule);
        }
    }

    /// An HTTP request's trace and decision JSON.
    pub fn http(&mut self, t: &HttpTrace, decision: &Json) {
        for r in &t.routes {
            self.hit_line("route", &r.rule);
        }
        for l in &t.limits {
            let hit: Vec<usize> = self
                .cov
                .entries
                .iter()
                .filter(|e| e.kind == "limit" && e.key.as_ref().is_some_and(|k| k.0 == l.limit))
                .map(|e| e.line)
                .collect();
            for line in hit {
                self.cov.hit.insert(("limit", line));
            }
        }
        let Some(headers) = decision.get("headers").and_then(Json::as_object) else {
            return;
        };
        let hit: Vec<usize> = self
            .cov
            .entries
            .iter()
            .filter(|e| e.kind == "header")
            .filter(|e| {
                e.key.as_ref().is_some_and(|(name, value)| {
                    headers.get(name).and_then(Json::as_str) == Some(value.as_str())
                })
            })
            .map(|e| e.line)
            .collect();
        for line in hit {
            self.cov.hit.insert(("header", line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::line_of;

    #[test]
    fn locations() {
        assert_eq!(line_of("00-tour.warden:12"), Some(12));
        assert_eq!(line_of("a:b.warden:7"), Some(7));
        assert_eq!(line_of("nothing"), None);
    }
}
