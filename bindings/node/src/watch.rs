//! `NativeEngine.watch`: the core's file watch (`warden::Warden::watch`), reporting to
//! `index.js` through a threadsafe function, and `NativeWatch`, the handle that stops it.
//!
//! The watcher reloads the `Warden` on its own thread; the engine's plan (the slots and
//! decision indices `index.js` packs requests for) is switched by `index.js`, on the
//! event loop, when the report arrives (`NativeEngine.adopt`). Until then requests keep
//! the old plan and its engine: every decision is one policy's whole.

use crate::engine::Failure;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use std::sync::Mutex;
use std::time::Duration;
use warden::WatchOptions;

/// `(failure: Failure | null) => void`: `null` after a reload that took effect. Weak:
/// a watch never keeps the process alive.
pub type WatchCallback = ThreadsafeFunction<
    Option<Failure>,
    napi::bindgen_prelude::Unknown<'static>,
    Option<Failure>,
    Status,
    false,
    true,
>;

/// The core's options for a watch reporting to `cb`. The report is queued without
/// blocking (the queue is unbounded: one entry per load tried).
pub(crate) fn options(debounce_ms: u32, cb: WatchCallback) -> WatchOptions {
    WatchOptions::default()
        .debounce(Duration::from_millis(u64::from(debounce_ms)))
        .on_reload(move |r| {
            let report = r.err().map(crate::engine::policy_failure);
            let _ = cb.call(report, ThreadsafeFunctionCallMode::NonBlocking);
        })
}

/// A running watch; `close()` stops it (no reload happens after it returns).
#[napi]
#[derive(Debug)]
pub struct NativeWatch {
    inner: Mutex<Option<warden::Watch>>,
}

impl NativeWatch {
    pub(crate) fn new(w: warden::Watch) -> NativeWatch {
        NativeWatch {
            inner: Mutex::new(Some(w)),
        }
    }
}

#[napi]
impl NativeWatch {
    /// Stops watching. The watcher's thread never waits for JS, so this is short.
    #[napi]
    pub fn close(&self) {
        let w = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(w);
    }

    /// Whether `close()` was called.
    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }
}
