//! The request pipeline behind `check_http`, in two phases around the rate-limit store
//! so that the blocking and the async driver share everything but the store calls:
//!
//! 1. [`Engine::prepare`]: normalise the path, match routes, answer a CORS preflight,
//!    evaluate limit keys (authenticating first only if a key reads the principal);
//! 2. the driver asks the store once per (limit, key);
//! 3. [`Engine::conclude`]: admissions -> 429/503 or rate-limit headers, then
//!    authentication, roles, expression requirements, and the response headers.

use super::compile::{method_bit, CReq, Otherwise, ReqTest};
use super::cors::{Cors, Verdict};
use super::decision::{HttpDecision, HttpTrace, LimitTrace, ReqTrace, RouteRef, RouteTrace};
use super::headers::HeaderSet;
use super::path::{normalise, NormPath};
use super::HttpRequest;
use crate::auth::{AuthFailure, Authn};
use crate::eval::{self, Cx, HttpView, Konst, V};
use crate::limit::{Admission, OnStoreError, StoreError};
use crate::lower::{Hint, Node};
use crate::{Engine, Principal, Value};
use arrayvec::ArrayString;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::net::IpAddr;
use warden_lang::ast::Root;

/// RFC 3986 unreserved characters stay; everything else in `{path}` is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An address as text without allocating (at most 45 bytes for IPv6). An `ArrayString`
/// rather than bytes: reading it back as `&str` then costs no UTF-8 check (~110
/// instructions each time a view of the request is built).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IpText(ArrayString<48>);

impl IpText {
    fn new(ip: IpAddr) -> IpText {
        use std::fmt::Write;
        let mut s = ArrayString::new();
        match ip {
            // Dotted decimal from a table: `fmt` costs ~1000 instructions per request
            // here, and dividing each octet by 100 and 10 is a visible share too.
            IpAddr::V4(v4) => {
                for (i, o) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        let _ = s.try_push('.');
                    }
                    let Some((digits, n)) = OCTET.get(usize::from(o)) else {
                        continue;
                    };
                    for &d in digits.get(..usize::from(*n)).unwrap_or_default() {
                        let _ = s.try_push(char::from(d));
                    }
                }
            }
            // 45 bytes at most: `write!` cannot run out of room.
            IpAddr::V6(_) => {
                let _ = write!(s, "{ip}");
            }
        }
        IpText(s)
    }

    pub(super) fn as_str(&self) -> &str {
        &self.0
    }
}

/// The client address, and its text once something reads it: most requests' limit
/// keys and requirements never do (`principal.client ?? ip` with a client).
#[derive(Debug)]
pub(crate) struct ClientIp {
    addr: Option<IpAddr>,
    text: OnceCell<IpText>,
}

impl ClientIp {
    pub(crate) fn new(addr: Option<IpAddr>) -> ClientIp {
        ClientIp {
            addr,
            text: OnceCell::new(),
        }
    }

    /// The address as text; `None` when the host gave none.
    pub(crate) fn text(&self) -> Option<&str> {
        let addr = self.addr?;
        Some(self.text.get_or_init(|| IpText::new(addr)).as_str())
    }

    /// The text if something read it already (without making it).
    fn peek(&self) -> Option<&str> {
        self.text.get().map(IpText::as_str)
    }
}

/// Each octet's decimal digits and their count, for [`IpText::new`].
static OCTET: [([u8; 3], u8); 256] = {
    let mut t = [([0u8; 3], 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let (h, d, u) = ((i / 100) as u8, (i / 10 % 10) as u8, (i % 10) as u8);
        t[i] = if i >= 100 {
            ([b'0' + h, b'0' + d, b'0' + u], 3)
        } else if i >= 10 {
            ([b'0' + d, b'0' + u, 0], 2)
        } else {
            ([b'0' + u, 0, 0], 1)
        };
        i += 1;
    }
    t
};

/// Key bytes: inline up to `s:` and an IPv4 address, a short IPv6 prefix or API key.
pub(crate) type KeyBytes = SmallVec<[u8; 32]>;

/// The routes matching one request, most specific first: inline for usual depths.
type Chain = SmallVec<[u32; 8]>;

/// The store's answers, one per (limit, key) in order.
pub(crate) type Answers = SmallVec<[Result<Admission, StoreError>; 2]>;

/// One (limit, key) to count.
#[derive(Debug)]
pub(crate) struct LimitKey {
    pub limit: u32,
    pub key: KeyBytes,
}

/// The authentication outcome, computed at most once per request.
#[derive(Debug, Default)]
pub(crate) struct Who {
    /// Boxed: most requests never authenticate here (the host passes the principal),
    /// and an inline `Authn` would make every [`Prepared`] larger to move.
    authn: Option<Box<Authn>>,
}

/// What expressions read of the request besides the principal.
#[derive(Clone, Copy)]
pub(super) struct Facts<'a> {
    norm: &'a NormPath<'a>,
    ip: &'a ClientIp,
    pub now_us: u64,
}

