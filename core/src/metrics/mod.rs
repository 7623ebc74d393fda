//! [`Metrics`]: counters of decisions and operations and a latency histogram, in the
//! Prometheus text format or as a [`MetricsSnapshot`].
//!
//! Cheap enough to leave on: a decision costs a few increments, in counters striped
//! per thread (`striped.rs`) so that threads deciding at once do not share their
//! cache lines (and a thread that owns its shard adds without a locked
//! instruction), and one decision in [`Metrics::time_one_in`] is timed for the
//! histogram. Label values are policy text only (route patterns,
//! `file:line`, limit names), never request text, so their number is bounded by the
//! policies loaded. Each engine resolves its labels to counters once, at load
//! (`observe.rs`): a request finds its counters by the address of the engine's own
//! strings, without hashing or locking. One `Metrics` is shared (`Arc`) by every
//! engine that should add up, reloads included: a reloaded policy's unchanged routes
//! and rules keep counting on the same series. `docs/BENCHMARKS.md` has the measured
//! cost against `check_http`.

mod striped;
mod text;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::decision_log::{DecisionLog, Kind};
pub(crate) use striped::Shard;
use striped::{CounterId, Striped};

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

/// One decision in this many is timed unless the host says otherwise: two clock reads
/// are ~4% of an allowed `check_http`, and timing one in 16 was still ~0.7% of a
/// refused one (docs/BENCHMARKS.md); one in 64 is ~1.5 timed decisions a second at
/// 100 requests a second, plenty for the histogram's quantiles.
pub const DEFAULT_TIME_ONE_IN: u32 = 64;

/// A counter of one label, the same series for every engine that names the label.
pub(crate) type Counter = CounterId;

/// Counters keyed by policy text (a route pattern, `file:line`, a limit name). Only
/// engine loads add entries; requests hold the counters themselves.
#[derive(Debug, Default)]
struct Labelled(RwLock<HashMap<Arc<str>, Counter>>);

impl Labelled {
    /// The counter of `label`, made on first use.
    fn counter(&self, label: &str, cells: &Striped) -> Counter {
        if let Some(c) = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(label)
        {
            return *c;
        }
        *self
            .0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(label.into())
            .or_insert_with(|| cells.register(1))
    }

    /// Labels with a non-zero count (a label a reload removed stays while it counted).
    fn snapshot(&self, cells: &Striped) -> BTreeMap<String, u64> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.to_string(), cells.sum(*v, 0)))
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
// What every counted decision reads comes first, in one cache line (`repr(C)`,
// aligned to a line): the shards, the first counters' ids and the sampling threshold.
#[derive(Debug)]
#[repr(C, align(64))]
pub struct Metrics {
    cells: Striped,
    /// Decisions by [authorize, http] x [allow, deny] x status, `4 * STATUSES`
    /// counters from here: the outcome totals and the per-status totals are sums of
    /// these at export, so a decision pays one increment for both.
    statuses: CounterId,
    /// The latency buckets' counters from here, then the sum of nanoseconds.
    latency: CounterId,
    /// See [`Metrics::time_one_in`].
    time_one_in: u32,
    /// Its [`striped::threshold`].
    time_threshold: u32,
    routes: Labelled,
    rules: Labelled,
    limits: Labelled,
    /// `report_only` elements by `file:line`: requests they would have refused.
    reported: Labelled,
    candidate_disagreements: AtomicU64,
    store_errors: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    /// The decision logs of engines counted here: their drop counts are exported too.
    logs: Mutex<Vec<std::sync::Weak<DecisionLog>>>,
}

/// Counters of the histogram: its buckets and `+Inf`, then the sum.
const LATENCY_COUNTERS: usize = LATENCY_BUCKETS_NS.len() + 2;

