//! Reading JS strings through N-API without copies (the addon's other unsafe code is
//! the fast path's, `fast.rs`).
//!
//! napi-rs's safe string reader allocates per call; `decide` reads its one packed
//! string into a buffer reused from call to call.
//!
//! Safety, for every function here: `env` and `v` come from the N-API callback that is
//! running (its arguments, or values read from them in the same callback), so they are
//! valid for the whole call; N-API checks the value's type itself and every status is
//! checked, so a wrong type is an error, never undefined behaviour.

#![allow(unsafe_code, reason = "N-API reads; see the module doc")]

use napi::sys;
use std::ptr;

/// A JS value of the running callback.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Js {
    pub env: sys::napi_env,
    pub v: sys::napi_value,
}

fn ok(status: sys::napi_status) -> Result<(), ()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(())
    }
}

impl Js {
    /// UTF-8 length of a string, in bytes.
    pub fn str_len(self) -> Result<usize, ()> {
        let mut len = 0usize;
        // SAFETY: see the module doc; a null buffer asks for the length only.
        ok(unsafe {
            sys::napi_get_value_string_utf8(self.env, self.v, ptr::null_mut(), 0, &mut len)
        })?;
        Ok(len)
    }

    /// Copy a string into `buf` in one N-API call when it fits the buffer's capacity
    /// (it does after the first calls), in two otherwise.
    pub fn read_str_reusing(self, buf: &mut Vec<u8>) -> Result<(), ()> {
        let cap = buf.capacity().max(256);
        buf.clear();
        buf.resize(cap, 0);
        let mut written = 0usize;
        // SAFETY: see the module doc; N-API writes at most `cap - 1` bytes and a NUL.
        ok(unsafe {
            sys::napi_get_value_string_utf8(
                self.env,
                self.v,
                buf.as_mut_ptr().cast(),
                cap,
                &mut written,
            )
        })?;
        if written + 1 < cap {
            buf.truncate(written);
            return Ok(());
        }
        let len = self.str_len()?;
        buf.resize(len + 1, 0);
        // SAFETY: as above, with room for the whole string.
        ok(unsafe {
            sys::napi_get_value_string_utf8(
                self.env,
                self.v,
                buf.as_mut_ptr().cast(),
                len + 1,
                &mut written,
            )
        })?;
        buf.truncate(written.min(len));
        Ok(())
    }
}