impl<'a> Facts<'a> {
    /// The request as an expression reads it, with `principal`.
    pub(super) fn view(
        self,
        req: &'a HttpRequest,
        principal: Option<&'a Principal>,
    ) -> HttpView<'a> {
        HttpView {
            req,
            path: &self.norm.path,
            query: self.norm.query,
            ip: self.ip,
            principal,
        }
    }
}

/// The state of one request between the phases, filled in place by the driver's
/// `Prepared::new` and [`Engine::prepare`]: it is a few hundred bytes, and moving it
/// between the phases was a visible share of a request.
#[derive(Debug)]
pub(crate) struct Prepared<'r> {
    pub(super) norm: NormPath<'r>,
    pub(super) ip: ClientIp,
    /// Matching routes, most specific first.
    pub(super) chain: Chain,
    /// Which of the winning route's patterns matched.
    pattern: u32,
    /// Routes `chain[..applies]` contribute requirements (a `public` route cuts).
    applies: usize,
    cors: Verdict<'r>,
    pub(super) who: Who,
    pub(super) now_us: u64,
    pub keys: SmallVec<[LimitKey; 2]>,
    /// Each key as traces show it (redacted when it came from a header or a secret);
    /// empty unless tracing.
    shown: Vec<String>,
    /// The store's answers, one per `keys` entry, pushed by the driver.
    pub answers: Answers,
}

impl<'r> Prepared<'r> {
    /// Blank state for `req`; [`Engine::prepare`] fills it.
    pub(crate) fn new(req: &'r HttpRequest) -> Prepared<'r> {
        Prepared {
            norm: NormPath {
                path: Cow::Borrowed("/"),
                query: "",
            },
            ip: ClientIp::new(req.ip),
            chain: Chain::new(),
            pattern: 0,
            applies: 0,
            cors: Verdict::NoOrigin,
            who: Who::default(),
            now_us: 0,
            keys: SmallVec::new(),
            shown: Vec::new(),
            answers: Answers::new(),
        }
    }

    pub(crate) fn now_us(&self) -> u64 {
        self.now_us
    }

    /// The state borrowed apart: what expressions read, the principal slot that
    /// authentication fills (mutably, at most once), and the matching routes.
    pub(super) fn parts(&mut self) -> (Facts<'_>, &mut Who, &[u32]) {
        let at = Facts {
            norm: &self.norm,
            ip: &self.ip,
            now_us: self.now_us,
        };
        (at, &mut self.who, &self.chain)
    }
}

impl Engine {
    fn now_us(&self, req: &HttpRequest) -> u64 {
        req.time_us.unwrap_or_else(|| self.clock.now_micros())
    }

