//! What `warden test` prints: a line per failing test with its trace (or one JSON object
//! per test), load errors as `warden check` renders them, and the closing counts.

use super::run::Failure;
use super::trace::indent;
use crate::Format;
use serde_json::json;
use std::io::IsTerminal;
use warden_lang::{diag, Diagnostic};

#[derive(Debug)]
pub struct Report {
    format: Format,
    color: bool,
    passed: usize,
    failed: usize,
    /// Test or policy files that did not load.
    broken: usize,
    /// Files whose tests ran.
    files: usize,
}

impl Report {
    pub fn new(format: Format) -> Self {
        Report {
            format,
            color: std::io::stderr().is_terminal(),
            passed: 0,
            failed: 0,
            broken: 0,
            files: 0,
        }
    }

    /// The test file `test_file`, or its policy, did not load: the diagnostics in `file`
    /// (one or the other), as `warden check` shows them.
    pub fn load_error(&mut self, test_file: &str, file: &str, source: &str, diags: &[Diagnostic]) {
        self.broken += 1;
        match self.format {
            Format::Text => eprint!("{}", diag::render(file, source, diags, self.color)),
            Format::Json => println!(
                "{}",
                json!({ "file": test_file, "errors": diag::to_json(file, source, diags) })
            ),
        }
    }

    pub fn file_ran(&mut self) {
        self.files += 1;
    }

    pub fn test(&mut self, file: &str, name: &str, failure: Option<&Failure>) {
        match failure {
            None => self.passed += 1,
            Some(_) => self.failed += 1,
        }
        match (self.format, failure) {
            (Format::Text, None) => {}
            (Format::Text, Some(f)) => {
                let at =
                    f.at.as_ref()
                        .map_or_else(String::new, |a| format!(" ({a})"));
                println!("FAIL {file}::{name}{at}: {}", f.mismatches.join("; "));
                print!("{}", indent(&f.trace_text, 4));
            }
            (Format::Json, None) => {
                println!("{}", json!({ "file": file, "test": name, "passed": true }));
            }
            (Format::Json, Some(f)) => println!(
                "{}",
                json!({
                    "file": file, "test": name, "passed": false, "at": f.at,
                    "failures": f.mismatches, "decision": f.decision, "trace": f.trace,
                })
            ),
        }
    }

    /// Print the counts; the exit status.
    pub fn finish(&self, filter: Option<&str>) -> u8 {
        let ran = self.passed + self.failed;
        if ran == 0 && self.broken == 0 {
            match filter {
                Some(f) => eprintln!("error: no test matches --filter `{f}`"),
                None => eprintln!("error: no test to run"),
            }
        }
        match self.format {
            Format::Text => {
                let files = plural(self.files, "file");
                let broken = if self.broken > 0 {
                    format!(", {} did not load", plural(self.broken, "file"))
                } else {
                    String::new()
                };
                println!(
                    "{} passed, {} failed ({files}{broken})",
                    self.passed, self.failed
                );
            }
            Format::Json => println!(
                "{}",
                json!({ "summary": {
                    "passed": self.passed, "failed": self.failed,
                    "files": self.files, "did_not_load": self.broken,
                }})
            ),
        }
        u8::from(self.failed > 0 || self.broken > 0 || ran == 0)
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
