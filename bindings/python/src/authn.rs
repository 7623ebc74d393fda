//! `Authentication`: what `Engine.authenticate` found in a request's credentials.

use pyo3::prelude::*;
use pyo3::types::PyString;
use warden::Authn;

/// The outcome of `Engine.authenticate`: a `principal` (with `via` naming the `auth`
/// block and key label that verified it), or `error` (a reason code such as
/// `"token_expired"`) when credentials were presented and refused, or neither for an
/// anonymous request. True when a principal was found. Never holds the credential.
#[pyclass(module = "warden", frozen)]
#[derive(Debug)]
pub struct Authentication {
    /// The principal as a dict (`id`, `roles`, claims mapped by the policy), or None.
    #[pyo3(get)]
    principal: Option<Py<PyAny>>,
    /// Which mechanism verified the credential, e.g. `"jwt:JWT_SECRET#1"`.
    #[pyo3(get)]
    via: Option<String>,
    /// The reason code of refused credentials, e.g. `"invalid_token"`.
    #[pyo3(get)]
    error: Option<&'static str>,
}

impl Authentication {
    pub(crate) fn new(py: Python<'_>, outcome: Authn) -> PyResult<Authentication> {
        Ok(match outcome {
            Authn::Anonymous => Authentication {
                principal: None,
                via: None,
                error: None,
            },
            Authn::Principal { principal, via } => Authentication {
                principal: Some(crate::convert::json_to_py(py, &principal.to_json())?.unbind()),
                via: Some(via),
                error: None,
            },
            Authn::Failed(f) => Authentication {
                principal: None,
                via: None,
                error: Some(f.code()),
            },
        })
    }
}

#[pymethods]
impl Authentication {
    fn __bool__(&self) -> bool {
        self.principal.is_some()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Authentication(principal={}, via={}, error={})",
            py_repr(py, self.principal.as_ref().map(|p| p.bind(py).clone()))?,
            py_repr(
                py,
                self.via.as_deref().map(|s| PyString::new(py, s).into_any())
            )?,
            py_repr(py, self.error.map(|s| PyString::new(py, s).into_any()))?,
        ))
    }
}

/// Python's own `repr` of a value, or `None`.
pub(crate) fn py_repr(_py: Python<'_>, v: Option<Bound<'_, PyAny>>) -> PyResult<String> {
    match v {
        Some(v) => Ok(v.repr()?.to_str()?.to_owned()),
        None => Ok("None".to_owned()),
    }
}
