//! Load errors as plain data: every diagnostic with file, line, column, code and message.

use warden::LoadError;
use warden_lang::Severity;

/// One diagnostic, positions resolved (1-based lines, columns in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diag {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// `error` or `warning`.
    pub severity: &'static str,
    /// Stable kebab-case code, e.g. `unknown-role`.
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
}

/// A policy that failed to load: the rendered text (as `warden check` prints it) and
/// every diagnostic. Never carries a secret value: diagnostics name secrets only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrorData {
    pub file: String,
    pub message: String,
    pub diagnostics: Vec<Diag>,
}

impl From<&LoadError> for PolicyErrorData {
    fn from(e: &LoadError) -> Self {
        let diagnostics = warden_lang::diag::to_json(&e.file, &e.source, &e.diagnostics)
            .into_iter()
            .zip(&e.diagnostics)
            .map(|(d, orig)| Diag {
                file: d.file.to_owned(),
                line: d.line,
                column: d.column,
                end_line: d.end_line,
                end_column: d.end_column,
                severity: match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                code: orig.code,
                message: d.message.to_owned(),
                help: d.help.map(str::to_owned),
            })
            .collect();
        PolicyErrorData {
            file: e.file.clone(),
            message: e.to_string(),
            diagnostics,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_diagnostic_keeps_its_position_and_code() {
        let src = "policy p\nrole a\ngrant b: x:y\ngrant c: x:y\n";
        let Err(e) = warden::Engine::from_source("p.warden", src, warden::Options::default())
        else {
            unreachable!("the policy names undeclared roles")
        };
        let data = PolicyErrorData::from(&e);
        assert_eq!(data.diagnostics.len(), 2, "{data:?}");
        assert_eq!(
            (data.diagnostics[0].line, data.diagnostics[0].column),
            (3, 7)
        );
        assert_eq!(data.diagnostics[1].line, 4);
        assert!(data.diagnostics.iter().all(|d| d.code == "unknown-role"));
        assert!(data.message.contains("p.warden:3:7"), "{}", data.message);
    }
}
