//! Node addon `warden.<platform>.node`: the native half of npm package `warden-policy`;
//! `index.js` is the public API (the `Engine` class, error classes, the Express
//! middleware). Glue only: every decision is made by the `warden` crate.
//!
//! | module | owns |
//! | --- | --- |
//! | `authn.rs` | `authenticate` as JSON; the principal handed back with an HTTP decision |
//! | `engine.rs` | `NativeEngine`: load (failures as data), decide, explain, reload |
//! | `filter.rs` | data filtering: the residual (and its SQL) of a filter request, errors as data |
//! | `packed.rs` | the one-string request `index.js` sends -> the plan's reused request, by the rules of the request JSON |
//! | `fast.rs` | the fast path: requests as string ids in a buffer shared with `index.js`, decided by a raw N-API function |
//! | `observe.rs` | `decisionLog` (a callback through a threadsafe function, or a file) and `metrics` |
//! | `watch.rs` | `NativeEngine.watch` and `NativeWatch`: reload on file change, reported to `index.js` |
//! | `raw.rs` | the N-API string read into a reused buffer |
//!
//! `unsafe` is confined to `raw.rs`, `fast.rs` and the one call that hands `fast.rs`
//! its env.

mod authn;
mod engine;
mod fast;
mod filter;
mod observe;
mod packed;
mod raw;
mod watch;
