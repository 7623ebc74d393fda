//! [`MetricsSnapshot`] in the Prometheus text exposition format (version 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{MetricsSnapshot, LATENCY_BUCKETS_NS};

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
            "Time spent deciding, over the decisions timed (one in Metrics::time_one_in; every one with a decision log).",
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
    use super::seconds;

    #[test]
    fn seconds_are_exact() {
        assert_eq!(seconds(500), "0.0000005");
        assert_eq!(seconds(1_000_000_000), "1");
        assert_eq!(seconds(2_500_000), "0.0025");
        assert_eq!(seconds(0), "0");
    }
}
