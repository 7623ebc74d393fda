//! The symbol table: every declared name, built once (by `declare.rs` and `script.rs`)
//! before anything is checked, and the words no declaration may take.

use crate::ast::{Span, Type};
use std::collections::HashMap;

/// Declared names, built once before anything is checked.
#[derive(Debug, Default)]
pub(crate) struct Symbols {
    /// Role name -> its parents.
    pub roles: HashMap<String, Vec<String>>,
    /// Resource type -> attribute name -> (type, optional).
    pub resources: HashMap<String, HashMap<String, (Type, bool)>>,
    pub principal: HashMap<String, (Type, bool)>,
    /// `None` when no `context { }` shape is declared: context attributes are unchecked.
    pub context: Option<HashMap<String, (Type, bool)>>,
    /// `None` when no `input { }` shape is declared: input fields are unchecked.
    pub input: Option<HashMap<String, (Type, bool)>>,
    pub limits: HashMap<String, Span>,
    /// The policy declares `hosts:` (so a redirect may use `{host}`).
    pub hosts: bool,
    /// Script function name -> number of parameters (every overload).
    pub functions: HashMap<String, Vec<usize>>,
}

/// Words that cannot name a role, a resource type, a limit or an attribute root.
pub(crate) const RESERVED: &[&str] = &[
    "principal",
    "resource",
    "context",
    "input",
    "request",
    "header",
    "cookie",
    "secret",
    "env",
    "ip",
    "true",
    "false",
    "not",
    "and",
    "or",
    "in",
    "subset_of",
    "contains",
    "starts_with",
    "ends_with",
    "matches",
    "is",
    "if",
    "unless",
    "because",
    "missing",
    "else",
    "strict",
    "report_only",
];
