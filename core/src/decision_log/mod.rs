//! The decision log: one JSON line per decision, written off the request path.
//!
//! | file | owns |
//! | --- | --- |
//! | `record.rs` | [`DecisionRecord`] (what a line can hold) and the [`LogField`] allow-list |
//! | `writer.rs` | the bounded queue, the writer thread, the [`Sink`]s |
//!
//! The engine builds the records (`observe.rs`, above the decisions it reads); this
//! module only samples, queues and writes them. A request pays for building a record
//! (a few small copies) and one non-blocking queue push; serialization and I/O happen
//! on the writer thread. When the queue is full the record is dropped and counted
//! ([`LogStats::dropped`]): a slow disk or callback never slows a request. Sampling
//! keeps a fraction of the decisions ([`LogConfig::sample_rate`]) and, by default,
//! every denial.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use warden::decision_log::{DecisionLog, LogConfig, Sink};
//! use warden::{Engine, HttpRequest, Options};
//!
//! let lines = Arc::new(Mutex::new(Vec::new()));
//! let sink = {
//!     let lines = Arc::clone(&lines);
//!     Sink::Callback(Arc::new(move |line: &str| lines.lock().unwrap().push(line.to_owned())))
//! };
//! let log = Arc::new(DecisionLog::open(LogConfig::new(sink)).map_err(|e| e.to_string())?);
//! let engine = Engine::from_source("app.warden", r#"
//! policy app
//! route /admin/** {
//!   require auth
//! }
//! "#, Options::default().decision_log(Arc::clone(&log))).map_err(|e| e.to_string())?;
//!
//! engine.check_http(&HttpRequest::new("GET", "/admin/users").header("authorization", "Bearer abc"));
//! log.flush();
//! let line: serde_json::Value = serde_json::from_str(&lines.lock().unwrap()[0]).map_err(|e| e.to_string())?;
//! assert_eq!(line["route"], "/admin/**");
//! assert_eq!(line["status"], 401);
//! assert_eq!(line["rules"][0], "app.warden:4");
//! assert!(!lines.lock().unwrap()[0].contains("abc"));
//! # Ok::<(), String>(())
//! ```

mod record;
mod writer;

pub use record::{
    CandidateRecord, DecisionRecord, FieldRefused, HeaderName, Kind, LogField, Outcome,
    ReportedRecord, Text, MAX_TEXT,
};
pub use writer::Sink;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use writer::Writer;

/// How a [`DecisionLog`] samples and where it writes.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// Where the lines go.
    pub sink: Sink,
    /// Records queued at most; beyond, records are dropped and counted (default 8192).
    pub capacity: usize,
    /// The fraction of decisions logged, 0.0 to 1.0 (default 1.0: all).
    pub sample_rate: f64,
    /// Log every denial whatever the sample rate (default on); an allowed decision that
    /// reports a `report_only` refusal or a candidate's disagreement counts as one.
    pub always_log_denies: bool,
    /// Request fields beyond the principal and resource ids (default none).
    pub fields: Vec<LogField>,
}

impl LogConfig {
    /// Every decision to `sink`, queue of 8192, no extra request fields.
    pub fn new(sink: Sink) -> LogConfig {
        LogConfig {
            sink,
            capacity: 8192,
            sample_rate: 1.0,
            always_log_denies: true,
            fields: Vec::new(),
        }
    }
}

/// What the log did so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogStats {
    /// Lines handed to the sink.
    pub written: u64,
    /// Records dropped because the queue was full (or the log closed).
    pub dropped: u64,
    /// Records left out by sampling.
    pub sampled_out: u64,
    /// Lines the sink failed to take (an I/O error, a panicking callback).
    pub write_errors: u64,
}

/// A decision log: cheap to share (`Arc`), used by every engine that should log.
pub struct DecisionLog {
    writer: Writer,
    /// `sample_rate` as a threshold over 64-bit hashes.
    threshold: u64,
    always_log_denies: bool,
    fields: Vec<(LogField, Arc<str>)>,
    /// Decision ids: a random high half per log, a counter low half.
    id_prefix: u64,
    next_id: AtomicU64,
    sampled_out: AtomicU64,
}

impl std::fmt::Debug for DecisionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionLog")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl DecisionLog {
    /// Opens the sink and starts the writer thread. A file that cannot be opened, or a
    /// sample rate outside 0..=1, is an error.
    pub fn open(config: LogConfig) -> io::Result<DecisionLog> {
        if !(0.0..=1.0).contains(&config.sample_rate) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the decision log's sample rate must be between 0 and 1",
            ));
        }
        let writer = Writer::start(&config.sink, config.capacity)?;
        // 1.0 must keep everything, u64::MAX included.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "a rate in 0..=1 scaled to the u64 range"
        )]
        let threshold = if config.sample_rate >= 1.0 {
            u64::MAX
        } else {
            (config.sample_rate * u64::MAX as f64) as u64
        };
        let fields = config
            .fields
            .into_iter()
            .map(|f| {
                let key: Arc<str> = f.key().into();
                (f, key)
            })
            .collect();
        Ok(DecisionLog {
            writer,
            threshold,
            always_log_denies: config.always_log_denies,
            fields,
            id_prefix: RandomState::new().hash_one(std::process::id()),
            next_id: AtomicU64::new(0),
            sampled_out: AtomicU64::new(0),
        })
    }

    /// The allow-listed fields, for the engine to fill (with their keys).
    pub(crate) fn fields(&self) -> &[(LogField, Arc<str>)] {
        &self.fields
    }

    /// A fresh decision id, and whether a decision with `outcome` under it is kept.
    /// Deciding this first lets a caller skip building records it would not log.
    pub(crate) fn admit(&self, outcome: Outcome) -> Option<u128> {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let keep = (outcome == Outcome::Deny && self.always_log_denies)
            || self.threshold == u64::MAX
            || splitmix(n ^ self.id_prefix) <= self.threshold;
        if keep {
            Some(u128::from(self.id_prefix) << 64 | u128::from(n))
        } else {
            self.sampled_out.fetch_add(1, Ordering::Relaxed);
            None
        }
    }

    /// Queues a record (built under an id from `admit`); never blocks.
    pub(crate) fn log(&self, record: DecisionRecord) {
        self.writer.send(record);
    }

    /// What the log did so far.
    pub fn stats(&self) -> LogStats {
        let c = &self.writer.counts;
        LogStats {
            written: c.written.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            sampled_out: self.sampled_out.load(Ordering::Relaxed),
            write_errors: c.write_errors.load(Ordering::Relaxed),
        }
    }

    /// Waits until every record queued so far is written and the sink flushed (for
    /// tests, and for hosts before they read the file). Off the request path: it
    /// waits for the writer.
    pub fn flush(&self) {
        self.writer.flush();
    }

    /// Writes and flushes everything queued so far, then stops the writer (later
    /// records are dropped and counted). Dropping the log closes the queue too, but
    /// does not wait for the writer: call `close` before the process exits.
    pub fn close(&self) {
        self.writer.close();
    }
}

