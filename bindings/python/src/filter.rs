//! The native half of `warden.filter` (data filtering): a filter request as JSON text in,
//! `warden::filter::residual_json`'s answer as JSON text out. `CannotFilter` names the
//! rule no filter can express; a malformed request is a `RequestError`.

use crate::engine::Engine;
use crate::errors::{RequestError, WardenError};
use pyo3::prelude::*;
use warden::filter::{residual_json, FilterError};

pyo3::create_exception!(
    warden,
    CannotFilter,
    WardenError,
    "A rule no filter can express (`.rule` is its `file:line`): authorize each row instead."
);

/// `residual_json` over text; the engine in force at the call (reloads apply).
#[pyfunction]
pub(crate) fn _residual_json(py: Python<'_>, engine: &Engine, request: &str) -> PyResult<String> {
    let req: serde_json::Value = serde_json::from_str(request)
        .map_err(|e| RequestError::new_err(format!("the filter request is not JSON: {e}")))?;
    match residual_json(&engine.current(), &req) {
        Ok(v) => Ok(v.to_string()),
        Err(FilterError::Request(m)) => Err(RequestError::new_err(m)),
        Err(FilterError::CannotFilter(c)) => {
            let err = CannotFilter::new_err(c.to_string());
            err.value(py).setattr("rule", c.rule)?;
            Err(err)
        }
    }
}
