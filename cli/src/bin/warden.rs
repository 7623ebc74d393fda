//! The `warden` binary: the command line of the library, on this process's arguments.

use std::process::ExitCode;

fn main() -> ExitCode {
    sigpipe::reset();
    ExitCode::from(warden_cli::run(std::env::args_os()))
}
