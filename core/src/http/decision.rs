//! [`HttpDecision`] and the explain [`HttpTrace`]: what `check_http` answers, with the
//! Decision JSON of docs/JSON.md plus HTTP-only fields.

use serde::ser::{SerializeMap, SerializeStruct, Serializer};
use std::borrow::Cow;

/// The route that decided a request: `file:line` of its block and the pattern matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RouteRef<'e> {
    /// The route block as `file:line`.
    pub rule: &'e str,
    /// The pattern of the block that matched, as written.
    pub pattern: &'e str,
}

/// The answer to an HTTP request. Static texts borrow from the engine; only
/// per-request values (an echoed origin, a redirect location, rate-limit counters) are
/// owned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpDecision<'e> {
    /// Whether the request may proceed to the application.
    pub allowed: bool,
    /// 200 allowed, 204 a preflight answer, 3xx a redirect, 4xx/5xx a refusal.
    pub status: u16,
    /// Why a request was refused (a requirement's `because`, a failure code such as
    /// `token_expired`, `rate limit exceeded` ...); `None` when allowed.
    pub reason: Option<Cow<'e, str>>,
    /// The deciding requirements or limits as `file:line`.
    pub rules: Vec<&'e str>,
    /// Headers the host adds to the response (names lower-case; replace on conflict).
    pub headers: Vec<(Cow<'e, str>, Cow<'e, str>)>,
    /// Headers the host removes from the response, even when the application set them.
    /// Borrowed in the usual case (`x-powered-by` alone): no allocation.
    pub remove: Cow<'e, [&'e str]>,
    /// A redirect's target (also in `headers` as `location`).
    pub location: Option<String>,
    /// The most specific matching route; `None` when no route matches.
    pub route: Option<RouteRef<'e>>,
    /// When the policy's `auth` section produced the principal: how (`jwt:NAME#1`).
    pub authenticated_by: Option<String>,
    /// The principal the policy's `auth` section produced for an admitted request
    /// (handed to handlers by the host adapters, so they need not verify the
    /// credential again); `None` when the host passed one or none was looked for.
    /// Not part of the decision JSON.
    pub principal: Option<crate::Principal>,
    /// Set when a rate-limit store failed (the request admitted anyway, or refused 503):
    /// what failed, for the decision log. Hosts never send it to the client.
    pub note: Option<Cow<'e, str>>,
    /// On an allowed request: every `report_only` requirement and limit (or, in a
    /// `report_only` policy, the refusal) that would have refused it, in the order
    /// they were met. Empty otherwise (no allocation).
    pub reported: Vec<crate::Reported<'e>>,
}

impl HttpDecision<'_> {
    /// The first value of a header of the decision, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| &**v)
    }

    /// The Decision JSON of docs/JSON.md, with `route`, `remove`, `authenticated_by`
    /// and `note` added.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

struct Headers<'a, 'e>(&'a [(Cow<'e, str>, Cow<'e, str>)]);

impl serde::Serialize for Headers<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (n, v) in self.0 {
            m.serialize_entry(&**n, &**v)?;
        }
        m.end()
    }
}

impl serde::Serialize for HttpDecision<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("HttpDecision", 11)?;
        st.serialize_field("allowed", &self.allowed)?;
        st.serialize_field("status", &self.status)?;
        st.serialize_field("reason", &self.reason)?;
        st.serialize_field("rules", &self.rules)?;
        st.serialize_field("headers", &Headers(&self.headers))?;
        st.serialize_field("location", &self.location)?;
        st.serialize_field("route", &self.route)?;
        st.serialize_field("remove", &self.remove)?;
        st.serialize_field("authenticated_by", &self.authenticated_by)?;
        st.serialize_field("note", &self.note)?;
        // Present only when something is reported (see `Decision`).
        if self.reported.is_empty() {
            st.skip_field("reported")?;
        } else {
            st.serialize_field("reported", &self.reported)?;
        }
        st.end()
    }
}

/// Explain mode for an HTTP request: what was matched, counted and tested.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct HttpTrace {
    /// The normalised path, or the reason it was refused.
    pub path: String,
    /// Matching routes, most specific first (`file:line pattern`), and whether each
    /// contributes requirements (a `public` route cuts the less specific ones).
    pub routes: Vec<RouteTrace>,
    /// `allowed`, `refused` or `none` (no `Origin`, or no `cors` block).
    pub cors: &'static str,
    /// The request was a CORS preflight, answered without the store.
    pub preflight: bool,
    /// Every rate limit counted, in limit order.
    pub limits: Vec<LimitTrace>,
    /// `host` (the request carried one), `anonymous`, `failed: CODE`, `auth: LABEL`,
    /// or `not needed`.
    pub principal: String,
    /// Every requirement tested (all of them, in pass order, even after one failed).
    pub requirements: Vec<ReqTrace>,
}

/// One matching route of an [`HttpTrace`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RouteTrace {
    /// The route block as `file:line`.
    pub rule: String,
    /// Its patterns, comma-separated.
    pub pattern: String,
    /// The route is `public`.
    pub public: bool,
    /// Its requirements apply (no more specific `public` route cuts it off).
    pub applies: bool,
}

/// One rate limit of an [`HttpTrace`]: its key and the store's answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LimitTrace {
    /// The limit's name.
    pub limit: String,
    /// The `limit` declaration as `file:line`.
    pub rule: String,
    /// The key as counted; header-derived and secret-derived keys are redacted.
    pub key: String,
    /// `admitted`, `refused`, or the store error and what was done about it.
    pub outcome: String,
    /// Admissions left in the window, when the store answered.
    pub remaining: Option<u64>,
    /// The limit is `report_only`: a refusal is reported, not enforced. Left out of the
    /// JSON when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub report_only: bool,
}

/// One requirement of an [`HttpTrace`] and its value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReqTrace {
    /// The `require` line as `file:line`.
    pub rule: String,
    /// `first` (a `require first`, tested before CORS, limits and authentication),
    /// `auth`, `role`, `expr` or `signature`.
    pub kind: &'static str,
    /// `true`, `false` or `missing`.
    pub value: &'static str,
    /// What an expression read, with the values (headers, cookies, secrets redacted).
    pub reads: Vec<crate::Read>,
    /// The requirement is `report_only`: a failure is reported, not enforced. Left out
    /// of the JSON when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub report_only: bool,
}
