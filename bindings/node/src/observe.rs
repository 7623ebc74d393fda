//! `decisionLog` and `metrics`: the core's decision log (to a JS callback or a file)
//! and metrics counters, attached to an engine's options at load.
//!
//! A callback is reached through a threadsafe function called without blocking from the
//! log's writer thread: a request only queues its record (the core's bounded queue),
//! and the writer only queues the line for the event loop (a second bounded queue,
//! [`QUEUE`]); a line that finds it full is dropped and counted. The threadsafe function
//! is weak: a decision log never keeps the process alive.

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use warden::decision_log::{DecisionLog, LogConfig, Sink};
use warden::metrics::Metrics;

/// Lines waiting for the event loop at most.
const QUEUE: usize = 8192;

/// The JS side of a callback log: `(line: string | null) => void`, `null` marking the
/// end of a flush (`index.js` resolves `flushDecisionLog()` on it).
pub type LogCallback = ThreadsafeFunction<
    Option<String>,
    napi::bindgen_prelude::Unknown<'static>,
    Option<String>,
    Status,
    false,
    true,
    QUEUE,
>;

/// What an engine reports to; carried by its options into every reload.
#[derive(Default)]
pub(crate) struct Observe {
    pub log: Option<Arc<DecisionLog>>,
    callback: Option<Arc<LogCallback>>,
    pub metrics: Option<Arc<Metrics>>,
    /// Lines the event loop's queue refused.
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Observe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observe")
            .field("log", &self.log)
            .field("callback", &self.callback.is_some())
            .field("metrics", &self.metrics.is_some())
            .finish()
    }
}

/// What `flush` did, as `index.js` reads it (a number).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Flushed {
    /// Everything is written (a file, or no log).
    Done = 0,
    /// The marker is queued behind the lines: wait for it.
    Marked = 1,
    /// The event loop's queue is full: let it run, then flush again.
    Full = 2,
}

/// How the decision log was asked for: a callback or a file, and the sample rate.
pub(crate) struct LogRequest {
    pub callback: Option<LogCallback>,
    pub file: Option<String>,
    pub sample_rate: Option<f64>,
}

impl Observe {
    pub(crate) fn new(log: LogRequest, metrics: bool) -> Result<Observe, String> {
        let dropped = Arc::new(AtomicU64::new(0));
        let callback = log.callback.map(Arc::new);
        let sink = match (&callback, log.file) {
            (Some(_), Some(_)) => {
                return Err("`decisionLog` is a callback or a file path, not both".into())
            }
            (Some(cb), None) => {
                let (cb, dropped) = (Arc::clone(cb), Arc::clone(&dropped));
                Some(Sink::Callback(Arc::new(move |line: &str| {
                    let status = cb.call(
                        Some(line.to_owned()),
                        ThreadsafeFunctionCallMode::NonBlocking,
                    );
                    if status != Status::Ok {
                        dropped.fetch_add(1, Ordering::Relaxed);
                    }
                })))
            }
            (None, Some(path)) => Some(Sink::File(path.into())),
            (None, None) if log.sample_rate.is_some() => {
                return Err("`decisionLogSampleRate` needs a `decisionLog`".into())
            }
            (None, None) => None,
        };
        let log = match sink {
            Some(sink) => {
                let mut config = LogConfig::new(sink);
                config.sample_rate = log.sample_rate.unwrap_or(1.0);
                Some(Arc::new(
                    DecisionLog::open(config).map_err(|e| format!("decision log: {e}"))?,
                ))
            }
            None => None,
        };
        Ok(Observe {
            log,
            callback,
            // Every decision timed: a call from JavaScript costs far more than the
            // two counter reads (`Metrics::time_one_in`).
            metrics: metrics.then(|| Arc::new(Metrics::new().time_one_in(1))),
            dropped,
        })
    }

    /// `options` reporting here too.
    pub(crate) fn apply(&self, mut options: warden::Options) -> warden::Options {
        options.decision_log.clone_from(&self.log);
        options.metrics.clone_from(&self.metrics);
        options
    }

    /// Writes out everything logged so far. With a callback, then queues the `null`
    /// that tells `index.js` every line before it has been delivered: [`Flushed`].
    pub(crate) fn flush(&self) -> Flushed {
        if let Some(log) = &self.log {
            // The writer only queues for the event loop: this waits for no JS.
            log.flush();
        }
        let Some(cb) = &self.callback else {
            return Flushed::Done;
        };
        // Never `Blocking` on the JS thread: with the queue full it would wait for
        // the very thread that empties it.
        match cb.call(None, ThreadsafeFunctionCallMode::NonBlocking) {
            Status::Ok => Flushed::Marked,
            _ => Flushed::Full,
        }
    }

    /// The log's counts as JSON text: the core's, with the lines the event loop's
    /// queue refused added to `dropped`.
    pub(crate) fn log_stats(&self) -> Option<serde_json::Value> {
        let s = self.log.as_ref()?.stats();
        Some(serde_json::json!({
            "written": s.written,
            "dropped": s.dropped + self.dropped.load(Ordering::Relaxed),
            "sampledOut": s.sampled_out,
            "writeErrors": s.write_errors,
        }))
    }
}
