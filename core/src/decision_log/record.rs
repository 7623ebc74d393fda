//! [`DecisionRecord`]: one line of the decision log, and [`LogField`], the allow-list
//! of what else a record may carry from the request.
//!
//! Redaction is structural: the record has no field that can hold a header value, a
//! cookie, a query string, a body or a secret unless the operator named that source
//! in the allow-list, and [`LogField::header`] refuses every header that carries
//! credentials (by name, when the log is configured; no pattern is ever run over
//! values). The path is never logged, only the route pattern it matched, which comes
//! from the policy: a reset token in `/reset/TOKEN` cannot reach the log.

use serde::ser::{SerializeMap, Serializer};
use std::fmt;
use std::sync::Arc;

/// Longest text a record keeps of one host-supplied identifier (a principal or
/// resource id, an action, an allow-listed header value); longer ones are cut at a
/// character boundary and marked with `…`.
pub const MAX_TEXT: usize = 256;

/// Which kind of call decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `Engine::authorize` and its variants.
    Authorize,
    /// `Engine::check_http` and its variants.
    Http,
}

impl Kind {
    /// `"authorize"` or `"http"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Authorize => "authorize",
            Kind::Http => "http",
        }
    }
}

/// The decision in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The request may proceed.
    Allow,
    /// The request is refused (any status but 2xx, or a redirect).
    Deny,
}

impl Outcome {
    /// `"allow"` or `"deny"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
        }
    }
}

/// A request-derived field the operator allowed into the log (beyond the principal
/// and resource ids every record has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogField {
    /// The client address (`ip`).
    Ip,
    /// The HTTP method.
    Method,
    /// One request header, by lower-case name; built by [`LogField::header`], which
    /// refuses credential-bearing headers.
    Header(HeaderName),
}

/// A header name the log may record the value of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderName(Box<str>);

impl HeaderName {
    /// The lower-case name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an allow-list entry was refused (the message names the entry, never a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRefused(pub String);

impl fmt::Display for FieldRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FieldRefused {}

/// Headers that carry credentials or session state, refused whole.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "signature",
    "signature-input",
];

/// Name fragments of headers that by convention carry credentials (`x-api-key`,
/// `x-auth-token`, `x-hub-signature-256`, `x-csrf-token` ...), refused whole.
const CREDENTIAL_WORDS: &[&str] = &[
    "auth",
    "token",
    "key",
    "secret",
    "session",
    "signature",
    "password",
    "passwd",
    "credential",
    "cookie",
    "csrf",
    "xsrf",
    "jwt",
    "bearer",
];

impl LogField {
    /// The header `name` (case-insensitive), unless it is one that carries
    /// credentials: `Authorization`, `Cookie`, signature headers, and any name
    /// containing `auth`, `token`, `key`, `secret`, `session`, `signature`,
    /// `password`, `credential`, `csrf`, `jwt` or `bearer`.
    pub fn header(name: &str) -> Result<LogField, FieldRefused> {
        let lower = name.trim().to_ascii_lowercase();
        if lower.is_empty()
            || !lower
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(FieldRefused(format!(
                "`{}` is not a header name",
                name.escape_default()
            )));
        }
        if CREDENTIAL_HEADERS.contains(&lower.as_str())
            || CREDENTIAL_WORDS.iter().any(|w| lower.contains(w))
        {
            return Err(FieldRefused(format!(
                "the header `{lower}` may carry credentials and is never logged"
            )));
        }
        Ok(LogField::Header(HeaderName(lower.into())))
    }

    /// Parses `ip`, `method` or `header:NAME` (the CLI's and bindings' spelling).
    pub fn parse(spec: &str) -> Result<LogField, FieldRefused> {
        match spec.trim() {
            "ip" => Ok(LogField::Ip),
            "method" => Ok(LogField::Method),
            s => match s.strip_prefix("header:") {
                Some(name) => LogField::header(name),
                None => Err(FieldRefused(format!(
                    "unknown log field `{}`; expected ip, method or header:NAME",
                    s.escape_default()
                ))),
            },
        }
    }

    /// The field's name in the record's `fields` object.
    pub fn key(&self) -> String {
        match self {
            LogField::Ip => "ip".into(),
            LogField::Method => "method".into(),
            LogField::Header(h) => format!("header:{}", h.as_str()),
        }
    }
}

/// Host-supplied text, bounded: identifiers, never credentials (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(Box<str>);

impl Text {
    /// `s`, cut to [`MAX_TEXT`] bytes at a character boundary.
    pub fn new(s: &str) -> Text {
        if s.len() <= MAX_TEXT {
            return Text(s.into());
        }
        let mut end = MAX_TEXT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Text(format!("{}…", &s[..end]).into())
    }

