//! `Engine.watch()`: the core's file watch (`warden::Warden::watch`) with the engine's
//! plan refreshed after each reload, and `Watch`, the handle that stops it.
//!
//! The watcher reloads on its own thread; the Python side (the plan's interned keys,
//! the host's callbacks) is then updated under the GIL. Until then requests keep the
//! old plan, whose engine is the old policy: every decision is one policy's whole.

use crate::errors::policy_error;
use pyo3::prelude::*;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use warden::{LoadError, WatchOptions};

/// What to call after a reload, and what to refresh.
pub(crate) struct Hooks {
    /// Refreshes the engine's plan to the policy in force (under the GIL).
    pub refresh: Box<dyn Fn(Python<'_>) + Send>,
    pub on_reload: Option<Py<PyAny>>,
    pub on_error: Option<Py<PyAny>>,
}

/// The core's options for a watch reporting to `hooks`.
pub(crate) fn options(debounce: f64, hooks: Hooks) -> PyResult<WatchOptions> {
    let debounce = Duration::try_from_secs_f64(debounce)
        .map_err(|_| crate::errors::ConfigError::new_err("`debounce` must be seconds >= 0"))?;
    Ok(WatchOptions::default()
        .debounce(debounce)
        .on_reload(move |r: Result<(), &LoadError>| {
            Python::attach(|py| report(py, &hooks, r));
        }))
}

fn report(py: Python<'_>, hooks: &Hooks, r: Result<(), &LoadError>) {
    let called = match r {
        Ok(()) => {
            (hooks.refresh)(py);
            hooks.on_reload.as_ref().map(|f| f.call0(py).map(drop))
        }
        Err(e) => {
            let err = policy_error(py, e);
            match &hooks.on_error {
                Some(f) => Some(f.call1(py, (err.value(py),)).map(drop)),
                None => Some(log_refusal(py, &err)),
            }
        }
    };
    if let Some(Err(e)) = called {
        e.write_unraisable(py, None);
    }
}

/// Without `on_error`, a refused reload is logged on the `warden` logger, with the
/// diagnostics (`file:line:col`).
fn log_refusal(py: Python<'_>, err: &PyErr) -> PyResult<()> {
    let logger = py
        .import("logging")?
        .call_method1("getLogger", ("warden",))?;
    logger.call_method1(
        "error",
        (
            "reload refused, the old policy stays: %s",
            err.value(py).str()?,
        ),
    )?;
    Ok(())
}

/// A running watch of an engine's policy file (from `Engine.watch()`). `close()` (or
/// leaving a `with` block) stops it; no reload happens after `close()` returns.
#[pyclass(module = "warden", frozen)]
#[derive(Debug)]
pub struct Watch {
    inner: Arc<Slot>,
}

type Slot = Mutex<Option<warden::Watch>>;

/// Every watch not yet stopped, for `close_all` at interpreter exit.
static LIVE: Mutex<Vec<Weak<Slot>>> = Mutex::new(Vec::new());

impl Watch {
    pub(crate) fn new(w: warden::Watch) -> Watch {
        let inner = Arc::new(Mutex::new(Some(w)));
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|w| w.strong_count() > 0);
        live.push(Arc::downgrade(&inner));
        Watch { inner }
    }
}

/// Stops every watch (registered with `atexit` by the module): a watcher's thread must
/// not report while the interpreter shuts down.
#[pyfunction]
pub(crate) fn _close_watches(py: Python<'_>) {
    let live = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()));
    let stopped: Vec<_> = live
        .iter()
        .filter_map(Weak::upgrade)
        .filter_map(|slot| slot.lock().unwrap_or_else(|e| e.into_inner()).take())
        .collect();
    py.detach(move || drop(stopped));
}

#[pymethods]
impl Watch {
    /// Stop watching; waits for a reload in progress to finish.
    fn close(&self, py: Python<'_>) {
        let w = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        // The watcher's thread may be waiting for the GIL to report: let it.
        py.detach(move || drop(w));
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "Watch(closed={})",
            if self.closed() { "True" } else { "False" }
        )
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // Collected without `close()`: stopping waits for the watcher's thread, which
        // may wait for the GIL this thread holds, so another thread does the waiting.
        if let Some(w) = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = std::thread::Builder::new()
                .name("warden-watch-stop".into())
                .spawn(move || drop(w));
        }
    }
}
