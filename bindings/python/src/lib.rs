//! Python module `warden._warden` (re-exported by the `warden` package): the engine,
//! its frozen results and its exceptions. Glue only: conversion in `convert.rs`, errors
//! mapped in `errors.rs`, every decision made by the `warden` crate.
//!
//! | module | owns |
//! | --- | --- |
//! | `engine.rs` | `Engine`: load, authorize, check_http(_async), explain, reload |
//! | `convert.rs` | dicts -> the plan's reused request; JSON -> Python |
//! | `fastcall.rs` | the raw entry point of `Engine.authorize` (keywords matched by identity) |
//! | `decision.rs` | `Decision`, `HttpDecision`, `Diagnostic` |
//! | `errors.rs` | `WardenError`, `PolicyError`, `RequestError`, `ConfigError` |
//! | `authn.rs` | `Authentication`: what `Engine.authenticate` found |
//! | `time.rs` | `time=`: aware `datetime` or RFC 3339 text |
//! | `filter.rs` | `_residual_json`, `CannotFilter`: data filtering (wrapped by `warden/filter.py`) |
//! | `runtime.rs` | the tokio runtime of `check_http_async`, results handed to asyncio |
//! | `observe.rs` | `decision_log=` (a callable or a file) and `metrics=`: the core's decision log and counters |
//! | `watch.rs` | `Engine.watch()` and `Watch`: reload on file change, the plan refreshed under the GIL |
//! | `cli.rs` | `cli_main`: the `warden` command line, for the wheel's `warden` script |

mod authn;
mod cli;
mod convert;
mod decision;
mod engine;
mod errors;
mod fastcall;
mod filter;
mod observe;
mod runtime;
mod time;
mod watch;

use pyo3::prelude::*;

#[pymodule]
fn _warden(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<engine::Engine>()?;
    fastcall::install(&py.get_type::<engine::Engine>())?;
    m.add_class::<decision::Decision>()?;
    m.add_class::<decision::HttpDecision>()?;
    m.add_class::<decision::Diagnostic>()?;
    m.add_class::<authn::Authentication>()?;
    m.add_class::<watch::Watch>()?;
    m.add("WardenError", py.get_type::<errors::WardenError>())?;
    m.add("PolicyError", py.get_type::<errors::PolicyError>())?;
    m.add("RequestError", py.get_type::<errors::RequestError>())?;
    m.add("ConfigError", py.get_type::<errors::ConfigError>())?;
    m.add("CannotFilter", py.get_type::<filter::CannotFilter>())?;
    m.add_function(wrap_pyfunction!(filter::_residual_json, m)?)?;
    m.add_function(wrap_pyfunction!(cli::cli_main, m)?)?;
    let close = wrap_pyfunction!(watch::_close_watches, m)?;
    py.import("atexit")?.call_method1("register", (close,))?;
    Ok(())
}
