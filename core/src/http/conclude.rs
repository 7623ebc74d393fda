//! Phase 2 of `check_http`: the store's answers -> 503 / 429 or rate-limit headers, then
//! the requirements (`auth`, roles, expressions and signatures, in passes) and the
//! refusal or the allowed response's headers.

use super::compile::{CLimit, CReq, Otherwise, ReqTest};
use super::decision::{HttpDecision, HttpTrace, LimitTrace, ReqTrace};
use super::headers::HeaderSet;
use super::pipeline::Pipeline;
use super::prepare::UNLISTED;
use super::redirect;
use super::respond::Refusal;
use super::shortcuts::input_compare;
use super::state::{Early, Facts, Prepared, Who};
use crate::auth::{AuthFailure, Authn};
use crate::authorize::Reported;
use crate::cx::{Cx, Read};
use crate::eval;
use crate::http_request::HttpRequest;
use crate::limit::{Admission, OnStoreError, StoreError};
use crate::value::V;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::borrow::Cow;
use std::cell::RefCell;

impl<'e> Pipeline<'e> {
    /// Phase 3: store answers (`p.answers`, one per `p.keys`, in order) -> the decision.
    pub(super) fn conclude(
        &self,
        req: &HttpRequest,
        p: &mut Prepared<'_>,
        mut tr: Option<&mut HttpTrace>,
    ) -> HttpDecision<'e> {
        let h = self.http;
        let mut hs = self.route_headers(&p.chain);
        if let Some(c) = &h.cors {
            c.actual(p.cors, &mut hs);
        }
        // Rate limits.
        let mut reported: Vec<Reported<'e>> = Vec::new();
        let mut refused: Vec<&'e str> = Vec::new();
        let mut failed: Option<(&'e str, String)> = None;
        let mut note: Option<String> = None;
        let mut retry_us = 0u64;
        // `RateLimit-Policy`: borrowed when one limit applies (the common case).
        let mut policy_one: Option<&'e str> = None;
        let mut policy_many = String::new();
        // The `RateLimit` value, written in place (no per-limit Strings to join).
        let mut counters = String::new();
        for (i, (k, answer)) in p.keys.iter().zip(p.answers.iter()).enumerate() {
            let Some(lim) = h.limits.get(k.limit as usize) else {
                continue;
            };
            let answer = match (answer, self.on_store_error, &self.fallback) {
                (Ok(a), _, _) => Ok(*a),
                (Err(_), OnStoreError::Fallback, Some(f)) => f.check(&lim.spec, &k.key, p.now_us),
                (Err(e), _, _) => Err(e.clone()),
            };
            if lim.report_only {
                let shown = p.shown.get(i);
                self.report_limit(
                    lim,
                    &answer,
                    &mut reported,
                    &mut note,
                    tr.as_deref_mut(),
                    shown,
                );
                continue;
            }
            match policy_one {
                None => policy_one = Some(&lim.policy_item),
                Some(first) => {
                    if policy_many.is_empty() {
                        policy_many.push_str(first);
                    }
                    policy_many.push_str(", ");
                    policy_many.push_str(&lim.policy_item);
                }
            }
            let mut remaining = None;
            let outcome = match answer {
                Ok(a) => {
                    remaining = Some(a.remaining);
                    let t = a.reset_us.div_ceil(1_000_000);
                    write_counter(&mut counters, &lim.spec.name, a.remaining, t);
                    if !a.allowed {
                        refused.push(&lim.loc);
                        retry_us = retry_us.max(a.retry_after_us);
                    }
                    Cow::Borrowed(if a.allowed { "admitted" } else { "refused" })
                }
                Err(e) => match self.on_store_error {
                    OnStoreError::FailOpen => {
                        let n = format!(
                            "rate limit `{}` not counted: {e}; admitted (fail-open)",
                            lim.spec.name
                        );
                        note.get_or_insert_with(|| n.clone());
                        Cow::Owned(n)
                    }
                    _ => {
                        let n = format!("rate limit `{}`: {e}", lim.spec.name);
                        failed.get_or_insert((&lim.loc, n.clone()));
                        Cow::Owned(n)
                    }
                },
            };
            if let Some(t) = tr.as_deref_mut() {
                t.limits.push(LimitTrace {
                    limit: lim.spec.name.to_string(),
                    rule: lim.loc.to_string(),
                    key: p.shown.get(i).cloned().unwrap_or_default(),
                    outcome: outcome.into_owned(),
                    remaining,
                    report_only: false,
                });
            }
        }
        if let Some(one) = policy_one {
            hs.set(
                Cow::Borrowed("ratelimit-policy"),
                if policy_many.is_empty() {
                    Cow::Borrowed(one)
                } else {
                    Cow::Owned(policy_many)
                },
            );
            if !counters.is_empty() {
                hs.set(Cow::Borrowed("ratelimit"), Cow::Owned(counters));
            }
        }
        if let Some((loc, why)) = failed {
            // The client learns only that the service is unavailable: which store
            // failed, and how, is internal (the trace and `note`, for the decision log).
            let why = Refusal {
                reason: Cow::Borrowed("service temporarily unavailable"),
                rules: vec![loc],
                location: None,
                via: None,
                note: Some(Cow::Owned(why)),
            };
            return self.refusal(503, hs, p, why);
        }
        if !refused.is_empty() {
            let secs = retry_us.div_ceil(1_000_000).max(1);
            hs.set(Cow::Borrowed("retry-after"), Cow::Owned(secs.to_string()));
            let why = Refusal {
                reason: Cow::Borrowed("rate limit exceeded"),
                rules: refused,
                location: None,
                via: None,
                note: note.map(Cow::Owned),
            };
            return self.refusal(429, hs, p, why);
        }
        // Requirements: every `require auth`, then every role, then expressions. The
        // first to fail decides; a trace tests them all.
        let tracing = tr.is_some();
        let mut failed: Option<&'e CReq> = None;
        let applies = p.applies;
        let (at, who, chain) = p.parts();
        let applying = chain.get(..applies).unwrap_or_default();
        for pass in 0..3 {
            for &r in applying {
                let Some(route) = h.routes.get(r as usize) else {
                    continue;
                };
                for q in route.pass_reqs(pass) {
                    let (ok, reads) = self.test(req, who, at, q, tracing);
                    if let Some(t) = tr.as_deref_mut() {
                        t.requirements.push(ReqTrace {
                            rule: q.loc.to_string(),
                            kind: match &q.test {
                                ReqTest::Auth => "auth",
                                ReqTest::Role(_) => "role",
                                ReqTest::Expr(_) => "expr",
                                ReqTest::Signature(_) => "signature",
                            },
                            value: match ok {
                                Some(true) => "true",
                                Some(false) => "false",
                                None => "missing",
                            },
                            reads,
                            report_only: q.report_only,
                        });
                    }
                    if ok != Some(true) && q.report_only {
                        // What it would answer is fixed now: an `auth` or role
                        // requirement authenticated before it was tested.
                        if failed.is_none() {
                            reported.push(self.would_refuse(q, who.authn.as_deref()));
                        }
                    } else if ok != Some(true) && failed.is_none() {
                        failed = Some(q);
                    }
                }
            }
            // The rest of the failing pass still runs (it may authenticate, which the
            // decision reports); later passes only for a trace.
            if failed.is_some() && !tracing {
                break;
            }
        }
        // Authentication runs at most once, before any `auth` or role requirement is
        // tested, so its outcome now is what it was when the failure was found.
        let failure = failed.map(|q| {
            let failed_auth = match (&q.test, p.who.authn.as_deref()) {
                (ReqTest::Auth | ReqTest::Role(_), Some(a @ Authn::Failed(_))) => Some(a.clone()),
                // With `auth` blocks there was a credential to present.
                (ReqTest::Auth, _) if !self.auth.is_empty() => {
                    Some(Authn::Failed(AuthFailure::MissingToken))
                }
                (ReqTest::Auth, _) => Some(Authn::Anonymous),
                _ => None,
            };
            (q, failed_auth)
        });
        if let Some(t) = tr {
            t.principal = match (&req.principal, p.who.authn.as_deref()) {
                (Some(_), _) => "host".into(),
                (None, None) => "not needed".into(),
                (None, Some(Authn::Anonymous)) => "anonymous".into(),
                (None, Some(Authn::Failed(f))) => format!("failed: {}", f.code()),
                (None, Some(Authn::Principal { via, .. })) => format!("auth: {via}"),
            };
        }
        let via = match p.who.authn.as_deref() {
            Some(Authn::Principal { via, .. }) if req.principal.is_none() => Some(via.clone()),
            _ => None,
        };
        // Each arm builds its decision in the return slot: one `let d = match` then
        // `d` copied the whole decision (a memcpy per request).
        let note = note.map(Cow::Owned);
        match failure {
            None => {
                self.dynamic_headers(req, p, &mut hs);
                // Before `settle` moves the principal out: a report-only `require auth`
                // reports the refused credential's code.
                let reports = (!(p.early.is_empty() && reported.is_empty()))
                    .then(|| self.reports(p, reported));
                let mut d = self.finish(true, 200, hs, p);
                // The reports go in through `settle` too: assigned here, beside it, the
                // decision was built aside and copied to the return slot (~64
                // instructions a request, callgrind).
                settle(&mut d, req, p, via, note, reports);
                d
            }
            // What `settle` gives a refusal (how the principal was produced, a
            // store's note) goes in as it is built, in the return slot.
            Some((q, authn)) => self.refuse(req, q, authn, hs, p, (via, note)),
        }
    }

