//! Per-request response headers: `header set NAME: EXPR` lines whose value is not a
//! literal, as compiled at load (`respond.rs` computes them per admitted request).
//! Literal `header set`s stay folded at load; routes without an expression pay nothing.

use crate::program::Node;

/// The most characters a computed header value keeps.
const MAX_VALUE_CHARS: usize = 8192;

/// One `header set NAME: EXPR` of a route.
#[derive(Debug)]
pub(crate) struct DynHeader {
    /// Lower-case.
    pub name: Box<str>,
    pub value: Node,
    pub needs_principal: bool,
}

/// A route's computed headers, and every header name its literal lines set or drop
/// (a more specific route's literal line wins over a less specific computed one).
#[derive(Debug, Default)]
pub(crate) struct RouteDyn {
    pub headers: Box<[DynHeader]>,
    pub fixed_names: Box<[Box<str>]>,
}

/// Visible ASCII, space and tab stay; anything else (line breaks, controls, non-ASCII)
/// becomes `_`, and the value is cut to [`MAX_VALUE_CHARS`].
pub(crate) fn valid_value(s: &str) -> String {
    s.chars()
        .take(MAX_VALUE_CHARS)
        .map(|c| match c {
            ' '..='~' | '\t' => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::valid_value;

    #[test]
    fn computed_values_cannot_break_the_header() {
        assert_eq!(valid_value("a\r\nX-Evil: 1"), "a__X-Evil: 1");
        assert_eq!(valid_value("é\u{0}"), "__");
        assert_eq!(valid_value(&"x".repeat(9000)).len(), 8192);
    }
}
