//! `warden check PATH...`: parse and check; diagnostics as text or JSON.

use crate::inputs;
use crate::Format;
use std::io::IsTerminal;
use std::path::PathBuf;
use warden_lang::{diag, Limits};

/// Exit status: 0 when every policy checks, 1 when one does not, 2 when a path is bad.
pub fn run(paths: &[PathBuf], format: Format, stdin_filename: Option<&str>) -> u8 {
    let inputs = match inputs::expand(paths) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let limits = Limits::default();
    let mut failed = false;
    let mut json = Vec::new();
    let color = std::io::stderr().is_terminal();
    for input in &inputs {
        let loaded = inputs::load(input, stdin_filename);
        let name = loaded.name;
        let (text, diags) = match loaded.text {
            Ok(text) => {
                let diags = match warden_lang::load(&text, &limits) {
                    Ok(checked) => checked.warnings,
                    Err(d) => d,
                };
                (text, diags)
            }
            Err(e) => e,
        };
        failed |= diags.iter().any(|d| d.is_error());
        match format {
            Format::Text => eprint!("{}", diag::render(&name, &text, &diags, color)),
            Format::Json => {
                for d in diag::to_json(&name, &text, &diags) {
                    json.push(serde_json::to_value(d).unwrap_or_default());
                }
            }
        }
    }
    if format == Format::Json {
        println!("{}", serde_json::Value::Array(json));
    }
    u8::from(failed)
}