    /// What an admitted request reports, in the order it was met: phase 1's refusals,
    /// then the limits' and requirements' (`later`).
    #[cold]
    fn reports(&self, p: &Prepared<'_>, later: Vec<Reported<'e>>) -> Vec<Reported<'e>> {
        if p.early.is_empty() {
            return later;
        }
        let mut out = Vec::with_capacity(p.early.len() + later.len());
        for e in &p.early {
            out.extend(match *e {
                Early::First { route, index } => self
                    .http
                    .routes
                    .get(route as usize)
                    .and_then(|r| r.first.get(index as usize))
                    .map(|q| self.would_refuse(q, None)),
                Early::Unlisted(status) => {
                    self.tables.report_only.as_deref().map(|policy| Reported {
                        rule: policy,
                        status,
                        reason: Some(UNLISTED),
                    })
                }
            });
        }
        out.extend(later);
        out
    }

    /// What a failed `report_only` requirement would have answered, as `refuse` (with
    /// `conclude`'s credential rules) would: a refused credential is a 401 with its
    /// code, a missing one keeps the status; no answer is built.
    fn would_refuse(&self, q: &'e CReq, authn: Option<&Authn>) -> Reported<'e> {
        let failure = match (&q.test, authn) {
            (ReqTest::Auth | ReqTest::Role(_), Some(Authn::Failed(f))) => Some(*f),
            (ReqTest::Auth, _) if !self.auth.is_empty() => Some(AuthFailure::MissingToken),
            _ => None,
        };
        let status = match (&q.otherwise, failure) {
            (Otherwise::Status(_), Some(f)) if f != AuthFailure::MissingToken => 401,
            (Otherwise::Status(s), _) => *s,
            (Otherwise::Redirect { status, .. }, _) => *status,
        };
        Reported {
            rule: &q.loc,
            status,
            reason: Some(match failure {
                Some(f) => f.code(),
                None => &q.reason,
            }),
        }
    }

    /// A `report_only` limit's answer: counted like any limit (a refusal uses no quota,
    /// so the store holds what enforcing it would hold), but no header shows it and it
    /// never refuses. Out of line: the loop over limits stays as small as it was
    /// before report-only existed, for the policies that use none.
    #[cold]
    #[inline(never)]
    fn report_limit(
        &self,
        lim: &'e CLimit,
        answer: &Result<Admission, StoreError>,
        reported: &mut Vec<Reported<'e>>,
        note: &mut Option<String>,
        tr: Option<&mut HttpTrace>,
        shown: Option<&String>,
    ) {
        let outcome: Cow<'static, str> = match answer {
            Ok(a) if a.allowed => "admitted".into(),
            Ok(_) => {
                reported.push(Reported {
                    rule: &lim.loc,
                    status: 429,
                    reason: Some("rate limit exceeded"),
                });
                "refused (report only)".into()
            }
            Err(e) => {
                let n = format!("rate limit `{}` (report only): {e}", lim.spec.name);
                note.get_or_insert_with(|| n.clone());
                if self.on_store_error != OnStoreError::FailOpen {
                    reported.push(Reported {
                        rule: &lim.loc,
                        status: 503,
                        reason: Some("service temporarily unavailable"),
                    });
                }
                n.into()
            }
        };
        if let Some(t) = tr {
            t.limits.push(LimitTrace {
                limit: lim.spec.name.to_string(),
                rule: lim.loc.to_string(),
                key: shown.cloned().unwrap_or_default(),
                outcome: outcome.into_owned(),
                remaining: answer.as_ref().ok().map(|a| a.remaining),
                report_only: true,
            });
        }
    }

    /// Test one requirement; `(value, reads)`, reads only when tracing.
    // Inlined into `conclude` (its one caller on the request path): out of line, its
    // prologue, epilogue and the returned pair cost ~40 instructions per requirement.
    #[inline(always)]
    pub(super) fn test(
        &self,
        req: &HttpRequest,
        who: &mut Who,
        at: Facts<'_>,
        q: &CReq,
        trace: bool,
    ) -> (Option<bool>, Vec<Read>) {
        let principal = self.principal_if(q.needs_principal, req, who, at.now_us);
        match &q.test {
            ReqTest::Auth => (Some(principal.is_some()), Vec::new()),
            ReqTest::Signature(sig) => {
                let ok = sig
                    .verify(
                        req.header_value(&sig.header),
                        req.body.as_deref(),
                        at.now_us / 1_000_000,
                    )
                    .is_ok();
                (Some(ok), Vec::new())
            }
            ReqTest::Role(want) => {
                let t = self.tables;
                let ok = principal.is_some_and(|pr| {
                    pr.roles
                        .iter()
                        .filter_map(|n| t.role_id(n))
                        .any(|r| want.iter().any(|&w| t.inherits(r, w)))
                });
                (Some(ok), Vec::new())
            }
            ReqTest::Expr(node) => {
                if !trace {
                    if let Some(v) = input_compare(req, node) {
                        return (v, Vec::new());
                    }
                }
                let view = at.view(req, principal);
                let rec = RefCell::new(Vec::new());
                let cx = Cx {
                    t: Some(self.tables),
                    req: None,
                    http: Some(&view),
                    rec: trace.then_some(&rec),
                    pmask: None,
                    clock: Some(self.clock),
                };
                let v = match eval::eval(&cx, node) {
                    V::Bool(b) => Some(b),
                    _ => None,
                };
                (v, rec.into_inner())
            }
        }
    }

    pub(super) fn refuse(
        &self,
        req: &HttpRequest,
        q: &'e CReq,
        authn: Option<Authn>,
        mut hs: HeaderSet<'e>,
        p: &Prepared<'_>,
        (via, note): (Option<String>, Option<Cow<'e, str>>),
    ) -> HttpDecision<'e> {
        let mut reason: Cow<'e, str> = Cow::Borrowed(&q.reason);
        match &q.otherwise {
            Otherwise::Status(s) => {
                let mut status = *s;
                match &authn {
                    // A refused credential is a 401 whatever the requirement's kind;
                    // a missing one keeps the route's status (`else 404` hides a route).
                    Some(Authn::Failed(f)) => {
                        if *f != AuthFailure::MissingToken {
                            status = 401;
                        }
                        reason = Cow::Borrowed(f.code());
                        if status == 401 {
                            hs.set(Cow::Borrowed("www-authenticate"), challenge(*f));
                        }
                    }
                    Some(_) if *s == 401 => {
                        hs.set(Cow::Borrowed("www-authenticate"), Cow::Borrowed("Bearer"));
                    }
                    _ => {}
                }
                let why = Refusal {
                    reason,
                    rules: vec![&q.loc],
                    location: None,
                    via,
                    note,
                };
                self.refusal(status, hs, p, why)
            }
            Otherwise::Redirect { status, location } => {
                if let Some(Authn::Failed(f)) = &authn {
                    reason = Cow::Borrowed(f.code());
                }
                let mut target = p.norm.path.to_string();
                if !p.norm.query.is_empty() {
                    target.push('?');
                    target.push_str(p.norm.query);
                }
                let encoded = utf8_percent_encode(&target, COMPONENT).to_string();
                let mut loc = location.replace("{path}", &encoded);
                if loc.contains("{host}") {
                    let Some(host) = redirect::listed_host(req, &self.http.hosts) else {
                        // Echoing an unlisted `Host` would let a client pick the target.
                        let why = Refusal {
                            reason: Cow::Borrowed(redirect::HOST_NOT_ALLOWED),
                            rules: vec![&q.loc],
                            location: None,
                            via,
                            note,
                        };
                        return self.refusal(400, hs, p, why);
                    };
                    loc = loc.replace("{host}", host);
                }
                if loc.contains("{target}") {
                    loc = loc.replace("{target}", &redirect::target(&p.norm));
                }
                hs.set(Cow::Borrowed("location"), Cow::Owned(loc.clone()));
                let why = Refusal {
                    reason,
                    rules: vec![&q.loc],
                    location: Some(loc),
                    via,
                    note,
                };
                self.refusal(*status, hs, p, why)
            }
        }
    }
}

