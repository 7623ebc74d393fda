//! The fast path of `authorize`: a request whose values are strings, booleans or
//! missing reaches the addon through two buffers shared with `index.js`.
//!
//! `index.js` writes the request's strings as UTF-8 into the byte buffer, one after
//! the other, and one word per value into the word buffer, then calls a plain N-API
//! function with no argument: no JS string is read through N-API, no object is
//! unwrapped, nothing is allocated, and the answer (the interned decision's index) goes
//! back through the word buffer too. Anything else (numbers, lists, objects, strings
//! that do not fit the byte buffer, bad shapes) takes the packed path of `packed.rs`,
//! which reports errors; so does a request the buffers cannot hold.
//!
//! Why bytes and not ids: an earlier version sent each string once and named it by an
//! id from a JS `Map`; the `Map` lookups (about nine per request, each hashing and
//! comparing strings) took 40% of the call, and a table of every id and owner ever
//! seen does not fit real traffic. Copying a short ASCII string with `charCodeAt` costs
//! less than looking it up.
//!
//! Word buffer layout, one `u32` per word: `[0]` flags (`packed::HAS_*`) in, the
//! decision's index or [`FALLBACK`] out; `[1]` the bytes written (checked as UTF-8 in
//! one pass, not string by string); `[2]` the action; with a principal: its id,
//! the number of roles, the roles, then one value per principal slot; with a resource:
//! its type, its id, one value per resource slot; with a context: one value per context
//! slot. A value is [`MISSING`], [`TRUE`], [`FALSE`] or the byte length of a string,
//! whose bytes are the next ones of the byte buffer.
//!
//! Safety: every N-API value used here belongs to the callback that is running; the
//! state behind a function's `data` is an `Rc<Fast>` owned by that function (and one by
//! each buffer), released by their finalizers, which N-API runs on the env's own JS
//! thread, like every call; the buffers' memory is that state's, so it outlives every
//! JS view of it. JS writes them only between calls (no JS runs during `decide`).

#![allow(unsafe_code, reason = "raw N-API functions; see the module doc")]

use crate::packed::{HAS_CONTEXT, HAS_PRINCIPAL, HAS_RESOURCE};
use arc_swap::cache::Cache;
use arc_swap::ArcSwap;
use napi::sys;
use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;
use warden::Value;
use warden_host::{set_str, set_value_str, Plan, Scratch};

/// A missing value (`undefined`, `null`); also [`FALLBACK`] in word 0.
pub(crate) const MISSING: u32 = u32::MAX;
pub(crate) const TRUE: u32 = u32::MAX - 1;
pub(crate) const FALSE: u32 = u32::MAX - 2;
/// Word 0 after a call: take the packed path.
pub(crate) const FALLBACK: u32 = u32::MAX;
/// Size of the byte buffer: the most UTF-8 bytes the strings of one fast request take
/// (a request of longer strings takes the packed path, which allows up to
/// `warden_host::budget::MAX_STRING_BYTES` per string).
pub(crate) const BYTES: usize = 16 << 10;
/// Most roles a fast request carries.
pub(crate) const MAX_ROLES: usize = 16;

/// The state of one engine's fast path.
#[derive(Debug)]
pub(crate) struct Fast {
    /// The engine's plan in force, through a cache: a load is one pointer comparison
    /// with the shared plan (an `ArcSwap::load` went through a thread-local debt list,
    /// 3% of a call). The cache holds the plan it last saw until the next call after a
    /// reload.
    plan: RefCell<Cache<Arc<ArcSwap<Plan>>, Arc<Plan>>>,
    words: Box<[Cell<u32>]>,
    bytes: Box<[Cell<u8>]>,
    /// One string per attribute slot (principal's, resource's, context's, in order)
    /// keeping the buffer of a slot whose value went missing: in the docs-app mix
    /// `resource.role` and `resource.author` alternate between a string and missing,
    /// which would otherwise free and allocate a buffer on most calls.
    spares: RefCell<Vec<String>>,
}

/// The request of the buffers, read in order.
struct Reader<'a> {
    words: &'a [Cell<u32>],
    at: usize,
    text: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn word(&mut self) -> Option<u32> {
        let w = self.words.get(self.at)?.get();
        self.at += 1;
        Some(w)
    }

    /// The next `len` bytes as a string (`None` unless they end on a character).
    fn text(&mut self, len: u32) -> Option<&'a str> {
        let end = self.pos.checked_add(len as usize)?;
        let t = self.text.get(self.pos..end)?;
        self.pos = end;
        Some(t)
    }

    fn string(&mut self) -> Option<&'a str> {
        let len = self.word()?;
        self.text(len)
    }

    /// The next value into `out`; `spare` keeps a string buffer across missing values.
    fn value(&mut self, out: &mut Value, spare: &mut String) -> Option<()> {
        let scalar = match self.word()? {
            MISSING => Value::Null,
            TRUE => Value::Bool(true),
            FALSE => Value::Bool(false),
            len => {
                let text = self.text(len)?;
                if !matches!(out, Value::String(_)) {
                    *out = Value::String(std::mem::take(spare));
                }
                set_value_str(out, text);
                return Some(());
            }
        };
        if let Value::String(buf) = std::mem::replace(out, scalar) {
            *spare = buf;
        }
        Some(())
    }

    fn id(&mut self, out: &mut String) -> Option<()> {
        match self.word()? {
            MISSING => out.clear(),
            len => set_str(out, self.text(len)?),
        }
        Some(())
    }
}

