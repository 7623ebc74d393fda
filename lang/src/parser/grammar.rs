//! The grammar: pest's parser over `grammar.pest` (its `Rule` enum), the Pratt table of
//! expression precedence, and one-item re-parses for error recovery. pest types do not
//! leave `parser/` and `syntax_error.rs`.

use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;
use std::sync::LazyLock;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
pub(crate) struct PestParser;

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

/// Parse one item or the header alone (used by error recovery); returns only errors.
pub(crate) fn parse_fragment(text: &str, header: bool) -> Result<(), pest::error::Error<Rule>> {
    let rule = if header {
        Rule::header_only
    } else {
        Rule::item_only
    };
    PestParser::parse(rule, text).map(|_| ())
}
