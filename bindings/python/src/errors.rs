//! The exception classes and the one place where engine errors become them.
//!
//! `WardenError` is the base; `PolicyError` (a policy that does not load) carries
//! `.diagnostics`, a list of `Diagnostic` (file, line, column, code, message ...);
//! `RequestError` is a request the engine cannot read; `ConfigError` an option it
//! cannot honour. Nothing else is raised by the module.

use crate::decision::Diagnostic;
use pyo3::prelude::*;
use pyo3::types::PyList;
use warden_host::PolicyErrorData;

pyo3::create_exception!(
    warden,
    WardenError,
    pyo3::exceptions::PyException,
    "Base class of every error the warden module raises."
);
pyo3::create_exception!(
    warden,
    PolicyError,
    WardenError,
    "A policy that does not load; `.diagnostics` lists every problem with its position."
);
pyo3::create_exception!(
    warden,
    RequestError,
    WardenError,
    "A request the engine cannot read; the message says what to fix."
);
pyo3::create_exception!(
    warden,
    ConfigError,
    WardenError,
    "An engine option that cannot be honoured."
);

pub(crate) fn policy_error(py: Python<'_>, e: &warden::LoadError) -> PyErr {
    let data = PolicyErrorData::from(e);
    let err = PolicyError::new_err(data.message.clone());
    let diags = data
        .diagnostics
        .into_iter()
        .map(|d| Py::new(py, Diagnostic::from(d)))
        .collect::<PyResult<Vec<_>>>()
        .and_then(|ds| PyList::new(py, ds));
    let attached = diags.and_then(|list| {
        let v = err.value(py);
        v.setattr("diagnostics", list)?;
        v.setattr("file", data.file)
    });
    match attached {
        Ok(()) => err,
        Err(other) => other,
    }
}

pub(crate) fn request_error(e: warden::RequestError) -> PyErr {
    RequestError::new_err(e.message)
}

pub(crate) fn config_error(e: warden_host::ConfigError) -> PyErr {
    ConfigError::new_err(e.message)
}
