//! Diagnostics: what went wrong, where, and what to do about it; rendered with codespan-reporting.

use crate::ast::Span;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, termcolor};
use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The policy does not load.
    Error,
    /// The policy loads, but something is probably not what its author meant.
    Warning,
}

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable kebab-case identifier, e.g. `unknown-role`.
    pub code: &'static str,
    /// Lower-case, user input in backticks.
    pub message: String,
    /// Where, as byte offsets into the source.
    pub span: Span,
    /// Short text under the caret; may be empty.
    pub label: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with this code, place and message (no label, no help).
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: String::new(),
            help: None,
        }
    }

    /// A warning with this code, place and message.
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, span, message)
        }
    }

    /// Set the short text shown under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Set what to do about it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether it is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Line and column (both 1-based, columns in characters) of byte offsets in a source.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Index the line starts of `source`.
    pub fn new(source: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Self { line_starts }
    }

    /// 1-based line of a byte offset (clamped to the source): [`LineIndex::line_col`]'s
    /// line, without counting the column's characters.
    pub fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset).max(1)
    }

    /// 1-based line and column of a byte offset (clamped to the source).
    pub fn line_col(&self, source: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(source.len());
        let line = self
            .line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.line_starts[line.min(self.line_starts.len() - 1)];
        let col = source
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

/// A diagnostic with its position resolved, as `--format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct JsonDiagnostic<'a> {
    /// The file name.
    pub file: &'a str,
    /// Start line, 1-based.
    pub line: usize,
    /// Start column, 1-based, in characters.
    pub column: usize,
    /// End line, 1-based.
    pub end_line: usize,
    /// End column, 1-based, in characters (exclusive).
    pub end_column: usize,
    /// `error` or `warning`.
    pub severity: Severity,
    /// The stable kebab-case code.
    pub code: &'a str,
    /// The message.
    pub message: &'a str,
    /// What to do about it, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'a str>,
}

/// Resolve positions for machine-readable output.
pub fn to_json<'a>(
    file: &'a str,
    source: &str,
    diags: &'a [Diagnostic],
) -> Vec<JsonDiagnostic<'a>> {
    let index = LineIndex::new(source);
    diags
        .iter()
        .map(|d| {
            let (line, column) = index.line_col(source, d.span.start as usize);
            let (end_line, end_column) = index.line_col(source, d.span.end as usize);
            JsonDiagnostic {
                file,
                line,
                column,
                end_line,
                end_column,
                severity: d.severity,
                code: d.code,
                message: &d.message,
                help: d.help.as_deref(),
            }
        })
        .collect()
}

/// Render diagnostics for a person: a `file:line:col: error: message` line
/// (what editors and scripts match on), then the source line with a caret.
pub fn render(file: &str, source: &str, diags: &[Diagnostic], color: bool) -> String {
    let index = LineIndex::new(source);
    let files = SimpleFile::new(file, source);
    let config = term::Config {
        chars: term::Chars::ascii(),
        ..term::Config::default()
    };
    let mut out = String::new();
    for d in diags {
        let (line, col) = index.line_col(source, d.span.start as usize);
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!("{file}:{line}:{col}: {sev}: {}\n", d.message));
        let range = clamp(source, d.span);
        let mut cs = match d.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
        }
        .with_code(d.code)
        .with_labels(vec![Label::primary((), range).with_message(&d.label)]);
        if let Some(help) = &d.help {
            cs = cs.with_notes(vec![format!("help: {help}")]);
        }
        out.push_str(&render_snippet(&files, &config, &cs, color));
    }
    out
}

/// The codespan rendering without its own header line (ours replaces it).
fn render_snippet(
    files: &SimpleFile<&str, &str>,
    config: &term::Config,
    cs: &CsDiagnostic<()>,
    color: bool,
) -> String {
    let bytes = if color {
        let mut w = termcolor::Ansi::new(Vec::new());
        let _ = term::emit(&mut w, config, files, cs);
        w.into_inner()
    } else {
        let mut w = termcolor::NoColor::new(Vec::new());
        let _ = term::emit(&mut w, config, files, cs);
        w.into_inner()
    };
    let text = String::from_utf8_lossy(&bytes);
    // codespan's first two lines are `error[code]: message` and `--> file:line:col`;
    // our grep-able header above says both.
    text.lines().skip(2).map(|l| format!("{l}\n")).collect()
}

/// A span clamped to char boundaries inside the source, never empty past the end.
fn clamp(source: &str, span: Span) -> std::ops::Range<usize> {
    let mut start = (span.start as usize).min(source.len());
    while start > 0 && !source.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (span.end as usize).clamp(start, source.len());
    while end < source.len() && !source.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// The closest candidate within a small edit distance, for "did you mean" help.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = strsim::damerau_levenshtein(name, c);
        let limit = (name.chars().count().max(c.chars().count()) / 3).max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `did you mean `x`?` help, if a candidate is close.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    suggest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    #[test]
    fn line_is_line_col_line() {
        for source in ["", "a", "\n", "ab\ncd\n\n", "é\nü\r\nx", "\n\nlast"] {
            let index = LineIndex::new(source);
            for offset in 0..=source.len() + 2 {
                assert_eq!(
                    index.line(offset),
                    index.line_col(source, offset).0,
                    "{source:?} at {offset}"
                );
            }
        }
    }
}