impl Default for Metrics {
    fn default() -> Self {
        let cells = Striped::for_this_machine();
        let statuses = cells.register(4 * STATUSES);
        let latency = cells.register(LATENCY_COUNTERS);
        Metrics {
            cells,
            statuses,
            latency,
            time_one_in: DEFAULT_TIME_ONE_IN,
            time_threshold: striped::threshold(DEFAULT_TIME_ONE_IN),
            routes: Labelled::default(),
            rules: Labelled::default(),
            limits: Labelled::default(),
            reported: Labelled::default(),
            candidate_disagreements: AtomicU64::new(0),
            store_errors: AtomicU64::new(0),
            reloads_ok: AtomicU64::new(0),
            reloads_failed: AtomicU64::new(0),
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
    /// Timed decisions per latency bucket of [`LATENCY_BUCKETS_NS`] (not
    /// cumulative); the last one is `+Inf`. One decision in
    /// [`Metrics::time_one_in`] is timed, so these add up to about that fraction
    /// of [`MetricsSnapshot::decisions`].
    pub latency_buckets: Vec<u64>,
    /// Sum of the timed decisions' latencies, in nanoseconds.
    pub latency_sum_ns: u64,
}

impl Metrics {
    /// Zeroed counters; one decision in [`DEFAULT_TIME_ONE_IN`] timed.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Times one decision in `n` (at random, on each thread) for the latency
    /// histogram; `1` times every decision. Counts of decisions are exact whatever
    /// `n` is; the histogram's `_count` is the number timed, so its `_sum / _count`
    /// (the mean) and its quantiles estimate those of every decision. Timing costs
    /// two reads of the CPU's time-stamp counter, ~4% of an allowed `check_http`:
    /// worth paying when decisions are not the host's hot path (the Python and Node
    /// bindings, whose calls cost more than that, time every one). An engine with a
    /// decision log times every decision whatever `n` is: each line carries its
    /// latency.
    ///
    /// ```
    /// use warden::metrics::Metrics;
    ///
    /// let metrics = Metrics::new().time_one_in(1);
    /// assert_eq!(metrics.timing_one_in(), 1);
    /// ```
    #[must_use]
    pub fn time_one_in(mut self, n: u32) -> Metrics {
        self.time_one_in = n.max(1);
        self.time_threshold = striped::threshold(n);
        self
    }

    /// One decision in how many is timed ([`Metrics::time_one_in`]).
    pub fn timing_one_in(&self) -> u32 {
        self.time_one_in
    }

    /// Whether to time the decision about to be made.
    #[inline]
    pub(crate) fn times_this_one(&self) -> bool {
        striped::sampled(self.time_threshold)
    }

    /// The calling thread's counters: take it once per decision.
    #[inline]
    pub(crate) fn shard(&self) -> Shard<'_> {
        self.cells.local()
    }

    /// Counts one decision; a timed one's `latency_ns` goes to the histogram.
    #[inline]
    pub(crate) fn decision(
        &self,
        shard: Shard<'_>,
        kind: Kind,
        allowed: bool,
        status: u16,
        latency_ns: Option<u64>,
    ) {
        let k = usize::from(kind == Kind::Http) * 2 + usize::from(!allowed);
        let s = usize::from(status);
        shard.add(
            self.statuses,
            k * STATUSES + if s < STATUSES { s } else { 0 },
            1,
        );
        if let Some(ns) = latency_ns {
            // Most decisions take a few microseconds: a short linear scan.
            let bucket = LATENCY_BUCKETS_NS
                .iter()
                .position(|&b| ns <= b)
                .unwrap_or(LATENCY_BUCKETS_NS.len());
            shard.add(self.latency, bucket, 1);
            shard.add(self.latency, LATENCY_COUNTERS - 1, ns);
        }
    }

    /// Counts one on `counter`.
    #[inline]
    pub(crate) fn count(shard: Shard<'_>, counter: Counter) {
        shard.add(counter, 0, 1);
    }

    /// A rate-limit store failed on a request.
    #[inline]
    pub(crate) fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The counter of a route pattern (at engine load).
    pub(crate) fn route_counter(&self, pattern: &str) -> Counter {
        self.routes.counter(pattern, &self.cells)
    }

    /// The counter of a rule, requirement or limit line (at engine load).
    pub(crate) fn rule_counter(&self, loc: &str) -> Counter {
        self.rules.counter(loc, &self.cells)
    }

    /// The counter of a `report_only` element's line (at engine load).
    pub(crate) fn reported_counter(&self, loc: &str) -> Counter {
        self.reported.counter(loc, &self.cells)
    }

    /// A candidate policy disagreed with the live one.
    #[inline]
    pub(crate) fn disagreement(&self) {
        self.candidate_disagreements.fetch_add(1, Ordering::Relaxed);
    }

    /// The counter of a limit, by name (at engine load).
    pub(crate) fn limit_counter(&self, name: &str) -> Counter {
        self.limits.counter(name, &self.cells)
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
        let count = |k: usize, s: usize| self.cells.sum(self.statuses, k * STATUSES + s);
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
            by_route: self.routes.snapshot(&self.cells),
            by_rule: self.rules.snapshot(&self.cells),
            by_limit: self.limits.snapshot(&self.cells),
            by_reported: self.reported.snapshot(&self.cells),
            candidate_disagreements: self.candidate_disagreements.load(Ordering::Relaxed),
            store_errors: self.store_errors.load(Ordering::Relaxed),
            reloads: self.reloads_ok.load(Ordering::Relaxed),
            reload_failures: self.reloads_failed.load(Ordering::Relaxed),
            log_dropped,
            latency_buckets: (0..=LATENCY_BUCKETS_NS.len())
                .map(|b| self.cells.sum(self.latency, b))
                .collect(),
            latency_sum_ns: self.cells.sum(self.latency, LATENCY_COUNTERS - 1),
        }
    }

