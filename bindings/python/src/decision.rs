//! The frozen result objects: `Decision` (one cached instance per distinct answer of an
//! engine; explain answers carry a `trace`) and `Diagnostic`.

use crate::authn::py_repr;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use warden_host::{Diag, OwnedDecision};

/// The answer to an authorization request. Immutable; equal answers of one engine are
/// the same object unless `explain=True` was asked.
#[pyclass(module = "warden", frozen)]
#[derive(Debug)]
pub struct Decision {
    #[pyo3(get)]
    allowed: bool,
    /// 200 or 403 for authorization.
    #[pyo3(get)]
    status: u16,
    /// For a denial: the deciding deny's `because`, or why nothing permitted.
    #[pyo3(get)]
    reason: Option<Py<PyString>>,
    /// The deciding grant or rule as `file:line`, or None for a default deny.
    #[pyo3(get)]
    rule: Option<Py<PyString>>,
    /// With `explain=True`: what was looked at, as a dict.
    #[pyo3(get)]
    trace: Option<Py<PyAny>>,
}

impl Decision {
    pub(crate) fn new(py: Python<'_>, d: &OwnedDecision, trace: Option<Py<PyAny>>) -> Decision {
        Decision {
            allowed: d.allowed,
            status: d.status,
            reason: d.reason.as_deref().map(|s| PyString::new(py, s).unbind()),
            rule: d.rule.as_deref().map(|s| PyString::new(py, s).unbind()),
            trace,
        }
    }
}

#[pymethods]
impl Decision {
    /// The deciding rules as `file:line` (the `rules` list of the decision JSON).
    #[getter]
    fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.rule.iter().map(|r| r.clone_ref(py)))
    }

    /// The decision as a dict: `allowed`, `status`, `reason`, `rules`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("allowed", self.allowed)?;
        d.set_item("status", self.status)?;
        d.set_item("reason", &self.reason)?;
        d.set_item("rules", self.rules(py)?.to_list())?;
        Ok(d)
    }

    fn __bool__(&self) -> bool {
        self.allowed
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let show = |s: &Option<Py<PyString>>| {
            py_repr(py, s.as_ref().map(|s| s.bind(py).clone().into_any()))
        };
        Ok(format!(
            "Decision(allowed={}, status={}, reason={}, rule={})",
            py_bool(self.allowed),
            self.status,
            show(&self.reason)?,
            show(&self.rule)?
        ))
    }

    /// `allowed (file:line)` or `denied: REASON (file:line)`.
    fn __str__(&self, py: Python<'_>) -> String {
        let rule = self
            .rule
            .as_ref()
            .map(|r| format!(" ({})", r.bind(py)))
            .unwrap_or_default();
        match (&self.reason, self.allowed) {
            (_, true) => format!("allowed{rule}"),
            (Some(r), false) => format!("denied: {}{rule}", r.bind(py)),
            (None, false) => format!("denied{rule}"),
        }
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// One problem of a policy, with its position (1-based line, column in characters).
#[pyclass(module = "warden", frozen, get_all)]
#[derive(Debug)]
pub struct Diagnostic {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    /// "error" or "warning".
    severity: &'static str,
    /// A stable code such as "unknown-role".
    code: &'static str,
    message: String,
    help: Option<String>,
}

impl From<Diag> for Diagnostic {
    fn from(d: Diag) -> Self {
        Diagnostic {
            file: d.file,
            line: d.line,
            column: d.column,
            end_line: d.end_line,
            end_column: d.end_column,
            severity: d.severity,
            code: d.code,
            message: d.message,
            help: d.help,
        }
    }
}

#[pymethods]
impl Diagnostic {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let text = |s: &str| py_repr(py, Some(PyString::new(py, s).into_any()));
        Ok(format!(
            "Diagnostic(file={}, line={}, column={}, severity={}, code={}, message={})",
            text(&self.file)?,
            self.line,
            self.column,
            text(self.severity)?,
            text(self.code)?,
            text(&self.message)?
        ))
    }

    fn __str__(&self) -> String {
        format!(
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.severity, self.message
        )
    }
}

/// The answer to an HTTP request (`Engine.check_http`). Immutable.
#[pyclass(module = "warden", frozen)]
#[derive(Debug)]
pub struct HttpDecision {
    #[pyo3(get)]
    allowed: bool,
    /// 200 allowed, 204 a preflight answer, 3xx a redirect, 4xx/5xx a refusal.
    #[pyo3(get)]
    status: u16,
    #[pyo3(get)]
    reason: Option<String>,
    #[pyo3(get)]
    location: Option<String>,
    /// Set when a rate-limit store failed and the request was admitted anyway.
    #[pyo3(get)]
    note: Option<String>,
    /// When the policy's `auth` blocks produced the principal: how (`"jwt:NAME#1"`).
    #[pyo3(get)]
    authenticated_by: Option<String>,
    principal: Option<serde_json::Value>,
    rules: Vec<String>,
    headers: Vec<(String, String)>,
    remove: Vec<String>,
    json: serde_json::Value,
    #[pyo3(get)]
    trace: Option<Py<PyAny>>,
}

impl HttpDecision {
    pub(crate) fn new(d: &warden::HttpDecision<'_>, trace: Option<Py<PyAny>>) -> HttpDecision {
        HttpDecision {
            allowed: d.allowed,
            status: d.status,
            reason: d.reason.as_deref().map(str::to_owned),
            location: d.location.clone(),
            note: d.note.as_deref().map(str::to_owned),
            authenticated_by: d.authenticated_by.clone(),
            principal: d.principal.as_ref().map(warden::Principal::to_json),
            rules: d.rules.iter().map(|r| r.to_string()).collect(),
            headers: d
                .headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            remove: d.remove.iter().map(|r| r.to_string()).collect(),
            json: d.to_json(),
            trace,
        }
    }
}

#[pymethods]
impl HttpDecision {
    /// The deciding requirements or limits as `file:line`.
    #[getter]
    fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.rules)
    }

    /// The principal the policy's `auth` blocks verified for an admitted request, as
    /// a dict; None when the host passed one or the route needed none.
    #[getter]
    fn principal<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.principal
            .as_ref()
            .map(|p| crate::convert::json_to_py(py, p))
            .transpose()
    }

    /// Headers to add to the response (lower-case names; they replace the app's own).
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (n, v) in &self.headers {
            d.set_item(n, v)?;
        }
        Ok(d)
    }

    /// Headers to remove from the response, even when the application set them.
    #[getter]
    fn remove<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.remove)
    }

    /// The decision as a dict: `allowed`, `status`, `reason`, `rules`, `headers`,
    /// `location`, `route`, `remove`, `authenticated_by`, `note`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::convert::json_to_py(py, &self.json)
    }

    fn __bool__(&self) -> bool {
        self.allowed
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let text =
            |s: &Option<String>| py_repr(py, s.as_deref().map(|s| PyString::new(py, s).into_any()));
        Ok(format!(
            "HttpDecision(allowed={}, status={}, reason={}, location={})",
            py_bool(self.allowed),
            self.status,
            text(&self.reason)?,
            text(&self.location)?
        ))
    }

    /// `200 allowed`, `302 redirect to LOCATION` or `401 refused: REASON`.
    fn __str__(&self) -> String {
        match (&self.location, &self.reason) {
            _ if self.allowed && self.status == 200 => "200 allowed".to_owned(),
            (Some(l), _) => format!("{} redirect to {l}", self.status),
            (None, Some(r)) => format!("{} refused: {r}", self.status),
            (None, None) if self.allowed => format!("{} answered", self.status),
            (None, None) => format!("{} refused", self.status),
        }
    }
}
