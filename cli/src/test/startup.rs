//! `[[startup]]` cases: the policy is loaded on an engine of its own with the case's
//! environment, secrets and settings, and must load, or fail with the expected reason.

use super::load::{StartupCase, StartupExpect};
use super::run::Failure;
use serde_json::{json, Value as Json};
use std::sync::Arc;
use warden::{Engine, ManualClock, Options};
use warden_lang::{diag, Diagnostic};

/// The case's engine options: hermetic, like the file's (no secret from the environment).
fn options(case: &StartupCase, start_us: u64) -> Options {
    let mut o = Options::default()
        .env(case.env.clone())
        .clock(Arc::new(ManualClock::new(start_us)));
    o.secrets_from_env = false;
    for (name, value) in &case.secrets {
        o = o.secret(name.clone(), value.clone());
    }
    for (name, value) in &case.config {
        o = o.config(name.clone(), value.clone());
    }
    o
}

/// Whether one of the load errors says `because` (in its message, help or code).
fn mentions(diags: &[Diagnostic], because: &str) -> bool {
    diags.iter().any(|d| {
        d.message.contains(because)
            || d.code.contains(because)
            || d.help.as_deref().is_some_and(|h| h.contains(because))
    })
}

fn errors_json(e: &warden::LoadError) -> Json {
    serde_json::to_value(diag::to_json(&e.file, &e.source, &e.diagnostics)).unwrap_or_default()
}

fn messages(diags: &[Diagnostic]) -> String {
    let all: Vec<String> = diags.iter().map(|d| format!("{:?}", d.message)).collect();
    all.join(", ")
}

/// Load the policy for `case`; `None` when the outcome is the expected one.
pub fn case(name: &str, policy: &str, start_us: u64, case: &StartupCase) -> Option<Failure> {
    let loaded = Engine::from_source(name, policy, options(case, start_us));
    let (mismatch, trace_text, trace) = match (&case.expect, loaded) {
        (StartupExpect::Load, Ok(_)) => return None,
        (StartupExpect::Fail(because), Err(e)) if mentions(&e.diagnostics, because) => return None,
        (StartupExpect::Load, Err(e)) => (
            format!(
                "expected the policy to load, got {}",
                messages(&e.diagnostics)
            ),
            diag::render(&e.file, &e.source, &e.diagnostics, false),
            errors_json(&e),
        ),
        (StartupExpect::Fail(because), Err(e)) => (
            format!(
                "expected a load error saying {because:?}, got {}",
                messages(&e.diagnostics)
            ),
            diag::render(&e.file, &e.source, &e.diagnostics, false),
            errors_json(&e),
        ),
        (StartupExpect::Fail(because), Ok(_)) => (
            format!("expected a load error saying {because:?}, but the policy loaded"),
            String::new(),
            Json::Array(Vec::new()),
        ),
    };
    Some(Failure {
        at: Some(format!("startup, env {}", case.env)),
        mismatches: vec![mismatch],
        decision: Json::Null,
        trace: json!({ "load_errors": trace }),
        trace_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden::Secret;

    const POLICY: &str = "policy p\nstartup {\n  require secret(KEY).len >= 8 if env == \"production\" because \"KEY is at least 8 characters\"\n}\n";

    fn with_key(env: &str, key: Option<&str>, expect: StartupExpect) -> StartupCase {
        StartupCase {
            name: "c".into(),
            env: env.into(),
            secrets: key
                .map(|k| vec![("KEY".to_owned(), Secret::new(k))])
                .unwrap_or_default(),
            config: Vec::new(),
            expect,
        }
    }

    fn run(c: &StartupCase) -> Option<Vec<String>> {
        case("p.warden", POLICY, 0, c).map(|f| f.mismatches)
    }

    #[test]
    fn expected_outcomes_pass() {
        let fail = StartupExpect::Fail("at least 8 characters".into());
        assert_eq!(run(&with_key("production", Some("short"), fail)), None);
        let code = StartupExpect::Fail("missing-secret".into());
        assert_eq!(run(&with_key("production", None, code)), None);
        let load = StartupExpect::Load;
        assert_eq!(run(&with_key("development", Some("short"), load)), None);
    }

    #[test]
    fn unexpected_outcomes_fail_without_showing_secrets() {
        let c = with_key("production", Some("short"), StartupExpect::Load);
        let f = case("p.warden", POLICY, 0, &c);
        let text = format!("{f:?}");
        assert!(text.contains("KEY is at least 8 characters"), "{text}");
        assert!(!text.contains("\"short\""), "{text}");
        let other = StartupExpect::Fail("another reason".into());
        let got = run(&with_key("production", Some("short"), other));
        assert!(got.is_some_and(|m| m[0].contains("another reason")));
        let loads = StartupExpect::Fail("at least 8 characters".into());
        let got = run(&with_key("production", Some("long-enough-key"), loads));
        assert!(got.is_some_and(|m| m[0].ends_with("but the policy loaded")));
    }
}
