//! What an engine does after each decision when the host asked for a decision log or
//! metrics ([`crate::Options::decision_log`], [`crate::Options::metrics`]): the
//! `Observer`, built once per engine at load. Engines without either hold none and
//! pay one branch per decision.
//!
//! Records are built here, from the decision's typed fields (texts the engine owns:
//! route patterns, `file:line`, limit names, `because` texts), the request's ids and
//! the operator's allow-list, so no request value can reach the log by accident: the
//! request's path, query, body, cookies and header values are never read here,
//! except allow-listed headers, and the headers the policy itself reads credentials
//! from (its `auth` sources, `require signature` headers, headers compared with a
//! `secret()`) are taken off the allow-list at load whatever their name.

use crate::auth::Auth;
use crate::authorize::{Decision, Reported};
use crate::clock::Clock;
use crate::decision_log::{
    CandidateRecord, DecisionLog, DecisionRecord, Kind, LogField, Outcome, ReportedRecord, Text,
};
use crate::http::compile::{HttpTables, ReqTest};
use crate::http::{HttpDecision, HttpRequest};
use crate::metrics::{Counter, Metrics, Shard};
use crate::program::{Konst, Node};
use crate::subject::Subject;
use crate::tables::Tables;
use crate::value::V;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

/// One text of the engine (a `file:line` or a route pattern), found by its address.
#[derive(Debug)]
struct Slot {
    /// Address of the engine's string (each text is its own allocation: the
    /// address alone tells them apart).
    key: usize,
    text: Arc<str>,
    /// Its counter (with metrics on).
    count: Option<Counter>,
    /// For a `limit` line: the limit's name and its refusal counter.
    limit: Option<(Arc<str>, Option<Counter>)>,
    /// For a `report_only` element's line: what it would have refused.
    reported: Option<Counter>,
}

/// Texts of one engine by address: a decision's `&'e str` borrow these very strings,
/// so a lookup hashes one integer into an open-addressed table (linear probing, at
/// most half full), with no string hashing or locking. A binary search over the
/// addresses cost ~50 instructions per lookup on a 200-route policy; a probe costs ~10.
/// Built by [`Texts`].
#[derive(Debug, Default)]
#[repr(C)]
struct Index {
    /// Power-of-two table (`key` 0: empty). An entry holds the text's counter itself:
    /// counting a decision reads one line of the table per text, not the table and
    /// then the text's [`Slot`].
    table: Box<[Entry]>,
    slots: Box<[Slot]>,
}

/// A bucket of [`Index`]: a text's address, its counter and its [`Slot`].
#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    key: usize,
    count: Option<Counter>,
    slot: u32,
}

fn key(s: &str) -> usize {
    s.as_ptr() as usize
}

/// Fibonacci hashing into a table of `len` (a power of two) buckets: the addresses
/// differ in their middle bits, the multiply spreads them to the top ones.
#[inline]
fn bucket(k: usize, len: usize) -> usize {
    ((k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - len.trailing_zeros())) as usize
}

/// The texts of an [`Index`] as the observer is built.
#[derive(Debug, Default)]
struct Texts(Vec<Slot>);

impl Texts {
    fn add(&mut self, s: &str, count: Option<Counter>, limit: Option<(Arc<str>, Option<Counter>)>) {
        self.0.push(Slot {
            key: key(s),
            text: s.into(),
            count,
            limit,
            reported: None,
        });
    }

    /// Gives the text last added a counter of what it would have refused.
    fn reporting(&mut self, counter: Option<Counter>) {
        if let Some(s) = self.0.last_mut() {
            s.reported = counter;
        }
    }

    /// Drops repeated texts and builds the table (at load, once).
    fn seal(mut self) -> Index {
        self.0.sort_by_key(|s| s.key);
        self.0.dedup_by_key(|s| s.key);
        let size = (self.0.len() * 2).max(2).next_power_of_two();
        let mut table = vec![Entry::default(); size].into_boxed_slice();
        for (i, slot) in self.0.iter().enumerate() {
            let mut b = bucket(slot.key, size);
            while table[b].key != 0 {
                b = (b + 1) & (size - 1);
            }
            table[b] = Entry {
                key: slot.key,
                count: slot.count,
                slot: u32::try_from(i).unwrap_or(u32::MAX),
            };
        }
        Index {
            table,
            slots: self.0.into_boxed_slice(),
        }
    }
}

