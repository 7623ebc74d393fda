//! Python values -> the plan's reused request (only the attributes the policy reads),
//! and JSON values -> Python objects (traces, HTTP decisions).
//!
//! The rules are those of `warden::Request::from_json` on the request JSON of
//! docs/JSON.md, with Python's types for JSON's: `dict` for objects, `list`/`tuple`
//! (and `set`/`frozenset`) for arrays, `str`, `int`/`float`, `bool`, `None`.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple};
use warden::{Attrs, RequestError, Value};
use warden_host::{set_str, set_value_str, Budget, Path, Scratch};

/// The plan's slot names as interned Python strings: dict lookups by these hash once.
#[derive(Debug)]
pub(crate) struct Keys {
    pub principal: Vec<Py<PyString>>,
    pub resource: Vec<Py<PyString>>,
    pub context: Vec<Py<PyString>>,
}

impl Keys {
    pub fn new(py: Python<'_>, slots: &warden_host::Slots) -> Keys {
        let keys = |names: &[Box<str>]| {
            names
                .iter()
                .map(|n| PyString::intern(py, n).unbind())
                .collect()
        };
        Keys {
            principal: keys(&slots.principal),
            resource: keys(&slots.resource),
            context: keys(&slots.context),
        }
    }
}

fn err(msg: impl Into<String>) -> RequestError {
    RequestError::new(msg)
}

/// A Python exception raised while reading a value (a dict subclass whose `__getitem__`
/// throws, a `__float__` that fails) becomes a request error, never a bare exception.
fn py_err(what: &dyn std::fmt::Display, e: PyErr) -> RequestError {
    err(format!("`{what}` could not be read: {e}"))
}

fn as_dict<'a, 'py>(
    v: &'a Bound<'py, PyAny>,
    what: &str,
) -> Result<Option<&'a Bound<'py, PyDict>>, RequestError> {
    if v.is_none() {
        return Ok(None);
    }
    v.cast::<PyDict>()
        .map(Some)
        .map_err(|_| err(format!("`{what}` must be a dict or None")))
}

fn get<'py>(
    d: &Bound<'py, PyDict>,
    key: &Bound<'py, PyString>,
    what: Path<'_>,
) -> Result<Option<Bound<'py, PyAny>>, RequestError> {
    d.get_item(key).map_err(|e| py_err(&what, e))
}

/// Fill the reused request from the arguments of `authorize`.
pub(crate) fn fill(
    keys: &Keys,
    s: &mut Scratch,
    principal: Option<&Bound<'_, PyAny>>,
    action: Option<&Bound<'_, PyAny>>,
    resource: Option<&Bound<'_, PyAny>>,
    context: Option<&Bound<'_, PyAny>>,
) -> Result<(), RequestError> {
    let py = match action {
        Some(a) => a.py(),
        None => return Err(err("missing `action`")),
    };
    let mut budget = Budget::new();
    match action.map(|a| a.cast::<PyString>()) {
        Some(Ok(a)) => {
            let a = a.to_str().map_err(|e| py_err(&"action", e))?;
            budget.string(&"action", a.len())?;
            s.set_action(a);
        }
        _ => return Err(err("`action` must be a string")),
    }
    match principal
        .map(|p| as_dict(p, "principal"))
        .transpose()?
        .flatten()
    {
        None => s.anonymous(),
        Some(d) => {
            let p = s.principal();
            let what = Path {
                root: "principal",
                name: "id",
            };
            id(
                get(d, pyo3::intern!(py, "id"), what)?.as_ref(),
                &mut p.id,
                what,
                &budget,
            )?;
            let roles_at = Path {
                root: "principal",
                name: "roles",
            };
            let many = get(d, pyo3::intern!(py, "roles"), roles_at)?;
            let one = get(d, pyo3::intern!(py, "role"), roles_at)?;
            roles(many, one, &mut p.roles, &mut budget)?;
            slots(
                py,
                d,
                &keys.principal,
                &mut p.attrs,
                "principal",
                &mut budget,
            )?;
        }
    }
    match resource
        .map(|r| as_dict(r, "resource"))
        .transpose()?
        .flatten()
    {
        None => s.no_resource(),
        Some(d) => {
            let r = s.resource();
            let what = Path {
                root: "resource",
                name: "type",
            };
            match get(d, pyo3::intern!(py, "type"), what)? {
                None => return Err(err("missing `resource.type`")),
                Some(t) => match t.cast::<PyString>() {
                    Ok(t) => {
                        let t = t.to_str().map_err(|e| py_err(&what, e))?;
                        budget.string(&what, t.len())?;
                        set_str(&mut r.ty, t);
                    }
                    Err(_) => return Err(err("`resource.type` must be a string")),
                },
            }
            let what = Path {
                root: "resource",
                name: "id",
            };
            id(
                get(d, pyo3::intern!(py, "id"), what)?.as_ref(),
                &mut r.id,
                what,
                &budget,
            )?;
            slots(py, d, &keys.resource, &mut r.attrs, "resource", &mut budget)?;
        }
    }
    let ctx = s.context();
    match context
        .map(|c| as_dict(c, "context"))
        .transpose()?
        .flatten()
    {
        None => ctx.0.iter_mut().for_each(|slot| slot.1 = Value::Null),
        Some(d) => slots(py, d, &keys.context, ctx, "context", &mut budget)?,
    }
    Ok(())
}