    pub(super) fn principal_of<'a>(
        &self,
        req: &'a HttpRequest,
        who: &'a mut Who,
        now_us: u64,
    ) -> Option<&'a Principal> {
        if req.principal.is_some() {
            return req.principal.as_ref();
        }
        let authn = who
            .authn
            .get_or_insert_with(|| Box::new(self.auth.authenticate(req, now_us)));
        match &**authn {
            Authn::Principal { principal, .. } => Some(principal),
            Authn::Anonymous | Authn::Failed(_) => None,
        }
    }

    /// The principal an expression reads: the host's, or, when it `needs` one and the
    /// host gave none, the one the policy's `auth` section produces (authenticating at
    /// most once per request).
    pub(super) fn principal_if<'a>(
        &self,
        needs: bool,
        req: &'a HttpRequest,
        who: &'a mut Who,
        now_us: u64,
    ) -> Option<&'a Principal> {
        if needs {
            self.principal_of(req, who, now_us)
        } else {
            req.principal.as_ref()
        }
    }

    /// Phase 1, into `p` (from `Prepared::new(req)`): the decision when the request is
    /// answered without the store (a bad path, a preflight), else `None` with the keys
    /// to count in `p.keys`.
    pub(crate) fn prepare<'e, 'r>(
        &'e self,
        req: &'r HttpRequest,
        mut tr: Option<&mut HttpTrace>,
        p: &mut Prepared<'r>,
    ) -> Option<HttpDecision<'e>> {
        let h = &self.http;
        let tracing = tr.is_some();
        p.norm = match normalise(&req.path) {
            Ok(n) => n,
            Err(e) => {
                if let Some(t) = tr.as_deref_mut() {
                    t.path = format!("refused: {e}");
                }
                let mut d = self.base_decision(false, 400, &[], None);
                d.reason = Some(Cow::Owned(e.to_string()));
                return Some(d);
            }
        };
        // Pattern ids become route ids in place: one buffer for both.
        let chain = &mut p.chain;
        h.router.matching_inline(&p.norm.path, chain);
        let bit = method_bit(&req.method);
        let mut kept = 0;
        let mut pattern = 0;
        for i in 0..chain.len() {
            let Some(&p) = chain.get(i) else { break };
            let Some(&(route, pi)) = h.pattern_route.get(p as usize) else {
                continue;
            };
            let Some(r) = h.routes.get(route as usize) else {
                continue;
            };
            // HEAD is GET without a body: frameworks send it to GET handlers.
            let fits = r.methods == 0
                || r.methods & bit != 0
                || (bit == method_bit("HEAD") && r.methods & method_bit("GET") != 0);
            let seen = chain.get(..kept).is_some_and(|c| c.contains(&route));
            if fits && !seen {
                if kept == 0 {
                    pattern = pi;
                }
                if let Some(slot) = chain.get_mut(kept) {
                    *slot = route;
                }
                kept += 1;
            }
        }
        chain.truncate(kept);
        let applies = chain
            .iter()
            .position(|&r| h.routes.get(r as usize).is_some_and(|r| r.public))
            .map_or(chain.len(), |i| i + 1);
        p.cors = match &h.cors {
            Some(c) => c.verdict(req),
            None => Verdict::NoOrigin,
        };
        let chain = &p.chain;
        if let Some(t) = tr.as_deref_mut() {
            t.path = p.norm.path.to_string();
            t.routes = chain
                .iter()
                .enumerate()
                .filter_map(|(i, &r)| {
                    let route = h.routes.get(r as usize)?;
                    Some(RouteTrace {
                        rule: route.loc.to_string(),
                        pattern: route.patterns.join(", "),
                        public: route.public,
                        applies: i < applies,
                    })
                })
                .collect();
            t.cors = match (&h.cors, p.cors) {
                (None, _) | (_, Verdict::NoOrigin) => "none",
                (_, Verdict::Allowed(..)) => "allowed",
                (_, Verdict::Refused) => "refused",
            };
            t.principal = "not needed".into();
        }
        p.pattern = pattern;
        p.applies = applies;
        p.now_us = self.now_us(req);
        if let (Some(c), true) = (&h.cors, Cors::is_preflight(req)) {
            if let Some(t) = tr {
                t.preflight = true;
            }
            let mut hs = self.route_headers(&p.chain);
            return Some(match p.cors {
                Verdict::Allowed(origin, listed) => {
                    c.preflight(origin, listed, &mut hs);
                    self.finish(true, 204, hs, p)
                }
                _ => {
                    c.actual(Verdict::Refused, &mut hs);
                    let mut d = self.finish(false, 403, hs, p);
                    d.reason = Some(Cow::Borrowed(
                        "CORS preflight from an origin the policy does not allow",
                    ));
                    d
                }
            });
        }
        // Every matching route's limits count, `public` or not, down to the first route
        // that says `limit ... only`.
        let mut limits: SmallVec<[u32; 4]> = SmallVec::new();
        for &r in &p.chain {
            let Some(route) = h.routes.get(r as usize) else {
                continue;
            };
            for &l in route.limits.iter() {
                if !limits.contains(&l) {
                    limits.push(l);
                }
            }
            if route.limits_only {
                break;
            }
        }
        limits.sort_unstable();
        for l in limits {
            let Some(lim) = h.limits.get(l as usize) else {
                continue;
            };
            let (at, who, _) = p.parts();
            let principal = self.principal_if(lim.key_needs_principal, req, who, at.now_us);
            let (key, shown) = self.limit_key(l, &at.view(req, principal), &lim.key, tracing);
            p.keys.push(key);
            if tracing {
                p.shown.push(shown);
            }
        }
        None
    }

    /// Evaluate a key: `s:TEXT` or `n:NUMBER`; the client's IPv6 address by its prefix;
    /// a missing key is the one shared key `missing` (see docs/LANGUAGE.md, Limits).
    /// Also the key as a trace shows it: empty unless tracing, so that no request
    /// pays for text only a trace reads.
    fn limit_key(
        &self,
        limit: u32,
        view: &HttpView<'_>,
        node: &Node,
        tracing: bool,
    ) -> (LimitKey, String) {
        let cx = Cx {
            t: Some(&self.tables),
            req: None,
            http: Some(view),
            rec: None,
            pmask: None,
            clock: Some(&*self.clock),
        };
        // Which operand supplied the key matters only for what a trace shows.
        let redact = tracing && matches!(key_source(&cx, node), Node::Header(_) | Node::Cookie(_));
        let value = quick_key(view, node).unwrap_or_else(|| eval::eval(&cx, node));
        let (key, shown) = match value {
            V::Str(s) if Some(&*s) == view.ip.peek() => {
                let k = match view.req.ip {
                    Some(IpAddr::V6(v6)) => Cow::Owned(match v6.to_ipv4_mapped() {
                        Some(v4) => v4.to_string(),
                        None => v6_prefix(v6, self.ipv6_prefix),
                    }),
                    _ => s,
                };
                (prefixed("s:", &k), shown_if(tracing, || k.to_string()))
            }
            V::Str(s) => {
                let shown = shown_if(tracing, || {
                    if redact {
                        "<redacted>".into()
                    } else {
                        s.to_string()
                    }
                });
                (prefixed("s:", &s), shown)
            }
            V::Secret(s) => (
                prefixed("s:", &s),
                shown_if(tracing, || "<redacted>".into()),
            ),
            V::Num(n) => (
                KeyBytes::from_vec(format!("n:{n}").into_bytes()),
                shown_if(tracing, || n.to_string()),
            ),
            _ => (
                KeyBytes::from_slice(b"missing"),
                shown_if(tracing, || "missing (one shared key)".into()),
            ),
        };
        (LimitKey { limit, key }, shown)
    }

    /// Phase 3: store answers (`p.answers`, one per `p.keys`, in order) -> the decision.
    pub(crate) fn conclude<'e>(
        &'e self,
        req: &HttpRequest,
        p: &mut Prepared<'_>,
        mut tr: Option<&mut HttpTrace>,
    ) -> HttpDecision<'e> {
        let h = &self.http;
        let mut hs = self.route_headers(&p.chain);
        if let Some(c) = &h.cors {
            c.actual(p.cors, &mut hs);
        }
        // Rate limits.
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
            let mut d = self.finish(false, 503, hs, p);
            d.reason = Some(Cow::Owned(why));
            d.rules.push(loc);
            return d;
        }
        if !refused.is_empty() {
            let secs = retry_us.div_ceil(1_000_000).max(1);
            hs.set(Cow::Borrowed("retry-after"), Cow::Owned(secs.to_string()));
            let mut d = self.finish(false, 429, hs, p);
            d.reason = Some(Cow::Borrowed("rate limit exceeded"));
            d.rules = refused;
            d.note = note.map(Cow::Owned);
            return d;
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
                        });
                    }
                    if ok != Some(true) && failed.is_none() {
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
        let mut d = match failure {
            None => {
                self.dynamic_headers(req, p, &mut hs);
                self.finish(true, 200, hs, p)
            }
            Some((q, authn)) => self.refuse(req, q, authn, hs, p),
        };
        d.authenticated_by = via;
        if d.allowed && req.principal.is_none() {
            // Moved, not cloned: the request's authentication is finished.
            if let Some(Authn::Principal { principal, .. }) = p.who.authn.take().map(|a| *a) {
                d.principal = Some(principal);
            }
        }
        d.note = note.map(Cow::Owned);
        d
    }

    /// Test one requirement; `(value, reads)`, reads only when tracing.
    fn test(
        &self,
        req: &HttpRequest,
        who: &mut Who,
        at: Facts<'_>,
        q: &CReq,
        trace: bool,
    ) -> (Option<bool>, Vec<crate::Read>) {
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
                let t = &self.tables;
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
                    t: Some(&self.tables),
                    req: None,
                    http: Some(&view),
                    rec: trace.then_some(&rec),
                    pmask: None,
                    clock: Some(&*self.clock),
                };
                let v = match eval::eval(&cx, node) {
                    V::Bool(b) => Some(b),
                    _ => None,
                };
                (v, rec.into_inner())
            }
        }
    }

    fn refuse<'e>(
        &'e self,
        req: &HttpRequest,
        q: &'e CReq,
        authn: Option<Authn>,
        mut hs: HeaderSet<'e>,
        p: &Prepared<'_>,
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
                let mut d = self.finish(false, status, hs, p);
                d.reason = Some(reason);
                d.rules.push(&q.loc);
                d
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
                    let Some(host) = super::redirect::listed_host(req, &self.http.hosts) else {
                        // Echoing an unlisted `Host` would let a client pick the target.
                        let mut d = self.finish(false, 400, hs, p);
                        d.reason = Some(Cow::Borrowed(super::redirect::HOST_NOT_ALLOWED));
                        d.rules.push(&q.loc);
                        return d;
                    };
                    loc = loc.replace("{host}", host);
                }
                if loc.contains("{target}") {
                    loc = loc.replace("{target}", &super::redirect::target(&p.norm));
                }
                hs.set(Cow::Borrowed("location"), Cow::Owned(loc.clone()));
                let mut d = self.finish(false, *status, hs, p);
                d.reason = Some(reason);
                d.rules.push(&q.loc);
                d.location = Some(loc);
                d
            }
        }
    }

    /// Security headers with every matching route's `header set`/`drop`, least specific
    /// route first so the most specific wins.
    fn route_headers(&self, chain: &[u32]) -> HeaderSet<'_> {
        let h = &self.http;
        // One route with changes (or none): its plan is the answer, built at load.
        let mut plans = chain
            .iter()
            .filter_map(|&r| h.routes.get(r as usize)?.plan.as_ref());
        match (plans.next(), plans.next()) {
            (None, _) => return HeaderSet::planned(&h.plan, 6),
            (Some(p), None) => return HeaderSet::planned(p, 6),
            _ => {}
        }
        let mut hs = HeaderSet::base(&h.headers, 6);
        for &r in chain.iter().rev() {
            for op in h.routes.get(r as usize).map_or(&[][..], |r| &r.header_ops) {
                hs.apply(op);
            }
        }
        hs
    }

    fn base_decision<'e>(
        &'e self,
        allowed: bool,
        status: u16,
        chain: &[u32],
        route: Option<RouteRef<'e>>,
    ) -> HttpDecision<'e> {
        let mut hs = self.route_headers(chain);
        if let Some(c) = &self.http.cors {
            c.actual(Verdict::Refused, &mut hs);
        }
        decision(allowed, status, hs, route)
    }

    fn finish<'e>(
        &'e self,
        allowed: bool,
        status: u16,
        hs: HeaderSet<'e>,
        p: &Prepared<'_>,
    ) -> HttpDecision<'e> {
        let route = p.chain.first().and_then(|&r| {
            let route = self.http.routes.get(r as usize)?;
            Some(RouteRef {
                rule: &route.loc,
                pattern: route.patterns.get(p.pattern as usize)?,
            })
        });
        decision(allowed, status, hs, route)
    }
}

