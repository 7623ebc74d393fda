//! `time=` of `check_http` and `authenticate`: an aware `datetime.datetime` or RFC 3339
//! text. A naive `datetime` names no instant (local time of which zone?), so it is
//! refused like an RFC 3339 string without an offset (the core parser refuses those).

use crate::errors::RequestError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;

static DATETIME: PyOnceLock<(Py<PyAny>, Py<PyAny>)> = PyOnceLock::new();

/// The RFC 3339 text of `time=` (validated later by the core).
pub(crate) fn rfc3339(v: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = v.py();
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    let (datetime, utc) = DATETIME.get_or_try_init(py, || -> PyResult<_> {
        let m = py.import("datetime")?;
        let utc = m.getattr("timezone")?.getattr("utc")?;
        Ok((m.getattr("datetime")?.unbind(), utc.unbind()))
    })?;
    if v.is_instance(datetime.bind(py))? {
        if v.call_method0("utcoffset")?.is_none() {
            return Err(RequestError::new_err(
                "`time` is a naive datetime: pass an aware one, e.g. datetime.now(timezone.utc) or dt.replace(tzinfo=ZoneInfo(...))",
            ));
        }
        // In UTC, so the text never carries an offset with seconds (RFC 3339 has none).
        let at = v.call_method1("astimezone", (utc.bind(py),))?;
        return at.call_method0("isoformat")?.extract();
    }
    let ty = v
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(RequestError::new_err(format!(
        "`time` has type `{ty}`; pass an aware datetime.datetime or an RFC 3339 string such as \"2026-11-22T10:00:00Z\""
    )))
}
