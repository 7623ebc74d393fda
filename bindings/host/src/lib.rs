//! What the Python and Node bindings share, so that each binding only reads its host's
//! values and builds its host's objects.
//!
//! | module | owns |
//! | --- | --- |
//! | `options.rs` | [`HostOptions`]: keyword arguments / option objects -> [`warden::Options`] |
//! | `plan.rs` | [`Plan`]: one loaded engine, the attributes it reads, a reused request, interned decisions |
//! | `budget.rs` | [`Budget`]: size and depth bounds on converted host values |
//! | `errors.rs` | [`PolicyErrorData`]: a [`warden::LoadError`] with every diagnostic's position resolved |
//!
//! Boundary invariant: nothing here panics, and every bad input is a
//! [`warden::RequestError`] or a [`ConfigError`] value that the binding maps to its
//! host's exception class in one place.

#![forbid(unsafe_code)]

pub mod budget;
mod errors;
mod options;
mod plan;

pub use budget::Budget;
pub use errors::{Diag, PolicyErrorData};
pub use options::{ConfigError, HostOptions};
pub use plan::{set_str, set_value_str, OwnedDecision, Plan, Scratch, Slots, Verdict};

/// Where a value sits in a request (`principal.org`, `resource.tags`), for error
/// messages; formatted only when an error is built.
#[derive(Debug, Clone, Copy)]
pub struct Path<'a> {
    pub root: &'static str,
    pub name: &'a str,
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.name.is_empty() {
            f.write_str(self.root)
        } else {
            write!(f, "{}.{}", self.root, self.name)
        }
    }
}