/// A decision carrying the headers to add and remove, and the matched route.
fn decision<'e>(
    allowed: bool,
    status: u16,
    hs: HeaderSet<'e>,
    route: Option<RouteRef<'e>>,
) -> HttpDecision<'e> {
    HttpDecision {
        allowed,
        status,
        headers: hs.add,
        remove: hs.remove,
        route,
        ..HttpDecision::default()
    }
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

/// `text()` when tracing, else nothing (no allocation).
fn shown_if(tracing: bool, text: impl FnOnce() -> String) -> String {
    if tracing {
        text()
    } else {
        String::new()
    }
}

/// `prefix` then `s`, as key bytes, in one allocation.
fn prefixed(prefix: &str, s: &str) -> KeyBytes {
    let n = prefix.len() + s.len();
    // Inline keys through a plain array: `SmallVec::extend_from_slice` costs ~150
    // instructions a key here.
    let mut buf = [0u8; 32];
    if let Some(out) = buf.get_mut(..n) {
        // `prefix.len() <= n`: the split and both copies fit by construction.
        let (head, tail) = out.split_at_mut(prefix.len());
        head.copy_from_slice(prefix.as_bytes());
        tail.copy_from_slice(s.as_bytes());
        return KeyBytes::from_buf_and_len(buf, n);
    }
    let mut k = KeyBytes::with_capacity(n);
    k.extend_from_slice(prefix.as_bytes());
    k.extend_from_slice(s.as_bytes());
    k
}

