//! `warden check FILE...`: parse and check; diagnostics as text or JSON.

use crate::{source, Format};
use std::io::IsTerminal;
use std::path::PathBuf;
use warden_lang::{diag, Limits};

pub fn run(files: &[PathBuf], format: Format) -> u8 {
    let limits = Limits::default();
    let mut failed = false;
    let mut json = Vec::new();
    let color = std::io::stderr().is_terminal();
    for path in files {
        let name = path.display().to_string();
        let (text, diags) = match source::read(path) {
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
