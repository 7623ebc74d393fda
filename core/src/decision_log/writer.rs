//! The decision log's writer: a bounded queue and one background thread that turns
//! records into JSON lines for the sink. Requests never wait on it: a full queue
//! drops the record and counts it.

use super::record::DecisionRecord;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

/// Where the lines go.
#[derive(Clone)]
pub enum Sink {
    /// Standard error.
    Stderr,
    /// Appended to this file (created if missing).
    File(PathBuf),
    /// Handed to the host, one line (without newline) per call, on the writer thread
    /// (the Python and Node bindings forward it to a host callback).
    Callback(Arc<dyn Fn(&str) + Send + Sync>),
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::Stderr => f.write_str("Stderr"),
            Sink::File(p) => f.debug_tuple("File").field(p).finish(),
            Sink::Callback(_) => f.write_str("Callback"),
        }
    }
}

/// Counters the writer and its producers keep.
#[derive(Debug, Default)]
pub(super) struct Counts {
    /// Lines the sink took.
    pub written: AtomicU64,
    pub dropped: AtomicU64,
    pub write_errors: AtomicU64,
}

enum Out {
    Stderr(io::Stderr),
    File(BufWriter<File>),
    Callback(Arc<dyn Fn(&str) + Send + Sync>),
}

impl Out {
    fn open(sink: &Sink) -> io::Result<Out> {
        Ok(match sink {
            Sink::Stderr => Out::Stderr(io::stderr()),
            Sink::File(path) => Out::File(BufWriter::new(
                OpenOptions::new().create(true).append(true).open(path)?,
            )),
            Sink::Callback(f) => Out::Callback(Arc::clone(f)),
        })
    }

    fn line(&mut self, line: &str) -> io::Result<()> {
        match self {
            Out::Stderr(e) => {
                let mut e = e.lock();
                e.write_all(line.as_bytes())?;
                e.write_all(b"\n")
            }
            Out::File(w) => {
                w.write_all(line.as_bytes())?;
                w.write_all(b"\n")
            }
            Out::Callback(f) => {
                // A panicking host callback loses its line, not the writer.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(line)))
                    .map_err(|_| io::Error::other("the decision log callback panicked"))
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Out::File(w) => w.flush(),
            Out::Stderr(_) | Out::Callback(_) => Ok(()),
        }
    }
}

enum Msg {
    Record(Box<DecisionRecord>),
    /// Everything queued before it is written; the writer flushes and answers.
    Flush(SyncSender<()>),
    /// Everything queued before it is written; the writer flushes and exits.
    Stop,
}

/// The producer side. Dropping it closes the queue: the writer drains it and stops on
/// its own. The drop does not wait for that (a host callback may need a lock the
/// dropping thread holds, such as Python's GIL); hosts that must have every line
/// written before they exit call `close` first.
pub(super) struct Writer {
    /// Lock-free to send on (no mutex on the request path).
    tx: SyncSender<Msg>,
    thread: Mutex<Option<JoinHandle<()>>>,
    pub counts: Arc<Counts>,
}

impl Writer {
    /// Opens the sink (a file that cannot be opened is an error here, not a silent
    /// loss later) and starts the thread.
    pub fn start(sink: &Sink, capacity: usize) -> io::Result<Writer> {
        let out = Out::open(sink)?;
        let (tx, rx) = mpsc::sync_channel(capacity.max(1));
        let counts = Arc::new(Counts::default());
        let c = Arc::clone(&counts);
        let thread = std::thread::Builder::new()
            .name("warden-decision-log".into())
            .spawn(move || run(rx, out, &c))?;
        Ok(Writer {
            tx,
            thread: Mutex::new(Some(thread)),
            counts,
        })
    }

    /// Queues `record`, or drops and counts it when the queue is full.
    pub fn send(&self, record: DecisionRecord) {
        match self.tx.try_send(Msg::Record(Box::new(record))) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counts.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits until every line queued so far is written and flushed (returns at once
    /// when the writer has stopped).
    pub fn flush(&self) {
        let (tx, rx) = mpsc::sync_channel(1);
        // Blocks while the queue is full: only ever called off the request path.
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.recv();
        }
    }

    /// Waits until every line queued so far is written and flushed, and stops the
    /// writer; records sent afterwards are dropped (and counted).
    pub fn close(&self) {
        // Blocks while the queue is full: only ever called off the request path.
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = t.join();
        }
    }
}

fn run(rx: Receiver<Msg>, mut out: Out, counts: &Counts) {
    while let Ok(first) = rx.recv() {
        // Write what is queued, then flush once: a burst costs one flush.
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Record(record) => {
                    match out.line(&record.to_json_line()) {
                        Ok(()) => counts.written.fetch_add(1, Ordering::Relaxed),
                        Err(_) => counts.write_errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
                Msg::Flush(done) => {
                    if out.flush().is_err() {
                        counts.write_errors.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = done.send(());
                }
                Msg::Stop => {
                    let _ = out.flush();
                    return;
                }
            }
            next = rx.try_recv().ok();
        }
        if out.flush().is_err() {
            counts.write_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    let _ = out.flush();
}
