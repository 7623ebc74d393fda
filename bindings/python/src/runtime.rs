//! The module's tokio runtime and the hand-off of its results to asyncio: how
//! `Engine.check_http_async` awaits a Redis round trip without blocking the event loop.
//!
//! The engine's future runs on a runtime thread; its result reaches the caller's loop
//! through `loop.call_soon_threadsafe`, the one thread-safe way into an asyncio loop.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::future::Future;
use std::sync::OnceLock;
use tokio::runtime::{Builder, Runtime};

/// Built on first use; a build failure (no threads left) is kept and reported each time.
static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

fn runtime() -> PyResult<&'static Runtime> {
    RUNTIME
        .get_or_init(|| {
            // Two workers: the engine's work is short; they only wait on Redis.
            Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("warden-async")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start warden's async runtime: {e}"))
        })
        .as_ref()
        .map_err(|m| pyo3::exceptions::PyRuntimeError::new_err(m.clone()))
}

/// Sets a result unless the awaiting task was cancelled meanwhile (then `set_result`
/// would raise `InvalidStateError` inside the loop).
#[pyfunction]
fn resolve(fut: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if !fut.call_method0("done")?.is_truthy()? {
        fut.call_method1("set_result", (value,))?;
    }
    Ok(())
}

/// An asyncio future of the running loop that `work`'s output, made a Python object by
/// `finish` (with the GIL), completes. Raises `RuntimeError` outside a running loop.
pub(crate) fn spawn<'py, T, F, M>(
    py: Python<'py>,
    work: F,
    finish: M,
) -> PyResult<Bound<'py, PyAny>>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
    M: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    static RESOLVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let resolve_fn = RESOLVE
        .get_or_try_init(py, || {
            wrap_pyfunction!(resolve, py).map(|f| f.into_any().unbind())
        })?
        .clone_ref(py);
    let asyncio = py.import("asyncio")?;
    let event_loop = asyncio.call_method0("get_running_loop")?;
    let fut = event_loop.call_method0("create_future")?;
    let (loop_ref, fut_ref) = (event_loop.unbind(), fut.clone().unbind());
    runtime()?.spawn(async move {
        let out = work.await;
        Python::attach(|py| {
            let (setter, value) = match finish(py, out) {
                Ok(v) => (Ok(resolve_fn), v),
                Err(e) => (reject_fn(py), e.into_value(py).into_any()),
            };
            // An error here means the loop is closed: nobody is left to tell.
            let _ = setter.and_then(|f| {
                loop_ref.call_method1(py, "call_soon_threadsafe", (f, fut_ref, value))
            });
        });
    });
    Ok(fut)
}

/// Like `resolve`, for an exception.
#[pyfunction]
fn reject(fut: &Bound<'_, PyAny>, error: &Bound<'_, PyAny>) -> PyResult<()> {
    if !fut.call_method0("done")?.is_truthy()? {
        fut.call_method1("set_exception", (error,))?;
    }
    Ok(())
}

fn reject_fn(py: Python<'_>) -> PyResult<Py<PyAny>> {
    static REJECT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(REJECT
        .get_or_try_init(py, || {
            wrap_pyfunction!(reject, py).map(|f| f.into_any().unbind())
        })?
        .clone_ref(py))
}