/// The request of the buffers into the reused one; `None` if the buffers are
/// inconsistent (then the packed path decides, and reports any error).
fn fill(
    r: &mut Reader<'_>,
    flags: u32,
    action: &str,
    spares: &mut [String],
    s: &mut Scratch,
) -> Option<()> {
    let mut spares = spares.iter_mut();
    let mut value = |r: &mut Reader<'_>, out: &mut Value| r.value(out, spares.next()?);
    s.set_action(action);
    if flags & HAS_PRINCIPAL == 0 {
        s.anonymous();
    } else {
        let p = s.principal();
        r.id(&mut p.id)?;
        let n = r.word()? as usize;
        if n > MAX_ROLES {
            return None;
        }
        for i in 0..n {
            let name = r.string()?;
            match p.roles.get_mut(i) {
                Some(slot) => set_str(slot, name),
                None => p.roles.push(name.to_owned()),
            }
        }
        p.roles.truncate(n);
        for slot in p.attrs.0.iter_mut() {
            value(r, &mut slot.1)?;
        }
    }
    if flags & HAS_RESOURCE == 0 {
        s.no_resource();
    } else {
        let res = s.resource();
        set_str(&mut res.ty, r.string()?);
        r.id(&mut res.id)?;
        for slot in res.attrs.0.iter_mut() {
            value(r, &mut slot.1)?;
        }
    }
    let ctx = s.context();
    if flags & HAS_CONTEXT == 0 {
        ctx.0.iter_mut().for_each(|slot| slot.1 = Value::Null);
    } else {
        for slot in ctx.0.iter_mut() {
            value(r, &mut slot.1)?;
        }
    }
    Some(())
}

impl Fast {
    fn decide(&self) -> u32 {
        let Ok(mut spares) = self.spares.try_borrow_mut() else {
            return FALLBACK;
        };
        let Some(used) = self.words.get(1).map(|w| w.get() as usize) else {
            return FALLBACK;
        };
        let Some(cells) = self.bytes.get(..used) else {
            return FALLBACK;
        };
        // SAFETY: `Cell<u8>` has the layout of `u8`; nothing writes the bytes while this
        // borrow lives: JS writes them only between calls, and no JS runs during one.
        let bytes = unsafe { std::slice::from_raw_parts(cells.as_ptr().cast::<u8>(), used) };
        let Ok(text) = std::str::from_utf8(bytes) else {
            return FALLBACK;
        };
        let mut r = Reader {
            words: &self.words,
            at: 2,
            text,
            pos: 0,
        };
        let (Some(flags), Some(action)) = (self.words.first().map(Cell::get), r.string()) else {
            return FALLBACK;
        };
        let Ok(mut cache) = self.plan.try_borrow_mut() else {
            return FALLBACK;
        };
        let plan = cache.load();
        plan.decide(|s| fill(&mut r, flags, action, &mut spares, s).ok_or(()))
            .map_or(FALLBACK, |v| v.index)
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
        if let Some(w) = f.words.first() {
            w.set(out);
        }
    }
    ptr::null_mut()
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

/// An external `ArrayBuffer` over `len` bytes at `at`, memory of `fast`, which the
/// buffer keeps alive (one `Rc` reference, released by its finalizer).
///
/// # Safety
/// `env` is the running callback's; `at..at + len` belongs to `fast`.
unsafe fn external(
    env: sys::napi_env,
    fast: &Rc<Fast>,
    at: *mut c_void,
    len: usize,
) -> Option<sys::napi_value> {
    let hint = Rc::into_raw(Rc::clone(fast)).cast_mut().cast::<c_void>();
    let mut buffer = ptr::null_mut();
    // SAFETY: the memory belongs to `fast`, kept alive by `hint` until the buffer's
    // finalizer; JS writes it as plain integers, which `Cell` allows.
    let made = ok(unsafe {
        sys::napi_create_external_arraybuffer(env, at, len, Some(release_hint), hint, &mut buffer)
    });
    if made.is_none() {
        // SAFETY: nothing owns `hint`.
        unsafe { release(env, hint, ptr::null_mut()) };
        return None;
    }
    Some(buffer)
}

/// `[decide, words, bytes]` for a plan of `words` buffer words (and a byte buffer of
/// [`BYTES`]), or `None` where the host refuses external buffers (then `index.js`
/// uses the packed path only).
///
/// # Safety
/// `env` is the running callback's.
pub(crate) unsafe fn new(
    env: sys::napi_env,
    plan: Arc<ArcSwap<Plan>>,
    words: usize,
) -> Option<sys::napi_value> {
    let fast = Rc::new(Fast {
        plan: RefCell::new(Cache::new(plan)),
        words: (0..words).map(|_| Cell::new(0)).collect(),
        bytes: (0..BYTES).map(|_| Cell::new(0)).collect(),
        spares: RefCell::new(vec![String::new(); words]),
    });
    // SAFETY: `env` is valid; both ranges are `fast`'s own buffers.
    let (word_buf, byte_buf) = unsafe {
        (
            external(
                env,
                &fast,
                fast.words.as_ptr().cast_mut().cast(),
                words * std::mem::size_of::<u32>(),
            )?,
            external(env, &fast, fast.bytes.as_ptr().cast_mut().cast(), BYTES)?,
        )
    };
    // SAFETY: `env` is valid.
    let decide = unsafe { function(env, "decide", decide_cb, &fast) }?;
    let mut out = ptr::null_mut();
    // SAFETY: `env` is valid and every value belongs to it.
    unsafe {
        ok(sys::napi_create_array_with_length(env, 3, &mut out))?;
        ok(sys::napi_set_element(env, out, 0, decide))?;
        ok(sys::napi_set_element(env, out, 1, word_buf))?;
        ok(sys::napi_set_element(env, out, 2, byte_buf))?;
    }
    Some(out)
}