/// `principal.NAME ?? ip`, the usual key, without the general evaluator: the same
/// lookups as `eval` for a plain one-name principal load and the client address.
/// `None` for any other shape (or a declared role hint), which `eval` then handles.
fn quick_key<'a>(view: &HttpView<'a>, node: &'a Node) -> Option<V<'a>> {
    let Node::Coalesce(a, b) = node else {
        return None;
    };
    if !matches!(**b, Node::Ip) {
        return None;
    }
    let name = plain_attr(a, Root::Principal)?;
    let from_principal = view
        .principal
        .map_or(V::Missing, |p| crate::subject::Who::Built(p).get(name));
    Some(match from_principal {
        V::Missing => view
            .ip
            .text()
            .map_or(V::Missing, |ip| V::Str(Cow::Borrowed(ip))),
        v => v,
    })
}

/// `NAME` when `node` reads `root.NAME`: one name, no declared role hint (the shape
/// the shortcuts above `eval` handle).
fn plain_attr(node: &Node, root: Root) -> Option<&str> {
    match node {
        Node::Load {
            root: r,
            path,
            hint: Hint::Plain,
        } if *r == root => match &**path {
            [name] => Some(name),
            _ => None,
        },
        _ => None,
    }
}

/// `input.NAME <op> NUMBER` (`<`, `<=`, `>`, `>=`), the usual body-size check, without
/// the general evaluator: the same answer as `eval`, where an input that is absent or
/// not a number makes the comparison missing. `None` for any other shape.
fn input_compare(req: &HttpRequest, node: &Node) -> Option<Option<bool>> {
    let Node::Bin(op, a, b) = node else {
        return None;
    };
    let Node::Const(Konst::Num(k)) = &**b else {
        return None;
    };
    let name = plain_attr(a, Root::Input)?;
    // Not an ordering (`==`, `in` ...): the evaluator decides.
    eval::num_order(*op, 0.0, 0.0)?;
    Some(match req.input.get(name) {
        Some(Value::Number(x)) => eval::num_order(*op, *x, *k),
        _ => None,
    })
}