    /// The kept text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One decision as the log records it. Every field is policy text (names, `file:line`,
/// route patterns), a number, or a bounded host identifier; request values other than
/// the principal and resource ids only through [`LogField`]s.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    /// 32 hex digits, unique per process run (a random prefix and a counter).
    pub id: u128,
    /// Wall-clock time of the decision, microseconds since the epoch.
    pub time_us: u64,
    /// The policy's name (`policy NAME`).
    pub policy: Arc<str>,
    /// The policy's revision: the first 12 hex digits of its source's SHA-256.
    pub revision: Arc<str>,
    /// The call that decided.
    pub kind: Kind,
    /// The matched route's pattern (HTTP), never the request's path.
    pub route: Option<Arc<str>>,
    /// The action asked for (`authorize`).
    pub action: Option<Text>,
    /// The resource's type (`authorize`).
    pub resource_type: Option<Text>,
    /// The resource's id (`authorize`).
    pub resource_id: Option<Text>,
    /// The principal's id: the host's, or the one the policy's `auth` produced.
    pub principal_id: Option<Text>,
    /// How the policy's `auth` authenticated the request (`jwt:NAME#1`: key labels,
    /// never key material).
    pub authenticated_by: Option<Text>,
    /// Allow or deny.
    pub outcome: Outcome,
    /// The decision's status.
    pub status: u16,
    /// The refusal's reason when it is policy text (a `because`, a failure code);
    /// reasons built from the request are left out.
    pub reason: Option<Arc<str>>,
    /// The deciding rules, requirements or limits as `file:line`.
    pub rules: Vec<Arc<str>>,
    /// The deciding limit's name, when a limit refused (or its store failed).
    pub limit: Option<Arc<str>>,
    /// A rate-limit store failed on this request (what failed is not logged: store
    /// errors can carry connection details).
    pub store_error: bool,
    /// Time spent deciding, in nanoseconds.
    pub latency_ns: u64,
    /// The allow-listed request fields present on this request, in allow-list order.
    pub fields: Vec<(Arc<str>, Text)>,
    /// `report_only` elements that would have refused this allowed request.
    pub reported: Vec<ReportedRecord>,
    /// What the candidate policy answered, when it disagreed with this decision.
    pub candidate: Option<CandidateRecord>,
}

/// A `report_only` rule, requirement, limit or policy that would have refused the
/// request the record's decision allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedRecord {
    /// The element as `file:line`.
    pub rule: Arc<str>,
    /// The status enforcing it would have answered.
    pub status: u16,
    /// Its reason, when policy text (a `because`, a failure code).
    pub reason: Option<Arc<str>>,
}

impl serde::Serialize for ReportedRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("rule", &*self.rule)?;
        m.serialize_entry("status", &self.status)?;
        if let Some(r) = &self.reason {
            m.serialize_entry("reason", &**r)?;
        }
        m.end()
    }
}

/// A candidate policy's answer to a request on which it disagreed with the live
/// policy (outcome or status): policy texts only, as in the record itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateRecord {
    /// The candidate's revision (first 12 hex digits of its source's SHA-256).
    pub revision: Arc<str>,
    /// Allow or deny.
    pub outcome: Outcome,
    /// Its status.
    pub status: u16,
    /// Its deciding rules, requirements or limits as `file:line` of its own file.
    pub rules: Vec<Arc<str>>,
}

impl serde::Serialize for CandidateRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("revision", &*self.revision)?;
        m.serialize_entry("outcome", self.outcome.as_str())?;
        m.serialize_entry("status", &self.status)?;
        let rules: Vec<&str> = self.rules.iter().map(|r| &**r).collect();
        m.serialize_entry("rules", &rules)?;
        m.end()
    }
}

impl DecisionRecord {
    /// The record as one JSON line (no trailing newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

struct Fields<'a>(&'a [(Arc<str>, Text)]);

impl serde::Serialize for Fields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            m.serialize_entry(&**k, v.as_str())?;
        }
        m.end()
    }
}

impl serde::Serialize for DecisionRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &format!("{:032x}", self.id))?;
        m.serialize_entry("time_us", &self.time_us)?;
        m.serialize_entry("policy", &*self.policy)?;
        m.serialize_entry("revision", &*self.revision)?;
        m.serialize_entry("kind", self.kind.as_str())?;
        if let Some(r) = &self.route {
            m.serialize_entry("route", &**r)?;
        }
        for (key, v) in [
            ("action", &self.action),
            ("resource_type", &self.resource_type),
            ("resource_id", &self.resource_id),
            ("principal_id", &self.principal_id),
            ("authenticated_by", &self.authenticated_by),
        ] {
            if let Some(v) = v {
                m.serialize_entry(key, v.as_str())?;
            }
        }
        m.serialize_entry("outcome", self.outcome.as_str())?;
        m.serialize_entry("status", &self.status)?;
        if let Some(r) = &self.reason {
            m.serialize_entry("reason", &**r)?;
        }
        let rules: Vec<&str> = self.rules.iter().map(|r| &**r).collect();
        m.serialize_entry("rules", &rules)?;
        if let Some(l) = &self.limit {
            m.serialize_entry("limit", &**l)?;
        }
        if self.store_error {
            m.serialize_entry("store_error", &true)?;
        }
        m.serialize_entry("latency_ns", &self.latency_ns)?;
        if !self.fields.is_empty() {
            m.serialize_entry("fields", &Fields(&self.fields))?;
        }
        if !self.reported.is_empty() {
            m.serialize_entry("reported", &self.reported)?;
        }
        if let Some(c) = &self.candidate {
            m.serialize_entry("candidate", c)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_are_refused_and_others_kept() {
        for name in [
            "Authorization",
            "cookie",
            "X-Api-Key",
            "x-auth-token",
            "X-Hub-Signature-256",
            "x-csrf-token",
            "x-session-id",
            "Signature-Input",
            "x-amz-security-token",
        ] {
            assert!(LogField::header(name).is_err(), "{name}");
        }
        for name in ["user-agent", "X-Request-Id", "accept-language"] {
            assert!(LogField::header(name).is_ok(), "{name}");
        }
        assert!(LogField::header("bad name").is_err());
        assert_eq!(
            LogField::parse("header:X-Request-Id").map(|f| f.key()),
            Ok("header:x-request-id".to_string())
        );
        assert!(LogField::parse("path").is_err());
    }

    #[test]
    fn text_is_bounded_at_a_char_boundary() {
        let long = "é".repeat(300);
        let t = Text::new(&long);
        assert!(t.as_str().len() <= MAX_TEXT + '…'.len_utf8());
        assert!(t.as_str().ends_with('…'));
        assert_eq!(Text::new("u1").as_str(), "u1");
    }
}
