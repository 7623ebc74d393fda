//! The checker's state ([`Checker`]): limits, the diagnostics found so far, the symbol
//! table and the regexes already compiled. `types.rs`, `http.rs`, `auth.rs` and
//! `forms.rs` add its checks.

use super::symbols::Symbols;
use crate::ast::Ident;
use crate::diag::Diagnostic;
use crate::limits::Limits;
use std::collections::HashMap;

pub(crate) struct Checker<'a> {
    pub limits: &'a Limits,
    pub diags: Vec<Diagnostic>,
    pub syms: Symbols,
    /// Regex pattern text -> why it does not compile (`None`: it does). A policy
    /// repeats the same patterns across rules; each is compiled once.
    pub regexes: HashMap<String, Option<RegexError>>,
}

/// Why a regex literal does not compile, without its position (each use has its own).
#[derive(Debug, Clone)]
pub(crate) struct RegexError {
    pub(super) code: &'static str,
    pub(super) message: String,
    pub(super) help: &'static str,
}

impl Checker<'_> {
    pub(crate) fn role_exists(&mut self, role: &Ident) -> bool {
        if self.syms.roles.contains_key(&role.name) {
            return true;
        }
        let mut d = Diagnostic::error(
            "unknown-role",
            role.span,
            format!("unknown role `{}`", role.name),
        )
        .with_label("not declared");
        let help =
            crate::diag::did_you_mean(&role.name, self.syms.roles.keys().map(String::as_str))
                .unwrap_or_else(|| format!("declare it with `role {}`", role.name));
        d = d.with_help(help);
        self.diags.push(d);
        false
    }
}
