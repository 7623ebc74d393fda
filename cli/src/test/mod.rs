//! `warden test PATH...`: runs policy test files (format: docs/TESTING.md).
//!
//! | module | owns |
//! | --- | --- |
//! | `discover.rs` | which files: `*.test.toml` under each path, sorted |
//! | `schema.rs` | the TOML format as serde types; unknown keys are errors |
//! | `load.rs` | a test file -> a [`load::Suite`] of requests and expectations, or diagnostics |
//! | `expect.rs` | expectations checked against the decision JSON |
//! | `run.rs` | one test on one engine: the virtual clock, steps, repeats |
//! | `startup.rs` | `[[startup]]` cases: one engine each, expected to load or to fail |
//! | `trace.rs` | explain traces as text |
//! | `report.rs` | text and JSON output, the summary and the exit status |
//!
//! Each policy is loaded once per test file; tests share the engine. Each `[[startup]]`
//! case loads it again with its own settings.

mod coverage;
mod discover;
mod expect;
mod load;
mod report;
mod run;
mod schema;
mod startup;
mod trace;

use crate::{source, Format};
use report::Report;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use warden::{Engine, ManualClock, Options};
use warden_lang::Diagnostic;

pub struct Args {
    pub paths: Vec<PathBuf>,
    pub filter: Option<String>,
    pub format: Format,
    /// Also report what the tests exercised (`--coverage`).
    pub coverage: bool,
    /// Fail when the coverage report lists anything uncovered (`--fail-uncovered`).
    pub fail_uncovered: bool,
}

/// Exit status: 0 when every selected test passed (and, with `fail_uncovered`, every
/// coverable line was exercised), 1 otherwise, 2 when given a policy.
pub fn run(args: &Args) -> u8 {
    // `warden test` on a policy: say what to run instead of parsing it as TOML.
    if let Some(p) = args
        .paths
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "warden"))
    {
        eprintln!(
            "error: `{}` is a policy, not a test file: `warden test` runs `*{}` files (docs/TESTING.md); check a policy with `warden check {}`",
            p.display(),
            discover::SUFFIX,
            p.display()
        );
        return 2;
    }
    let files = match discover::discover(&args.paths) {
        Ok(f) => f,
        Err(msg) => {
            eprintln!("error: {msg}");
            return 1;
        }
    };
    let mut report = Report::new(args.format);
    let mut coverage = args.coverage.then(coverage::Coverage::default);
    for file in &files {
        run_file(file, args.filter.as_deref(), &mut report, coverage.as_mut());
    }
    let mut status = report.finish(args.filter.as_deref());
    if let Some(cov) = &coverage {
        let cwd = std::env::current_dir().unwrap_or_default();
        let (text, gaps) = cov.text(&cwd);
        match args.format {
            Format::Text => print!("{text}"),
            Format::Json => println!("{}", cov.json(&cwd)),
        }
        if args.fail_uncovered && gaps {
            eprintln!(
                "error: --fail-uncovered: some grants, rules, routes, limits or header lines are exercised by no test (the coverage report lists them)"
            );
            status = status.max(1);
        }
    }
    status
}

/// A test's id in output and for `--filter`: `file::name`.
fn id(file: &str, name: &str) -> String {
    format!("{file}::{name}")
}

fn run_file(
    path: &Path,
    filter: Option<&str>,
    report: &mut Report,
    coverage: Option<&mut coverage::Coverage>,
) {
    let file = path.display().to_string();
    let text = match source::read(path) {
        Ok(t) => t,
        Err((text, diags)) => return report.load_error(&file, &file, &text, &diags),
    };
    let suite = match load::parse(path, &text) {
        Ok(s) => s,
        Err(diags) => return report.load_error(&file, &file, &text, &diags),
    };
    let wanted = |name: &str| match filter {
        None => true,
        Some(f) => id(&file, name).contains(f),
    };
    let selected: Vec<_> = suite.tests.iter().filter(|c| wanted(&c.name)).collect();
    let startups: Vec<_> = suite.startups.iter().filter(|c| wanted(&c.name)).collect();
    if selected.is_empty() && startups.is_empty() {
        return;
    }
    let clock = Arc::new(ManualClock::new(suite.start_us));
    let mut options = Options::default()
        .env(suite.env.clone())
        .clock(clock.clone());
    // Test files are hermetic: a secret comes from `[secrets]` and a setting from
    // `[config]`, or it is a load error.
    options.secrets_from_env = false;
    for (name, value) in &suite.secrets {
        options = options.secret(name.clone(), value.clone());
    }
    for (name, value) in &suite.config {
        options = options.config(name.clone(), value.clone());
    }
    let policy_file = suite.policy_path.display().to_string();
    let policy_text = match std::fs::read(&suite.policy_path) {
        // A missing policy is the test file's mistake: point at its `policy` line.
        Err(e) => {
            let d = Diagnostic::error(
                "test-file",
                suite.policy_span,
                format!("cannot read policy `{policy_file}`: {e}"),
            );
            return report.load_error(&file, &file, &text, &[d]);
        }
        Ok(bytes) => match source::decode(bytes) {
            Ok(t) => t,
            Err((text, diags)) => return report.load_error(&file, &policy_file, &text, &diags),
        },
    };
    for case in startups {
        let failure = startup::case(&suite.policy_name, &policy_text, suite.start_us, case);
        report.test(&file, &case.name, failure.as_ref());
    }
    if selected.is_empty() {
        report.file_ran();
        return;
    }
    // Named as the test file writes it, so that `rule = "NAME:line"` reads the same.
    let engine = match Engine::from_source(&suite.policy_name, &policy_text, options) {
        Ok(e) => e,
        Err(err) => return report.load_error(&file, &policy_file, &err.source, &err.diagnostics),
    };
    report.file_ran();
    let parsed = coverage
        .is_some()
        .then(|| warden_lang::parse(&policy_text, &warden_lang::Limits::default()).ok())
        .flatten();
    let mut recorder = match (coverage, &parsed) {
        (Some(c), Some(p)) => Some(c.policy(&suite.policy_path, &policy_text, p)),
        _ => None,
    };
    for case in selected {
        let failure = run::case(&engine, &clock, suite.start_us, case, recorder.as_mut());
        report.test(&file, &case.name, failure.as_ref());
    }
}
