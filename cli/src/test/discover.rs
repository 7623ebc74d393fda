//! Finding test files: every `*.test.toml` under each path, in a stable order.

use std::path::{Path, PathBuf};
use walkdir::WalkDir;

pub const SUFFIX: &str = ".test.toml";

/// Test files under `paths`: a file is taken as given, a directory is walked with its
/// entries sorted by name (so output is the same on every machine). Duplicates are
/// dropped; a path that does not exist is an error.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_file() {
            out.push(path.clone());
            continue;
        }
        if !path.is_dir() {
            return Err(format!("`{}`: no such file or directory", path.display()));
        }
        let before = out.len();
        for entry in WalkDir::new(path).sort_by_file_name() {
            let entry = entry.map_err(|e| format!("cannot list `{}`: {e}", path.display()))?;
            if entry.file_type().is_file() && is_test_file(entry.path()) {
                out.push(entry.into_path());
            }
        }
        if out.len() == before {
            return Err(format!("no `*{SUFFIX}` file under `{}`", path.display()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

fn is_test_file(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(SUFFIX) && n.len() > SUFFIX.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_named_test_files_count() {
        assert!(is_test_file(Path::new("a/01-rbac.test.toml")));
        assert!(!is_test_file(Path::new("a/01-rbac.warden")));
        assert!(!is_test_file(Path::new("a/.test.toml")));
        assert!(!is_test_file(Path::new("a/Cargo.toml")));
    }
}
