//! [`Metrics`]: counters of decisions and operations and a latency histogram, in the
//! Prometheus text format or as a [`MetricsSnapshot`].
//!
//! Cheap enough to leave on: a decision costs a few relaxed atomic increments. Label
//! values are policy text only (route patterns, `file:line`, limit names), never
//! request text, so their number is bounded by the policies loaded. Each engine
//! resolves its labels to counters once, at load (`observe.rs`): a request finds its
//! counters by the address of the engine's own strings, without hashing or locking.
//! One `Metrics` is shared (`Arc`) by every engine that should add up, reloads
//! included: a reloaded policy's unchanged routes and rules keep counting on the same
//! series. `docs/BENCHMARKS.md` has the measured cost against `check_http`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::decision_log::{DecisionLog, Kind};

/// Upper bounds of the latency buckets, in nanoseconds (0.5 µs to 1 s; the last
/// bucket, `+Inf`, is implied).
pub const LATENCY_BUCKETS_NS: [u64; 19] = [
    500,
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    1_000_000_000,
];

/// HTTP statuses counted one by one (100 to 599); others count as 0.
const STATUSES: usize = 600;

/// A counter shared by every engine whose label is the same text.
pub(crate) type Counter = Arc<AtomicU64>;

/// Counters keyed by policy text (a route pattern, `file:line`, a limit name). Only
/// engine loads add entries; requests hold the counters themselves.
#[derive(Debug, Default)]
struct Labelled(RwLock<HashMap<Arc<str>, Counter>>);

impl Labelled {
    /// The counter of `label`, made on first use.
    fn counter(&self, label: &str) -> Counter {
        if let Some(c) = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(label)
        {
            return Arc::clone(c);
        }
        Arc::clone(
            self.0
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(label.into())
                .or_default(),
        )
    }

    /// Labels with a non-zero count (a label a reload removed stays while it counted).
    fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.to_string(), v.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// The process's counters; share one (`Arc`) between the engines that should add up.
/// Give it to engines through [`crate::Options::metrics`].
///
/// ```
/// use std::sync::Arc;
/// use warden::metrics::Metrics;
/// use warden::{Engine, HttpRequest, Options};
///
/// let metrics = Arc::new(Metrics::new());
/// let engine = Engine::from_source("app.warden", r#"
/// policy app
/// role staff
/// route /admin/** {
///   require role staff
/// }
/// "#, Options::default().metrics(Arc::clone(&metrics))).map_err(|e| e.to_string())?;
///
/// engine.check_http(&HttpRequest::new("GET", "/admin/users"));
/// let text = metrics.prometheus();
/// assert!(text.contains(r#"warden_decisions_total{kind="http",outcome="deny"} 1"#));
/// assert!(text.contains(r#"warden_decisions_by_route_total{route="/admin/**"} 1"#));
/// assert!(text.contains(r#"warden_decisions_by_rule_total{rule="app.warden:5"} 1"#));
/// # Ok::<(), String>(())
/// ```
#[derive(Debug)]
pub struct Metrics {
    /// Decisions by [authorize, http] x [allow, deny] x status, one counter each: the
    /// outcome totals and the per-status totals are sums of these at export, so a
    /// decision pays one increment for both.
    statuses: Box<[AtomicU64]>,
    routes: Labelled,
    rules: Labelled,
    limits: Labelled,
    /// `report_only` elements by `file:line`: requests they would have refused.
    reported: Labelled,
    candidate_disagreements: AtomicU64,
    store_errors: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    buckets: [AtomicU64; LATENCY_BUCKETS_NS.len() + 1],
    latency_sum_ns: AtomicU64,
    /// The decision logs of engines counted here: their drop counts are exported too.
    logs: Mutex<Vec<std::sync::Weak<DecisionLog>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            statuses: (0..4 * STATUSES).map(|_| AtomicU64::new(0)).collect(),
            routes: Labelled::default(),
            rules: Labelled::default(),
            limits: Labelled::default(),
            reported: Labelled::default(),
            candidate_disagreements: AtomicU64::new(0),
            store_errors: AtomicU64::new(0),
            reloads_ok: AtomicU64::new(0),
            reloads_failed: AtomicU64::new(0),
            buckets: Default::default(),
            latency_sum_ns: AtomicU64::new(0),
            logs: Mutex::new(Vec::new()),
        }
    }
}

