//! Robustness: random bytes, random Unicode and random soups of grammar tokens never make
//! `parse`, `load` or `format_source` panic, and each input is handled quickly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use std::time::{Duration, Instant};
use warden_lang::{format_source, load, parse, Limits};

/// Per small input: generous for a debug build on a shared machine; a hang or a
/// super-linear blow-up is far beyond it.
const BUDGET: Duration = Duration::from_secs(2);
/// Per pathological input (up to 1 MB, three passes, debug build).
const BIG_BUDGET: Duration = Duration::from_secs(20);

/// Run every front-end entry point on the text; for text that parses, the formatted text
/// must parse too.
fn survive(text: &str) -> Result<(), TestCaseError> {
    survive_within(text, BUDGET)
}

fn survive_within(text: &str, budget: Duration) -> Result<(), TestCaseError> {
    let limits = Limits::default();
    let start = Instant::now();
    let parsed = parse(text, &limits);
    let _ = load(text, &limits);
    let formatted = format_source(text, &limits);
    prop_assert_eq!(parsed.is_ok(), formatted.is_ok());
    if let Ok(out) = formatted {
        prop_assert!(
            parse(&out, &limits).is_ok(),
            "formatted text does not parse:\n{}",
            short(&out)
        );
    }
    let took = start.elapsed();
    prop_assert!(took < budget, "took {:?} on {:?}", took, short(text));
    Ok(())
}

/// The start of a text, for failure messages about megabyte inputs.
fn short(text: &str) -> String {
    let head: String = text.chars().take(200).collect();
    format!("{head}... ({} bytes)", text.len())
}

/// Tokens of the language, some valid in many places, some broken on purpose.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "policy", "role", "grant", "principal", "resource", "context", "input", "request", "set",
    "on", "because", "missing", "limit", "per", "by", "strict", "route", "require", "else",
    "redirect", "header", "drop", "headers", "cors", "startup", "script", "if", "unless",
    "allow", "deny", "skip", "public", "auth", "env", "ip", "secret", "true", "false", "not",
    "and", "or", "in", "contains", "starts_with", "ends_with", "matches", "is", "string",
    "number", "bool", "origins", "methods", "expose", "credentials", "max_age", "GET", "POST",
    "admin", "x", "posts:read", "users:*", "*", "{", "}", "(", ")", "[", "]", ",", ":", "?",
    "<", ">", "==", "!=", "<=", ">=", "??", "+", ".", ".len", "/", "/api/**", "/:id", "#",
    "# note", "\"", "\"str\"", "\"a\\\"b\"", "\"\\u{41}\"", "\"\\q\"", "/re\\/x/", "15m",
    "24h", "100ms", "500MB", "5", "-1", "2.5", "403", "999", "99999999999999999999999",
    "set<role>", "\\", "\u{FEFF}", "é",
];

fn soup() -> impl Strategy<Value = String> {
    let sep = prop::sample::select(vec![" ", " ", "\n", ""]);
    let tok = prop::sample::select(TOKENS.to_vec());
    prop::collection::vec((tok, sep), 0..60).prop_map(|parts| {
        let mut s = String::from("policy p\n");
        for (t, sep) in parts {
            s.push_str(t);
            s.push_str(sep);
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        survive(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn random_unicode(text in any::<String>()) {
        survive(&text)?;
        survive(&format!("policy p\n{text}"))?;
    }

    #[test]
    fn token_soup(text in soup()) {
        survive(&text)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    /// Prefixes of the tour: truncated files, cut mid-token. Each case is a whole file,
    /// so it gets fewer cases than the soups.
    #[test]
    fn truncated_valid_policy(cut in 0usize..2000) {
        let tour = include_str!("../../examples/00-tour.warden");
        let mut at = cut.min(tour.len());
        while !tour.is_char_boundary(at) {
            at -= 1;
        }
        survive(&tour[..at])?;
    }
}

/// Inputs a grammar tends to choke on: deep prefix chains, long operator chains, deep
/// brackets, huge names, and nothing at all.
#[test]
fn pathological_inputs() {
    let cases = [
        String::new(),
        "policy".to_string(),
        format!("policy p\nallow r if {}x\n", "not ".repeat(2000)),
        format!("policy p\nallow r if x{}\n", " == x".repeat(2000)),
        format!("policy p\nallow r if x{}\n", ".len".repeat(2000)),
        format!("policy p\nallow r if {}x\n", "(".repeat(100_000)),
        format!("policy p\nallow r if {}\n", "[".repeat(100_000)),
        format!("policy {}\n", "a".repeat(1 << 20)),
        format!("policy p\n{}", "role r\n".repeat(5_000)),
        format!("policy p\nallow r if \"{}\n", "\\".repeat(10_000)),
    ];
    for text in &cases {
        survive_within(text, BIG_BUDGET).unwrap();
    }
}