impl Index {
    /// The entry of text `s`, if it is one of the engine's.
    #[inline]
    fn entry(&self, s: &str) -> Option<&Entry> {
        let k = key(s);
        let mask = self.table.len().checked_sub(1)?;
        let mut b = bucket(k, self.table.len());
        loop {
            let e = self.table.get(b)?;
            if e.key == k {
                return Some(e);
            }
            if e.key == 0 {
                return None;
            }
            b = (b + 1) & mask;
        }
    }

    /// The text's counter, from its entry alone.
    #[inline]
    fn counter(&self, s: &str) -> Option<Option<Counter>> {
        self.entry(s).map(|e| e.count)
    }

    #[inline]
    fn get(&self, s: &str) -> Option<&Slot> {
        self.slots.get(self.entry(s)?.slot as usize)
    }
}

/// The decision log and metrics of one engine. What every counted decision reads comes
/// first, in one cache line (`repr(C)`, aligned to a line): the log and metrics and
/// both indexes' tables; the rest is read by the log and at export.
#[derive(Debug)]
#[repr(C, align(64))]
pub(crate) struct Observer {
    log: Option<Arc<DecisionLog>>,
    metrics: Option<Arc<Metrics>>,
    /// Rule, requirement, grant and limit lines.
    rules: Index,
    /// Route patterns.
    routes: Index,
    policy: Arc<str>,
    revision: Arc<str>,
    /// The log's allow-list without the headers this policy reads credentials from.
    fields: Box<[(LogField, Arc<str>)]>,
    clock: Arc<dyn Clock>,
    /// The time-stamp counter: a decision's latency is the difference of two raw
    /// reads, scaled once.
    tsc: quanta::Clock,
}

/// An engine's revision, hashed when first asked for: only a decision log or metrics
/// (at load, by the engine's own [`Observer`]) and a candidate's disagreement records
/// (when it is set as a candidate) read it, so a load that needs neither does not hash
/// its source. Hashing it at every load was a twentieth of a fresh process's first
/// compile of the tour (0.15 M instructions, and natively the SHA extensions' CPU
/// probe, a `cpuid` that traps to the hypervisor on a VM); keeping the text costs a
/// copy of it.
#[derive(Debug)]
pub(crate) struct Revision {
    source: Box<str>,
    digest: OnceLock<Arc<str>>,
}

impl Revision {
    /// The revision of `source`, not hashed yet.
    pub fn new(source: &str) -> Revision {
        Revision {
            source: source.into(),
            digest: OnceLock::new(),
        }
    }

    /// [`revision`] of the source, hashed on the first call.
    pub fn get(&self) -> &Arc<str> {
        self.digest.get_or_init(|| revision(&self.source))
    }
}

/// The first 12 hex digits of the SHA-256 of `source`: two instances running the same
/// policy text log the same revision.
pub(crate) fn revision(source: &str) -> Arc<str> {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    let digest = Sha256::digest(source.as_bytes());
    let mut out = String::with_capacity(12);
    for b in digest.iter().take(6) {
        let _ = write!(out, "{b:02x}");
    }
    out.into()
}

/// What an observer is built from: the engine's compiled parts.
pub(crate) struct Parts<'a> {
    pub policy: &'a str,
    pub source: &'a str,
    pub tables: &'a Tables,
    pub http: &'a HttpTables,
    pub auth: &'a Auth,
    pub clock: &'a Arc<dyn Clock>,
}