/// RFC 3986 unreserved characters stay; everything else in `{path}` is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// What every decision of `conclude` carries at the end: how the policy authenticated
/// the caller, the principal it admitted (moved, not cloned: the request's
/// authentication is finished) and the store's note.
#[inline(always)]
fn settle<'e>(
    d: &mut HttpDecision<'e>,
    req: &HttpRequest,
    p: &mut Prepared<'_>,
    via: Option<String>,
    note: Option<Cow<'e, str>>,
    reports: Option<Vec<Reported<'e>>>,
) {
    d.authenticated_by = via;
    if let Some(r) = reports {
        d.reported = r;
    }
    if d.allowed && req.principal.is_none() {
        // The principal alone is moved out of the box (unboxing the whole `Authn`
        // first copies it through the stack).
        if let Some(authn) = p.who.authn.take() {
            if let Authn::Principal { principal, .. } = *authn {
                d.principal = Some(principal);
            }
        }
    }
    d.note = note;
}

/// Append `"name";r=REMAINING;t=SECONDS` to a `RateLimit` value, comma-separated.
/// Numbers through `itoa`: `fmt` costs ~400 instructions a number here.
fn write_counter(out: &mut String, name: &str, remaining: u64, t: u64) {
    let mut digits = itoa::Buffer::new();
    if out.is_empty() {
        // One allocation of the right size (`reserve` on an empty String costs more).
        if out.capacity() == 0 {
            *out = String::with_capacity(name.len() + 48);
        }
    } else {
        out.push_str(", ");
    }
    out.push('"');
    out.push_str(name);
    out.push_str("\";r=");
    out.push_str(digits.format(remaining));
    out.push_str(";t=");
    out.push_str(digits.format(t));
}

