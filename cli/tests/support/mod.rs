//! Shared by the CLI's integration tests: run `warden eval` on a request text.

use std::io::Write;
use std::process::{Command, Stdio};

/// Run `warden eval ARGS` with `stdin`; `configure` sets the child's environment.
/// Returns (exit code, stdout, stderr).
pub fn eval_with(
    args: &[&str],
    stdin: &str,
    configure: impl FnOnce(&mut Command),
) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
    cmd.arg("eval")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    configure(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    // A child that refuses its policy exits before reading: a broken pipe here is
    // part of the answer under test, not a failure.
    if let Some(mut pipe) = child.stdin.take() {
        let _ = pipe.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}