/// The counters at one moment, for hosts that export metrics their own way (the
/// bindings return it as a dictionary / object).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MetricsSnapshot {
    /// `"kind/outcome"` (`"http/deny"`) -> decisions.
    pub decisions: BTreeMap<String, u64>,
    /// Status code -> decisions.
    pub by_status: BTreeMap<u16, u64>,
    /// Matched route pattern -> HTTP decisions.
    pub by_route: BTreeMap<String, u64>,
    /// Deciding rule, requirement or limit (`file:line`) -> decisions.
    pub by_rule: BTreeMap<String, u64>,
    /// Limit name -> requests it refused (429) or whose store failed them (503).
    pub by_limit: BTreeMap<String, u64>,
    /// `report_only` rule, requirement, limit or policy line (`file:line`) -> allowed
    /// requests it would have refused.
    pub by_reported: BTreeMap<String, u64>,
    /// Decisions on which a candidate policy answered differently (outcome or status).
    pub candidate_disagreements: u64,
    /// Requests on which a rate-limit store failed (whatever the answer was).
    pub store_errors: u64,
    /// Reloads that took effect.
    pub reloads: u64,
    /// Reloads refused (the old policy kept serving).
    pub reload_failures: u64,
    /// Decision log lines dropped because the log's queue was full.
    pub log_dropped: u64,
    /// Decisions per latency bucket of [`LATENCY_BUCKETS_NS`] (not cumulative); the
    /// last one is `+Inf`.
    pub latency_buckets: Vec<u64>,
    /// Sum of the decisions' latencies, in nanoseconds.
    pub latency_sum_ns: u64,
}

impl Metrics {
    /// Zeroed counters.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Counts one decision; `latency_ns` goes to the histogram.
    #[inline]
    pub(crate) fn decision(&self, kind: Kind, allowed: bool, status: u16, latency_ns: u64) {
        let k = usize::from(kind == Kind::Http) * 2 + usize::from(!allowed);
        let s = usize::from(status);
        self.statuses[k * STATUSES + if s < STATUSES { s } else { 0 }]
            .fetch_add(1, Ordering::Relaxed);
        // Most decisions take a few microseconds: a short linear scan.
        let bucket = LATENCY_BUCKETS_NS
            .iter()
            .position(|&b| latency_ns <= b)
            .unwrap_or(LATENCY_BUCKETS_NS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_ns.fetch_add(latency_ns, Ordering::Relaxed);
    }

    /// A rate-limit store failed on a request.
    #[inline]
    pub(crate) fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The counter of a route pattern (at engine load).
    pub(crate) fn route_counter(&self, pattern: &str) -> Counter {
        self.routes.counter(pattern)
    }

    /// The counter of a rule, requirement or limit line (at engine load).
    pub(crate) fn rule_counter(&self, loc: &str) -> Counter {
        self.rules.counter(loc)
    }

    /// The counter of a `report_only` element's line (at engine load).
    pub(crate) fn reported_counter(&self, loc: &str) -> Counter {
        self.reported.counter(loc)
    }

    /// A candidate policy disagreed with the live one.
    #[inline]
    pub(crate) fn disagreement(&self) {
        self.candidate_disagreements.fetch_add(1, Ordering::Relaxed);
    }

    /// The counter of a limit, by name (at engine load).
    pub(crate) fn limit_counter(&self, name: &str) -> Counter {
        self.limits.counter(name)
    }

    /// Exports the drop count of `log` too (at engine load; once per log).
    pub(crate) fn watch_log(&self, log: &Arc<DecisionLog>) {
        let mut logs = self.logs.lock().unwrap_or_else(PoisonError::into_inner);
        logs.retain(|w| w.strong_count() > 0);
        if !logs
            .iter()
            .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(log)))
        {
            logs.push(Arc::downgrade(log));
        }
    }

    /// Counts a reload: `ok` when the new policy took effect, else the old one stayed.
    /// [`crate::Warden`] calls it on every reload of engines with metrics.
    pub fn reload(&self, ok: bool) {
        let c = if ok {
            &self.reloads_ok
        } else {
            &self.reloads_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let count = |k: usize, s: usize| self.statuses[k * STATUSES + s].load(Ordering::Relaxed);
        let mut decisions = BTreeMap::new();
        for (k, kind) in ["authorize", "http"].into_iter().enumerate() {
            for (o, outcome) in ["allow", "deny"].into_iter().enumerate() {
                let n = (0..STATUSES).map(|s| count(k * 2 + o, s)).sum();
                decisions.insert(format!("{kind}/{outcome}"), n);
            }
        }
        let by_status = (0..STATUSES)
            .filter_map(|s| {
                let n: u64 = (0..4).map(|k| count(k, s)).sum();
                (n > 0).then(|| (u16::try_from(s).unwrap_or(0), n))
            })
            .collect();
        let log_dropped = self
            .logs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .map(|l| l.stats().dropped)
            .sum();
        MetricsSnapshot {
            decisions,
            by_status,
            by_route: self.routes.snapshot(),
            by_rule: self.rules.snapshot(),
            by_limit: self.limits.snapshot(),
            by_reported: self.reported.snapshot(),
            candidate_disagreements: self.candidate_disagreements.load(Ordering::Relaxed),
            store_errors: self.store_errors.load(Ordering::Relaxed),
            reloads: self.reloads_ok.load(Ordering::Relaxed),
            reload_failures: self.reloads_failed.load(Ordering::Relaxed),
            log_dropped,
            latency_buckets: self
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
            latency_sum_ns: self.latency_sum_ns.load(Ordering::Relaxed),
        }
    }

    /// Every metric in the Prometheus text exposition format (version 0.0.4).
    pub fn prometheus(&self) -> String {
        self.snapshot().prometheus()
    }
}