impl Observer {
    /// `None` when there is nothing to observe (no log, no metrics).
    pub fn new(
        log: Option<&Arc<DecisionLog>>,
        metrics: Option<&Arc<Metrics>>,
        p: &Parts<'_>,
    ) -> Option<Box<Observer>> {
        if log.is_none() && metrics.is_none() {
            return None;
        }
        // Calibrated here, at load, not on a request.
        let tsc = quanta::Clock::new();
        let rule = |s: &str| metrics.map(|m| m.rule_counter(s));
        // Only lines that can be reported get a series.
        let reported = |s: &str, report_only: bool| {
            metrics
                .filter(|_| report_only)
                .map(|m| m.reported_counter(s))
        };
        let mut rules = Texts::default();
        for r in &p.tables.rules {
            rules.add(&r.loc, rule(&r.loc), None);
            rules.reporting(reported(&r.loc, r.report_only));
        }
        if let Some(policy) = &p.tables.report_only {
            rules.add(policy, None, None);
            rules.reporting(reported(policy, true));
        }
        for g in &p.tables.grant_locs {
            rules.add(g, rule(g), None);
        }
        let mut routes = Texts::default();
        let mut credential_headers: Vec<&str> = p.auth.header_sources().collect();
        for r in &p.http.routes {
            rules.add(&r.loc, rule(&r.loc), None);
            for q in r.reqs.iter().chain(r.first.iter()) {
                rules.add(&q.loc, rule(&q.loc), None);
                rules.reporting(reported(&q.loc, q.report_only));
                match &q.test {
                    ReqTest::Signature(sig) => credential_headers.push(&sig.header),
                    ReqTest::Expr(node) => secret_headers(node, &mut credential_headers),
                    ReqTest::Auth | ReqTest::Role(_) => {}
                }
            }
            for pat in r.patterns.iter() {
                routes.add(pat, metrics.map(|m| m.route_counter(pat)), None);
            }
        }
        for l in &p.http.limits {
            secret_headers(&l.key, &mut credential_headers);
            let name: Arc<str> = (*l.spec.name).into();
            let refused = metrics.map(|m| m.limit_counter(&name));
            rules.add(&l.loc, rule(&l.loc), Some((name, refused)));
            rules.reporting(reported(&l.loc, l.report_only));
        }
        let (rules, routes) = (rules.seal(), routes.seal());
        let fields = log.map_or_else(Vec::new, |log| {
            log.fields()
                .iter()
                .filter(|(f, _)| match f {
                    LogField::Header(h) => !credential_headers
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(h.as_str())),
                    LogField::Ip | LogField::Method => true,
                })
                .cloned()
                .collect()
        });
        if let (Some(m), Some(l)) = (metrics, log) {
            m.watch_log(l);
        }
        Some(Box::new(Observer {
            log: log.cloned(),
            metrics: metrics.cloned(),
            policy: p.policy.into(),
            revision: revision(p.source),
            rules,
            routes,
            fields: fields.into(),
            clock: Arc::clone(p.clock),
            tsc,
        }))
    }

    /// When a decision starts (a raw counter reading), if it is timed: every one with
    /// a decision log (each line carries its latency), else the metrics' sample.
    #[inline]
    pub fn start(&self) -> Option<u64> {
        let timed = self.log.is_some() || self.metrics.as_ref().is_some_and(|m| m.times_this_one());
        timed.then(|| self.tsc.raw())
    }

    /// Nanoseconds since `started`, for a timed decision.
    #[inline]
    pub fn elapsed_ns(&self, started: Option<u64>) -> Option<u64> {
        started.map(|s| self.tsc.delta_as_nanos(s, self.tsc.raw()))
    }

    /// Counts what the decision reports and a candidate's disagreement.
    fn count_reports<'a>(
        &self,
        m: &Metrics,
        shard: Shard<'_>,
        reported: impl Iterator<Item = &'a Reported<'a>>,
        candidate: bool,
    ) {
        for r in reported {
            match self.rules.get(r.rule).and_then(|s| s.reported) {
                Some(c) => Metrics::count(shard, c),
                // A text the index does not hold (none today): counted by name.
                None => Metrics::count(shard, m.reported_counter(r.rule)),
            }
        }
        if candidate {
            m.disagreement();
        }
    }

    /// The decision's reports as the log records them.
    fn reported_records<'a>(
        &self,
        reported: impl Iterator<Item = &'a Reported<'a>>,
    ) -> Vec<ReportedRecord> {
        reported
            .map(|r| ReportedRecord {
                rule: self.text_of(r.rule),
                status: r.status,
                reason: r.reason.map(Into::into),
            })
            .collect()
    }

    /// A fresh decision id when the decision is logged. Reports and disagreements are
    /// kept as denials are: they are what a rollout is watched for.
    fn admit(&self, log: &DecisionLog, allowed: bool, notable: bool) -> Option<u128> {
        log.admit(if notable {
            Outcome::Deny
        } else {
            outcome(allowed)
        })
    }

    /// Counts and logs an `authorize` decision that took `latency_ns`, with the
    /// candidate's answer when it disagreed.
    pub fn authorize(
        &self,
        s: Subject<'_>,
        d: &Decision<'_>,
        latency_ns: Option<u64>,
        candidate: Option<CandidateRecord>,
    ) {
        if let Some(m) = &self.metrics {
            let shard = m.shard();
            m.decision(shard, Kind::Authorize, d.allowed, d.status, latency_ns);
            if let Some(Some(c)) = d.rule.and_then(|r| self.rules.counter(r)) {
                Metrics::count(shard, c);
            }
            if d.reported.is_some() || candidate.is_some() {
                self.count_reports(m, shard, d.reported.iter(), candidate.is_some());
            }
        }
        let Some(log) = &self.log else {
            return;
        };
        let notable = d.reported.is_some() || candidate.is_some();
        let Some(id) = self.admit(log, d.allowed, notable) else {
            return;
        };
        let text = |v: V<'_>| match v {
            V::Str(s) => Some(Text::new(&s)),
            _ => None,
        };
        log.log(DecisionRecord {
            id,
            time_us: self.clock.now_micros(),
            policy: Arc::clone(&self.policy),
            revision: Arc::clone(&self.revision),
            kind: Kind::Authorize,
            route: None,
            action: Some(Text::new(s.action())),
            resource_type: s.resource_type().map(Text::new),
            resource_id: text(s.resource("id")),
            principal_id: s.principal().and_then(|p| text(p.get("id"))),
            authenticated_by: None,
            outcome: outcome(d.allowed),
            status: d.status,
            reason: d.reason.map(Into::into),
            rules: d.rule.map(|r| self.text_of(r)).into_iter().collect(),
            limit: None,
            store_error: false,
            // Every decision of an engine with a log is timed (`start`).
            latency_ns: latency_ns.unwrap_or_default(),
            fields: Vec::new(),
            reported: self.reported_records(d.reported.iter()),
            candidate,
        });
    }

    /// Counts and logs a `check_http` decision that took `latency_ns`, with the
    /// candidate's answer when it disagreed.
    pub fn http(
        &self,
        req: &HttpRequest,
        d: &HttpDecision<'_>,
        latency_ns: Option<u64>,
        candidate: Option<CandidateRecord>,
    ) {
        let notable = self.count_http(d, latency_ns, candidate.is_some());
        if let Some(log) = &self.log {
            self.log_http(log, req, d, latency_ns, candidate, notable);
        }
    }

    /// [`Observer::http`] without a candidate: no record to pass or drop.
    // Inlined into `check_http`: the counting is a few loads and increments, and out
    // of line its prologue, epilogue and the call cost as much again.
    #[inline(always)]
    pub fn http_alone(&self, req: &HttpRequest, d: &HttpDecision<'_>, latency_ns: Option<u64>) {
        let notable = self.count_http(d, latency_ns, false);
        if let Some(log) = &self.log {
            self.log_http(log, req, d, latency_ns, None, notable);
        }
    }

    /// Counts a `check_http` decision; whether it is notable (reports, or a
    /// candidate's disagreement), which the log keeps as it keeps denials.
    #[inline(always)]
    fn count_http(&self, d: &HttpDecision<'_>, latency_ns: Option<u64>, candidate: bool) -> bool {
        let limited = matches!(d.status, 429 | 503);
        let notable = !d.reported.is_empty() || candidate;
        if let Some(m) = &self.metrics {
            let shard = m.shard();
            m.decision(shard, Kind::Http, d.allowed, d.status, latency_ns);
            if d.note.is_some() {
                m.store_error();
            }
            if let Some(Some(c)) = d.route.and_then(|r| self.routes.counter(r.pattern)) {
                Metrics::count(shard, c);
            }
            for r in &d.rules {
                match self.rules.counter(r) {
                    Some(count) => {
                        if let Some(c) = count {
                            Metrics::count(shard, c);
                        }
                        // Only a limit's refusal reads the text's slot.
                        if limited {
                            if let Some((_, Some(c))) =
                                self.rules.get(r).and_then(|s| s.limit.as_ref())
                            {
                                Metrics::count(shard, *c);
                            }
                        }
                    }
                    // A text the index does not hold (none today): counted by name.
                    None => Metrics::count(shard, m.rule_counter(r)),
                }
            }
            if notable {
                self.count_reports(m, shard, d.reported.iter(), candidate);
            }
        }
        notable
    }

    /// The decision log's line for a `check_http` decision, when the log admits it.
    #[inline(never)]
    fn log_http(
        &self,
        log: &DecisionLog,
        req: &HttpRequest,
        d: &HttpDecision<'_>,
        latency_ns: Option<u64>,
        candidate: Option<CandidateRecord>,
        notable: bool,
    ) {
        let limited = matches!(d.status, 429 | 503);
        let Some(id) = self.admit(log, d.allowed, notable) else {
            return;
        };
        let limit = d.rules.iter().find_map(|r| {
            let (name, _) = self.rules.get(r)?.limit.as_ref().filter(|_| limited)?;
            Some(Arc::clone(name))
        });
        let principal = d.principal.as_ref().or(req.principal.as_ref());
        log.log(DecisionRecord {
            id,
            time_us: self.clock.now_micros(),
            policy: Arc::clone(&self.policy),
            revision: Arc::clone(&self.revision),
            kind: Kind::Http,
            route: d.route.map(|r| self.route_of(r.pattern)),
            action: None,
            resource_type: None,
            resource_id: None,
            principal_id: principal.map(|p| Text::new(&p.id)),
            authenticated_by: d.authenticated_by.as_deref().map(Text::new),
            outcome: outcome(d.allowed),
            status: d.status,
            // Only a reason the engine owns (a `because`, a failure code); an owned
            // one is built per request and is left out.
            reason: match &d.reason {
                Some(Cow::Borrowed(r)) => Some((*r).into()),
                _ => None,
            },
            rules: d.rules.iter().map(|r| self.text_of(r)).collect(),
            limit,
            store_error: d.note.is_some(),
            // Every decision of an engine with a log is timed (`start`).
            latency_ns: latency_ns.unwrap_or_default(),
            fields: self.fields_of(req),
            reported: self.reported_records(d.reported.iter()),
            candidate,
        });
    }

    /// The engine's text `r` as the log keeps it (shared, not copied).
    fn text_of(&self, r: &str) -> Arc<str> {
        self.rules
            .get(r)
            .map_or_else(|| r.into(), |s| Arc::clone(&s.text))
    }

    fn route_of(&self, pattern: &str) -> Arc<str> {
        self.routes
            .get(pattern)
            .map_or_else(|| pattern.into(), |s| Arc::clone(&s.text))
    }

    /// The allow-listed fields present on `req`.
    fn fields_of(&self, req: &HttpRequest) -> Vec<(Arc<str>, Text)> {
        let mut out = Vec::new();
        for (field, key) in self.fields.iter() {
            let value = match field {
                LogField::Ip => req.ip.map(|ip| Text::new(&ip.to_string())),
                LogField::Method => Some(Text::new(&req.method)),
                LogField::Header(name) => req.header_value(name.as_str()).map(Text::new),
            };
            if let Some(v) = value {
                out.push((Arc::clone(key), v));
            }
        }
        out
    }
}

