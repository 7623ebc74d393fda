//! The fast path of `authorize`: a request whose values are strings, booleans or
//! missing reaches the addon as small integers in a buffer shared with `index.js`.
//!
//! `index.js` keeps a `Map` from each string it has sent to the id the addon gave it
//! (strings are immutable, so an id always names the same text), writes the request's
//! ids into the shared buffer, then calls a plain N-API function with no argument: no
//! string is read, no object is unwrapped, nothing is allocated, and the answer (the
//! interned decision's index) goes back through the buffer too. Anything else (numbers,
//! lists, objects, long strings, bad shapes) takes the packed path of `packed.rs`,
//! which reports errors; so does a request the buffer cannot hold.
//!
//! Buffer layout, one `u32` per word: `[0]` flags (`packed::HAS_*`) in, the decision's
//! index or [`FALLBACK`] out; `[1]` the action; with a principal: its id, the number of
//! roles, the roles, then one value per principal slot; with a resource: its type, its
//! id, one value per resource slot; with a context: one value per context slot. A
//! value is a string id, [`MISSING`], [`TRUE`] or [`FALSE`].
//!
//! The table of strings is bounded ([`MAX_STRINGS`], [`MAX_TABLE_BYTES`]): when full it
//! is emptied and `intern` answers [`FULL`], on which `index.js` empties its map and
//! takes the packed path for that request.
//!
//! Safety: every N-API value used here belongs to the callback that is running; the
//! state behind a function's `data` is an `Rc<Fast>` owned by that function (and one by
//! the buffer), released by their finalizers, which N-API runs on the env's own JS
//! thread, like every call; the buffer memory is that state's, so it outlives every JS
//! view of it. JS writes it only between calls.

#![allow(unsafe_code, reason = "raw N-API functions; see the module doc")]

use crate::packed::{HAS_CONTEXT, HAS_PRINCIPAL, HAS_RESOURCE};
use crate::raw::Js;
use arc_swap::ArcSwap;
use napi::sys;
use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;
use warden::{ActionId, Value};
use warden_host::{set_str, set_value_str, Plan, Scratch};

/// A missing value (`undefined`, `null`); also [`FALLBACK`] in word 0.
pub(crate) const MISSING: u32 = u32::MAX;
pub(crate) const TRUE: u32 = u32::MAX - 1;
pub(crate) const FALSE: u32 = u32::MAX - 2;
/// Word 0 after a call: take the packed path.
pub(crate) const FALLBACK: u32 = u32::MAX;
/// `intern`'s answer when the table was full (and has been emptied) or the value is
/// not a string it holds.
pub(crate) const FULL: u32 = u32::MAX;
pub(crate) const MAX_STRINGS: usize = 1 << 16;
pub(crate) const MAX_TABLE_BYTES: usize = 16 << 20;
/// Longest string the table takes, in bytes (`index.js` sends at most 1,024 UTF-16
/// units, so at most 3,072 bytes).
pub(crate) const MAX_STRING: usize = 4096;
/// Most roles a fast request carries.
pub(crate) const MAX_ROLES: usize = 16;

#[derive(Debug, Default)]
struct Table {
    strings: Vec<Box<str>>,
    bytes: usize,
    /// Resolved actions by string id, for the plan at `plan`.
    actions: Vec<Option<ActionId>>,
    plan: usize,
}

impl Table {
    fn get(&self, id: u32) -> Option<&str> {
        self.strings.get(id as usize).map(|s| &**s)
    }

    fn intern(&mut self, s: String) -> u32 {
        if s.len() > MAX_STRING {
            return FULL;
        }
        if self.strings.len() >= MAX_STRINGS || self.bytes + s.len() > MAX_TABLE_BYTES {
            self.strings.clear();
            self.actions.clear();
            self.bytes = 0;
            return FULL;
        }
        self.bytes += s.len();
        self.strings.push(s.into_boxed_str());
        u32::try_from(self.strings.len() - 1).unwrap_or(FULL)
    }

    fn action(&mut self, plan: &Plan, id: u32) -> Option<ActionId> {
        let key = plan as *const Plan as usize;
        if self.plan != key {
            // A reload: ids resolved by the old engine would only slow the new one down.
            self.actions.clear();
            self.plan = key;
        }
        if let Some(Some(a)) = self.actions.get(id as usize) {
            return Some(*a);
        }
        let a = plan.engine().action_id(self.get(id)?);
        let i = id as usize;
        if self.actions.len() <= i {
            self.actions.resize(i + 1, None);
        }
        if let Some(slot) = self.actions.get_mut(i) {
            *slot = Some(a);
        }
        Some(a)
    }
}