/// A label value as the text format needs it: `\`, `"` and line breaks escaped.
fn label(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn labelled<K: std::fmt::Display>(
    out: &mut String,
    name: &str,
    key: &str,
    values: &BTreeMap<K, u64>,
) {
    for (v, n) in values {
        let _ = write!(out, "{name}{{{key}=\"");
        label(out, &v.to_string());
        let _ = writeln!(out, "\"}} {n}");
    }
}

/// Nanoseconds as seconds, exactly as the text format reads them.
fn seconds(ns: u64) -> String {
    let s = format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl MetricsSnapshot {
    /// The snapshot in the Prometheus text exposition format (version 0.0.4).
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        family(
            &mut out,
            "warden_decisions_total",
            "counter",
            "Decisions by kind and outcome.",
        );
        for (k, n) in &self.decisions {
            let (kind, outcome) = k.split_once('/').unwrap_or((k, ""));
            let _ = writeln!(
                out,
                "warden_decisions_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        family(
            &mut out,
            "warden_decisions_by_status_total",
            "counter",
            "Decisions by status.",
        );
        labelled(
            &mut out,
            "warden_decisions_by_status_total",
            "status",
            &self.by_status,
        );
        for (name, key, help, values) in [
            (
                "warden_decisions_by_route_total",
                "route",
                "HTTP decisions by matched route pattern.",
                &self.by_route,
            ),
            (
                "warden_decisions_by_rule_total",
                "rule",
                "Decisions by deciding rule, requirement or limit (file:line).",
                &self.by_rule,
            ),
            (
                "warden_limit_refusals_total",
                "limit",
                "Requests refused by a limit (429) or failed by its store (503).",
                &self.by_limit,
            ),
            (
                "warden_report_only_total",
                "rule",
                "Allowed requests a report-only rule, requirement, limit or policy (file:line) would have refused.",
                &self.by_reported,
            ),
        ] {
            family(&mut out, name, "counter", help);
            labelled(&mut out, name, key, values);
        }
        for (name, help, n) in [
            (
                "warden_candidate_disagreements_total",
                "Decisions on which the candidate policy answered differently.",
                self.candidate_disagreements,
            ),
            (
                "warden_store_errors_total",
                "Requests on which the rate-limit store failed.",
                self.store_errors,
            ),
            (
                "warden_reloads_total",
                "Policy reloads that took effect.",
                self.reloads,
            ),
            (
                "warden_reload_failures_total",
                "Reloads refused (the old policy kept serving).",
                self.reload_failures,
            ),
            (
                "warden_decision_log_dropped_total",
                "Decision log lines dropped (queue full).",
                self.log_dropped,
            ),
        ] {
            family(&mut out, name, "counter", help);
            let _ = writeln!(out, "{name} {n}");
        }
        family(
            &mut out,
            "warden_decision_seconds",
            "histogram",
            "Time spent deciding.",
        );
        let mut cumulative = 0;
        for (i, n) in self.latency_buckets.iter().enumerate() {
            cumulative += n;
            let le = LATENCY_BUCKETS_NS
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |&b| seconds(b));
            let _ = writeln!(
                out,
                "warden_decision_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "warden_decision_seconds_sum {}",
            seconds(self.latency_sum_ns)
        );
        let _ = writeln!(out, "warden_decision_seconds_count {cumulative}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_in_the_text_format() {
        let m = Metrics::new();
        let route = m.route_counter("/login");
        let rule = m.rule_counter("app.warden:7");
        let limit = m.limit_counter("lo\"gin");
        for (allowed, status, latency) in [
            (true, 200, 800),
            (false, 429, 3_000),
            (false, 429, 2_000_000_000),
        ] {
            m.decision(Kind::Http, allowed, status, latency);
            route.fetch_add(1, Ordering::Relaxed);
            if !allowed {
                rule.fetch_add(1, Ordering::Relaxed);
                limit.fetch_add(1, Ordering::Relaxed);
            }
        }
        m.decision(Kind::Authorize, true, 200, 100);
        // The same label from another engine is the same series.
        m.route_counter("/login").fetch_add(1, Ordering::Relaxed);
        m.store_error();
        m.reload(true);
        m.reload(false);
        let text = m.prometheus();
        for line in [
            "warden_decisions_total{kind=\"http\",outcome=\"deny\"} 2",
            "warden_decisions_total{kind=\"http\",outcome=\"allow\"} 1",
            "warden_decisions_total{kind=\"authorize\",outcome=\"allow\"} 1",
            "warden_decisions_by_status_total{status=\"429\"} 2",
            "warden_decisions_by_status_total{status=\"200\"} 2",
            "warden_decisions_by_route_total{route=\"/login\"} 4",
            "warden_decisions_by_rule_total{rule=\"app.warden:7\"} 2",
            "warden_limit_refusals_total{limit=\"lo\\\"gin\"} 2",
            "warden_store_errors_total 1",
            "warden_reloads_total 1",
            "warden_reload_failures_total 1",
            "warden_decision_seconds_bucket{le=\"0.0000005\"} 1",
            "warden_decision_seconds_bucket{le=\"0.000001\"} 2",
            "warden_decision_seconds_bucket{le=\"0.000005\"} 3",
            "warden_decision_seconds_bucket{le=\"1\"} 3",
            "warden_decision_seconds_bucket{le=\"+Inf\"} 4",
            "warden_decision_seconds_count 4",
            "warden_decision_seconds_sum 2.0000039",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
        // Every sample line parses as `name{labels} value` or `name value`.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, v) = l.rsplit_once(' ').unwrap_or_default();
            assert!(v.parse::<f64>().is_ok(), "{l}");
        }
    }

    #[test]
    fn seconds_are_exact() {
        assert_eq!(seconds(500), "0.0000005");
        assert_eq!(seconds(1_000_000_000), "1");
        assert_eq!(seconds(2_500_000), "0.0025");
        assert_eq!(seconds(0), "0");
    }
}
