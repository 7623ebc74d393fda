//! The grammar: pest's parsers over `grammar.pest` (their `Rule` enums), the Pratt table
//! of expression precedence, and one-item re-parses for error recovery. pest types do
//! not leave `parser/` and `syntax_error.rs`.
//!
//! Two parsers share `grammar.pest` and differ only in what they skip between tokens:
//! [`PestParser`] (`skip.pest`) parses every policy and its pairs are lowered;
//! [`diag::DiagParser`] (`skip_diag.pest`) runs only once that parse has failed, and its
//! errors become the diagnostics. Both accept the same text, but pest places an error at
//! the furthest failed *rule*, and only the diagnostic parser tries a comment rule (and
//! fails) past every run of blanks: that is what makes a syntax error point at the next
//! token. The parser that lowers skips blanks and comments in one rule, about a sixth
//! fewer instructions for the tour (see docs/BENCHMARKS.md). `parser::tests` holds the
//! two to the same outcome.

use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;
use std::sync::LazyLock;

/// The parser whose pairs are lowered.
#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
#[grammar = "skip.pest"]
pub(crate) struct PestParser;

/// The parser whose errors become diagnostics.
pub(crate) mod diag {
    /// Same grammar, with comments as a rule of their own (`skip_diag.pest`).
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar.pest"]
    #[grammar = "skip_diag.pest"]
    pub(crate) struct DiagParser;
}

pub(super) static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left)
            | Op::infix(Rule::op_subset_of, Assoc::Left)
            | Op::infix(Rule::op_contains, Assoc::Left)
            | Op::infix(Rule::op_starts_with, Assoc::Left)
            | Op::infix(Rule::op_ends_with, Assoc::Left)
            | Op::postfix(Rule::op_matches)
            | Op::postfix(Rule::op_is)
            | Op::postfix(Rule::op_is_in))
        .op(Op::infix(Rule::op_coalesce, Assoc::Left))
        .op(Op::infix(Rule::op_concat, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::postfix(Rule::op_len) | Op::postfix(Rule::op_is_int))
});

/// Parse a whole file with the diagnostic parser (after [`PestParser`] failed on it).
pub(crate) fn parse_diag(text: &str) -> Result<(), pest::error::Error<diag::Rule>> {
    diag::DiagParser::parse(diag::Rule::file, text).map(|_| ())
}

/// Parse one item or the header alone with the diagnostic parser (used by error
/// recovery); returns only errors.
pub(crate) fn parse_fragment(
    text: &str,
    header: bool,
) -> Result<(), pest::error::Error<diag::Rule>> {
    let rule = if header {
        diag::Rule::header_only
    } else {
        diag::Rule::item_only
    };
    diag::DiagParser::parse(rule, text).map(|_| ())
}