/// The state of one engine's fast path.
#[derive(Debug)]
pub(crate) struct Fast {
    plan: Arc<ArcSwap<Plan>>,
    buf: Box<[Cell<u32>]>,
    table: RefCell<Table>,
}

struct Words<'a> {
    buf: &'a [Cell<u32>],
    at: usize,
}

impl Words<'_> {
    fn next(&mut self) -> Option<u32> {
        let w = self.buf.get(self.at)?.get();
        self.at += 1;
        Some(w)
    }
}

fn value(t: &Table, w: u32, out: &mut Value) -> Option<()> {
    match w {
        MISSING => *out = Value::Null,
        TRUE => *out = Value::Bool(true),
        FALSE => *out = Value::Bool(false),
        id => set_value_str(out, t.get(id)?),
    }
    Some(())
}

fn id(t: &Table, w: u32, out: &mut String) -> Option<()> {
    match w {
        MISSING => out.clear(),
        id => set_str(out, t.get(id)?),
    }
    Some(())
}

/// The request of the buffer into the reused one; `None` if the buffer is inconsistent
/// (then the packed path decides, and reports any error).
fn fill(t: &Table, w: &mut Words<'_>, flags: u32, action: &str, s: &mut Scratch) -> Option<()> {
    s.set_action(action);
    if flags & HAS_PRINCIPAL == 0 {
        s.anonymous();
    } else {
        let p = s.principal();
        id(t, w.next()?, &mut p.id)?;
        let n = w.next()? as usize;
        if n > MAX_ROLES {
            return None;
        }
        for i in 0..n {
            let name = t.get(w.next()?)?;
            match p.roles.get_mut(i) {
                Some(slot) => set_str(slot, name),
                None => p.roles.push(name.to_owned()),
            }
        }
        p.roles.truncate(n);
        for slot in p.attrs.0.iter_mut() {
            value(t, w.next()?, &mut slot.1)?;
        }
    }
    if flags & HAS_RESOURCE == 0 {
        s.no_resource();
    } else {
        let r = s.resource();
        set_str(&mut r.ty, t.get(w.next()?)?);
        id(t, w.next()?, &mut r.id)?;
        for slot in r.attrs.0.iter_mut() {
            value(t, w.next()?, &mut slot.1)?;
        }
    }
    let ctx = s.context();
    if flags & HAS_CONTEXT == 0 {
        ctx.0.iter_mut().for_each(|slot| slot.1 = Value::Null);
    } else {
        for slot in ctx.0.iter_mut() {
            value(t, w.next()?, &mut slot.1)?;
        }
    }
    Some(())
}

impl Fast {
    fn decide(&self) -> u32 {
        let Ok(mut t) = self.table.try_borrow_mut() else {
            return FALLBACK;
        };
        let plan = self.plan.load();
        let mut w = Words {
            buf: &self.buf,
            at: 0,
        };
        let (Some(flags), Some(a)) = (w.next(), w.next()) else {
            return FALLBACK;
        };
        let Some(action) = t.action(&plan, a) else {
            return FALLBACK;
        };
        let t = &*t;
        let Some(name) = t.get(a) else {
            return FALLBACK;
        };
        plan.decide_action(action, |s| fill(t, &mut w, flags, name, s).ok_or(()))
            .map_or(FALLBACK, |v| v.index)
    }

    fn intern(&self, s: String) -> u32 {
        match self.table.try_borrow_mut() {
            Ok(mut t) => t.intern(s),
            Err(_) => FULL,
        }
    }
}

fn ok(status: sys::napi_status) -> Option<()> {
    (status == sys::Status::napi_ok).then_some(())
}

/// The state behind a function's `data`, borrowed for the running callback.
///
/// # Safety
/// `env` and `info` are the running callback's; `data` was set by [`new`] to an
/// `Rc<Fast>` that the function's finalizer has not released yet (it cannot have:
/// the function is running).
unsafe fn state<'a>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    argv: &mut [sys::napi_value],
) -> Option<&'a Fast> {
    let mut argc = argv.len();
    let mut data: *mut c_void = ptr::null_mut();
    // SAFETY: see the function doc; `argv` has room for `argc` values.
    ok(unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            &mut data,
        )
    })?;
    // SAFETY: `data` is the `Rc<Fast>` pointer of `new`, alive while the function is.
    unsafe { data.cast::<Fast>().as_ref() }
}

