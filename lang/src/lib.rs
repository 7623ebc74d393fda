//! Warden policy language front-end: grammar, syntax tree, diagnostics, checker, formatter.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod actions;
pub mod ast;
pub mod cidr;
pub mod diag;
pub mod fmt;
pub mod limits;
mod parser;
mod strip;
mod syntax_error;

pub use check::case::case_sensitive;
pub use check::patterns::valid_origin;
pub use check::regexes::compile as compile_regex;
pub use check::regexes::validate as validate_regex;
pub use check::script::sandbox as script_sandbox;
pub use check::{check, load, Checked};
pub use diag::{Diagnostic, Severity};
pub use fmt::{format_policy, format_source};
pub use limits::Limits;
pub use parser::parse;
pub use strip::{strip_spans, stripped};

mod check;
