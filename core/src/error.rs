//! Load errors: every diagnostic of a policy that cannot be served, renderable as `file:line:col`.

use std::fmt;
use warden_lang::Diagnostic;

/// A policy that failed to load (syntax, check, compile, a missing secret, an unreadable file).
///
/// `Display` renders every diagnostic as `file:line:col: error: message` with the source
/// line and a caret. Secret values never appear: only secret names do.
#[derive(Clone)]
pub struct LoadError {
    /// The policy's file name, as diagnostics cite it.
    pub file: String,
    /// The policy's text (empty when the file could not be read), for rendering.
    pub source: String,
    /// Every error found, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    /// Render for a terminal; `color` adds ANSI colours.
    pub fn render(&self, color: bool) -> String {
        warden_lang::diag::render(&self.file, &self.source, &self.diagnostics, color)
    }

    /// Stable codes of the errors, e.g. `["missing-secret"]`.
    pub fn codes(&self) -> Vec<&'static str> {
        self.diagnostics.iter().map(|d| d.code).collect()
    }
}

impl fmt::Debug for LoadError {
    // The source text is left out: it is long and the diagnostics already point into it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadError")
            .field("file", &self.file)
            .field("diagnostics", &self.diagnostics)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render(false).trim_end())
    }
}

impl std::error::Error for LoadError {}