/// `decide()`: the buffer's request -> word 0. Returns `undefined`.
unsafe extern "C" fn decide_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: called by N-API as the callback of a function made by `new`.
    if let Some(f) = unsafe { state(env, info, &mut []) } {
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.decide()))
            .unwrap_or(FALLBACK);
        if let Some(w) = f.buf.first() {
            w.set(out);
        }
    }
    ptr::null_mut()
}

/// `intern(string)`: the string's id, or [`FULL`].
unsafe extern "C" fn intern_cb(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    let mut argv = [ptr::null_mut(); 1];
    let mut id = FULL;
    // SAFETY: called by N-API as the callback of a function made by `new`.
    if let Some(f) = unsafe { state(env, info, &mut argv) } {
        let [v] = argv;
        let mut bytes = Vec::new();
        let read = Js { env, v }.read_str_reusing(&mut bytes);
        if let (Ok(()), Ok(s)) = (read, String::from_utf8(bytes)) {
            id = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.intern(s)))
                .unwrap_or(FULL);
        }
    }
    let mut out = ptr::null_mut();
    // SAFETY: `env` is the running callback's.
    let _ = unsafe { sys::napi_create_uint32(env, id, &mut out) };
    out
}

unsafe extern "C" fn release(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is one `Rc::into_raw` of `new`, released exactly once, here.
    drop(unsafe { Rc::from_raw(data.cast::<Fast>().cast_const()) });
}

unsafe extern "C" fn release_hint(env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: as `release`, the `Rc` passed as the hint.
    unsafe { release(env, hint, ptr::null_mut()) }
}

/// A function whose `data` is one reference to `fast`, released when it is collected.
///
/// # Safety
/// `env` is the running callback's.
unsafe fn function(
    env: sys::napi_env,
    name: &str,
    cb: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
    fast: &Rc<Fast>,
) -> Option<sys::napi_value> {
    let data = Rc::into_raw(Rc::clone(fast)).cast_mut().cast::<c_void>();
    let mut f = ptr::null_mut();
    // SAFETY: `env` is valid; `name` is read for `len` bytes.
    let made = ok(unsafe {
        sys::napi_create_function(
            env,
            name.as_ptr().cast(),
            name.len() as isize,
            Some(cb),
            data,
            &mut f,
        )
    })
    .and_then(|()| {
        // SAFETY: `f` was just made in this env.
        ok(unsafe {
            sys::napi_add_finalizer(
                env,
                f,
                data,
                Some(release),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        })
    });
    if made.is_none() {
        // SAFETY: nothing owns `data` yet.
        unsafe { release(env, data, ptr::null_mut()) };
        return None;
    }
    Some(f)
}

/// `[decide, intern, buffer]` for a plan of `words` buffer words, or `None` where the
/// host refuses external buffers (then `index.js` uses the packed path only).
///
/// # Safety
/// `env` is the running callback's.
pub(crate) unsafe fn new(
    env: sys::napi_env,
    plan: Arc<ArcSwap<Plan>>,
    words: usize,
) -> Option<sys::napi_value> {
    let fast = Rc::new(Fast {
        plan,
        buf: (0..words).map(|_| Cell::new(0)).collect(),
        table: RefCell::new(Table::default()),
    });
    let hint = Rc::into_raw(Rc::clone(&fast)).cast_mut().cast::<c_void>();
    let mut buffer = ptr::null_mut();
    // SAFETY: the memory belongs to `fast`, kept alive by `hint` until the buffer's
    // finalizer; JS writes it as plain `u32`s, which `Cell` allows.
    let made = ok(unsafe {
        sys::napi_create_external_arraybuffer(
            env,
            fast.buf.as_ptr().cast_mut().cast(),
            words * std::mem::size_of::<u32>(),
            Some(release_hint),
            hint,
            &mut buffer,
        )
    });
    if made.is_none() {
        // SAFETY: nothing owns `hint`.
        unsafe { release(env, hint, ptr::null_mut()) };
        return None;
    }
    // SAFETY: `env` is valid.
    let decide = unsafe { function(env, "decide", decide_cb, &fast) }?;
    // SAFETY: as above.
    let intern = unsafe { function(env, "intern", intern_cb, &fast) }?;
    let mut out = ptr::null_mut();
    // SAFETY: `env` is valid and every value belongs to it.
    unsafe {
        ok(sys::napi_create_array_with_length(env, 3, &mut out))?;
        ok(sys::napi_set_element(env, out, 0, decide))?;
        ok(sys::napi_set_element(env, out, 1, intern))?;
        ok(sys::napi_set_element(env, out, 2, buffer))?;
    }
    Some(out)
}
