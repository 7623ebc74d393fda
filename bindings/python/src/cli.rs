//! `cli_main`: the `warden` command line inside the module, for the wheel's `warden`
//! script (`warden/_cli.py`), so `pip install warden-policy` gives `warden check` /
//! `warden test` without a second native file in the wheel.

use pyo3::prelude::*;

/// Runs the command line on `argv` (the program name first) and returns its exit status.
/// The GIL is released meanwhile: the command may run for long (`check --watch`,
/// reading standard input), and Python threads go on.
#[pyfunction]
pub fn cli_main(py: Python<'_>, argv: Vec<std::ffi::OsString>) -> u8 {
    py.detach(|| warden_cli::run(argv))
}