/// The `WWW-Authenticate` challenge of RFC 6750 for a refused credential.
fn challenge(f: AuthFailure) -> Cow<'static, str> {
    match f {
        AuthFailure::MissingToken => Cow::Borrowed("Bearer"),
        f => Cow::Owned(format!(
            "Bearer error=\"invalid_token\", error_description=\"{}\"",
            f.code()
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::AuthFailure;

    #[test]
    fn challenges_follow_rfc_6750_and_name_only_the_code() {
        assert_eq!(super::challenge(AuthFailure::MissingToken), "Bearer");
        assert_eq!(
            super::challenge(AuthFailure::TokenExpired),
            "Bearer error=\"invalid_token\", error_description=\"token_expired\""
        );
        assert_eq!(
            super::challenge(AuthFailure::InvalidApiKey),
            "Bearer error=\"invalid_token\", error_description=\"invalid_api_key\""
        );
    }

    #[test]
    fn counters_match_fmt() {
        let mut s = String::new();
        super::write_counter(&mut s, "api", 12, 60);
        super::write_counter(&mut s, "b", 0, 1);
        super::write_counter(&mut s, "c", u64::MAX, 1_000_000_000);
        assert_eq!(
            s,
            format!(
                "\"api\";r=12;t=60, \"b\";r=0;t=1, \"c\";r={};t=1000000000",
                u64::MAX
            )
        );
    }
}
