//! Reading policy files: bytes that are not UTF-8 become a diagnostic, not a crash.

use std::path::Path;
use warden_lang::ast::Span;
use warden_lang::Diagnostic;

/// A policy file's text, or the diagnostic that says why it cannot be read.
pub fn read(path: &Path) -> Result<String, (String, Vec<Diagnostic>)> {
    let bytes = std::fs::read(path).map_err(|e| {
        let d = Diagnostic::error("io", Span::default(), format!("cannot read file: {e}"));
        (String::new(), vec![d])
    })?;
    decode(bytes)
}

/// A file's bytes as text, or the diagnostic at the first byte that is not UTF-8.
pub fn decode(bytes: Vec<u8>) -> Result<String, (String, Vec<Diagnostic>)> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            let at = valid as u32;
            let d = Diagnostic::error(
                "invalid-utf8",
                Span::new(at, at),
                format!("file is not valid UTF-8 (byte {valid})"),
            )
            .with_help("policy files are UTF-8 text; re-save the file as UTF-8");
            Err((text, vec![d]))
        }
    }
}