/// Which part of a `a ?? b ?? c` key supplied the value (to redact header keys).
fn key_source<'a>(cx: &Cx<'a>, node: &'a Node) -> &'a Node {
    match node {
        Node::Coalesce(a, b) => match eval::eval(cx, a) {
            V::Missing => key_source(cx, b),
            _ => key_source(cx, a),
        },
        n => n,
    }
}

/// An IPv6 address reduced to its first `bits` bits, as `addr/bits`.
fn v6_prefix(ip: std::net::Ipv6Addr, bits: u8) -> String {
    let bits = bits.min(128);
    let mask = match bits {
        0 => 0,
        b => u128::MAX << (128 - u32::from(b)),
    };
    format!("{}/{bits}", std::net::Ipv6Addr::from(u128::from(ip) & mask))
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

    #[test]
    fn ipv4_text_matches_display() {
        for ip in ["0.0.0.0", "203.0.113.7", "255.255.255.255", "10.100.9.99"] {
            let a: std::net::IpAddr = ip.parse().unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
            assert_eq!(super::IpText::new(a).as_str(), ip);
        }
        let v6: std::net::IpAddr = "2001:db8::1"
            .parse()
            .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
        assert_eq!(super::IpText::new(v6).as_str(), "2001:db8::1");
    }

    /// An evaluation context over an HTTP view alone (no tables, no clock).
    fn bare_cx<'a>(view: &'a crate::eval::HttpView<'a>) -> crate::eval::Cx<'a> {
        crate::eval::Cx {
            t: None,
            req: None,
            http: Some(view),
            rec: None,
            pmask: None,
            clock: None,
        }
    }

    #[test]
    fn quick_key_agrees_with_eval() {
        use crate::eval::{eval, HttpView};
        use crate::lower::{Hint, Node};
        use crate::{HttpRequest, Principal};
        use warden_lang::ast::Root;
        let load = |name: &str, hint| Node::Load {
            root: Root::Principal,
            path: vec![Box::from(name)].into_boxed_slice(),
            hint,
        };
        let key = |a: Node| Node::Coalesce(Box::new(a), Box::new(Node::Ip));
        let keys = [
            key(load("api_client", Hint::Plain)),
            key(load("id", Hint::Plain)),
            key(load("absent", Hint::Plain)),
            key(load("n", Hint::Plain)),
        ];
        let req = HttpRequest::new("GET", "/");
        let someone = Principal::new("u1")
            .attr("api_client", "acme")
            .attr("n", 3.0);
        for principal in [Some(&someone), None] {
            for ip in ["203.0.113.7".parse().ok(), None] {
                let ip = super::ClientIp::new(ip);
                let view = HttpView {
                    req: &req,
                    path: "/",
                    query: "",
                    ip: &ip,
                    principal,
                };
                let cx = bare_cx(&view);
                for k in &keys {
                    let quick = super::quick_key(&view, k).map(|v| format!("{v:?}"));
                    assert_eq!(quick, Some(format!("{:?}", eval(&cx, k))));
                }
            }
        }
        // Other shapes (a role hint, a longer path, no `?? ip`) go to `eval`.
        let no_ip = super::ClientIp::new(None);
        let view = HttpView {
            req: &req,
            path: "/",
            query: "",
            ip: &no_ip,
            principal: Some(&someone),
        };
        let two = Node::Load {
            root: Root::Principal,
            path: vec![Box::from("a"), Box::from("b")].into_boxed_slice(),
            hint: Hint::Plain,
        };
        for other in [
            key(load("r", Hint::Role)),
            key(two),
            load("api_client", Hint::Plain),
        ] {
            assert!(super::quick_key(&view, &other).is_none());
        }
    }

    #[test]
    fn input_compare_agrees_with_eval() {
        use crate::eval::{eval, HttpView, Konst};
        use crate::lower::{Hint, Node};
        use crate::HttpRequest;
        use warden_lang::ast::BinOp;
        use warden_lang::ast::Root;
        let load = |root, name: &str| Node::Load {
            root,
            path: vec![Box::from(name)].into_boxed_slice(),
            hint: Hint::Plain,
        };
        let num = |k: f64| Node::Const(Konst::Num(k));
        let reqs = [
            HttpRequest::new("POST", "/").input("size", 2048.0),
            HttpRequest::new("POST", "/").input("size", 1e9),
            HttpRequest::new("POST", "/").input("size", "big"),
            HttpRequest::new("POST", "/").input("size", true),
            HttpRequest::new("POST", "/"),
        ];
        let ops = [
            BinOp::Lt,
            BinOp::Le,
            BinOp::Gt,
            BinOp::Ge,
            BinOp::Eq,
            BinOp::Ne,
        ];
        let no_ip = super::ClientIp::new(None);
        for req in &reqs {
            let view = HttpView {
                req,
                path: "/",
                query: "",
                ip: &no_ip,
                principal: None,
            };
            let cx = bare_cx(&view);
            for op in ops {
                let node = Node::Bin(
                    op,
                    Box::new(load(Root::Input, "size")),
                    Box::new(num(2048.0)),
                );
                let general = match eval(&cx, &node) {
                    crate::eval::V::Bool(b) => Some(b),
                    _ => None,
                };
                match super::input_compare(req, &node) {
                    Some(quick) => assert_eq!(quick, general, "{op:?} on {:?}", req.input),
                    None => assert!(matches!(op, BinOp::Eq | BinOp::Ne), "{op:?} is an ordering"),
                }
            }
        }
        // Other shapes go to `eval`.
        let req = &reqs[0];
        for other in [
            Node::Bin(
                BinOp::Le,
                Box::new(load(Root::Principal, "size")),
                Box::new(num(1.0)),
            ),
            Node::Bin(
                BinOp::Le,
                Box::new(num(1.0)),
                Box::new(load(Root::Input, "size")),
            ),
            load(Root::Input, "size"),
        ] {
            assert!(super::input_compare(req, &other).is_none());
        }
    }

    #[test]
    fn v6_prefix_keeps_the_network() {
        let ip = "2001:db8:1:2:3:4:5:6".parse().ok();
        assert_eq!(
            ip.map(|ip| super::v6_prefix(ip, 64)),
            Some("2001:db8:1:2::/64".to_owned())
        );
        assert_eq!(
            ip.map(|ip| super::v6_prefix(ip, 0)),
            Some("::/0".to_owned())
        );
    }
}
