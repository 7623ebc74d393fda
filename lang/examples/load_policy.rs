//! Loads the bench's generated 10,000-rule policy, or the files given, once each: a
//! small deterministic binary to count instructions of `warden_lang::load` with
//! `valgrind --tool=callgrind` (criterion timings are noise on a shared machine).
//!
//! `cargo build --release -p warden-policy-lang --example load_policy`, then
//! `valgrind --tool=callgrind target/release/examples/load_policy [FILE...]`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "measurement tool")]

#[path = "../benches/gen/mod.rs"]
mod gen;

use std::time::Instant;
use warden_lang::{load, Limits};

fn main() {
    let limits = Limits::default();
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        let src = gen::generate(gen::RULES);
        let start = Instant::now();
        let result = load(&src, &limits);
        let took = start.elapsed();
        assert!(result.is_ok(), "the generated policy must load");
        println!("generated ({} bytes): {took:?}", src.len());
        return;
    }
    for f in files {
        let bytes = std::fs::read(&f).expect("readable file");
        // Like the `parse` fuzz target: the valid UTF-8 prefix.
        let src = match std::str::from_utf8(&bytes) {
            Ok(t) => t,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        };
        let start = Instant::now();
        let result = load(src, &limits);
        let took = start.elapsed();
        let diags = result.err().unwrap_or_default();
        // What was reported, to compare two builds' diagnostics line by line.
        let said: Vec<String> = diags
            .iter()
            .map(|d| format!("{}@{}-{}:{}", d.code, d.span.start, d.span.end, d.message))
            .collect();
        println!(
            "{f} ({} bytes): {} diagnostics, {took:?}\t{}",
            src.len(),
            diags.len(),
            said.join(" | ").replace('\n', "\\n")
        );
    }
}
