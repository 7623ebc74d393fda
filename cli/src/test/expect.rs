//! What a test expects of a decision, checked against the decision JSON of docs/JSON.md
//! (the same contract for authorization and HTTP decisions).

use serde_json::Value as Json;
use std::fmt::Write as _;

/// Every field is optional; a test must check at least one (see `load.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expect {
    pub allowed: Option<bool>,
    pub status: Option<u16>,
    pub location: Option<String>,
    pub because: Option<String>,
    pub rule: Option<String>,
    /// Lower-case name -> exact value.
    pub headers: Vec<(String, String)>,
    /// Lower-case names that must not be in the answer.
    pub absent: Vec<String>,
    /// Lower-case names the decision must tell the host to drop.
    pub removed: Vec<String>,
    /// An application's `Set-Cookie` value -> what the middleware sends after the
    /// policy's `cookies` rules (`Engine::enforce_set_cookie`).
    pub set_cookie: Vec<(String, String)>,
}

impl Expect {
    pub fn is_empty(&self) -> bool {
        *self == Expect::default()
    }

    /// The fields only an HTTP decision has, by their test-file names.
    pub fn http_only_fields(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.location.is_some() {
            out.push("location");
        }
        if !self.headers.is_empty() {
            out.push("headers");
        }
        if !self.absent.is_empty() {
            out.push("absent");
        }
        if !self.removed.is_empty() {
            out.push("removed");
        }
        if !self.set_cookie.is_empty() {
            out.push("set_cookie");
        }
        out
    }

    /// Every `set_cookie` pair the engine rewrites otherwise.
    pub fn cookie_mismatches(&self, engine: &warden::Engine) -> Vec<String> {
        self.set_cookie
            .iter()
            .filter_map(|(app, want)| {
                let got = engine.enforce_set_cookie(app);
                (got != want.as_str()).then(|| {
                    format!("expected Set-Cookie {app:?} to be sent as {want:?}, got {got:?}")
                })
            })
            .collect()
    }

    /// Every way `decision` differs from this expectation, as `expected X, got Y`.
    pub fn mismatches(&self, decision: &Json) -> Vec<String> {
        let mut out = Vec::new();
        let allowed = decision.get("allowed").and_then(Json::as_bool);
        if let Some(want) = self.allowed {
            if allowed != Some(want) {
                out.push(format!(
                    "expected {}, got {}",
                    verdict(want),
                    summary(decision)
                ));
            }
        }
        if let Some(want) = self.status {
            let got = decision.get("status").and_then(Json::as_u64);
            if got != Some(u64::from(want)) {
                out.push(format!(
                    "expected status {want}, got {}",
                    got.map_or_else(|| "none".to_owned(), |s| s.to_string())
                ));
            }
        }
        if let Some(want) = &self.location {
            let got = decision.get("location").and_then(Json::as_str);
            if got != Some(want.as_str()) {
                out.push(format!("expected location {want:?}, got {}", quoted(got)));
            }
        }
        if let Some(want) = &self.because {
            let got = decision.get("reason").and_then(Json::as_str);
            if got != Some(want.as_str()) {
                out.push(format!("expected because {want:?}, got {}", quoted(got)));
            }
        }
        if let Some(want) = &self.rule {
            let rules = string_list(decision.get("rules"));
            if !rules.iter().any(|r| r == want) {
                let got = if rules.is_empty() {
                    "no rule".to_owned()
                } else {
                    rules.join(", ")
                };
                out.push(format!("expected rule {want}, got {got}"));
            }
        }
        for (name, want) in &self.headers {
            let got = header(decision, name);
            if got != Some(want.as_str()) {
                out.push(format!(
                    "expected header {name}: {want:?}, got {}",
                    quoted(got)
                ));
            }
        }
        for name in &self.absent {
            if let Some(got) = header(decision, name) {
                out.push(format!("expected no header {name}, got {got:?}"));
            }
        }
        let removed = string_list(decision.get("remove"));
        for name in &self.removed {
            if !removed.iter().any(|r| r.eq_ignore_ascii_case(name)) {
                out.push(format!(
                    "expected header {name} removed, got {}",
                    if removed.is_empty() {
                        "none removed".to_owned()
                    } else {
                        format!("removed {}", removed.join(", "))
                    }
                ));
            }
        }
        out
    }
}

