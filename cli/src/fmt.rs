//! `warden fmt [--check] PATH...`: rewrite policy files in canonical form, or with
//! `--check` print a unified diff of what would change and exit 1. `-` reads standard
//! input and writes the formatted text to standard output (format-on-save).

use crate::inputs::{self, Input};
use std::io::IsTerminal;
use std::path::PathBuf;
use warden_lang::{diag, format_source, Limits};

/// Lines of unchanged text around each change in a diff.
const CONTEXT: usize = 3;
/// Beyond this many line pairs the diff shows the whole differing middle as replaced,
/// rather than spend quadratic time and memory aligning it.
const MAX_ALIGN: usize = 4_000_000;

pub fn run(paths: &[PathBuf], check: bool, stdin_filename: Option<&str>) -> u8 {
    let inputs = match inputs::expand(paths) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let limits = Limits::default();
    let color = std::io::stderr().is_terminal();
    let mut failed = false;
    for input in &inputs {
        let loaded = inputs::load(input, stdin_filename);
        let name = loaded.name;
        let formatted = loaded.text.and_then(|text| {
            format_source(&text, &limits)
                .map(|f| (text.clone(), f))
                .map_err(|d| (text, d))
        });
        let (text, formatted) = match formatted {
            Ok(pair) => pair,
            Err((text, diags)) => {
                eprint!("{}", diag::render(&name, &text, &diags, color));
                failed = true;
                continue;
            }
        };
        let path = match input {
            Input::File(path) => path,
            // Standard input: the formatted text (unchanged or not) is the output.
            Input::Stdin if !check => {
                print!("{formatted}");
                continue;
            }
            Input::Stdin => {
                if formatted != text {
                    print!("{}", unified_diff(&name, &text, &formatted));
                    failed = true;
                }
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        if check {
            print!("{}", unified_diff(&name, &text, &formatted));
            failed = true;
        } else if let Err(e) = std::fs::write(path, &formatted) {
            eprintln!("{name}: error: cannot write file: {e}");
            failed = true;
        }
    }
    u8::from(failed)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    Same,
    Del,
    Add,
}

/// A unified diff (`--- a/FILE`, `+++ b/FILE`, `@@` hunks) from `old` to `new`.
fn unified_diff(name: &str, old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = align(&a, &b);
    let mut out = format!("--- a/{name}\n+++ b/{name}\n");
    // Positions (in `ops`) of changed lines, grouped into hunks that share context.
    let changed: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].0 != Tag::Same).collect();
    let mut i = 0;
    while i < changed.len() {
        let start = changed[i].saturating_sub(CONTEXT);
        let mut end = changed[i];
        while i < changed.len() && changed[i] <= end + 2 * CONTEXT {
            end = changed[i];
            i += 1;
        }
        let end = (end + CONTEXT + 1).min(ops.len());
        let hunk = &ops[start..end];
        let (old_start, new_start) = line_numbers(&ops[..start]);
        let old_len = hunk.iter().filter(|o| o.0 != Tag::Add).count();
        let new_len = hunk.iter().filter(|o| o.0 != Tag::Del).count();
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            old_start + 1,
            new_start + 1
        ));
        for (tag, line) in hunk {
            let mark = match tag {
                Tag::Same => ' ',
                Tag::Del => '-',
                Tag::Add => '+',
            };
            out.push(mark);
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Lines of the old and new text before a point of the edit script.
fn line_numbers(ops: &[(Tag, &str)]) -> (usize, usize) {
    let old = ops.iter().filter(|o| o.0 != Tag::Add).count();
    let new = ops.iter().filter(|o| o.0 != Tag::Del).count();
    (old, new)
}

/// An edit script from `a` to `b`: common prefix and suffix, and a longest common
/// subsequence of the middle.
fn align<'t>(a: &[&'t str], b: &[&'t str]) -> Vec<(Tag, &'t str)> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<(Tag, &str)> = a[..prefix].iter().map(|l| (Tag::Same, *l)).collect();
    if am.len().saturating_mul(bm.len()) > MAX_ALIGN {
        ops.extend(am.iter().map(|l| (Tag::Del, *l)));
        ops.extend(bm.iter().map(|l| (Tag::Add, *l)));
    } else {
        // lcs[i][j]: length of the longest common subsequence of am[i..] and bm[j..].
        let w = bm.len() + 1;
        let mut lcs = vec![0u32; (am.len() + 1) * w];
        for i in (0..am.len()).rev() {
            for j in (0..bm.len()).rev() {
                lcs[i * w + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < am.len() || j < bm.len() {
            if i < am.len() && j < bm.len() && am[i] == bm[j] {
                ops.push((Tag::Same, am[i]));
                i += 1;
                j += 1;
            } else if i < am.len() && (j == bm.len() || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])
            {
                // Deletions first on ties: a changed line reads `-old` then `+new`.
                ops.push((Tag::Del, am[i]));
                i += 1;
            } else {
                ops.push((Tag::Add, bm[j]));
                j += 1;
            }
        }
    }
    ops.extend(a[a.len() - suffix..].iter().map(|l| (Tag::Same, *l)));
    ops
}

#[cfg(test)]
mod tests {
    use super::unified_diff;

    #[test]
    fn diff_shows_changed_lines_with_context() {
        let old = "policy p\nrole a\n\n\nrole b\n";
        let new = "policy p\n\nrole a\n\nrole b\n";
        let want = "--- a/x.warden\n+++ b/x.warden\n@@ -1,5 +1,5 @@\n policy p\n-role a\n \n+role a\n \n role b\n";
        assert_eq!(unified_diff("x.warden", old, new), want);
    }

    #[test]
    fn distant_changes_make_separate_hunks() {
        let old: String = (0..20).map(|i| format!("l{i}\n")).collect();
        let new = old.replace("l1\n", "L1\n").replace("l18\n", "L18\n");
        let diff = unified_diff("f", &old, &new);
        assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
        assert!(
            diff.contains("-l1\n+L1\n") && diff.contains("-l18\n+L18\n"),
            "{diff}"
        );
    }
}
