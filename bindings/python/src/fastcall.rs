//! `Engine.authorize` as a raw `METH_FASTCALL | METH_KEYWORDS` method.
//!
//! pyo3's generated argument parsing reads every keyword's name as UTF-8 and compares
//! it with each parameter's name: a tenth of a call that is otherwise a few dict reads.
//! Here a keyword is matched by identity against the interned parameter names first
//! (the names of keyword arguments and of dict literal keys are interned), by value
//! only when that fails. The method is installed on the class after pyo3 made it,
//! under the same name, signature and doc.

use crate::engine::Engine;
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyTuple, PyType};
use std::ffi::CStr;

/// The keyword-only parameters, in the order `Engine::authorize_args` takes them.
const PARAMS: [&str; 5] = ["action", "principal", "resource", "context", "explain"];

static INTERNED: PyOnceLock<[Py<PyString>; 5]> = PyOnceLock::new();

const DOC: &CStr = c"authorize($self, *, action=None, principal=None, resource=None, context=None, explain=False)\n--\n\nMay `principal` do `action` on `resource` in `context`? Dicts in the shape of the\nrequest JSON; only the attributes the policy reads are converted.";

/// Replace the class's `authorize` with the raw method.
pub(crate) fn install(ty: &Bound<'_, PyType>) -> PyResult<()> {
    let py = ty.py();
    // CPython keeps a pointer to the definition for as long as the method exists: one
    // definition per module initialisation, never freed.
    let def: &'static mut ffi::PyMethodDef = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: c"authorize".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunctionFastWithKeywords: authorize_raw,
        },
        ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        ml_doc: DOC.as_ptr(),
    }));
    // SAFETY: `ty` is a live type object and `def` lives forever; the result is a new
    // reference or NULL with an exception set.
    let descr =
        unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewMethod(ty.as_type_ptr(), def))? };
    ty.setattr("authorize", descr)
}

/// The C entry point: errors and panics become Python exceptions, never unwind into C.
unsafe extern "C" fn authorize_raw(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let out = std::panic::catch_unwind(|| {
        Python::attach(|py| {
            // SAFETY: CPython calls a fastcall method with `nargs` positional arguments
            // and then one value per name of the `kwnames` tuple (or NULL), all borrowed.
            match unsafe { call(py, slf, args, nargs, kwnames) } {
                Ok(d) => d.into_ptr(),
                Err(e) => {
                    e.restore(py);
                    std::ptr::null_mut()
                }
            }
        })
    });
    out.unwrap_or_else(|_| {
        Python::attach(|py| {
            PyRuntimeError::new_err("warden: internal error in authorize").restore(py);
            std::ptr::null_mut()
        })
    })
}

/// The parameter a keyword names.
fn param(py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<usize> {
    let names = INTERNED.get_or_init(py, || PARAMS.map(|n| PyString::intern(py, n).unbind()));
    let p = key.as_ptr();
    if let Some(i) = names.iter().position(|n| n.as_ptr() == p) {
        return Ok(i);
    }
    let s = key.cast::<PyString>()?;
    if let Some(i) = s
        .to_str()
        .ok()
        .and_then(|s| PARAMS.iter().position(|n| *n == s))
    {
        return Ok(i);
    }
    Err(PyTypeError::new_err(format!(
        "Engine.authorize() got an unexpected keyword argument '{s}'"
    )))
}

/// # Safety
/// The arguments of a `METH_FASTCALL | METH_KEYWORDS` call, with the interpreter attached.
unsafe fn call(
    py: Python<'_>,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<Py<crate::decision::Decision>> {
    // SAFETY: `slf` is the (borrowed) object the method was called on.
    let slf = unsafe { Borrowed::from_ptr(py, slf) };
    let engine = slf.cast::<Engine>()?;
    if nargs != 0 {
        return Err(PyTypeError::new_err(format!(
            "Engine.authorize() takes 0 positional arguments but {nargs} were given"
        )));
    }
    let mut vals: [Option<Borrowed<'_, '_, PyAny>>; 5] = [None; 5];
    // SAFETY: `kwnames` is NULL or a tuple of the keywords' names.
    if let Some(names) = unsafe { Borrowed::from_ptr_or_opt(py, kwnames) } {
        let names = names.cast::<PyTuple>()?;
        for (i, key) in names.iter_borrowed().enumerate() {
            let at = param(py, &key)?;
            // SAFETY: the values of the keywords follow the `nargs` (zero) positional
            // arguments, one per name.
            let v = unsafe { Borrowed::from_ptr(py, *args.add(i)) };
            match vals.get_mut(at) {
                Some(slot @ None) => *slot = Some(v),
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "Engine.authorize() got multiple values for argument '{}'",
                        PARAMS.get(at).unwrap_or(&"?")
                    )))
                }
            }
        }
    }
    let [action, principal, resource, context, explain] = vals;
    let explain = match explain {
        None => false,
        Some(e) => e
            .extract::<bool>()
            .map_err(|e| PyTypeError::new_err(format!("argument 'explain': {e}")))?,
    };
    engine.get().authorize_args(
        py,
        action.as_deref(),
        principal.as_deref(),
        resource.as_deref(),
        context.as_deref(),
        explain,
    )
}