fn verdict(allowed: bool) -> &'static str {
    if allowed {
        "allow"
    } else {
        "deny"
    }
}

/// `allow (file:line)` or `deny 403 "reason" (file:line)`: what a person needs to see why.
pub fn summary(decision: &Json) -> String {
    let allowed = decision.get("allowed").and_then(Json::as_bool);
    let mut s = match allowed {
        Some(a) => verdict(a).to_owned(),
        None => "no decision".to_owned(),
    };
    if let Some(status) = decision.get("status").and_then(Json::as_u64) {
        let usual = match allowed {
            Some(true) => 200,
            Some(false) => 403,
            None => 0,
        };
        if status != usual {
            let _ = write!(s, " {status}");
        }
    }
    if let Some(reason) = decision.get("reason").and_then(Json::as_str) {
        let _ = write!(s, " {reason:?}");
    }
    let rules = string_list(decision.get("rules"));
    if !rules.is_empty() {
        let _ = write!(s, " ({})", rules.join(", "));
    }
    s
}

fn quoted(v: Option<&str>) -> String {
    v.map_or_else(|| "none".to_owned(), |v| format!("{v:?}"))
}

fn string_list(v: Option<&Json>) -> Vec<String> {
    match v {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// A response header by case-insensitive name.
fn header<'d>(decision: &'d Json, name: &str) -> Option<&'d str> {
    decision
        .get("headers")
        .and_then(Json::as_object)?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deny() -> Json {
        json!({"allowed": false, "status": 403, "reason": "only the author",
               "rules": ["p.warden:9"], "headers": {"X-Frame-Options": "DENY"},
               "remove": ["x-powered-by"]})
    }

    #[test]
    fn a_matching_expectation_has_no_mismatch() {
        let e = Expect {
            allowed: Some(false),
            status: Some(403),
            because: Some("only the author".into()),
            rule: Some("p.warden:9".into()),
            headers: vec![("x-frame-options".into(), "DENY".into())],
            absent: vec!["access-control-allow-origin".into()],
            ..Expect::default()
        };
        assert_eq!(e.mismatches(&deny()), Vec::<String>::new());
    }

    #[test]
    fn each_difference_is_named_with_what_was_got() {
        let e = Expect {
            allowed: Some(true),
            status: Some(200),
            location: Some("/login".into()),
            because: Some("other".into()),
            rule: Some("p.warden:3".into()),
            headers: vec![("x-frame-options".into(), "SAMEORIGIN".into())],
            absent: vec!["x-frame-options".into()],
            removed: vec!["server".into()],
            set_cookie: Vec::new(),
        };
        assert_eq!(
            e.mismatches(&deny()),
            vec![
                r#"expected allow, got deny "only the author" (p.warden:9)"#,
                "expected status 200, got 403",
                r#"expected location "/login", got none"#,
                r#"expected because "other", got "only the author""#,
                "expected rule p.warden:3, got p.warden:9",
                r#"expected header x-frame-options: "SAMEORIGIN", got "DENY""#,
                r#"expected no header x-frame-options, got "DENY""#,
                "expected header server removed, got removed x-powered-by",
            ]
        );
    }

    #[test]
    fn summaries_show_unusual_statuses_only() {
        assert_eq!(summary(&json!({"allowed": true, "status": 200})), "allow");
        assert_eq!(
            summary(&json!({"allowed": false, "status": 429, "reason": "rate limited"})),
            r#"deny 429 "rate limited""#
        );
        assert_eq!(
            summary(&json!({"allowed": false, "status": 302, "rules": []})),
            "deny 302"
        );
    }
}