    /// Every metric in the Prometheus text exposition format (version 0.0.4).
    pub fn prometheus(&self) -> String {
        self.snapshot().prometheus()
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
        let shard = m.shard();
        for (allowed, status, latency) in [
            (true, 200, 800),
            (false, 429, 3_000),
            (false, 429, 2_000_000_000),
        ] {
            m.decision(shard, Kind::Http, allowed, status, Some(latency));
            Metrics::count(shard, route);
            if !allowed {
                Metrics::count(shard, rule);
                Metrics::count(shard, limit);
            }
        }
        m.decision(shard, Kind::Authorize, true, 200, Some(100));
        // Not timed: counted, but not in the histogram.
        m.decision(shard, Kind::Authorize, false, 403, None);
        // The same label from another engine is the same series.
        Metrics::count(m.shard(), m.route_counter("/login"));
        m.store_error();
        m.reload(true);
        m.reload(false);
        let text = m.prometheus();
        for line in [
            "warden_decisions_total{kind=\"http\",outcome=\"deny\"} 2",
            "warden_decisions_total{kind=\"http\",outcome=\"allow\"} 1",
            "warden_decisions_total{kind=\"authorize\",outcome=\"allow\"} 1",
            "warden_decisions_total{kind=\"authorize\",outcome=\"deny\"} 1",
            "warden_decisions_by_status_total{status=\"429\"} 2",
            "warden_decisions_by_status_total{status=\"200\"} 2",
            "warden_decisions_by_status_total{status=\"403\"} 1",
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
    fn threads_count_into_the_same_series() {
        let m = Metrics::new().time_one_in(1);
        let route = m.route_counter("/a");
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..5_000 {
                        let shard = m.shard();
                        m.decision(shard, Kind::Http, true, 200, Some(10));
                        Metrics::count(shard, route);
                    }
                });
            }
        });
        let snap = m.snapshot();
        assert_eq!(snap.decisions["http/allow"], 40_000);
        assert_eq!(snap.by_status[&200], 40_000);
        assert_eq!(snap.by_route["/a"], 40_000);
        assert_eq!(snap.latency_buckets.iter().sum::<u64>(), 40_000);
        assert_eq!(snap.latency_sum_ns, 400_000);
    }
}
