//! `warden lint PATH...`: the lints of `warden-lint` over policies that check, as text,
//! JSON or SARIF 2.1.0.
//!
//! Exit status: 0 when nothing at or above `--fail-on` was found, 1 when something
//! was (a finding, or a policy that does not check: lints need a valid policy), 2 when
//! the command itself could not run (bad path, bad `warden.toml`).

use crate::inputs::{self, Input};
use crate::sarif;
use clap::ValueEnum;
use std::io::IsTerminal;
use std::path::PathBuf;
use warden_lang::{diag, Diagnostic, Limits, Severity};
use warden_lint::{Config, LINTS};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Exit 1 on any finding.
    Warning,
    /// Exit 1 only on errors.
    Error,
    /// Always exit 0 once the policies were read (report only).
    Never,
}

pub struct Args {
    pub paths: Vec<PathBuf>,
    pub format: LintFormat,
    pub stdin_filename: Option<String>,
    pub config: Option<PathBuf>,
    pub fail_on: FailOn,
}

/// One linted file: its name, text and diagnostics (check errors, or findings).
pub struct FileResult {
    pub name: String,
    pub text: String,
    pub diags: Vec<Diagnostic>,
}

pub fn run(args: &Args) -> u8 {
    let inputs = match inputs::expand(&args.paths) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let explicit = match args.config.as_deref().map(Config::load).transpose() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let mut results = Vec::new();
    for input in &inputs {
        let loaded = inputs::load(input, args.stdin_filename.as_deref());
        let config = match (&explicit, &loaded.path, input) {
            (Some(c), _, _) => c.clone(),
            (None, Some(p), _) => match Config::discover(p) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            },
            (None, None, Input::Stdin) => match Config::discover(&PathBuf::from("stdin.warden")) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            },
            _ => Config::default(),
        };
        let (text, diags) = match loaded.text {
            Ok(text) => {
                let diags = lint_text(&text, &config);
                (text, diags)
            }
            Err(e) => e,
        };
        results.push(FileResult {
            name: loaded.name,
            text,
            diags,
        });
    }
    let failed = results
        .iter()
        .flat_map(|r| &r.diags)
        .any(|d| match args.fail_on {
            FailOn::Warning => true,
            FailOn::Error => d.is_error(),
            FailOn::Never => false,
        });
    match args.format {
        LintFormat::Text => {
            let color = std::io::stderr().is_terminal();
            let mut count = 0;
            for r in &results {
                eprint!("{}", diag::render(&r.name, &r.text, &r.diags, color));
                count += r.diags.len();
            }
            let files = results.len();
            let noun = if files == 1 { "file" } else { "files" };
            eprintln!("{count} finding(s) in {files} {noun}");
        }
        LintFormat::Json => {
            let all: Vec<_> = results
                .iter()
                .flat_map(|r| diag::to_json(&r.name, &r.text, &r.diags))
                .collect();
            println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
        }
        LintFormat::Sarif => {
            println!(
                "{}",
                serde_json::to_string_pretty(&sarif::log(&results)).unwrap_or_default()
            );
        }
    }
    u8::from(failed)
}

/// Check, then lint: a policy that does not check gets its check diagnostics (lints
/// read a valid tree), one that does gets its warnings and the lint findings.
pub fn lint_text(text: &str, config: &Config) -> Vec<Diagnostic> {
    match warden_lang::load(text, &Limits::default()) {
        Err(d) => d,
        Ok(checked) => {
            // A checker warning that is also a lint (`case-sensitive-compare`) comes
            // from the lint, where a suppression or the project config applies to it.
            let mut diags: Vec<Diagnostic> = checked
                .warnings
                .into_iter()
                .filter(|d| warden_lint::registry::find(d.code).is_none())
                .collect();
            diags.extend(warden_lint::lint(&checked.policy, text, config));
            diags.sort_by_key(|d| (d.span.start, d.span.end));
            diags
        }
    }
}

/// `warden lint --list`: every lint with its severity and summary.
pub fn list() -> u8 {
    for l in LINTS {
        let sev = match l.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        println!("{:<34} {:<8} {}", l.id, sev, l.summary);
    }
    0
}

/// `warden lint --explain ID`: a lint's documentation.
pub fn explain(id: &str) -> u8 {
    match warden_lint::registry::find(id) {
        Some(l) => {
            println!("{}\n", l.id);
            for line in l.doc.lines() {
                println!("{}", line.strip_prefix(' ').unwrap_or(line));
            }
            0
        }
        None => {
            let hint = warden_lang::diag::did_you_mean(id, warden_lint::registry::ids())
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            eprintln!("error: unknown lint `{id}`{hint}; `warden lint --list` lists them");
            2
        }
    }
}
