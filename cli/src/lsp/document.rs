//! An open document's text and the mapping between byte offsets (what spans hold) and
//! LSP positions (a line and a column counted in UTF-16 code units, the protocol's
//! default encoding).

use lsp_types::{Position, Range};
use warden_lang::ast::{Policy, Span};
use warden_lang::Limits;

/// The text of one open document.
pub struct Document {
    pub text: String,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
    /// Whether `text` parses.
    parses: bool,
    /// The syntax tree of `text` when it parses, else of the last version that did
    /// (its names serve completion while a line is being typed; its spans are stale).
    last_good: Option<Policy>,
}

impl Document {
    pub fn new(text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let parsed = warden_lang::parse(&text, &Limits::default()).ok();
        Self {
            text,
            line_starts,
            parses: parsed.is_some(),
            last_good: parsed,
        }
    }

    /// The document's next version, keeping the last syntax tree that parsed.
    pub fn replaced(self, text: String) -> Self {
        let mut next = Self::new(text);
        if next.last_good.is_none() {
            next.last_good = self.last_good;
        }
        next
    }

    /// The policy whose names completion offers at `offset`: the text's, else the
    /// text's without the line being typed, else the last one that parsed.
    pub fn names_at(&self, offset: usize) -> Option<std::borrow::Cow<'_, Policy>> {
        use std::borrow::Cow;
        if self.parses {
            return self.last_good.as_ref().map(Cow::Borrowed);
        }
        let offset = offset.min(self.text.len());
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let end = self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |i| offset + i);
        let without = format!("{}{}", &self.text[..start], &self.text[end..]);
        match warden_lang::parse(&without, &Limits::default()) {
            Ok(p) => Some(Cow::Owned(p)),
            Err(_) => self.last_good.as_ref().map(Cow::Borrowed),
        }
    }

    /// The position of a byte offset (clamped to the text, and back to a character
    /// boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let character: usize = self.text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(character).unwrap_or(u32::MAX),
        )
    }

    /// The byte offset of a position; a line past the end is the end of the text, a
    /// column past the end of its line is the line's end.
    pub fn offset(&self, pos: Position) -> usize {
        let Some(&start) = self.line_starts.get(pos.line as usize) else {
            return self.text.len();
        };
        let end = self
            .line_starts
            .get(pos.line as usize + 1)
            .map_or(self.text.len(), |&next| next - 1);
        let mut units = 0;
        for (i, c) in self.text[start..end].char_indices() {
            if units >= pos.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }

    pub fn range(&self, span: Span) -> Range {
        Range::new(
            self.position(span.start as usize),
            self.position(span.end as usize),
        )
    }

    /// The whole text, for an edit that replaces it.
    pub fn full_range(&self) -> Range {
        Range::new(Position::new(0, 0), self.position(self.text.len()))
    }

    /// The name under the cursor: letters, digits, `_`, and `:`/`*` (actions such as
    /// `pages:read` and `pages:*` are one word), with its span.
    pub fn word_at(&self, offset: usize) -> Option<(&str, Span)> {
        let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '*');
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset)?;
        let start = before
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_word(c))
            .last()
            .map_or(offset, |(i, _)| i);
        let after = self.text.get(offset..)?;
        let end = offset + after.find(|c: char| !is_word(c)).unwrap_or(after.len());
        let word = self.text[start..end].trim_matches(':');
        if word.is_empty() {
            return None;
        }
        let lead =
            self.text[start..end].len() - self.text[start..end].trim_start_matches(':').len();
        let start = start + lead;
        Some((
            word,
            Span::new(
                u32::try_from(start).ok()?,
                u32::try_from(start + word.len()).ok()?,
            ),
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_and_round_trip() {
        let d = Document::new("ab\n\u{e9}\u{1f600}x\n".to_owned());
        // `x` is after é (2 bytes, 1 unit) and 😀 (4 bytes, 2 units).
        let x = d.text.find('x').unwrap();
        assert_eq!(d.position(x), Position::new(1, 3));
        assert_eq!(d.offset(Position::new(1, 3)), x);
        assert_eq!(d.offset(Position::new(1, 99)), x + 1);
        assert_eq!(d.offset(Position::new(9, 0)), d.text.len());
        // Inside a multi-byte character: back to its start.
        assert_eq!(d.position(x - 1), Position::new(1, 1));
    }

    #[test]
    fn words_keep_actions_whole() {
        let d = Document::new("grant editor: pages:read, pages:*\n".to_owned());
        let at = d.text.find("read").unwrap();
        assert_eq!(d.word_at(at).map(|w| w.0), Some("pages:read"));
        let at = d.text.find("editor").unwrap() + 2;
        assert_eq!(d.word_at(at).map(|w| w.0), Some("editor"));
        assert_eq!(
            d.word_at(d.text.find("*").unwrap()).map(|w| w.0),
            Some("pages:*")
        );
        assert_eq!(
            d.word_at(d.text.find(' ').unwrap() + 1).map(|w| w.0),
            Some("editor")
        );
    }

    #[test]
    fn names_while_a_line_is_typed() {
        let d = Document::new("policy p\nrole viewer\n".to_owned());
        // The line being typed breaks the parse: the rest of the text still parses.
        let typing = "policy p\nrole viewer\nroute /x { require role \nrole editor\n";
        let d = d.replaced(typing.to_owned());
        let p = d.names_at(typing.find("require").unwrap()).unwrap();
        assert_eq!(p.items.len(), 2, "{p:?}");
        // Elsewhere, the last version that parsed.
        let p = d.names_at(0).unwrap();
        assert_eq!(p.items.len(), 1, "{p:?}");
        // A first version that never parsed has no names.
        assert!(Document::new("policy\n".to_owned()).names_at(3).is_none());
    }
}