/// A 64-bit mix (SplitMix64's finalizer): consecutive ids sample independently.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use std::sync::{Mutex, PoisonError};

    fn record(id: u128, outcome: Outcome) -> DecisionRecord {
        DecisionRecord {
            id,
            time_us: 1,
            policy: "p".into(),
            revision: "r".into(),
            kind: Kind::Http,
            route: Some("/x".into()),
            action: None,
            resource_type: None,
            resource_id: None,
            principal_id: Some(Text::new("u1")),
            authenticated_by: None,
            outcome,
            status: 200,
            reason: None,
            rules: vec!["p.warden:3".into()],
            limit: None,
            store_error: false,
            latency_ns: 5,
            fields: Vec::new(),
            reported: Vec::new(),
            candidate: None,
        }
    }

    fn collecting(
        config: impl FnOnce(Sink) -> LogConfig,
    ) -> (DecisionLog, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = Arc::clone(&lines);
        let sink = Sink::Callback(Arc::new(move |line: &str| {
            l.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line.to_owned());
        }));
        (DecisionLog::open(config(sink)).unwrap(), lines)
    }

    #[test]
    fn sampling_keeps_the_rate_and_every_denial() {
        let (log, lines) = collecting(|sink| LogConfig {
            sample_rate: 0.25,
            ..LogConfig::new(sink)
        });
        let mut kept = 0;
        for _ in 0..4000 {
            if let Some(id) = log.admit(Outcome::Allow) {
                kept += 1;
                log.log(record(id, Outcome::Allow));
            }
        }
        assert!((800..1200).contains(&kept), "{kept}");
        for _ in 0..100 {
            assert!(log.admit(Outcome::Deny).is_some());
        }
        log.close();
        let stats = log.stats();
        assert_eq!(stats.written, kept);
        assert_eq!(stats.sampled_out, 4000 - kept);
        assert_eq!(lines.lock().map(|l| l.len()).unwrap_or(0), kept as usize);
    }

    #[test]
    fn a_full_queue_drops_and_counts_and_never_blocks() {
        // A sink that blocks until released: the queue (4) fills, the rest is dropped.
        let gate = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let g = Arc::clone(&gate);
        let sink = Sink::Callback(Arc::new(move |_: &str| {
            let (m, c) = &*g;
            let mut open = m.lock().unwrap_or_else(PoisonError::into_inner);
            while !*open {
                open = c.wait(open).unwrap_or_else(PoisonError::into_inner);
            }
        }));
        let log = DecisionLog::open(LogConfig {
            capacity: 4,
            ..LogConfig::new(sink)
        })
        .unwrap();
        let started = std::time::Instant::now();
        for _ in 0..1000 {
            let id = log.admit(Outcome::Allow).unwrap_or(0);
            log.log(record(id, Outcome::Allow));
        }
        // 1000 pushes against a stuck sink return at once.
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        {
            let (m, c) = &*gate;
            *m.lock().unwrap_or_else(PoisonError::into_inner) = true;
            c.notify_all();
        }
        log.close();
        let s = log.stats();
        // One in the callback, up to 4 queued: the rest dropped, and all accounted for.
        assert!(s.written <= 5 && s.written >= 1, "{s:?}");
        assert_eq!(s.written + s.dropped, 1000, "{s:?}");
    }

    #[test]
    fn a_line_is_one_json_object_with_the_listed_fields() {
        let (log, lines) = collecting(LogConfig::new);
        let id = log.admit(Outcome::Deny).unwrap_or(0);
        let mut r = record(id, Outcome::Deny);
        r.fields = vec![("ip".into(), Text::new("203.0.113.7"))];
        log.log(r);
        log.close();
        let lines = lines.lock().map(|l| l.clone()).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap_or_default();
        assert_eq!(v["id"].as_str().map(str::len), Some(32));
        assert_eq!(v["outcome"], "deny");
        assert_eq!(v["route"], "/x");
        assert_eq!(v["rules"][0], "p.warden:3");
        assert_eq!(v["fields"]["ip"], "203.0.113.7");
        assert!(DecisionLog::open(LogConfig {
            sample_rate: 1.5,
            ..LogConfig::new(Sink::Stderr)
        })
        .is_err());
    }
}
