//! Node addon `warden.node`: the native half of package `warden`; `index.js` is the
//! public API (the `Engine` class, error classes, the Express middleware). Glue only:
//! every decision is made by the `warden` crate.
//!
//! | module | owns |
//! | --- | --- |
//! | `engine.rs` | `NativeEngine`: load (failures as data), decide, explain, reload |
//! | `packed.rs` | the one-string request `index.js` sends -> the plan's reused request, by the rules of the request JSON |
//! | `raw.rs` | the N-API string read into a reused buffer (the only `unsafe`) |

mod engine;
mod packed;
mod raw;
