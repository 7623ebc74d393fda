//! `decision_log=` and `metrics=`: the core's decision log (to a Python callable or a
//! file) and metrics counters, attached to an engine's options at load, and the
//! metrics snapshot as a dict.

use crate::errors::ConfigError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use warden::decision_log::{DecisionLog, LogConfig, Sink};
use warden::metrics::{Metrics, MetricsSnapshot};

/// What an engine reports to: kept beside the engine for `metrics()` and
/// `flush_decision_log()`, and carried by its options into every reload.
#[derive(Debug, Default, Clone)]
pub(crate) struct Observe {
    pub log: Option<Arc<DecisionLog>>,
    pub metrics: Option<Arc<Metrics>>,
}

impl Observe {
    /// `decision_log` is a callable (called with each JSON line, a `str`, on the log's
    /// writer thread) or a file path (lines appended); `sample_rate` in 0..=1.
    pub(crate) fn new(
        decision_log: Option<&Bound<'_, PyAny>>,
        sample_rate: Option<f64>,
        metrics: bool,
    ) -> PyResult<Observe> {
        let sink =
            match decision_log.filter(|d| !d.is_none()) {
                None if sample_rate.is_some() => {
                    return Err(ConfigError::new_err(
                        "`decision_log_sample_rate` needs a `decision_log`",
                    ))
                }
                None => None,
                Some(d) if d.is_instance_of::<PyString>() || d.hasattr("__fspath__")? => {
                    Some(Sink::File(d.extract::<PathBuf>()?))
                }
                Some(d) if d.is_callable() => Some(callback(d.clone().unbind())),
                Some(_) => return Err(ConfigError::new_err(
                    "`decision_log` must be a callable (taking each line, a str) or a file path",
                )),
            };
        let log = match sink {
            Some(sink) => {
                let mut config = LogConfig::new(sink);
                config.sample_rate = sample_rate.unwrap_or(1.0);
                let log = DecisionLog::open(config)
                    .map_err(|e| ConfigError::new_err(format!("decision log: {e}")))?;
                Some(Arc::new(log))
            }
            None => None,
        };
        Ok(Observe {
            log,
            // Every decision timed: a call from Python costs far more than the two
            // counter reads (`Metrics::time_one_in`).
            metrics: metrics.then(|| Arc::new(Metrics::new().time_one_in(1))),
        })
    }

    /// `options` reporting here too.
    pub(crate) fn apply(&self, mut options: warden::Options) -> warden::Options {
        options.decision_log.clone_from(&self.log);
        options.metrics.clone_from(&self.metrics);
        options
    }

    pub(crate) fn metrics(&self) -> PyResult<&Metrics> {
        self.metrics.as_deref().ok_or_else(|| {
            ConfigError::new_err("this engine counts nothing: load it with `metrics=True`")
        })
    }
}

/// The host's callable as a sink. An exception it raises goes to
/// `sys.unraisablehook` (the line is lost, the writer goes on).
fn callback(f: Py<PyAny>) -> Sink {
    Sink::Callback(Arc::new(move |line: &str| {
        Python::attach(|py| {
            if let Err(e) = f.call1(py, (line,)) {
                e.write_unraisable(py, Some(f.bind(py)));
            }
        });
    }))
}

fn string_map<'py>(py: Python<'py>, m: &BTreeMap<String, u64>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in m {
        d.set_item(k, v)?;
    }
    Ok(d)
}

/// A snapshot as a dict: the fields of the core's `MetricsSnapshot`, `by_status`
/// keyed by `int`.
pub(crate) fn snapshot_dict<'py>(
    py: Python<'py>,
    s: &MetricsSnapshot,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("decisions", string_map(py, &s.decisions)?)?;
    let by_status = PyDict::new(py);
    for (k, v) in &s.by_status {
        by_status.set_item(k, v)?;
    }
    d.set_item("by_status", by_status)?;
    d.set_item("by_route", string_map(py, &s.by_route)?)?;
    d.set_item("by_rule", string_map(py, &s.by_rule)?)?;
    d.set_item("by_limit", string_map(py, &s.by_limit)?)?;
    d.set_item("store_errors", s.store_errors)?;
    d.set_item("reloads", s.reloads)?;
    d.set_item("reload_failures", s.reload_failures)?;
    d.set_item("log_dropped", s.log_dropped)?;
    d.set_item("latency_buckets", s.latency_buckets.clone())?;
    d.set_item("latency_sum_ns", s.latency_sum_ns)?;
    Ok(d)
}
