//! SARIF 2.1.0 output (OASIS Static Analysis Results Interchange Format), as GitHub
//! code scanning reads it: one run, the tool's rules from the lint registry, one result
//! per finding with a region in 1-based lines and columns.

use crate::lint::FileResult;
use serde_json::{json, Value};
use warden_lang::diag::LineIndex;
use warden_lang::Severity;
use warden_lint::LINTS;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF log of a lint run.
pub fn log(files: &[FileResult]) -> Value {
    let rules: Vec<Value> = LINTS
        .iter()
        .map(|l| {
            json!({
                "id": l.id,
                "name": l.id,
                "shortDescription": { "text": l.summary },
                "fullDescription": { "text": l.doc.lines().map(|s| s.strip_prefix(' ').unwrap_or(s)).collect::<Vec<_>>().join("\n").trim() },
                "defaultConfiguration": { "level": level(l.severity) },
                "help": { "text": format!("warden lint --explain {}", l.id) },
            })
        })
        .collect();
    let mut results = Vec::new();
    for f in files {
        let index = LineIndex::new(&f.text);
        for d in &f.diags {
            let (line, col) = index.line_col(&f.text, d.span.start as usize);
            let (end_line, end_col) = index.line_col(&f.text, d.span.end as usize);
            let mut message = d.message.clone();
            if let Some(h) = &d.help {
                message.push_str(&format!(" (help: {h})"));
            }
            let mut result = json!({
                "ruleId": d.code,
                "level": level(d.severity),
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.name) },
                        "region": {
                            "startLine": line,
                            "startColumn": col,
                            "endLine": end_line,
                            "endColumn": end_col.max(if end_line == line { col } else { 1 }),
                        }
                    }
                }],
            });
            if let Some(i) = LINTS.iter().position(|l| l.id == d.code) {
                result["ruleIndex"] = json!(i);
            }
            results.push(result);
        }
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "warden",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A relative URI for a file name as given (forward slashes, spaces and `%` escaped).
fn uri(name: &str) -> String {
    let mut out = String::new();
    for c in name.replace('\\', "/").chars() {
        match c {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            c => out.push(c),
        }
    }
    out
}
