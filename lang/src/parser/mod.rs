//! Source text -> [`Policy`]: the pest grammar, and one lowering function per rule, by
//! phase: `grammar.rs` (pest's parser and the Pratt table), `lower.rs` (the lowering
//! state and literals), `items.rs`, `http.rs`, `auth.rs` (items), `expr.rs`
//! (expressions).
//!
//! Architecture invariant: pest types never leave this module (nor `syntax_error.rs`);
//! everything after it works on `ast` types.

mod auth;
mod expr;
pub(crate) mod grammar;
mod http;
mod items;
mod lower;

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::limits::Limits;
use crate::syntax_error;
use grammar::{PestParser, Rule};
use lower::Lower;
use pest::Parser as _;

/// Parse a policy. On failure, every syntax or lowering error found is returned.
pub fn parse(source: &str, limits: &Limits) -> Result<Policy, Vec<Diagnostic>> {
    if source.len() > limits.max_source_bytes {
        return Err(vec![Diagnostic::error(
            "source-too-large",
            Span::new(0, 0),
            format!(
                "policy file is {} bytes, more than the limit of {} bytes",
                source.len(),
                limits.max_source_bytes
            ),
        )
        .with_help("split the policy, or raise `Limits::max_source_bytes`")]);
    }
    if let Some(d) = check_nesting(source, limits.max_nesting) {
        return Err(vec![d]);
    }
    pest::set_call_limit(std::num::NonZeroUsize::new(limits.max_parser_calls));
    match PestParser::parse(Rule::file, source) {
        Ok(mut pairs) => {
            let file = pairs.next();
            let mut lower = Lower::new(limits);
            let policy = file.and_then(|f| lower.file(f));
            match policy {
                Some(p) if lower.diags.is_empty() => Ok(p),
                _ => Err(lower.diags),
            }
        }
        Err(_) => Err(syntax_error::diagnose(source, limits)),
    }
}

/// Reject nesting deeper than the limit before pest recurses into it.
fn check_nesting(source: &str, max: usize) -> Option<Diagnostic> {
    let mut depth = 0usize;
    for (i, b) in source.bytes().enumerate() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    let at = i as u32;
                    return Some(
                        Diagnostic::error(
                            "nesting-too-deep",
                            Span::new(at, at + 1),
                            format!("brackets nested more than {max} levels deep"),
                        )
                        .with_label("too deep here")
                        .with_help("flatten the expression, or raise `Limits::max_nesting`"),
                    );
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests;