/// `id`: a string, a number (as its decimal text) or absent/None (empty).
fn id(
    v: Option<&Bound<'_, PyAny>>,
    out: &mut String,
    what: Path<'_>,
    budget: &Budget,
) -> Result<(), RequestError> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        out.clear();
        return Ok(());
    };
    if let Ok(s) = v.cast::<PyString>() {
        let s = s.to_str().map_err(|e| py_err(&what, e))?;
        budget.string(&what, s.len())?;
        set_str(out, s);
        return Ok(());
    }
    if !v.is_instance_of::<PyBool>()
        && (v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>())
    {
        let text = v.str().map_err(|e| py_err(&what, e))?;
        let text = text.to_str().map_err(|e| py_err(&what, e))?;
        set_str(out, text);
        return Ok(());
    }
    Err(err(format!("`{what}` must be a string")))
}

/// `roles` (a list of names) or `role` (one name), never both.
fn roles(
    many: Option<Bound<'_, PyAny>>,
    one: Option<Bound<'_, PyAny>>,
    out: &mut Vec<String>,
    budget: &mut Budget,
) -> Result<(), RequestError> {
    let what = Path {
        root: "principal",
        name: "roles",
    };
    let mut n = 0usize;
    let mut put = |v: &Bound<'_, PyAny>, budget: &mut Budget| -> Result<(), RequestError> {
        let Ok(s) = v.cast::<PyString>() else {
            return Err(err("role names must be strings"));
        };
        let s = s.to_str().map_err(|e| py_err(&what, e))?;
        budget.node(&what)?;
        budget.string(&what, s.len())?;
        match out.get_mut(n) {
            Some(slot) => set_str(slot, s),
            None => out.push(s.to_owned()),
        }
        n += 1;
        Ok(())
    };
    match (many, one) {
        (Some(_), Some(_)) => {
            return Err(err(
                "give either `roles` or `role` for the principal, not both",
            ))
        }
        (Some(rs), None) if rs.is_none() => {}
        (None, Some(r)) if r.is_none() => {}
        (None, None) => {}
        (Some(rs), None) => {
            if let Ok(list) = rs.cast_exact::<PyList>() {
                // The common case, without an iterator object per call.
                for r in list.iter() {
                    put(&r, budget)?;
                }
            } else if rs.is_instance_of::<PyList>()
                || rs.is_instance_of::<PyTuple>()
                || rs.is_instance_of::<PySet>()
                || rs.is_instance_of::<PyFrozenSet>()
            {
                for r in rs.try_iter().map_err(|e| py_err(&what, e))? {
                    put(&r.map_err(|e| py_err(&what, e))?, budget)?;
                }
            } else {
                return Err(err("`principal.roles` must be a list"));
            }
        }
        (None, Some(r)) => put(&r, budget)?,
    }
    out.truncate(n);
    Ok(())
}

/// Write every slot: the dict's value for the slot's name, or missing.
fn slots(
    py: Python<'_>,
    d: &Bound<'_, PyDict>,
    keys: &[Py<PyString>],
    attrs: &mut Attrs,
    root: &'static str,
    budget: &mut Budget,
) -> Result<(), RequestError> {
    for (key, slot) in keys.iter().zip(attrs.0.iter_mut()) {
        let what = Path {
            root,
            name: &slot.0,
        };
        match get(d, key.bind(py), what)? {
            None => slot.1 = Value::Null,
            Some(v) => set_value(&v, &mut slot.1, what, budget)?,
        }
    }
    Ok(())
}

/// Convert into `slot`, reusing its string buffer for the common case of a string.
fn set_value(
    v: &Bound<'_, PyAny>,
    slot: &mut Value,
    what: Path<'_>,
    budget: &mut Budget,
) -> Result<(), RequestError> {
    if let Ok(s) = v.cast_exact::<PyString>() {
        let s = s.to_str().map_err(|e| py_err(&what, e))?;
        budget.node(&what)?;
        budget.string(&what, s.len())?;
        set_value_str(slot, s);
        return Ok(());
    }
    *slot = value(v, what, budget)?;
    Ok(())
}