/// The headers `node` reads, when it also reads a secret: a header compared with a
/// `secret()` (`require header x-cron == "Bearer " + secret(CRON)`) carries one.
fn secret_headers<'a>(node: &'a Node, out: &mut Vec<&'a str>) {
    fn walk<'a>(n: &'a Node, headers: &mut Vec<&'a str>, secret: &mut bool) {
        match n {
            Node::Header(h) => headers.push(h),
            Node::Const(k) => *secret |= konst_is_secret(k),
            _ => {}
        }
        for c in n.children() {
            walk(c, headers, secret);
        }
    }
    fn konst_is_secret(k: &Konst) -> bool {
        match k {
            Konst::Secret(_) => true,
            Konst::List(items) => items.iter().any(konst_is_secret),
            _ => false,
        }
    }
    let (mut headers, mut secret) = (Vec::new(), false);
    walk(node, &mut headers, &mut secret);
    if secret {
        out.extend(headers);
    }
}

fn outcome(allowed: bool) -> Outcome {
    if allowed {
        Outcome::Allow
    } else {
        Outcome::Deny
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, reason = "tests")]

    use super::{Index, Texts};

    #[test]
    fn every_text_is_found_by_its_address_and_no_other_is() {
        // Enough texts that buckets collide and probes wrap around the table's end.
        let texts: Vec<String> = (0..1_000).map(|i| format!("app.warden:{i}")).collect();
        assert!(
            Index::default().get(&texts[0]).is_none(),
            "an empty index finds nothing"
        );
        let mut builder = Texts::default();
        for t in &texts {
            builder.add(t, None, None);
        }
        // A text added twice (a line that is both a rule and a grant) is kept once.
        builder.add(&texts[7], None, None);
        let index = builder.seal();
        assert_eq!(index.slots.len(), texts.len());
        for t in &texts {
            let slot = index.get(t).expect("an added text is found");
            assert_eq!(&*slot.text, t.as_str());
        }
        // Same contents, another address: not the engine's text.
        let copy = texts[3].clone();
        assert!(index.get(&copy).is_none());
    }
}
