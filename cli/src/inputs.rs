//! The policy files a command works on: files, folders (every `*.warden` under them,
//! sorted) and `-` (standard input, named by `--stdin-filename` in messages).

use crate::source;
use std::io::Read;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;
use warden_lang::Diagnostic;

/// One policy to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

/// A read policy: its display name and text, or the diagnostics saying why not.
pub struct Loaded {
    pub name: String,
    /// For files: the path (a project's `warden.toml` is found from it).
    pub path: Option<PathBuf>,
    pub text: Result<String, (String, Vec<Diagnostic>)>,
}

/// Expand the command line's paths. A folder with no policy and `-` given twice are
/// errors; a missing file is reported when it is read.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    let mut stdin = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if stdin {
                return Err("`-` (standard input) given twice".to_string());
            }
            stdin = true;
            out.push(Input::Stdin);
        } else if path.is_dir() {
            let before = out.len();
            for entry in WalkDir::new(path).sort_by_file_name() {
                let entry = entry.map_err(|e| format!("cannot list `{}`: {e}", path.display()))?;
                if entry.file_type().is_file() && is_policy(entry.path()) {
                    out.push(Input::File(entry.into_path()));
                }
            }
            if out.len() == before {
                return Err(format!("no `*.warden` file under `{}`", path.display()));
            }
        } else {
            // A file that cannot be read becomes that file's diagnostic when loaded.
            out.push(Input::File(path.clone()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|i| seen.insert(i.clone()));
    Ok(out)
}

fn is_policy(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "warden")
}

/// Read one input. `stdin_name` names standard input in messages.
pub fn load(input: &Input, stdin_name: Option<&str>) -> Loaded {
    match input {
        Input::File(path) => Loaded {
            name: path.display().to_string(),
            path: Some(path.clone()),
            text: source::read(path),
        },
        Input::Stdin => {
            let mut bytes = Vec::new();
            let text = match std::io::stdin().read_to_end(&mut bytes) {
                Ok(_) => source::decode(bytes),
                Err(e) => Err((
                    String::new(),
                    vec![Diagnostic::error(
                        "io",
                        Default::default(),
                        format!("cannot read standard input: {e}"),
                    )],
                )),
            };
            let name = stdin_name.unwrap_or("<stdin>").to_string();
            Loaded {
                path: stdin_name.map(PathBuf::from),
                name,
                text,
            }
        }
    }
}