/// Any supported Python value as a request value.
pub(crate) fn value(
    v: &Bound<'_, PyAny>,
    what: Path<'_>,
    budget: &mut Budget,
) -> Result<Value, RequestError> {
    budget.node(&what)?;
    if v.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = v.cast::<PyString>() {
        let s = s.to_str().map_err(|e| py_err(&what, e))?;
        budget.string(&what, s.len())?;
        return Ok(Value::String(s.to_owned()));
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>() {
        let n: f64 = v.extract().map_err(|e| py_err(&what, e))?;
        if !n.is_finite() {
            return Err(err(format!("`{what}` must be a finite number")));
        }
        return Ok(Value::Number(n));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        budget.enter(&what)?;
        let mut attrs = Vec::with_capacity(d.len());
        for (k, x) in d.iter() {
            let Ok(k) = k.cast::<PyString>() else {
                return Err(err(format!("`{what}`: map keys must be strings")));
            };
            let k = k.to_str().map_err(|e| py_err(&what, e))?;
            budget.string(&what, k.len())?;
            attrs.push((k.to_owned(), value(&x, what, budget)?));
        }
        budget.leave();
        return Ok(Value::Map(Attrs(attrs)));
    }
    if v.is_instance_of::<PyList>()
        || v.is_instance_of::<PyTuple>()
        || v.is_instance_of::<PySet>()
        || v.is_instance_of::<PyFrozenSet>()
    {
        budget.enter(&what)?;
        let mut items = Vec::new();
        for x in v.try_iter().map_err(|e| py_err(&what, e))? {
            items.push(value(&x.map_err(|e| py_err(&what, e))?, what, budget)?);
        }
        budget.leave();
        return Ok(Value::List(items));
    }
    let ty = v
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(err(format!(
        "`{what}` has unsupported type `{ty}`; use str, int, float, bool, None, list, tuple, set or dict"
    )))
}

/// A JSON value as Python objects (dict, list, str, int/float, bool, None).
pub(crate) fn json_to_py<'py>(
    py: Python<'py>,
    v: &serde_json::Value,
) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => py.None().into_bound(py),
        J::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(f)) => f.into_pyobject(py)?.into_any(),
            (None, None) => py.None().into_bound(py),
        },
        J::String(s) => PyString::new(py, s).into_any(),
        J::Array(a) => {
            let items = a
                .iter()
                .map(|x| json_to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        J::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// Any supported Python value as JSON (the HTTP request is built by
/// `warden::HttpRequest::from_json`, so its rules are the core's own).
pub(crate) fn json(
    v: &Bound<'_, PyAny>,
    what: Path<'_>,
    budget: &mut Budget,
) -> Result<serde_json::Value, RequestError> {
    use serde_json::Value as J;
    budget.node(&what)?;
    if v.is_none() {
        return Ok(J::Null);
    }
    if let Ok(s) = v.cast::<PyString>() {
        let s = s.to_str().map_err(|e| py_err(&what, e))?;
        budget.string(&what, s.len())?;
        return Ok(J::String(s.to_owned()));
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(J::Bool(b.is_true()));
    }
    if v.is_instance_of::<PyInt>() {
        if let Ok(i) = v.extract::<i64>() {
            return Ok(J::from(i));
        }
    }
    if v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>() {
        let n: f64 = v.extract().map_err(|e| py_err(&what, e))?;
        return serde_json::Number::from_f64(n)
            .map(J::Number)
            .ok_or_else(|| err(format!("`{what}` must be a finite number")));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        budget.enter(&what)?;
        let mut m = serde_json::Map::new();
        for (k, x) in d.iter() {
            let Ok(k) = k.cast::<PyString>() else {
                return Err(err(format!("`{what}`: map keys must be strings")));
            };
            let k = k.to_str().map_err(|e| py_err(&what, e))?;
            budget.string(&what, k.len())?;
            m.insert(k.to_owned(), json(&x, what, budget)?);
        }
        budget.leave();
        return Ok(J::Object(m));
    }
    if v.is_instance_of::<PyList>()
        || v.is_instance_of::<PyTuple>()
        || v.is_instance_of::<PySet>()
        || v.is_instance_of::<PyFrozenSet>()
    {
        budget.enter(&what)?;
        let mut items = Vec::new();
        for x in v.try_iter().map_err(|e| py_err(&what, e))? {
            items.push(json(&x.map_err(|e| py_err(&what, e))?, what, budget)?);
        }
        budget.leave();
        return Ok(J::Array(items));
    }
    let ty = v
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(err(format!(
        "`{what}` has unsupported type `{ty}`; use str, int, float, bool, None, list, tuple, set or dict"
    )))
}
