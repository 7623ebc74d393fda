//! The layout constants every part of the formatter measures against.

/// Widest single-line rule; a longer one puts `if`/`unless`, `because` and `missing` on
/// lines of their own. The same bound decides whether a shape fits on one line.
pub const MAX_WIDTH: usize = 100;
pub(super) const INDENT: &str = "  ";

/// Display width of a line, in characters.
pub(super) fn width(s: &str) -> usize {
    s.chars().count()
}
